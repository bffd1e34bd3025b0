"""What the analytics endpoints answer: the executive summary, revenue, the leaderboard and
metric queries (kept in step with the server's models by `tests/api/test_client.py`).

Unknown fields are ignored, so a newer API does not break an older client."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from dealscope.client.enums import Compare, Dimension, Grain, SortBy, Unit


class _Model(BaseModel):
    pass


class PeriodRead(_Model):
    start: dt.date
    end: dt.date


class KpiCard(_Model):
    slug: str
    label: str
    unit: Unit
    higher_is_better: bool
    value: float | None
    comparison: float | None
    change_pct: float | None
    target: float | None
    attainment: float | None


class RevenueToDate(_Model):
    label: str
    period: PeriodRead
    gci: float
    target: float | None
    attainment: float | None


class HealthComponent(_Model):
    name: str
    weight: float
    score: float
    detail: str


class PipelineHealth(_Model):
    score: int
    formula: str
    components: list[HealthComponent]


class TopAgent(_Model):
    agent_id: int
    name: str
    gci: float
    closings: int


class SummaryAlert(_Model):
    severity: str
    title: str
    metric: str | None = None


class SummaryRead(_Model):
    """The executive summary of one period."""

    as_of: dt.date
    period: PeriodRead
    compare: Compare
    comparison_period: PeriodRead | None
    cards: list[KpiCard]
    revenue: list[RevenueToDate]
    pipeline_health: PipelineHealth
    top_agents: list[TopAgent]
    alerts: list[SummaryAlert] = Field(default_factory=list)


class RevenueTotalsRead(_Model):
    sales_volume: float
    gci: float
    referral_fees: float
    agent_commission: float
    company_dollar: float
    closings: int
    average_deal_size: float | None


class RevenueBreakdownRead(_Model):
    key: str | None
    name: str | None
    sales_volume: float
    gci: float
    closings: int
    average_deal_size: float | None
    gci_share: float | None


class MonthPointRead(_Model):
    month_start: dt.date
    sales_volume: float
    gci: float
    company_dollar: float
    closings: int


class ClosedVsPipelineRead(_Model):
    closed_volume: float
    pipeline_value: float
    open_deals: int


class PacingRead(_Model):
    target: float | None
    gci: float
    attainment: float | None
    elapsed_share: float
    expected_by_now: float | None
    pace_ratio: float | None


class ConcentrationRead(_Model):
    top_1_agents_share: float | None
    top_5_agents_share: float | None
    top_10_agents_share: float | None
    top_1_sources_share: float | None
    top_3_sources_share: float | None
    agent_hhi: float | None
    level: str | None


class RevenueRead(_Model):
    """What the period's closings brought in, where from, against plan, and how concentrated"""

    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    timezone: str
    totals: RevenueTotalsRead
    by_agent: list[RevenueBreakdownRead]
    by_team: list[RevenueBreakdownRead]
    by_office: list[RevenueBreakdownRead]
    by_source: list[RevenueBreakdownRead]
    by_property_type: list[RevenueBreakdownRead]
    by_zip: list[RevenueBreakdownRead]
    monthly: list[MonthPointRead]
    closed_vs_pipeline: ClosedVsPipelineRead
    pacing: PacingRead
    concentration: ConcentrationRead


class AgentRowRead(_Model):
    rank: int
    agent_id: int
    name: str
    team_id: int | None
    gci: float
    sales_volume: float
    deals: int
    new_leads: int
    conversion: float | None
    speed_to_lead_minutes: float | None


class LeaderboardRead(_Model):
    """Agents ranked by one figure; an agent sees only their own row, a manager their team."""

    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    timezone: str
    sort_by: SortBy
    agents: list[AgentRowRead]


class MetricRow(_Model):
    """One value of a metric: for a bucket (when a grain was asked) and dimension values."""

    bucket: dt.date | None = None
    dimensions: dict[str, str | None] = Field(default_factory=dict)
    value: float | None
    comparison: float | None = None
    change: float | None = None
    change_pct: float | None = None


class MetricSeries(_Model):
    slug: str
    label: str
    unit: Unit
    higher_is_better: bool
    rows: list[MetricRow]


class MetricResult(_Model):
    """Every metric asked for, over the period (and the comparison), row by row."""

    as_of: dt.date
    period: PeriodRead
    comparison_period: PeriodRead | None = None
    compare: Compare | None = None
    grain: Grain | None = None
    dimensions: list[Dimension]
    labels: dict[str, dict[str, str]] = Field(default_factory=dict)
    metrics: list[MetricSeries]


class MetricInfo(_Model):
    """A metric of the catalog."""

    slug: str
    label: str
    unit: Unit
    description: str
    dimensions: list[Dimension]
    higher_is_better: bool
    targetable: bool


class MetricCatalogRead(_Model):
    """Every metric the API can compute, by slug."""

    metrics: list[MetricInfo]
