"""Marketing metrics: spend and what it bought. Spend is recorded per month
(`marketing_spend.spend_month`); a period gets each month's amount in proportion to the days
of the month it covers, so a 30-day range straddling two months gets part of each."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from dealscope.analytics.dimensions import (
    Frame,
    Via,
    aggregate,
    combine,
    date_literal,
    divide,
    shape,
)
from dealscope.analytics.metrics.base import Metric
from dealscope.analytics.metrics.leads import LEAD_DIMS, new_lead_rows
from dealscope.analytics.metrics.revenue import closed_transactions
from dealscope.analytics.metrics.targets import month_factors
from dealscope.analytics.periods import Period
from dealscope.analytics.specs import Dimension, Unit

SPEND_DIMS: dict[Dimension, Via] = {
    Dimension.SOURCE: Via("source"),
    Dimension.MEDIUM: Via("medium"),
    Dimension.CAMPAIGN: Via("campaign"),
}
DIMS = frozenset(SPEND_DIMS)
# revenue_per_lead has no spend in it, so it splits by everything leads and closings share.
PER_LEAD_DIMS = frozenset({Dimension.AGENT, Dimension.TEAM, Dimension.OFFICE, *SPEND_DIMS})


def _spend_over(frame: Frame, span: Period) -> ir.Table:
    spend = frame.sources.table("marketing_spend")
    factors = month_factors(span)
    spend = spend.filter(spend.spend_month.isin(list(factors)))
    factor = ibis.cases(
        *[(spend.spend_month == date_literal(m), ibis.literal(f)) for m, f in factors.items()],
        else_=ibis.literal(0.0),
    )
    flat = Frame(
        frame.sources, span, frame.as_of, frame.zone, None, frame.dimensions, frame.filters
    )
    rows = shape(flat, spend, SPEND_DIMS, {"amount": spend.amount.cast("float64") * factor})
    return aggregate(flat, rows, value=lambda t: t.amount.sum())


def build_marketing_spend(frame: Frame) -> ir.Table:
    """Marketing spend falling in the period (monthly amounts prorated by day), money."""
    if frame.grain is None:
        return _spend_over(frame, frame.period)
    starts = frame.bucket_starts()
    ends = [*starts[1:], frame.period.end]
    parts = []
    for start, end in zip(starts, ends, strict=True):
        span = Period(max(start, frame.period.start), min(end, frame.period.end))
        part = _spend_over(frame, span)
        parts.append(part.select(bucket=date_literal(start), **{c: part[c] for c in part.columns}))
    return ibis.union(*parts) if len(parts) > 1 else parts[0]


def _lead_count(frame: Frame) -> ir.Table:
    leads = new_lead_rows(frame)
    rows = shape(
        frame, leads, LEAD_DIMS, {"id": leads.id}, when=leads.created_at, agent="assigned_agent_id"
    )
    return aggregate(frame, rows, leads=lambda t: t.id.count())


def build_cost_per_lead(frame: Frame) -> ir.Table:
    """Marketing spend / new leads of the period (money per lead); null without leads."""
    spend = build_marketing_spend(frame).rename(spend="value")
    return combine(frame, [spend, _lead_count(frame)], lambda t: divide(t.spend, t.leads))


def build_cost_per_closing(frame: Frame) -> ir.Table:
    """Marketing spend / transactions closed in the period (money per closing)."""
    spend = build_marketing_spend(frame).rename(spend="value")
    rows = closed_transactions(frame, id=lambda t: t.id)
    closings = aggregate(frame, rows, closings=lambda t: t.id.count())
    return combine(frame, [spend, closings], lambda t: divide(t.spend, t.closings))


def build_marketing_roi(frame: Frame) -> ir.Table:
    """(GCI - spend) / spend, with GCI of the period's closings from sources that had spend in
    the period (paid sources); a ratio (0.5 = 50% return). Null without spend."""
    spend = build_marketing_spend(frame).rename(spend="value")
    raw = frame.sources.table("marketing_spend")
    paid = (
        raw.filter(raw.spend_month.isin(list(month_factors(frame.period))))
        .select("source")
        .distinct()
    )
    rows = closed_transactions(frame, gci=lambda t: t.gci, source_key=lambda t: t.source)
    rows = rows.semi_join(paid, rows.source_key == paid.source).drop("source_key")
    gci = aggregate(frame, rows, gci=lambda t: t.gci.sum())
    return combine(frame, [spend, gci], lambda t: divide(t.gci - t.spend, t.spend))


def build_revenue_per_lead(frame: Frame) -> ir.Table:
    """GCI of the period's closings / new leads of the period (money per lead)."""
    rows = closed_transactions(frame, gci=lambda t: t.gci)
    gci = aggregate(frame, rows, gci=lambda t: t.gci.sum())
    return combine(frame, [gci, _lead_count(frame)], lambda t: divide(t.gci, t.leads))


METRICS: tuple[Metric, ...] = (
    Metric(
        "marketing_spend",
        "Marketing spend",
        Unit.MONEY,
        "Spend recorded per month, prorated by the days of each month the period covers.",
        DIMS,
        False,
        build_marketing_spend,
    ),
    Metric(
        "cost_per_lead",
        "Cost per lead",
        Unit.MONEY,
        "Marketing spend / new leads in the period.",
        DIMS,
        False,
        build_cost_per_lead,
        summable=False,
    ),
    Metric(
        "cost_per_closing",
        "Cost per closing",
        Unit.MONEY,
        "Marketing spend / transactions closed in the period.",
        DIMS,
        False,
        build_cost_per_closing,
        summable=False,
    ),
    Metric(
        "marketing_roi",
        "Marketing ROI",
        Unit.RATIO,
        "(GCI of closings from sources with spend - spend) / spend, over the period.",
        DIMS,
        True,
        build_marketing_roi,
    ),
    Metric(
        "revenue_per_lead",
        "Revenue per lead",
        Unit.MONEY,
        "GCI of the period's closings / new leads of the period.",
        PER_LEAD_DIMS,
        True,
        build_revenue_per_lead,
        summable=False,
    ),
)
