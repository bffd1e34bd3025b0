"""What the pages show, fetched from the API through cached functions.

Each cache entry is keyed on the sign-in (`key`), so nobody is ever shown figures fetched
with someone else's credentials; entries live `DATA_TTL_SECONDS` (the API caches per data
version too, so a miss is cheap). Failed fetches are never cached."""

from __future__ import annotations

import streamlit as st

from dealscope.client import (
    Compare,
    DealScopeClient,
    FunnelBreakdown,
    FunnelOrder,
    HealthRead,
    MetricQuery,
    PeriodQuery,
    Snapshot,
    SortBy,
)
from dealscope.client.agent_models import AgentDetailRead, TeamsRead
from dealscope.client.analytics_models import (
    LeaderboardRead,
    MetricCatalogRead,
    MetricResult,
    RevenueRead,
    SummaryRead,
)
from dealscope.client.dashboard_models import FunnelRead, PipelineRead, SpeedToLeadRead
from dealscope.client.forecast_models import AccuracyRead, MonteCarloRead

DATA_TTL_SECONDS = 60
HEALTH_TTL_SECONDS = 10


@st.cache_data(ttl=HEALTH_TTL_SECONDS, show_spinner=False)
def fetch_health(url: str) -> HealthRead:
    """The API's health report (errors are raised, and Streamlit does not cache them)."""
    with DealScopeClient(url, timeout=5.0) as client:
        return client.health()


def fetch_summary(
    client: DealScopeClient, period: PeriodQuery, compare: Compare
) -> Snapshot[SummaryRead]:
    """Not cached here: the live summary wants the newest data version on every refresh
    (the API answers from its own cache while the data has not changed)."""
    return client.summary(period, compare)


@st.cache_data(ttl=DATA_TTL_SECONDS, show_spinner=False, max_entries=256)
def fetch_pipeline(
    _client: DealScopeClient, key: str, period: PeriodQuery
) -> Snapshot[PipelineRead]:
    return _client.pipeline(period)


@st.cache_data(ttl=DATA_TTL_SECONDS, show_spinner=False, max_entries=256)
def fetch_funnel(
    _client: DealScopeClient,
    key: str,
    period: PeriodQuery,
    steps: tuple[str, ...],
    window_days: int,
    order: FunnelOrder,
    breakdown: FunnelBreakdown | None,
    segment_a: str | None,
    segment_b: str | None,
) -> Snapshot[FunnelRead]:
    return _client.funnel(
        period,
        steps=list(steps) or None,
        window_days=window_days,
        order=order,
        breakdown=breakdown,
        segment_a=segment_a,
        segment_b=segment_b,
    )


@st.cache_data(ttl=DATA_TTL_SECONDS, show_spinner=False, max_entries=256)
def fetch_speed(
    _client: DealScopeClient, key: str, period: PeriodQuery, sla_minutes: float
) -> Snapshot[SpeedToLeadRead]:
    return _client.speed_to_lead(period, sla_minutes)


@st.cache_data(ttl=DATA_TTL_SECONDS, show_spinner=False, max_entries=256)
def fetch_revenue(_client: DealScopeClient, key: str, period: PeriodQuery) -> Snapshot[RevenueRead]:
    return _client.revenue(period)


@st.cache_data(ttl=DATA_TTL_SECONDS, show_spinner=False, max_entries=256)
def fetch_agents(
    _client: DealScopeClient, key: str, period: PeriodQuery, sort_by: SortBy
) -> Snapshot[LeaderboardRead]:
    return _client.agents(period, sort_by)


@st.cache_data(ttl=DATA_TTL_SECONDS, show_spinner=False, max_entries=256)
def fetch_agent(
    _client: DealScopeClient, key: str, agent_id: int, period: PeriodQuery
) -> Snapshot[AgentDetailRead]:
    return _client.agent_detail(agent_id, period)


@st.cache_data(ttl=DATA_TTL_SECONDS, show_spinner=False, max_entries=256)
def fetch_teams(_client: DealScopeClient, key: str, period: PeriodQuery) -> Snapshot[TeamsRead]:
    return _client.teams(period)


@st.cache_data(ttl=DATA_TTL_SECONDS, show_spinner=False, max_entries=512)
def fetch_metrics(_client: DealScopeClient, key: str, query: MetricQuery) -> Snapshot[MetricResult]:
    return _client.query_metrics(query)


@st.cache_data(ttl=600, show_spinner=False, max_entries=64)
def fetch_catalog(_client: DealScopeClient, key: str) -> MetricCatalogRead:
    return _client.metric_catalog()


@st.cache_data(ttl=DATA_TTL_SECONDS, show_spinner="Simulating futures...", max_entries=64)
def fetch_forecast(
    _client: DealScopeClient, key: str, horizon_days: int, scenario: str, target: float | None
) -> Snapshot[MonteCarloRead]:
    return _client.forecast(horizon_days, scenario=scenario, target=target)


@st.cache_data(ttl=DATA_TTL_SECONDS, show_spinner=False, max_entries=16)
def fetch_accuracy(_client: DealScopeClient, key: str) -> AccuracyRead:
    return _client.forecast_accuracy()
