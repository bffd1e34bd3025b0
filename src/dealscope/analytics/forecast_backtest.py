"""Keeping score of forecasts: the backtest (forecast as of past month-ends, compare with what
happened) and the accuracy of the forecasts in the ledger.

Scores, per method and horizon: MAPE (mean |P50 - actual| / actual, over windows where
something closed), bias (mean (P50 - actual) / actual: positive means over-forecasting) and
coverage (the share of actuals inside P10..P90; a calibrated 80% interval covers about 0.8).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dealscope.analytics.forecast_history import ForecastMetric, load_history
from dealscope.analytics.forecast_ledger import BACKTEST, ForecastRecord, list_forecasts
from dealscope.analytics.forecast_service import metric_series
from dealscope.analytics.models.montecarlo import MonteCarloConfig, MonteCarloForecaster
from dealscope.analytics.models.timeseries import (
    SeriesGrain,
    TimeSeriesConfig,
    TimeSeriesForecaster,
    TimeSeriesMethod,
)
from dealscope.analytics.periods import Grain, RangeName
from dealscope.analytics.service import AnalyticsService
from dealscope.analytics.sources import Sources
from dealscope.analytics.specs import MetricQuery
from dealscope.errors import ValidationFailed
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.tenancy import TenantScope

MONTE_CARLO = "monte_carlo"
HORIZON_EDGES = (31, 62, 92, 183, 366, 731)  # up to 1, 2, 3, 6, 12 and 24 months
Progress = Callable[[str], None]


def method_name(method: TimeSeriesMethod) -> str:
    return f"timeseries:{method.value}"


@dataclass(frozen=True)
class Score:
    method: str
    horizon_days: int  # forecasts up to this many days ahead (and beyond the previous edge)
    forecasts: int
    mape: float | None
    bias: float | None
    coverage: float | None


def horizon_edge(days: int) -> int:
    for edge in HORIZON_EDGES:
        if days <= edge:
            return edge
    return HORIZON_EDGES[-1]


def score(frame: pd.DataFrame) -> list[Score]:
    """Scores of forecasts with columns method, horizon_days, p10, p50, p90, actual."""
    if frame.empty:
        return []
    frame = frame.assign(edge=[horizon_edge(int(d)) for d in frame["horizon_days"].to_numpy()])
    out = []
    for (method, edge), group in frame.groupby(["method", "edge"], sort=True):
        actual = group["actual"].to_numpy(float)
        p50 = group["p50"].to_numpy(float)
        some = actual > 0
        rel = (p50[some] - actual[some]) / actual[some]
        inside = (group["p10"].to_numpy(float) <= actual) & (actual <= group["p90"].to_numpy(float))
        out.append(
            Score(
                method=str(method),
                horizon_days=int(str(edge)),
                forecasts=len(group),
                mape=float(np.mean(np.abs(rel))) if some.any() else None,
                bias=float(np.mean(rel)) if some.any() else None,
                coverage=float(np.mean(inside)),
            )
        )
    return out


def daily_actuals(
    sources: Sources, timezone: str, slug: str, start: dt.date, end: dt.date
) -> pd.Series:
    """`slug` per day from `start` to `end` inclusive (the metric registry's definition,
    the caller's scope), in chunks the metric service accepts."""
    parts = []
    day = start
    while day <= end:
        last = min(end, day + dt.timedelta(days=364))
        service = AnalyticsService(sources, last, timezone)
        query = MetricQuery(
            metrics=[slug], range=RangeName.CUSTOM, start=day, end=last, grain=Grain.DAY,
            as_of=last,
        )  # fmt: skip
        rows = service.query(query).metrics[0].rows
        parts.append(
            pd.Series(
                [float(r.value or 0.0) for r in rows],
                index=pd.DatetimeIndex([pd.Timestamp(str(r.bucket)) for r in rows]),
            )
        )
        day = last + dt.timedelta(days=1)
    series = pd.concat(parts) if parts else pd.Series(dtype=float)
    return series.reindex(pd.date_range(start, end, freq="D"), fill_value=0.0)


def month_end(day: dt.date, months_ahead: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 + months_ahead + 1
    return dt.date(index // 12, index % 12 + 1, 1) - dt.timedelta(days=1)


@dataclass(frozen=True)
class BacktestReport:
    metric: str
    as_of_dates: list[dt.date]
    forecasts: pd.DataFrame  # method, as_of, horizon_days, period_end, p10, p50, p90, mean, actual
    scores: list[Score]

    def records(self) -> list[ForecastRecord]:
        """The backtest's forecasts as ledger records."""
        return [
            ForecastRecord(
                method=str(r["method"]),
                metric=self.metric,
                as_of=r["as_of"],
                period_start=r["as_of"] + dt.timedelta(days=1),
                period_end=r["period_end"],
                p10=float(r["p10"]),
                p50=float(r["p50"]),
                p90=float(r["p90"]),
                mean=float(r["mean"]),
                kind=BACKTEST,
            )
            for r in self.forecasts.to_dict("records")
        ]


def backtest_dates(latest: dt.date, count: int, months: int) -> list[dt.date]:
    """`count` month-ends, one month apart, the last one `months` before the month of
    `latest` closed (so every window has fully happened by `latest`)."""
    last = (
        month_end(latest, -months)
        if latest == month_end(latest)
        else month_end(latest, -months - 1)
    )
    return [month_end(last, -k) for k in range(count - 1, -1, -1)]


def run_backtest(
    sources: Sources,
    timezone: str,
    latest: dt.date,
    metric: ForecastMetric = ForecastMetric.GCI,
    dates: int = 12,
    horizons: Iterable[int] = (1, 2, 3),
    iterations: int = 2000,
    methods: Iterable[str] = (MONTE_CARLO, "ets", "prophet"),
    seed: int = 0,
    progress: Progress | None = None,
) -> BacktestReport:
    """Forecast `metric` as of `dates` past month-ends for 1..N whole months ahead with each
    method, seeing only what was known then, and score them against what happened."""
    months = sorted(set(horizons))
    if not months or months[0] < 1 or months[-1] > 12:
        raise ValidationFailed("horizons are whole months between 1 and 12")
    if not 1 <= dates <= 60:
        raise ValidationFailed(f"dates must be between 1 and 60, got {dates}")
    chosen = list(methods)
    known = {MONTE_CARLO, *(m.value for m in TimeSeriesMethod)}
    unknown = [m for m in chosen if m not in known]
    if unknown:
        raise ValidationFailed(f"unknown method(s): {', '.join(unknown)}")
    say = progress or (lambda message: None)
    as_ofs = backtest_dates(latest, dates, months[-1])
    actual = daily_actuals(
        sources, timezone, metric.value, as_ofs[0], month_end(as_ofs[-1], months[-1])
    )
    running = actual.cumsum()
    rows = []
    for as_of in as_ofs:
        ends = [month_end(as_of, h) for h in months]

        def truth(end: dt.date, start: dt.date = as_of) -> float:
            return float(running[pd.Timestamp(end)] - running.get(pd.Timestamp(start), 0.0))

        if MONTE_CARLO in chosen:
            say(f"{as_of}: monte carlo")
            horizon = (ends[-1] - as_of).days
            config = MonteCarloConfig(horizon_days=horizon)
            history = load_history(sources, as_of, timezone, metric, config.lookback_days)
            sim = (
                MonteCarloForecaster(config)
                .fit(history)
                .simulate(iterations, seed, daily_iterations=iterations)
            )
            cumulative = np.cumsum(sim.daily, axis=1)
            for end in ends:
                values = cumulative[:, (end - as_of).days - 1]
                rows.append(_row(MONTE_CARLO, as_of, end, values, truth(end)))
        for name in chosen:
            if name == MONTE_CARLO:
                continue
            method = TimeSeriesMethod(name)
            say(f"{as_of}: {method.value}")
            service = AnalyticsService(sources, as_of, timezone)
            series = metric_series(service, metric.value, SeriesGrain.MONTH, 36)
            nonzero = np.flatnonzero(series.to_numpy() > 0)
            if len(nonzero):
                series = series.iloc[int(nonzero[0]) :]
            settings = TimeSeriesConfig(method=method, periods=months[-1], samples=iterations)
            model = TimeSeriesForecaster(settings, random_state=seed).fit(series)
            for h, end in zip(months, ends, strict=True):
                rows.append(_row(method_name(method), as_of, end, model.cumulative(h), truth(end)))
    frame = pd.DataFrame(rows)
    return BacktestReport(metric.value, as_ofs, frame, score(frame))


def _row(
    method: str, as_of: dt.date, end: dt.date, values: np.ndarray, actual: float
) -> dict[str, object]:
    q = np.quantile(values, [0.1, 0.5, 0.9], method="inverted_cdf")
    return {
        "method": method,
        "as_of": as_of,
        "horizon_days": (end - as_of).days,
        "period_end": end,
        "p10": float(q[0]),
        "p50": float(q[1]),
        "p90": float(q[2]),
        "mean": float(np.mean(values)),
        "actual": actual,
    }


@dataclass(frozen=True)
class AccuracyReport:
    metric: str
    as_of: dt.date
    scored: pd.DataFrame  # the matured forecasts with their actuals
    scores: list[Score]


def forecast_accuracy(
    warehouse: Warehouse,
    sources: Sources,
    scope: TenantScope,
    timezone: str,
    as_of: dt.date,
    metric: str = "gci",
    kind: str | None = None,
) -> AccuracyReport:
    """How the scope's stored forecasts of `metric` (expected scenario; `kind` issued or
    backtest, default both) did, for those whose period ended by `as_of`."""
    frame = list_forecasts(warehouse, scope, metric, matured_by=as_of)
    frame = frame[frame["scenario"] == "expected"]
    if kind is not None:
        frame = frame[frame["kind"] == kind]
    frame = frame.dropna(subset=["p10", "p50", "p90"])
    if frame.empty:
        return AccuracyReport(metric, as_of, frame.assign(actual=[]), [])
    first = min(frame["period_start"])
    last = max(frame["period_end"])
    running = daily_actuals(sources, timezone, metric, first, last).cumsum()
    before = running.shift(1, fill_value=0.0)
    actual = [
        float(running[pd.Timestamp(end)] - before[pd.Timestamp(start)])
        for start, end in zip(frame["period_start"], frame["period_end"], strict=True)
    ]
    scored = frame.assign(actual=actual)
    return AccuracyReport(metric, as_of, scored, score(scored))
