"""Plans from the `targets` table, spread over any period.

Plans may be set per month, quarter or year (`targets.grain`); the demo and the importer
write all three, the quarter and year rows being sums of the months. Decision: plans are
spread month by month, and for each month the finest plan wins: its monthly plan if there
is one, else its share (by days) of its quarter's plan, else of its year's. So monthly plans
are never counted twice beside their sums, and a brokerage that plans only by quarter or
year is still read. A period gets from every month it overlaps the share of days it covers
(all of February for [1 Feb, 1 Mar); 10/31 of January's plan for the last 10 days of
January). Company plans answer queries without dimensions; agent and team plans answer
queries split or filtered by agent or team.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from dealscope.analytics.dimensions import Frame, aggregate, date_literal
from dealscope.analytics.periods import Grain, Period, buckets, grain_start
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


PLAN_GRAINS = (Grain.MONTH, Grain.QUARTER, Grain.YEAR)  # finest first


def _after(first: dt.date, grain: Grain) -> dt.date:
    months = {Grain.MONTH: 1, Grain.QUARTER: 3, Grain.YEAR: 12}[grain]
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _plan(frame: Frame, slug: str, scope: str, span: Period) -> ir.Table:
    """Plans of `scope` for `slug` over `span`, month by month: each month takes its monthly
    plan, else its days' share of its quarter's plan, else of its year's (the finest plan
    wins), times the share of the month inside `span`."""
    targets = frame.sources.table("targets")
    factors = month_factors(span)
    firsts = {g: sorted({grain_start(m, g) for m in factors}) for g in PLAN_GRAINS}
    rows = targets.filter(
        targets.metric == slug,
        targets.scope == scope,
        ibis.or_(
            *[
                (targets.grain == g.value) & targets.period_start.isin(firsts[g])
                for g in PLAN_GRAINS
            ]
        ),
    )
    if scope != "company":
        rows = rows.mutate(**{scope: rows.scope_id.cast("string")})
        for dim, values in frame.filters.items():
            rows = rows.filter(rows[dim.value].isin(list(values)))
    value = rows.value.cast("float64")
    months: dict[str, ir.Value] = {}
    for i, (month, share) in enumerate(factors.items()):
        month_days = (_after(month, Grain.MONTH) - month).days
        for grain in PLAN_GRAINS:
            first = grain_start(month, grain)
            part = share * month_days / (_after(first, grain) - first).days
            hit = (rows.grain == grain.value) & (rows.period_start == date_literal(first))
            months[f"m{i}_{grain.value}"] = ibis.ifelse(hit, value * part, None).sum()
    keys = [scope] if scope != "company" else []
    by = rows.group_by(keys).aggregate(**months) if keys else rows.aggregate(**months)
    chosen = [
        ibis.coalesce(*[by[f"m{i}_{g.value}"] for g in PLAN_GRAINS]) for i in range(len(factors))
    ]
    known = ibis.or_(*[c.notnull() for c in chosen])
    total = sum((ibis.coalesce(c, 0.0) for c in chosen), ibis.literal(0.0))
    table = by.select(*keys, amount=ibis.ifelse(known, total, None))
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
