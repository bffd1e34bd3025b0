"""Forecasts: the Monte Carlo revenue forecast (GET /analytics/forecast, POST
/analytics/monte-carlo), the time-series second opinion (GET /analytics/forecast/timeseries)
and how past forecasts did (GET /analytics/forecast/accuracy).

Every forecast is of the caller's data scope (an agent's own deals, a manager's team) and is
kept in the accuracy ledger when it is first computed; a repeated request with the same
parameters and data is served from the response cache (a seeded simulation is deterministic).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from dealscope.analytics.forecast_backtest import MONTE_CARLO, forecast_accuracy, method_name
from dealscope.analytics.forecast_history import ForecastMetric
from dealscope.analytics.forecast_ledger import ForecastRecord, record_forecasts
from dealscope.analytics.forecast_service import (
    TIMESERIES_METRICS,
    MonteCarloForecast,
    MonteCarloRequest,
    TimeSeriesForecast,
    monte_carlo_forecast,
    timeseries_forecast,
)
from dealscope.analytics.models.mc_summary import BucketGrain
from dealscope.analytics.models.montecarlo import MAX_HORIZON_DAYS
from dealscope.analytics.models.timeseries import SeriesGrain, TimeSeriesMethod
from dealscope.analytics.service import AnalyticsService
from dealscope.analytics.sources import Sources
from dealscope.api.analytics_deps import scoped_service, tenant_timezone, tenant_today
from dealscope.api.analytics_schemas.forecast import (
    AccuracyRead,
    MonteCarloQuery,
    MonteCarloRead,
    TimeSeriesRead,
)
from dealscope.api.analytics_schemas.params import AsOfQuery
from dealscope.api.auth.principal import Principal
from dealscope.api.cache import ResponseCacheDep, cached_response
from dealscope.api.deps import WarehouseDep, require
from dealscope.errors import ValidationFailed
from dealscope.kit.roles import Permission
from dealscope.warehouse.engine import Warehouse

router = APIRouter(prefix="/analytics", tags=["forecasts"])

DataReader = Annotated[Principal, Depends(require(Permission.READ_DATA))]
GET_MAX_ITERATIONS = 100_000  # more through POST /analytics/monte-carlo


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _calendar(
    warehouse: Warehouse, principal: Principal, as_of: dt.date | None
) -> tuple[str, dt.date]:
    timezone = tenant_timezone(warehouse, principal.tenant_id)
    return timezone, as_of or tenant_today(timezone)


def _mc_read(forecast: MonteCarloForecast, timezone: str) -> MonteCarloRead:
    s = forecast.summary
    return MonteCarloRead.model_validate(
        {
            "as_of": s.as_of,
            "timezone": timezone,
            "metric": forecast.metric,
            "period_start": s.period_start,
            "period_end": s.period_end,
            "horizon_days": s.horizon_days,
            "iterations": s.iterations,
            "seed": forecast.seed,
            "scenario": s.scenario,
            "total": s.total,
            "pipeline_mean": s.pipeline_mean,
            "new_business_mean": s.new_business_mean,
            "target": s.target,
            "probability_of_target": s.probability_of_target,
            "grain": s.grain,
            "buckets": s.buckets,
            "milestones": s.milestones,
            "density": s.density,
            "scenarios": forecast.scenarios,
            "drivers": forecast.drivers,
            "warnings": s.warnings,
        }
    )


def _monte_carlo(
    warehouse: Warehouse,
    principal: Principal,
    timezone: str,
    day: dt.date,
    request: MonteCarloRequest,
) -> MonteCarloRead:
    """Run, record in the ledger, shape."""
    forecast = monte_carlo_forecast(Sources(warehouse, principal.scope), day, timezone, request)
    s = forecast.summary
    record = ForecastRecord(
        method=MONTE_CARLO,
        metric=forecast.metric.value,
        as_of=s.as_of,
        period_start=s.period_start,
        period_end=s.period_end,
        p10=s.total.p10,
        p50=s.total.p50,
        p90=s.total.p90,
        mean=s.total.mean,
        scenario=s.scenario.name,
        target=s.target,
        probability_of_target=s.probability_of_target,
        settings={"iterations": s.iterations, "seed": forecast.seed, "lookback_days": 730},
    )
    record_forecasts(warehouse, principal.scope, [record], _now())
    return _mc_read(forecast, timezone)


@router.get(
    "/forecast",
    response_model=MonteCarloRead,
    summary="Monte Carlo revenue forecast with worst, expected and best cases",
)
def read_forecast(
    principal: DataReader,
    warehouse: WarehouseDep,
    cache: ResponseCacheDep,
    horizon_days: Annotated[
        int, Query(ge=1, le=MAX_HORIZON_DAYS, description="Days after as_of (30, 60, 90...).")
    ] = 90,
    metric: Annotated[ForecastMetric, Query(description="What to add up.")] = ForecastMetric.GCI,
    grain: Annotated[
        BucketGrain, Query(description="Buckets of the fan chart.")
    ] = BucketGrain.WEEK,
    target: Annotated[float | None, Query(ge=0, description="Chance of reaching it.")] = None,
    scenario: Annotated[str, Query(description="expected, best or worst.")] = "expected",
    iterations: Annotated[int, Query(ge=100, le=GET_MAX_ITERATIONS)] = 10_000,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1)] = 0,
    as_of: AsOfQuery = None,
) -> Response:
    """P10/P50/P90 of what closes in the next `horizon_days` (open pipeline plus new
    business), per day/week/month and in total, with its density and the drivers it
    learned. Managers and agents get the forecast of their own scope."""
    timezone, day = _calendar(warehouse, principal, as_of)
    request = MonteCarloRequest(
        horizon_days=horizon_days,
        iterations=iterations,
        seed=seed,
        metric=metric,
        grain=grain,
        target=target,
        scenario=scenario,
        compare_scenarios=True,
    )
    params: dict[str, Any] = {**request.__dict__, "as_of": day, "timezone": timezone}
    return cached_response(
        cache,
        warehouse,
        principal,
        "analytics.forecast",
        params,
        lambda: _monte_carlo(warehouse, principal, timezone, day, request),
    )


@router.post(
    "/monte-carlo",
    response_model=MonteCarloRead,
    summary="Monte Carlo run with any horizon, up to 1,000,000 iterations and custom drivers",
)
def run_monte_carlo(
    body: MonteCarloQuery,
    principal: DataReader,
    warehouse: WarehouseDep,
    cache: ResponseCacheDep,
) -> Response:
    """Overrides of lead volume, conversion, deal size and cycle time replace the named
    scenario's multipliers. Deterministic for a seed: repeated runs come from the cache."""
    timezone, day = _calendar(warehouse, principal, body.as_of)
    fields = body.model_dump(exclude={"as_of"})
    request = MonteCarloRequest(**fields)
    params = {**fields, "as_of": day, "timezone": timezone}
    return cached_response(
        cache,
        warehouse,
        principal,
        "analytics.monte_carlo",
        params,
        lambda: _monte_carlo(warehouse, principal, timezone, day, request),
    )


