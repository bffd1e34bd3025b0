"""Measuring a rule's condition at one moment: a `Finding` says whether it holds, the value,
the baseline it was compared with, and a title a person can read.

Metric conditions go through `AnalyticsService` (the metric registry, tenant-wide scope, the
tenant's calendar), so an alert's number is the number the dashboards show for the same
metric and period. Feed health reads `raw_events` through the tenancy helper.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, cast

import pandas as pd
import sqlalchemy as sa

from dealscope.alerts.rules import (
    AnomalyCondition,
    ChangeCondition,
    FeedHealthCondition,
    ThresholdCondition,
)
from dealscope.alerts.signals import ANOMALY_DETECTORS
from dealscope.analytics.periods import Compare, Grain, RangeName
from dealscope.analytics.registry import get_metric
from dealscope.analytics.service import AnalyticsService
from dealscope.analytics.specs import MetricQuery, MetricRow, Unit
from dealscope.warehouse.schema import raw_events
from dealscope.warehouse.tenancy import TenantScope, scope_select

Condition = ThresholdCondition | ChangeCondition | AnomalyCondition | FeedHealthCondition
FAILED_STATUSES = ("dead_letter",)


@dataclass(frozen=True)
class Finding:
    firing: bool
    title: str
    value: float | None = None
    baseline: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)


_SYMBOLS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "EUR": "€", "GBP": "£"}


def format_value(value: float | None, unit: Unit, currency: str = "USD") -> str:
    """A metric value as people read it (money without cents in the tenant's currency,
    ratios as percentages)."""
    if value is None:
        return "no data"
    if unit == Unit.RATIO:
        return f"{100 * value:.1f}%"
    if unit == Unit.MONEY:
        symbol = _SYMBOLS.get(currency)
        amount = f"{abs(value):,.0f}"
        sign = "-" if value < 0 else ""
        return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"
    if unit == Unit.COUNT:
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    suffix = {
        Unit.DURATION_MINUTES: " min",
        Unit.DURATION_HOURS: " h",
        Unit.DAYS: " days",
    }.get(unit, "")
    return f"{value:,.1f}{suffix}"


def _filters(condition: ThresholdCondition | ChangeCondition | AnomalyCondition) -> str:
    if not condition.filters:
        return ""
    parts = [f"{d.value}={','.join(v)}" for d, v in condition.filters.items()]
    return f" [{'; '.join(parts)}]"


def _single(service: AnalyticsService, query: MetricQuery) -> MetricRow:
    result = service.query(query)
    rows = result.metrics[0].rows
    if len(rows) == 1:
        return rows[0]
    # Filters on several values of a dimension still give one row without dimensions.
    raise AssertionError(f"expected one row for {query.metrics[0]}, got {len(rows)}")


def measure_threshold(
    service: AnalyticsService, condition: ThresholdCondition, currency: str = "USD"
) -> Finding:
    metric = get_metric(condition.metric)
    query = MetricQuery(metrics=[metric.slug], filters=condition.filters, range=condition.range)
    value = _single(service, query).value
    above = condition.operator == "above"
    firing = value is not None and (value > condition.value if above else value < condition.value)
    shown = format_value(value, metric.unit, currency)
    limit = format_value(condition.value, metric.unit, currency)
    title = (
        f"{metric.label} ({condition.range.value}){_filters(condition)} is {shown}, "
        f"{condition.operator} {limit}"
        if firing
        else f"{metric.label} ({condition.range.value}){_filters(condition)} is {shown}"
    )
    return Finding(
        firing,
        title,
        value,
        condition.value,
        {"metric": metric.slug, "range": condition.range.value, "threshold": condition.value},
    )


def _moved(
    condition: ChangeCondition, value: float | None, baseline: float | None
) -> tuple[bool, float | None, float | None]:
    """(fires, change, change in percent) of `value` against `baseline`."""
    if value is None or baseline is None:
        return False, None, None
    change = value - baseline
    pct = math.inf * (1 if change > 0 else -1) if baseline == 0 else 100 * change / abs(baseline)
    if baseline == 0 and change == 0:
        pct = 0.0
    direction_ok = {
        "drop": change < 0,
        "rise": change > 0,
        "either": change != 0,
    }[condition.direction]
    fires = direction_ok and abs(pct) >= condition.percent and abs(change) >= condition.min_change
    return fires, change, None if math.isinf(pct) else pct


def _same_weekday(
    service: AnalyticsService, condition: ChangeCondition
) -> tuple[float | None, float | None, dict[str, Any]]:
    """The last complete day's value, and the mean of the same weekday over the weeks before
    (days without a value are left out of the mean)."""
    day = service.as_of - dt.timedelta(days=1)
    first = day - dt.timedelta(days=7 * condition.weeks)
    query = MetricQuery(
        metrics=[condition.metric],
        filters=condition.filters,
        range=RangeName.CUSTOM,
        start=first,
        end=day,
        grain=Grain.DAY,
    )
    by_day = {row.bucket: row.value for row in service.query(query).metrics[0].rows}
    earlier = [day - dt.timedelta(days=7 * k) for k in range(1, condition.weeks + 1)]
    values = [v for d in earlier if (v := by_day.get(d)) is not None]
    baseline = sum(values) / len(values) if values else None
    detail = {"day": day.isoformat(), "weekdays": [d.isoformat() for d in earlier]}
    return by_day.get(day), baseline, detail


def measure_change(
    service: AnalyticsService, condition: ChangeCondition, currency: str = "USD"
) -> Finding:
    metric = get_metric(condition.metric)
    detail: dict[str, Any] = {"metric": metric.slug, "baseline_kind": condition.baseline}
    if condition.baseline == "previous_period":
        query = MetricQuery(
            metrics=[metric.slug],
            filters=condition.filters,
            range=condition.range,
            compare=Compare.PREVIOUS_PERIOD,
        )
        row = _single(service, query)
        value, baseline = row.value, row.comparison
        what = f"{metric.label} ({condition.range.value}){_filters(condition)}"
        against = "the previous period"
        detail["range"] = condition.range.value
    else:
        value, baseline, extra = _same_weekday(service, condition)
        detail.update(extra)
        weekday = dt.date.fromisoformat(extra["day"]).strftime("%A")
        what = f"{metric.label} on {weekday} {extra['day']}{_filters(condition)}"
        against = f"the {condition.weeks}-week {weekday} average"
    fires, change, pct = _moved(condition, value, baseline)
    detail.update(change=change, change_pct=pct, percent=condition.percent)
    moved = "rose" if (change or 0) > 0 else "fell"
    size = "from nothing" if pct is None and change else f"{abs(pct or 0):.0f}%"
    shown = format_value(value, metric.unit, currency)
    base = format_value(baseline, metric.unit, currency)
    title = f"{what} {moved} {size} against {against}: {shown} vs {base}"
    return Finding(fires, title, value, baseline, detail)


def measure_anomaly(
    service: AnalyticsService, condition: AnomalyCondition, currency: str = "USD"
) -> Finding:
    """Through a registered detector (signals.ANOMALY_DETECTORS); rules are refused at
    creation while none is, and a rule whose detector went away does not fire."""
    metric = get_metric(condition.metric)
    detector = ANOMALY_DETECTORS.get(condition.detector)
    if detector is None:
        return Finding(False, f"anomaly detector {condition.detector!r} is not available")
    day = service.as_of - dt.timedelta(days=1)
    query = MetricQuery(
        metrics=[metric.slug],
        filters=condition.filters,
        range=RangeName.CUSTOM,
        start=day - dt.timedelta(days=detector.history_days - 1),
        end=day,
        grain=Grain.DAY,
    )
    rows = service.query(query).metrics[0].rows
    series = pd.Series(
        [r.value for r in rows], index=[r.bucket for r in rows], dtype="float64"
    ).sort_index()
    verdict = detector.check_last(series, metric.unit)
    change = verdict.value - verdict.expected
    direction_ok = {"drop": change < 0, "rise": change > 0, "either": True}[condition.direction]
    fires = verdict.is_anomaly and direction_ok
    title = (
        f"{metric.label} on {day.isoformat()}{_filters(condition)} is unusual: "
        f"{format_value(verdict.value, metric.unit, currency)}, expected "
        f"{format_value(verdict.expected, metric.unit, currency)}"
    )
    detail = {"metric": metric.slug, "day": day.isoformat(), "score": verdict.score}
    return Finding(fires, title, verdict.value, verdict.expected, detail)


def measure_feed_health(
    connection: sa.Connection, scope: TenantScope, condition: FeedHealthCondition, now: dt.datetime
) -> Finding:
    """Failure rate of webhook events received in the window, and minutes since the last."""
    c = raw_events.c
    since = now - dt.timedelta(minutes=condition.window_minutes)
    failed = sa.or_(c.status.in_(FAILED_STATUSES), c.error.is_not(None))
    stmt = sa.select(
        sa.func.count().label("events"),
        sa.func.coalesce(sa.func.sum(sa.case((failed, 1), else_=0)), 0).label("failed"),
        sa.func.count(c.latency_ms).label("timed"),
        sa.func.percentile_cont(0.95).within_group(c.latency_ms).label("p95"),
    ).select_from(raw_events)
    stmt = scope_select(stmt, raw_events, scope).where(c.received_at >= since, c.received_at < now)
    last_stmt = scope_select(sa.select(sa.func.max(c.received_at)), raw_events, scope).where(
        c.received_at < now
    )
    if condition.source is not None:
        stmt = stmt.where(c.source == condition.source)
        last_stmt = last_stmt.where(c.source == condition.source)
    row = connection.execute(stmt).one()
    events, failures = int(row.events), int(row.failed)
    last = cast(dt.datetime | None, connection.execute(last_stmt).scalar())
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=dt.UTC)
    rate = failures / events if events else None
    idle = None if last is None else (now - last).total_seconds() / 60
    feed = f"{condition.source} webhooks" if condition.source else "webhooks"
    reasons = []
    limit = condition.max_failure_rate
    if limit is not None and rate is not None and events >= condition.min_events and rate > limit:
        reasons.append(
            f"{failures} of {events} events failed in {condition.window_minutes} min "
            f"({100 * rate:.0f}% > {100 * limit:.0f}%)"
        )
    p95 = None if row.p95 is None else float(row.p95)
    latency = condition.max_p95_latency_ms
    timed_enough = row.timed >= condition.min_events
    if latency is not None and p95 is not None and timed_enough and p95 > latency:
        reasons.append(f"p95 latency {p95:,.0f} ms > {latency:,.0f} ms")
    stale = condition.stale_after_minutes
    # A feed that never delivered anything is not configured rather than stale.
    if stale is not None and idle is not None and idle >= stale:
        reasons.append(f"nothing received for {idle:.0f} min (limit {stale} min)")
    detail = {
        "source": condition.source,
        "events": events,
        "failed": failures,
        "failure_rate": rate,
        "p95_latency_ms": p95,
        "minutes_since_last": None if idle is None else round(idle, 1),
        "last_received_at": None if last is None else last.isoformat(),
    }
    if reasons:
        return Finding(True, f"{feed}: {'; '.join(reasons)}", rate, limit, detail)
    shown = "no events" if rate is None else f"{100 * rate:.0f}% failed of {events}"
    return Finding(False, f"{feed} healthy: {shown}", rate, limit, detail)


def measure(
    condition: Condition,
    service: AnalyticsService,
    connection: sa.Connection,
    now: dt.datetime,
    currency: str = "USD",
) -> Finding:
    """The finding of `condition` at `now` (the service's `as_of` is `now`'s local day)."""
    if isinstance(condition, ThresholdCondition):
        return measure_threshold(service, condition, currency)
    if isinstance(condition, ChangeCondition):
        return measure_change(service, condition, currency)
    if isinstance(condition, AnomalyCondition):
        return measure_anomaly(service, condition, currency)
    return measure_feed_health(connection, service.sources.scope, condition, now)
