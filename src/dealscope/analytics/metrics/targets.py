"""Plans from the `targets` table, spread over any period.

Plans are read at the month grain (`targets.grain = 'month'`, as the importer and the demo
write them beside their quarter and year sums): a period gets, from every monthly plan it
overlaps, the share of days it covers (all of February for [1 Feb, 1 Mar); 10/31 of
January's plan for the last 10 days of January). Company plans answer queries without
dimensions; agent and team plans answer queries split or filtered by agent or team.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from dealscope.analytics.dimensions import Frame, aggregate, date_literal
from dealscope.analytics.periods import Grain, Period, buckets
from dealscope.analytics.specs import Dimension
from dealscope.errors import ValidationFailed

TARGET_DIMENSIONS = frozenset({Dimension.AGENT, Dimension.TEAM})


def target_scope(frame: Frame) -> str:
    """Which plans answer the frame: company, team or agent."""
    wanted = frame.wanted
    if not wanted <= TARGET_DIMENSIONS:
        others = ", ".join(sorted(d.value for d in wanted - TARGET_DIMENSIONS))
        raise ValidationFailed(f"targets are set per company, team or agent, not per {others}")
    if len(wanted) > 1:
        raise ValidationFailed("targets can be split by agent or by team, not both")
    return next(iter(wanted)).value if wanted else "company"


def month_factors(span: Period) -> dict[dt.date, float]:
    """Each month overlapping `span` -> the share of its days inside `span`."""
    factors = {}
    for month in buckets(span, Grain.MONTH):
        nxt = (month + dt.timedelta(days=32)).replace(day=1)
        inside = (min(nxt, span.end) - max(month, span.start)).days
        factors[month] = inside / (nxt - month).days
    return factors


def _plan(frame: Frame, slug: str, scope: str, span: Period) -> ir.Table:
    targets = frame.sources.table("targets")
    factors = month_factors(span)
    rows = targets.filter(
        targets.metric == slug,
        targets.grain == "month",
        targets.scope == scope,
        targets.period_start.isin(list(factors)),
    )
    factor = ibis.cases(
        *[(rows.period_start == date_literal(m), ibis.literal(f)) for m, f in factors.items()],
        else_=ibis.literal(0.0),
    )
    cols: dict[str, ir.Value] = {"amount": rows.value.cast("float64") * factor}
    if scope != "company":
        cols[scope] = rows.scope_id.cast("string")
    table = rows.select(**cols)
    for dim, values in frame.filters.items():
        table = table.filter(table[dim.value].isin(list(values)))
    flat = Frame(frame.sources, span, frame.as_of, frame.zone, None, frame.dimensions)
    return aggregate(flat, table, value=lambda t: t.amount.sum())


def build_target(frame: Frame, slug: str) -> ir.Table:
    """The plan for metric `slug` over the frame's period (or each bucket), by the frame's
    dimensions: keys + `value` (the plan's unit is the metric's)."""
    scope = target_scope(frame)
    if frame.grain is None:
        return _plan(frame, slug, scope, frame.period)
    starts = frame.bucket_starts()
    ends = [*starts[1:], frame.period.end]
    parts = []
    for start, end in zip(starts, ends, strict=True):
        span = Period(max(start, frame.period.start), min(end, frame.period.end))
        part = _plan(frame, slug, scope, span)
        parts.append(part.select(bucket=date_literal(start), **{c: part[c] for c in part.columns}))
    return ibis.union(*parts) if len(parts) > 1 else parts[0]
