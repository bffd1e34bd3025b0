"""Forecasts for one caller: the Monte Carlo revenue forecast and the time-series second
opinion, on the caller's scoped history (a manager forecasts their team, an agent
themselves), in the tenant's calendar, as of a given day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dealscope.analytics.forecast_history import ForecastMetric, load_history
from dealscope.analytics.models.mc_summary import Band, BucketGrain, ForecastSummary, band
from dealscope.analytics.models.mc_summary import summarize as summarize_simulation
from dealscope.analytics.models.montecarlo import (
    MonteCarloConfig,
    MonteCarloForecaster,
    Scenario,
)
from dealscope.analytics.models.timeseries import (
    SeriesGrain,
    TimeSeriesConfig,
    TimeSeriesForecaster,
    TimeSeriesMethod,
)
from dealscope.analytics.periods import Grain, Period, RangeName, buckets
from dealscope.analytics.service import AnalyticsService
from dealscope.analytics.sources import Sources
from dealscope.analytics.specs import MetricQuery
from dealscope.errors import ValidationFailed

TIMESERIES_METRICS = ("gci", "sales_volume", "closings", "new_leads")
HISTORY_PERIODS = {SeriesGrain.MONTH: 36, SeriesGrain.WEEK: 156}


@dataclass(frozen=True)
class MonteCarloRequest:
    horizon_days: int = 90
    iterations: int = 10_000
    seed: int = 0
    metric: ForecastMetric = ForecastMetric.GCI
    grain: BucketGrain = BucketGrain.WEEK
    target: float | None = None
    scenario: str = "expected"
    lead_volume: float | None = None
    conversion: float | None = None
    deal_size: float | None = None
    cycle_time: float | None = None
    compare_scenarios: bool = False  # also simulate best and worst


@dataclass(frozen=True)
class Drivers:
    """What the forecast learned, to read it by."""

    open_deals: int
    open_pipeline_amount: float
    stage_close_rates: dict[str, float]  # mean P(closing within the horizon), open deals
    expected_new_leads: float
    new_lead_conversion: float  # P(a new lead closes within the horizon), day 1 arrival
    typical_deal_revenue: float  # median revenue of a recent won deal
    lead_dispersion: float | None  # negative binomial shape (None: Poisson)


@dataclass(frozen=True)
class ScenarioOutcome:
    scenario: Scenario
    total: Band


@dataclass(frozen=True)
class MonteCarloForecast:
    metric: ForecastMetric
    seed: int
    summary: ForecastSummary
    drivers: Drivers
    scenarios: list[ScenarioOutcome] = field(default_factory=list)


def _drivers(model: MonteCarloForecaster, horizon: int) -> Drivers:
    rates: dict[str, float] = {}
    p = model._plan(Scenario()).probability
    stages = model.cells_["stage"].to_numpy(object)[model.deal_cell_]
    for stage in dict.fromkeys(stages):
        rates[str(stage)] = float(p[stages == stage].mean())
    return Drivers(
        open_deals=len(model.amounts_),
        open_pipeline_amount=float(model.amounts_.sum()),
        stage_close_rates=rates,
        expected_new_leads=float(model.arrival_mean_.sum()),
        new_lead_conversion=float(model.lag_pmf_[:horizon].sum()),
        typical_deal_revenue=float(np.median(model.size_table_)),
        lead_dispersion=None if not np.isfinite(model.dispersion_) else model.dispersion_,
    )


def monte_carlo_forecast(
    sources: Sources, as_of: dt.date, timezone: str, request: MonteCarloRequest
) -> MonteCarloForecast:
    """The Monte Carlo forecast of `request.metric` over the `horizon_days` after `as_of`
    for the caller of `sources` (deterministic for a seed)."""
    config = MonteCarloConfig(horizon_days=request.horizon_days)
    history = load_history(sources, as_of, timezone, request.metric, config.lookback_days)
    model = MonteCarloForecaster(config).fit(history)
    scenario = model.scenario(
        request.scenario,
        lead_volume=request.lead_volume,
        conversion=request.conversion,
        deal_size=request.deal_size,
        cycle_time=request.cycle_time,
    )
    simulation = model.simulate(request.iterations, request.seed, scenario)
    summary = summarize_simulation(simulation, request.grain, request.target)
    outcomes = []
    if request.compare_scenarios:
        for name in ("worst", "expected", "best"):
            chosen = model.scenario(name)
            totals = (
                simulation.totals
                if chosen == scenario
                else model.simulate(request.iterations, request.seed, chosen, 0).totals
            )
            outcomes.append(ScenarioOutcome(chosen, band(totals)))
    return MonteCarloForecast(
        request.metric, request.seed, summary, _drivers(model, request.horizon_days), outcomes
    )


# --- time series -------------------------------------------------------------------------


def last_complete_day(as_of: dt.date, grain: SeriesGrain) -> dt.date:
    """The last day of the last whole month or week (Monday to Sunday) ending by `as_of`."""
    tomorrow = as_of + dt.timedelta(days=1)
    if grain == SeriesGrain.MONTH:
        return tomorrow.replace(day=1) - dt.timedelta(days=1)
    return tomorrow - dt.timedelta(days=tomorrow.weekday()) - dt.timedelta(days=1)


def metric_series(
    service: AnalyticsService, slug: str, grain: SeriesGrain, periods: int
) -> pd.Series:
    """`slug` per month or week over the `periods` whole periods ending by the service's
    `as_of` (index: period starts; empty periods are 0)."""
    end = last_complete_day(service.as_of, grain)
    step = Grain(grain.value)
    starts = buckets(Period(end - dt.timedelta(days=400 * 4), end + dt.timedelta(days=1)), step)
    starts = starts[-periods:]
    query = MetricQuery(
        metrics=[slug],
        range=RangeName.CUSTOM,
        start=starts[0],
        end=end,
        grain=step,
        as_of=service.as_of,
    )
    result = service.query(query)
    values = {row.bucket: row.value or 0.0 for row in result.metrics[0].rows}
    return pd.Series(
        [float(values.get(s, 0.0)) for s in starts], index=pd.DatetimeIndex(starts), name=slug
    )


@dataclass(frozen=True)
class PeriodForecast:
    start: dt.date
    end: dt.date  # inclusive
    band: Band


@dataclass(frozen=True)
class TimeSeriesForecast:
    metric: str
    method: TimeSeriesMethod
    grain: SeriesGrain
    as_of: dt.date
    history: list[tuple[dt.date, float]]
    periods: list[PeriodForecast]
    total: Band  # of all the forecast periods together


def timeseries_forecast(
    service: AnalyticsService,
    slug: str,
    grain: SeriesGrain = SeriesGrain.MONTH,
    periods: int = 3,
    method: TimeSeriesMethod = TimeSeriesMethod.ETS,
    history_periods: int | None = None,
) -> TimeSeriesForecast:
    """`slug` for the `periods` months or weeks after the last whole one before `as_of`."""
    if slug not in TIMESERIES_METRICS:
        raise ValidationFailed(
            f"no time-series forecast for {slug!r}; choose one of {', '.join(TIMESERIES_METRICS)}"
        )
    series = metric_series(service, slug, grain, history_periods or HISTORY_PERIODS[grain])
    first = np.flatnonzero(series.to_numpy() > 0)
    if len(first):
        series = series.iloc[int(first[0]) :]  # before the first activity there was no business
    config = TimeSeriesConfig(method=method, grain=grain, periods=periods)
    model = TimeSeriesForecaster(config).fit(series)
    frame = model.predict()
    out = []
    for i, begin in enumerate(pd.DatetimeIndex(frame["start"])):
        start = begin.date()
        following = begin + grain.offset
        out.append(
            PeriodForecast(
                start,
                following.date() - dt.timedelta(days=1),
                band(model.paths_[:, i]),
            )
        )
    return TimeSeriesForecast(
        metric=slug,
        method=method,
        grain=grain,
        as_of=service.as_of,
        history=[
            (ts.date(), float(v))
            for ts, v in zip(pd.DatetimeIndex(series.index), series.to_numpy(), strict=True)
        ],
        periods=out,
        total=band(model.cumulative(periods)),
    )
