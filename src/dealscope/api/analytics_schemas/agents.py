"""Responses of GET /dashboard/agents/{agent_id}, /dashboard/teams and /dashboard/teams/{id}.
Money is in the tenant's currency; ratios are fractions (0.5 = 50%)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ConfigDict, Field

from dealscope.api.analytics_schemas.common import PeriodFields, Read
from dealscope.api.analytics_schemas.leaderboard import AgentRowRead

_SCORECARD_EXAMPLE: dict[str, Any] = {
    "leads_handled": 2.0,
    "contact_rate": 1.0,
    "conversion": 0.5,
    "speed_to_lead_median_minutes": 35.0,
    "speed_to_lead_p90_minutes": 55.0,
    "follow_up_compliance": 0.5,
    "appointments_set": 2.0,
    "appointments_held": 1.0,
    "deals_won": 1.0,
    "deals_lost": 1.0,
    "win_rate": 0.5,
    "average_days_to_close": 19.0,
    "closings": 1.0,
    "sales_volume": 400000.0,
    "gci": 12000.0,
    "company_dollar": 2400.0,
    "average_deal_size": 400000.0,
    "open_deals": 0.0,
    "pipeline_value": 0.0,
    "weighted_pipeline_value": 0.0,
}
_QUOTA_EXAMPLE: dict[str, Any] = {
    "label": "Quarter to date",
    "period_start": "2024-01-01",
    "period_end": "2024-03-31",
    "target": 30000.0,
    "gci": 21000.0,
    "attainment": 0.7,
    "elapsed_share": 0.6,
    "expected_by_now": 18000.0,
    "pace_ratio": 1.1667,
    "projected": 35000.0,
}
_ACTIVITIES_EXAMPLE: list[Any] = [
    {"activity_type": "call", "count": 3.0},
    {"activity_type": "email", "count": 2.0},
]
_TREND_EXAMPLE: dict[str, Any] = {
    "month_start": "2024-02-01",
    "gci": 12000.0,
    "closings": 1,
    "new_leads": 2,
    "deals_won": 1,
}


class ScorecardRead(Read):
    """An agent's, a team's or the brokerage's figures over the period; each is the registry
    metric named after it (GET /metrics). For a per-agent average, counts and money are
    divided by the group's agents; ratios and durations are the group's pooled values."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SCORECARD_EXAMPLE]})
    leads_handled: float = Field(description="new_leads: leads assigned, created in the period.")
    contact_rate: float | None = Field(description="contact_rate: share reached by as_of.")
    conversion: float | None = Field(description="lead_to_close_rate: leads whose deal was won.")
    speed_to_lead_median_minutes: float | None = Field(description="Median response, minutes.")
    speed_to_lead_p90_minutes: float | None = Field(description="90th percentile, minutes.")
    follow_up_compliance: float | None = Field(
        description="Contacted leads with 3+ outbound touches in their first 7 days."
    )
    appointments_set: float
    appointments_held: float
    deals_won: float = Field(description="Opportunities won in the period.")
    deals_lost: float
    win_rate: float | None = Field(description="won / (won + lost) of deals closed.")
    average_days_to_close: float | None
    closings: float = Field(description="Transaction sides closed in the period.")
    sales_volume: float
    gci: float
    company_dollar: float
    average_deal_size: float | None = Field(description="Mean sale price of the closings.")
    open_deals: float = Field(description="Open at the end of the period.")
    pipeline_value: float = Field(description="Value of the deals open at the period's end.")
    weighted_pipeline_value: float = Field(description="× each stage's close probability.")


class ActivityCountRead(Read):
    model_config = ConfigDict(json_schema_extra={"examples": _ACTIVITIES_EXAMPLE})
    activity_type: str = Field(description="call, email, sms, meeting or showing.")
    count: float = Field(description="Logged in the period, either direction.")


