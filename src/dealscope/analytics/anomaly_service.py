"""Anomalies in the caller's daily metrics, and the signal the alerts read.

Series (days of the tenant's calendar, the caller's scope): new leads, GCI (revenue), the
median speed to lead (minutes) from the metric registry, and webhook failures from
`raw_events` (deliveries dead-lettered or stored with an error, by the day received; a
tenant-wide figure, so agent- and team-scoped callers do not get it).

`detect_anomalies` fits each series over `lookback_days` ending on `as_of` and lists the
anomalous days of the last `days`; `anomaly_signal` answers for one metric and one day, for
alert rules of kind `anomaly`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from dealscope.analytics.forecast_history import cutoff_utc
from dealscope.analytics.models.anomalies import (
    AnomalyConfig,
    MultiSeriesAnomalyDetector,
    SeasonalAnomalyDetector,
    Transform,
)
from dealscope.analytics.periods import Grain, RangeName
from dealscope.analytics.service import AnalyticsService
from dealscope.analytics.sources import Sources
from dealscope.analytics.specs import MetricQuery
from dealscope.errors import ValidationFailed

MAX_LOOKBACK_DAYS = 400


class AnomalyMetric(StrEnum):
    NEW_LEADS = "new_leads"
    GCI = "gci"
    SPEED_TO_LEAD = "speed_to_lead_median_minutes"
    WEBHOOK_FAILURES = "webhook_failures"

    @property
    def is_count(self) -> bool:
        return self in (AnomalyMetric.NEW_LEADS, AnomalyMetric.WEBHOOK_FAILURES)


def _registry_series(
    sources: Sources, timezone: str, slug: str, start: dt.date, end: dt.date
) -> pd.Series:
    service = AnalyticsService(sources, end, timezone)
    query = MetricQuery(
        metrics=[slug], range=RangeName.CUSTOM, start=start, end=end, grain=Grain.DAY, as_of=end
    )
    rows = service.query(query).metrics[0].rows
    values = {pd.Timestamp(str(r.bucket)): np.nan if r.value is None else r.value for r in rows}
    days = pd.date_range(start, end, freq="D")
    return pd.Series([float(values.get(d, np.nan)) for d in days], index=days)


def _webhook_failures(sources: Sources, timezone: str, start: dt.date, end: dt.date) -> pd.Series:
    events = sources.table("raw_events")
    first = cutoff_utc(start - dt.timedelta(days=1), timezone)
    failed = events.filter(
        (events.received_at >= first)
        & (events.received_at < cutoff_utc(end, timezone))
        & ((events.status == "dead_letter") | events.error.notnull())
    )
    frame = sources.frame(failed.select("received_at"))
    days = pd.date_range(start, end, freq="D")
    if frame.empty:
        return pd.Series(0.0, index=days)
    local = pd.to_datetime(frame["received_at"], utc=True).dt.tz_convert(timezone)
    counts = local.dt.tz_localize(None).dt.normalize().value_counts()
    return counts.reindex(days, fill_value=0).astype(float)


def daily_series(
    sources: Sources, timezone: str, metric: AnomalyMetric, start: dt.date, end: dt.date
) -> pd.Series:
    """`metric` per day from `start` to `end` inclusive (NaN: nothing to measure that day,
    for the median speed to lead)."""
    if metric == AnomalyMetric.WEBHOOK_FAILURES:
        return _webhook_failures(sources, timezone, start, end)
    series = _registry_series(sources, timezone, metric.value, start, end)
    return series if metric == AnomalyMetric.SPEED_TO_LEAD else series.fillna(0.0)


def _config(metric: AnomalyMetric, threshold: float) -> AnomalyConfig:
    """Counts on the square-root scale (noise no finer than Poisson's 0.5 there); money and
    minutes on the log scale (no finer than 25%: a day of revenue is a handful of deals)."""
    if metric.is_count:
        return AnomalyConfig(threshold=threshold, transform=Transform.SQRT, min_scale=0.5)
    return AnomalyConfig(threshold=threshold, transform=Transform.LOG, min_scale=0.25)


@dataclass(frozen=True)
class Anomaly:
    metric: str
    day: dt.date
    value: float
    expected: float
    lower: float
    upper: float
    score: float  # robust z: residual / scale
    direction: str  # spike | drop


@dataclass(frozen=True)
class CombinedAnomaly:
    day: dt.date
    score: float  # IsolationForest's anomaly score (higher: more unusual)
    driver: str  # the series that stood out most that day
    scores: dict[str, float]  # each series' robust z that day


@dataclass(frozen=True)
class AnomalyReport:
    as_of: dt.date
    start: dt.date  # first day listed
    metrics: list[str]
    anomalies: list[Anomaly]
    combined: list[CombinedAnomaly]
    skipped: dict[str, str]  # metric -> why it was not examined


def detect_anomalies(
    sources: Sources,
    timezone: str,
    as_of: dt.date,
    metrics: list[AnomalyMetric] | None = None,
    days: int = 30,
    lookback_days: int = 91,
    threshold: float = 3.5,
) -> AnomalyReport:
    """Anomalous days among the last `days` up to `as_of` (see the module docstring)."""
    if not 1 <= days <= lookback_days <= MAX_LOOKBACK_DAYS:
        raise ValidationFailed(
            f"need 1 <= days ({days}) <= lookback_days ({lookback_days}) <= {MAX_LOOKBACK_DAYS}"
        )
    chosen = list(metrics or AnomalyMetric)
    start = as_of - dt.timedelta(days=lookback_days - 1)
    shown = as_of - dt.timedelta(days=days - 1)
    anomalies: list[Anomaly] = []
    scores: dict[str, pd.Series] = {}
    skipped: dict[str, str] = {}
    for metric in chosen:
        if metric == AnomalyMetric.WEBHOOK_FAILURES and sources.scope.agent_ids is not None:
            skipped[metric.value] = "webhook failures are tenant-wide; not shown to a scoped role"
            continue
        series = daily_series(sources, timezone, metric, start, as_of)
        if series.notna().sum() < 7:
            skipped[metric.value] = "fewer than 7 days with a value"
            continue
        model = SeasonalAnomalyDetector(_config(metric, threshold)).fit(series)
        scores[metric.value] = model.score_
        flagged = model.is_anomaly_ & (model.is_anomaly_.index >= pd.Timestamp(shown))
        for day in model.is_anomaly_.index[flagged.to_numpy()]:
            z = float(model.score_[day])
            anomalies.append(
                Anomaly(
                    metric=metric.value,
                    day=day.date(),
                    value=float(model.values_[day]),
                    expected=float(model.expected_[day]),
                    lower=float(model.lower_[day]),
                    upper=float(model.upper_[day]),
                    score=z,
                    direction="spike" if z > 0 else "drop",
                )
            )
    combined: list[CombinedAnomaly] = []
    if len(scores) >= 2:
        frame = pd.DataFrame(scores)
        forest = MultiSeriesAnomalyDetector().fit(frame)
        recent = forest.is_anomaly_ & (forest.is_anomaly_.index >= pd.Timestamp(shown))
        for day in forest.is_anomaly_.index[recent.to_numpy()]:
            combined.append(
                CombinedAnomaly(
                    day=day.date(),
                    score=float(forest.score_[day]),
                    driver=str(forest.drivers_[day]),
                    scores={k: float(v) for k, v in frame.loc[day].fillna(0.0).items()},
                )
            )
    anomalies.sort(key=lambda a: (a.day, a.metric), reverse=True)
    combined.sort(key=lambda c: c.day, reverse=True)
    return AnomalyReport(as_of, shown, [m.value for m in chosen], anomalies, combined, skipped)


@dataclass(frozen=True)
class AnomalySignal:
    """Whether `metric` on `day` was out of its expected range (for alert rules)."""

    metric: str
    day: dt.date
    value: float | None
    expected: float
    lower: float
    upper: float
    score: float
    is_anomaly: bool


def anomaly_signal(
    sources: Sources,
    timezone: str,
    day: dt.date,
    metric: AnomalyMetric,
    threshold: float = 3.5,
    lookback_days: int = 120,
) -> AnomalySignal:
    """The anomaly verdict on `metric` for `day`, fitted on the `lookback_days` ending on
    it. Alerts call this with the day just ended; ValidationFailed when the series is too
    short to judge."""
    series = daily_series(
        sources, timezone, metric, day - dt.timedelta(days=lookback_days - 1), day
    )
    model = SeasonalAnomalyDetector(_config(metric, threshold)).fit(series)
    last = model.values_.index[-1]
    value = model.values_[last]
    return AnomalySignal(
        metric=metric.value,
        day=day,
        value=None if np.isnan(value) else float(value),
        expected=float(model.expected_[last]),
        lower=float(model.lower_[last]),
        upper=float(model.upper_[last]),
        score=float(model.score_[last]),
        is_anomaly=bool(model.is_anomaly_[last]),
    )
