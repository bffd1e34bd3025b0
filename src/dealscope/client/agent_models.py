"""What the agent drill-down and the team roll-up answer (GET /dashboard/agents/{id},
/dashboard/teams, /dashboard/teams/{id}); kept in step with the server's models by
`tests/api/test_client.py`. Money is in the tenant's currency, ratios are fractions."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from dealscope.client.analytics_models import AgentRowRead


class _Model(BaseModel):
    pass


class ScorecardRead(_Model):
    """An agent's, a team's or the brokerage's figures over the period; each is the registry"""

    leads_handled: float
    contact_rate: float | None
    conversion: float | None
    speed_to_lead_median_minutes: float | None
    speed_to_lead_p90_minutes: float | None
    follow_up_compliance: float | None
    appointments_set: float
    appointments_held: float
    deals_won: float
    deals_lost: float
    win_rate: float | None
    average_days_to_close: float | None
    closings: float
    sales_volume: float
    gci: float
    company_dollar: float
    average_deal_size: float | None
    open_deals: float
    pipeline_value: float
    weighted_pipeline_value: float


class ActivityCountRead(_Model):
    activity_type: str
    count: float


class ComparisonRead(_Model):
    label: str
    agents: int
    scorecard: ScorecardRead
    activities: list[ActivityCountRead]


class QuotaRead(_Model):
    """GCI against the plan (targets: agent or team plans; monthly rows prorated by day,"""

    label: str
    period_start: dt.date
    period_end: dt.date
    target: float | None
    gci: float
    attainment: float | None
    elapsed_share: float
    expected_by_now: float | None
    pace_ratio: float | None
    projected: float | None


class TrendPointRead(_Model):
    month_start: dt.date
    gci: float
    closings: int
    new_leads: int
    deals_won: int


class AgentDetailRead(_Model):
    """One agent's drill-down. Team and brokerage averages show only what the caller may"""

    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    timezone: str
    agent_id: int
    name: str
    team_id: int | None
    team_name: str | None
    is_active: bool
    scorecard: ScorecardRead
    activities: list[ActivityCountRead]
    pipeline_share_of_team: float | None
    gci_share_of_team: float | None
    team_average: ComparisonRead | None
    brokerage_average: ComparisonRead | None
    quota: QuotaRead
    quota_to_date: list[QuotaRead]
    trend: list[TrendPointRead]


class TeamSummaryRead(_Model):
    team_id: int | None
    name: str
    agents: int
    scorecard: ScorecardRead
    per_agent: ScorecardRead
    gci_share: float | None
    quota: QuotaRead


class TeamsRead(_Model):
    """Every team the caller sees, most GCI first."""

    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    timezone: str
    teams: list[TeamSummaryRead]


class TeamDetailRead(_Model):
    """One team: its figures, its agents ranked by GCI, trend and plans."""

    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    timezone: str
    team: TeamSummaryRead
    activities: list[ActivityCountRead]
    members: list[AgentRowRead]
    brokerage_average: ComparisonRead | None
    quota_to_date: list[QuotaRead]
    trend: list[TrendPointRead]
