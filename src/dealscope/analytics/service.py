"""`AnalyticsService`: the one entry point for metric queries (DESIGN.md §3, §5).

`AnalyticsService(sources, as_of, timezone).query(MetricQuery)` validates the query against
the registry, builds each metric's Ibis expression for the period (and the comparison
period, or the plan), runs it on the warehouse through the caller's scoped `Sources`, and
returns a typed `MetricResult`.

Empty periods are answers, not errors: counts and money are 0, ratios, medians and means are
null. With a grain every bucket of the period gets a row (for each combination of dimension
values seen), so charts have a point for every bucket.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import pandas as pd

from dealscope.analytics.dimensions import BUCKET, Frame, frame_key
from dealscope.analytics.metrics.base import Metric, build_tables
from dealscope.analytics.metrics.targets import TARGET_DIMENSIONS, build_target
from dealscope.analytics.periods import Compare, Period, comparison_period, resolve_range
from dealscope.analytics.registry import get_metric
from dealscope.analytics.sources import Sources
from dealscope.analytics.specs import (
    Dimension,
    MetricQuery,
    MetricResult,
    MetricRow,
    MetricSeries,
    PeriodRead,
    Unit,
)
from dealscope.errors import ValidationFailed

MAX_BUCKETS = 400  # a day grain over more than a year is a different question

Key = tuple[Any, ...]


def validate_query(query: MetricQuery) -> list[Metric]:
    """The metrics of `query`, or ValidationFailed naming the unknown metric, or the
    dimension or filter a metric cannot be split by."""
    metrics = [get_metric(slug) for slug in query.metrics]
    asked = list(query.dimensions) + [d for d in query.filters if d not in query.dimensions]
    for metric in metrics:
        missing = [d.value for d in asked if d not in metric.dimensions]
        if missing:
            allowed = ", ".join(sorted(d.value for d in metric.dimensions)) or "none"
            raise ValidationFailed(
                f"metric {metric.slug!r} cannot be split or filtered by "
                f"{', '.join(missing)} (its dimensions: {allowed})"
            )
        if query.compare == Compare.TARGET and not metric.additive:
            raise ValidationFailed(
                f"metric {metric.slug!r} has no targets: plans exist for counts and money"
            )
    if query.compare == Compare.TARGET and not set(asked) <= TARGET_DIMENSIONS:
        raise ValidationFailed("compare=target splits by agent or team only")
    return metrics


def _number(value: Any) -> float | None:
    if type(value) is float:  # what the stacked query gives (its values are cast so)
        return None if math.isnan(value) else value
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, Decimal):
        value = float(value)
    number = float(value)
    return None if math.isnan(number) else number


def _day(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()


def _text(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def _plan_metric(slug: str) -> Metric:
    """The plan of metric `slug` dressed as a metric (unit ratio: absent is null, not 0)."""
    metric = get_metric(slug)
    return Metric(
        f"plan:{slug}",
        f"Plan: {metric.label}",
        Unit.RATIO,
        metric.description,
        metric.dimensions,
        metric.higher_is_better,
        lambda frame: build_target(frame, slug),
    )


def target_requests(
    requests: Sequence[tuple[Frame, Sequence[str]]],
) -> list[tuple[Frame, list[Metric]]]:
    """`compute_many` requests for the plans of metric slugs over frames: a page can stack
    them with its figures in one statement and read them back with `targets_of`."""
    return [(frame, [_plan_metric(slug) for slug in slugs]) for frame, slugs in requests]


def targets_of(
    found: Sequence[dict[str, dict[Key, float | None]]],
) -> list[dict[str, dict[Key, float]]]:
    """What `compute_many` gave for `target_requests`, as `compute_targets` gives it: by
    metric slug, keys without a plan absent."""
    return [
        {
            slug.removeprefix("plan:"): {k: v for k, v in rows.items() if v is not None}
            for slug, rows in values.items()
        }
        for values in found
    ]


class AnalyticsService:
    """Metric queries for one caller (`sources` carries its scope) on one `as_of` day, in the
    tenant's time zone (days start at local midnight)."""

    def __init__(self, sources: Sources, as_of: dt.date, timezone: str = "UTC") -> None:
        self.sources = sources
        self.as_of = as_of
        self.zone = ZoneInfo(timezone)

    def frame(self, period: Period, query: MetricQuery | None = None) -> Frame:
        filters = {} if query is None else {d: tuple(v) for d, v in query.filters.items()}
        return Frame(
            sources=self.sources,
            period=period,
            as_of=self.as_of,
            zone=self.zone,
            grain=None if query is None else query.grain,
            dimensions=() if query is None else tuple(query.dimensions),
            filters=filters,
        )

    def compute(self, metric: Metric, frame: Frame) -> dict[Key, float | None]:
        """`metric` over `frame`: {(bucket?, *dimension values): value}, filled as documented
        in the module (0 for counts and money, null otherwise)."""
        return self.compute_many([(frame, [metric])])[0][metric.slug]

    def compute_many(
        self, requests: Sequence[tuple[Frame, Sequence[Metric]]]
    ) -> list[dict[str, dict[Key, float | None]]]:
        """Metrics over frames (each frame with its own metrics and keys), in one query: the
        metric tables are stacked with their slug and request number and run as one
        statement, so a dashboard pays one round trip, not one per figure. Request by
        request, {slug: what `compute` gives}: the same expressions, the same numbers."""
        width = max((len(frame.keys) for frame, _ in requests), default=0)

        def build() -> ibis.Table:
            parts = []
            for number, (frame, metrics) in enumerate(requests):
                # Metrics of one family (the same base rows) come from one aggregate.
                for metric, table in zip(metrics, build_tables(frame, metrics), strict=True):
                    cols: dict[str, ibis.Value] = {
                        "_request": ibis.literal(number),
                        "_slug": ibis.literal(metric.slug),
                        "value": table.value.cast("float64"),
                    }
                    # Every frame's keys stand in the same text columns (_k0, _k1...), so
                    # tables of different keys stack; a bucket travels as an ISO date.
                    for i in range(width):
                        cols[f"_k{i}"] = (
                            table[frame.keys[i]].cast("string")
                            if i < len(frame.keys)
                            else ibis.null("string")
                        )
                    parts.append(table.select(**cols))
            return ibis.union(*parts) if len(parts) > 1 else parts[0]

        raw: list[dict[str, dict[Key, float | None]]] = [
            {m.slug: {} for m in metrics} for _, metrics in requests
        ]
        if any(metrics for _, metrics in requests):
            key = tuple((frame_key(f), tuple(m.slug for m in ms)) for f, ms in requests)
            names, rows = self.sources.fetch(build, ("compute_many", key))
            at = {name: i for i, name in enumerate(names)}
            request_at, slug_at, value_at = at["_request"], at["_slug"], at["value"]
            # Per request, where each key is read and whether it is a bucket (a date).
            readers = [
                [(at[f"_k{i}"], name == BUCKET) for i, name in enumerate(frame.keys)]
                for frame, _ in requests
            ]
            for row in rows:
                number = int(row[request_at])
                found: list[Any] = []
                for column, bucket in readers[number]:
                    value = _text(row[column])
                    found.append(_day(value) if bucket and value is not None else value)
                raw[number][str(row[slug_at])][tuple(found)] = _number(row[value_at])
        return [
            {m.slug: self._fill(m.additive, frame, raw[n][m.slug]) for m in metrics}
            for n, (frame, metrics) in enumerate(requests)
        ]

    def compute_targets(
        self, requests: Sequence[tuple[Frame, Sequence[str]]]
    ) -> list[dict[str, dict[Key, float]]]:
        """The plans for metric slugs over frames, in one query (as `compute_target` gives
        each: keys without a plan are absent)."""
        return targets_of(self.compute_many(target_requests(requests)))

    def compute_target(self, slug: str, frame: Frame) -> dict[Key, float | None]:
        """The plan for `slug` over `frame` (see metrics.targets); absent keys: no plan."""
        return dict(self.compute_targets([(frame, [slug])])[0][slug])

    def _fill(
        self, additive: bool, frame: Frame, rows: dict[Key, float | None]
    ) -> dict[Key, float | None]:
        empty = 0.0 if additive else None
        filled = {k: (empty if v is None else v) for k, v in rows.items()}
        if frame.grain is None:
            if not frame.dimensions and not filled:
                filled[()] = empty
            return filled
        combos = {k[1:] for k in filled} or ({()} if not frame.dimensions else set())
        for bucket in frame.bucket_starts():
            for combo in combos:
                filled.setdefault((bucket, *combo), empty)
        return filled

    def query(self, query: MetricQuery) -> MetricResult:
        """Answer `query` (see the module docstring for empty periods and buckets)."""
        metrics = validate_query(query)
        period = resolve_range(query.range, self.as_of, query.start, query.end)
        frame = self.frame(period, query)
        if frame.grain is not None and len(frame.bucket_starts()) > MAX_BUCKETS:
            raise ValidationFailed(
                f"{len(frame.bucket_starts())} {frame.grain.value} buckets are too many "
                f"(at most {MAX_BUCKETS}); choose a coarser grain or a shorter range"
            )
        other = comparison_period(period, query.compare) if query.compare else None
        frames = [frame] if other is None else [frame, frame.at(other)]
        computed = self.compute_many([(f, metrics) for f in frames])
        series = []
        for metric in metrics:
            current = computed[0][metric.slug]
            base: dict[Key, float | None] | None = None
            if other is not None:
                base = self._align(frame, other, computed[1][metric.slug])
            elif query.compare == Compare.TARGET:
                base = self.compute_target(metric.slug, frame)
            fill = 0.0 if other is not None and metric.additive else None
            series.append(self._series(metric, current, base, frame, fill))
        return MetricResult(
            as_of=self.as_of,
            period=PeriodRead(start=period.start, end=period.last_day),
            comparison_period=None
            if other is None
            else PeriodRead(start=other.start, end=other.last_day),
            compare=query.compare,
            grain=query.grain,
            dimensions=list(query.dimensions),
            labels=self.labels(query.dimensions, (r for s in series for r in s.rows)),
            metrics=series,
        )

    def _align(
        self, frame: Frame, other: Period, rows: dict[Key, float | None]
    ) -> dict[Key, float | None]:
        """Comparison rows keyed like the current period's: the i-th bucket of the other
        period stands beside the i-th bucket of this one."""
        if frame.grain is None:
            return rows
        mine = frame.bucket_starts()
        theirs = frame.at(other).bucket_starts()
        moved = dict(zip(theirs, mine, strict=False))
        return {(moved[k[0]], *k[1:]): v for k, v in rows.items() if k[0] in moved}

    def _series(
        self,
        metric: Metric,
        current: dict[Key, float | None],
        base: dict[Key, float | None] | None,
        frame: Frame,
        base_fill: float | None = None,
    ) -> MetricSeries:
        """Rows of `metric`; `base_fill` stands for a key the comparison lacks."""
        keys = list(current)
        if base is not None and base_fill is not None:  # the comparison's own rows too
            keys += [k for k in base if k not in current]
        dims = [d.value for d in frame.dimensions]
        rows = []
        for key in sorted(keys, key=lambda k: tuple((v is None, str(v)) for v in k)):
            value = current.get(key, 0.0 if metric.additive else None)
            other = None if base is None else base.get(key, base_fill)
            change = None if value is None or other is None else value - other
            pct = None if change is None or not other else change / abs(other)
            bucket = key[0] if frame.grain is not None else None
            values = key[1:] if frame.grain is not None else key
            rows.append(
                MetricRow(
                    bucket=bucket,
                    dimensions=dict(zip(dims, values, strict=True)),
                    value=value,
                    comparison=other,
                    change=change,
                    change_pct=pct,
                )
            )
        return MetricSeries(
            slug=metric.slug,
            label=metric.label,
            unit=metric.unit,
            higher_is_better=metric.higher_is_better,
            rows=rows,
        )

    def labels(
        self, dimensions: Iterable[Dimension], rows: Iterable[MetricRow]
    ) -> dict[str, dict[str, str]]:
        """Display names for the agent, team and office ids found in `rows`."""
        wanted = [d for d in dimensions if d in (Dimension.AGENT, Dimension.TEAM, Dimension.OFFICE)]
        if not wanted:
            return {}
        seen: dict[str, set[int]] = {d.value: set() for d in wanted}
        for row in rows:
            for d in wanted:
                value = row.dimensions.get(d.value)
                if value is not None and value.lstrip("-").isdigit():
                    seen[d.value].add(int(value))
        labels: dict[str, dict[str, str]] = {}
        for d in wanted:
            ids = sorted(seen[d.value])
            if not ids:
                labels[d.value] = {}
                continue

            def build(d: Dimension = d, ids: list[int] = ids) -> ibis.Table:
                if d == Dimension.AGENT:
                    t = self.sources.table("agents")
                    return t.filter(t.id.isin(ids)).select(
                        "id", name=t.first_name.concat(" ", t.last_name)
                    )
                t = self.sources.table("teams" if d == Dimension.TEAM else "offices")
                return t.filter(t.id.isin(ids)).select("id", "name")

            _, found = self.sources.fetch(build, ("labels", d.value, tuple(ids)))
            labels[d.value] = {str(int(r[0])): str(r[1]) for r in found}
        return labels