class QuotaRead(Read):
    """GCI against the plan (targets: agent or team plans; monthly rows prorated by day,
    quarter and year rows where no finer plan exists)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_QUOTA_EXAMPLE]})
    label: str
    period_start: dt.date
    period_end: dt.date = Field(description="Last day, inclusive.")
    target: float | None = Field(description="The plan for the whole period; null without one.")
    gci: float = Field(description="GCI closed in the period up to the end of as_of.")
    attainment: float | None = Field(description="gci / target.")
    elapsed_share: float = Field(description="Share of the period gone by the end of as_of.")
    expected_by_now: float | None = Field(description="target × elapsed_share.")
    pace_ratio: float | None = Field(description="gci / expected_by_now; 1.0 is on pace.")
    projected: float | None = Field(description="gci / elapsed_share: the period's end at pace.")


class TrendPointRead(Read):
    model_config = ConfigDict(json_schema_extra={"examples": [_TREND_EXAMPLE]})
    month_start: dt.date
    gci: float
    closings: int
    new_leads: int
    deals_won: int


_COMPARISON_EXAMPLE: dict[str, Any] = {
    "label": "Apex",
    "agents": 4,
    "scorecard": _SCORECARD_EXAMPLE,
    "activities": _ACTIVITIES_EXAMPLE,
}


class ComparisonRead(Read):
    model_config = ConfigDict(json_schema_extra={"examples": [_COMPARISON_EXAMPLE]})
    label: str = Field(description="The team's name, or 'Brokerage'.")
    agents: int = Field(description="Agents the averages are taken over.")
    scorecard: ScorecardRead = Field(description="Per agent (counts, money); pooled (ratios).")
    activities: list[ActivityCountRead] = Field(description="Per agent.")


class AgentDetailRead(PeriodFields):
    """One agent's drill-down. Team and brokerage averages show only what the caller may
    see: an agent gets neither, a manager no brokerage average."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "period_start": "2024-02-01",
                    "period_end": "2024-02-29",
                    "as_of": "2024-03-31",
                    "timezone": "UTC",
                    "agent_id": 100,
                    "name": "Ada Lovelace",
                    "team_id": 20,
                    "team_name": "Apex",
                    "is_active": True,
                    "scorecard": _SCORECARD_EXAMPLE,
                    "activities": _ACTIVITIES_EXAMPLE,
                    "pipeline_share_of_team": None,
                    "gci_share_of_team": 0.6,
                    "team_average": None,
                    "brokerage_average": None,
                    "quota": {**_QUOTA_EXAMPLE, "label": "Period"},
                    "quota_to_date": [_QUOTA_EXAMPLE],
                    "trend": [_TREND_EXAMPLE],
                }
            ]
        }
    )
    agent_id: int
    name: str
    team_id: int | None
    team_name: str | None
    is_active: bool
    scorecard: ScorecardRead
    activities: list[ActivityCountRead] = Field(description="Activities logged, by type.")
    pipeline_share_of_team: float | None = Field(
        description="The agent's open pipeline value / the team's (null without a team "
        "average or a team pipeline)."
    )
    gci_share_of_team: float | None = Field(description="The agent's GCI / the team's.")
    team_average: ComparisonRead | None = Field(
        description="The agent's team, per agent; null for an agent caller."
    )
    brokerage_average: ComparisonRead | None = Field(
        description="Every agent, per agent; tenant-wide callers only."
    )
    quota: QuotaRead = Field(description="GCI against the agent's plan over the period.")
    quota_to_date: list[QuotaRead] = Field(
        description="The month, quarter and year holding as_of: the whole period's plan, GCI "
        "so far and pacing."
    )
    trend: list[TrendPointRead] = Field(description="The 12 months to as_of, month by month.")


_TEAM_EXAMPLE: dict[str, Any] = {
    "team_id": 20,
    "name": "Apex",
    "agents": 4,
    "scorecard": _SCORECARD_EXAMPLE,
    "per_agent": _SCORECARD_EXAMPLE,
    "gci_share": 0.42,
    "quota": {**_QUOTA_EXAMPLE, "label": "Period"},
}
_PERIOD_EXAMPLE: dict[str, Any] = {
    "period_start": "2024-01-01",
    "period_end": "2024-03-31",
    "as_of": "2024-03-31",
    "timezone": "America/Chicago",
}


class TeamSummaryRead(Read):
    model_config = ConfigDict(json_schema_extra={"examples": [_TEAM_EXAMPLE]})
    team_id: int | None = Field(description="Null: agents without a team.")
    name: str
    agents: int = Field(description="Active agents, and others with figures in the period.")
    scorecard: ScorecardRead = Field(description="The team's totals and pooled ratios.")
    per_agent: ScorecardRead = Field(description="Counts and money per agent of the team.")
    gci_share: float | None = Field(description="The team's share of the GCI the caller sees.")
    quota: QuotaRead = Field(description="GCI against the team's plan over the period.")


class TeamsRead(PeriodFields):
    """Every team the caller sees, most GCI first."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_PERIOD_EXAMPLE, "teams": [_TEAM_EXAMPLE]}]}
    )

    teams: list[TeamSummaryRead]


class TeamDetailRead(PeriodFields):
    """One team: its figures, its agents ranked by GCI, trend and plans."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_PERIOD_EXAMPLE,
                    "team": _TEAM_EXAMPLE,
                    "activities": _ACTIVITIES_EXAMPLE,
                    "members": [],
                    "brokerage_average": _COMPARISON_EXAMPLE,
                    "quota_to_date": [_QUOTA_EXAMPLE],
                    "trend": [_TREND_EXAMPLE],
                }
            ]
        }
    )

    team: TeamSummaryRead
    activities: list[ActivityCountRead] = Field(description="The team's activities, by type.")
    members: list[AgentRowRead] = Field(description="The team's agents the caller sees.")
    brokerage_average: ComparisonRead | None = Field(
        description="Every agent, per agent; tenant-wide callers only."
    )
    quota_to_date: list[QuotaRead]
    trend: list[TrendPointRead] = Field(description="The 12 months to as_of, month by month.")