def _timeseries(
    warehouse: Warehouse,
    principal: Principal,
    service: AnalyticsService,
    metric: str,
    grain: SeriesGrain,
    periods: int,
    method: TimeSeriesMethod,
) -> TimeSeriesRead:
    forecast: TimeSeriesForecast = timeseries_forecast(service, metric, grain, periods, method)
    records = [
        ForecastRecord(
            method=method_name(method),
            metric=metric,
            as_of=forecast.as_of,
            period_start=forecast.as_of + dt.timedelta(days=1),
            period_end=p.end,
            p10=float(p.band.p10),
            p50=float(p.band.p50),
            p90=float(p.band.p90),
            mean=float(p.band.mean),
            settings={"grain": grain.value},
        )
        for p in forecast.periods[:1]
    ]
    record_forecasts(warehouse, principal.scope, records, _now())
    return TimeSeriesRead.model_validate(
        {
            "as_of": forecast.as_of,
            "metric": forecast.metric,
            "method": forecast.method,
            "grain": forecast.grain,
            "history": [{"start": s, "value": v} for s, v in forecast.history],
            "periods": [
                {"start": p.start, "end": p.end, "band": p.band.__dict__} for p in forecast.periods
            ],
            "total": forecast.total.__dict__,
        }
    )


@router.get(
    "/forecast/timeseries",
    response_model=TimeSeriesRead,
    summary="Time-series forecast of revenue, GCI, closings or lead volume by month or week",
)
def read_timeseries(
    principal: DataReader,
    warehouse: WarehouseDep,
    cache: ResponseCacheDep,
    metric: Annotated[str, Query(description=f"One of {', '.join(TIMESERIES_METRICS)}.")] = "gci",
    grain: Annotated[SeriesGrain, Query()] = SeriesGrain.MONTH,
    periods: Annotated[int, Query(ge=1, le=24, description="Months or weeks ahead.")] = 3,
    method: Annotated[
        TimeSeriesMethod, Query(description="ets (chosen by backtest) or prophet.")
    ] = TimeSeriesMethod.ETS,
    as_of: AsOfQuery = None,
) -> Response:
    """The metric's own past, extrapolated with an 80% prediction interval: a second opinion
    beside the Monte Carlo. History is the whole months or weeks before as_of."""
    if metric not in TIMESERIES_METRICS:
        raise ValidationFailed(
            f"no time-series forecast for {metric!r}; choose one of {', '.join(TIMESERIES_METRICS)}"
        )
    timezone, day = _calendar(warehouse, principal, as_of)
    service = scoped_service(warehouse, principal, day, timezone)
    params = {"metric": metric, "grain": grain, "periods": periods, "method": method, "as_of": day}
    return cached_response(
        cache,
        warehouse,
        principal,
        "analytics.forecast.timeseries",
        params,
        lambda: _timeseries(warehouse, principal, service, metric, grain, periods, method),
    )


