"""DealScopeClient: one method per API call, typed results, errors that say what to do.

Credentials: `token=` (a bearer access token), `api_key=`, or a session from `login()` /
`tokens=` whose access token is refreshed transparently; `on_tokens` hears of every new pair
(and of None when the session ends), so a caller can keep them (the dashboard keeps them in
its session state)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from dealscope.client.agent_models import AgentDetailRead, TeamDetailRead, TeamsRead
from dealscope.client.analytics_models import (
    LeaderboardRead,
    MetricCatalogRead,
    MetricResult,
    RevenueRead,
    SummaryRead,
)
from dealscope.client.dashboard_models import FunnelRead, PipelineRead, SpeedToLeadRead
from dealscope.client.enums import Compare, FunnelBreakdown, FunnelOrder, Grain, SortBy
from dealscope.client.forecast_models import AccuracyRead, MonteCarloRead
from dealscope.client.models import (
    HealthRead,
    MeRead,
)
from dealscope.client.operations import OperationsCalls
from dealscope.client.parsing import drop_none as _drop_none
from dealscope.client.parsing import parse as _parse
from dealscope.client.queries import MetricQuery, PeriodQuery
from dealscope.client.transport import Clock, Tokens, TokensListener, Transport, utc_now

DEFAULT_TIMEOUT_SECONDS = 10.0
DATA_VERSION_HEADER = "X-Data-Version"
API = "/api/v1"

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    """An analytics answer with what says how fresh it is: the tenant's data version it was
    computed on (it moves with every write), when it was fetched, and whether the API
    answered from its cache."""

    data: T
    data_version: int | None
    fetched_at: dt.datetime
    cache: str | None


class DealScopeClient(OperationsCalls):
    """A client of the API at `base_url` (e.g. http://127.0.0.1:8000). Close it when done,
    or use it as a context manager."""

    def __init__(
        self,
        base_url: str,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        token: str | None = None,
        *,
        api_key: str | None = None,
        tokens: Tokens | None = None,
        on_tokens: TokensListener | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._transport = Transport(base_url, timeout, token, api_key, tokens, on_tokens, clock)
        self._clock = clock
        self.base_url = self._transport.base_url
        self._http = self._transport.http

    # --- session -------------------------------------------------------------------------

    @property
    def tokens(self) -> Tokens | None:
        """The session's current tokens (None before login and after logout)."""
        return self._transport.tokens

    def login(self, email: str, password: str, tenant: str | None = None) -> Tokens:
        """Sign in with email and password (`tenant`: the slug, when the email has accounts
        in several tenants). ApiError 401 for wrong credentials, 423 while locked."""
        return self._transport.sign_in(email, password, tenant)

    def refresh(self) -> Tokens:
        """Renew the session's tokens now (it happens by itself when they run out)."""
        return self._transport.refresh()

    def logout(self) -> None:
        """End the session on the server; the tokens are forgotten either way."""
        if self._transport.tokens is None:
            return
        try:
            self._transport.call("POST", f"{API}/auth/logout", ok=frozenset({204}))
        finally:
            self._transport.set_tokens(None)

    def me(self) -> MeRead:
        return _parse(MeRead, self._transport.call("GET", f"{API}/auth/me"))

    # --- health --------------------------------------------------------------------------

    def health(self) -> HealthRead:
        """The API's health report. A 503 still carries a report (the database is down), so
        it is returned, not raised; read `.status` and `.database`."""
        response = self._transport.call("GET", "/health", ok=frozenset({200, 503}))
        return _parse(HealthRead, response)

    # --- analytics -----------------------------------------------------------------------

    def _snapshot(
        self,
        model: type[M],
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Snapshot[M]:
        response = self._transport.call(method, path, params=params, json=json)
        version = response.headers.get(DATA_VERSION_HEADER)
        return Snapshot(
            data=_parse(model, response),
            data_version=int(version) if version and version.isdigit() else None,
            fetched_at=self._clock(),
            cache=response.headers.get("X-Cache"),
        )

    def summary(
        self, period: PeriodQuery | None = None, compare: Compare = Compare.PREVIOUS_PERIOD
    ) -> Snapshot[SummaryRead]:
        """KPI cards, revenue to date, pipeline health and top agents of the period."""
        params = (period or PeriodQuery()).params() | {"compare": compare.value}
        return self._snapshot(SummaryRead, "GET", f"{API}/dashboard/summary", params)

    def pipeline(
        self, period: PeriodQuery | None = None, grain: Grain | None = None
    ) -> Snapshot[PipelineRead]:
        params = (period or PeriodQuery()).params() | _drop_none({"grain": grain})
        return self._snapshot(PipelineRead, "GET", f"{API}/dashboard/pipeline", params)

    def funnel(
        self,
        period: PeriodQuery | None = None,
        *,
        steps: list[str] | None = None,
        window_days: int | None = None,
        order: FunnelOrder | None = None,
        breakdown: FunnelBreakdown | None = None,
        segment_a: str | None = None,
        segment_b: str | None = None,
    ) -> Snapshot[FunnelRead]:
        extra = {
            "steps": ",".join(steps) if steps else None,
            "window_days": window_days,
            "order": order,
            "breakdown": breakdown,
            "segment_a": segment_a,
            "segment_b": segment_b,
        }
        params = (period or PeriodQuery()).params() | _drop_none(extra)
        return self._snapshot(FunnelRead, "GET", f"{API}/dashboard/funnel", params)

    def speed_to_lead(
        self, period: PeriodQuery | None = None, sla_minutes: float | None = None
    ) -> Snapshot[SpeedToLeadRead]:
        params = (period or PeriodQuery()).params() | _drop_none({"sla_minutes": sla_minutes})
        return self._snapshot(SpeedToLeadRead, "GET", f"{API}/dashboard/speed-to-lead", params)

    def revenue(self, period: PeriodQuery | None = None) -> Snapshot[RevenueRead]:
        params = (period or PeriodQuery()).params()
        return self._snapshot(RevenueRead, "GET", f"{API}/dashboard/revenue", params)

    def agents(
        self, period: PeriodQuery | None = None, sort_by: SortBy = SortBy.GCI
    ) -> Snapshot[LeaderboardRead]:
        """The agent leaderboard; an agent gets only their own row, a manager their team."""
        params = (period or PeriodQuery()).params() | {"sort_by": sort_by.value}
        return self._snapshot(LeaderboardRead, "GET", f"{API}/dashboard/agents", params)

    def metric_catalog(self) -> MetricCatalogRead:
        return _parse(MetricCatalogRead, self._transport.call("GET", f"{API}/metrics"))

    def query_metrics(self, query: MetricQuery) -> Snapshot[MetricResult]:
        body = query.model_dump(mode="json", exclude_none=True)
        return self._snapshot(MetricResult, "POST", f"{API}/metrics/query", json=body)

    def agent_detail(
        self, agent_id: int, period: PeriodQuery | None = None
    ) -> Snapshot[AgentDetailRead]:
        """One agent's scorecard, activities, comparison with team and brokerage, quota
        pacing and trend; ApiError 404 for an agent outside the caller's scope."""
        params = (period or PeriodQuery()).params()
        path = f"{API}/dashboard/agents/{agent_id}"
        return self._snapshot(AgentDetailRead, "GET", path, params)

    def teams(self, period: PeriodQuery | None = None) -> Snapshot[TeamsRead]:
        params = (period or PeriodQuery()).params()
        return self._snapshot(TeamsRead, "GET", f"{API}/dashboard/teams", params)

    def team_detail(
        self, team_id: int, period: PeriodQuery | None = None
    ) -> Snapshot[TeamDetailRead]:
        params = (period or PeriodQuery()).params()
        return self._snapshot(TeamDetailRead, "GET", f"{API}/dashboard/teams/{team_id}", params)

    # --- forecasts -------------------------------------------------------------------------

    def forecast(
        self,
        horizon_days: int = 90,
        *,
        metric: str = "gci",
        grain: str = "week",
        target: float | None = None,
        scenario: str = "expected",
        iterations: int = 10_000,
        as_of: dt.date | None = None,
    ) -> Snapshot[MonteCarloRead]:
        """The Monte Carlo forecast of what closes in the next `horizon_days`: P10/P50/P90
        per bucket and in total, its density, the scenarios and the chance of `target`."""
        params = _drop_none(
            {
                "horizon_days": horizon_days,
                "metric": metric,
                "grain": grain,
                "target": target,
                "scenario": scenario,
                "iterations": iterations,
                "as_of": as_of.isoformat() if as_of else None,
            }
        )
        return self._snapshot(MonteCarloRead, "GET", f"{API}/analytics/forecast", params)

    def forecast_accuracy(self, metric: str = "gci", kind: str | None = None) -> AccuracyRead:
        """How past forecasts did: MAPE, bias and P10-P90 coverage by method and horizon."""
        params = _drop_none({"metric": metric, "kind": kind})
        response = self._transport.call("GET", f"{API}/analytics/forecast/accuracy", params=params)
        return _parse(AccuracyRead, response)

    # --- lifetime ------------------------------------------------------------------------

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> DealScopeClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