@router.get(
    "/forecast/accuracy",
    response_model=AccuracyRead,
    summary="How past forecasts did: MAPE, bias and P10-P90 coverage by method and horizon",
)
def read_accuracy(
    principal: DataReader,
    warehouse: WarehouseDep,
    metric: Annotated[str, Query(description="gci, sales_volume, closings or new_leads.")] = "gci",
    kind: Annotated[
        str | None, Query(description="issued (served forecasts) or backtest; default both.")
    ] = None,
    as_of: AsOfQuery = None,
) -> AccuracyRead:
    """Scores the caller's stored forecasts whose period ended by as_of against what
    happened (expected scenario only). Not cached: the ledger grows as forecasts are made."""
    if kind is not None and kind not in ("issued", "backtest"):
        raise ValidationFailed(f"kind must be issued or backtest, got {kind!r}")
    if metric not in TIMESERIES_METRICS:
        raise ValidationFailed(
            f"unknown metric {metric!r}; choose one of {', '.join(TIMESERIES_METRICS)}"
        )
    timezone, day = _calendar(warehouse, principal, as_of)
    report = forecast_accuracy(
        warehouse, Sources(warehouse, principal.scope), principal.scope, timezone, day, metric, kind
    )
    columns = ["method", "kind", "issued_at", "as_of", "period_start", "period_end"]
    columns += ["p10", "p50", "p90", "actual"]
    recent = report.scored.head(50)[columns].to_dict("records")
    return AccuracyRead.model_validate(
        {
            "as_of": day,
            "metric": metric,
            "scores": [s.__dict__ for s in report.scores],
            "recent": recent,
        }
    )
