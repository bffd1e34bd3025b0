"""Revenue metrics from closed transactions, dated by `transactions.close_date` (a date of the
tenant's calendar): volume, GCI and where it goes, deal size, and GCI against plan."""

from __future__ import annotations

from collections.abc import Callable

import ibis.expr.types as ir

from dealscope.analytics.dimensions import AGENT_ORG, Frame, Via, aggregate, combine, divide, shape
from dealscope.analytics.metrics.base import Metric
from dealscope.analytics.metrics.targets import TARGET_DIMENSIONS, build_target
from dealscope.analytics.specs import Dimension, Unit

TX_DIMS: dict[Dimension, Via] = {
    Dimension.AGENT: Via("agent_id"),
    **AGENT_ORG,
    Dimension.SOURCE: Via("source"),
    Dimension.MEDIUM: Via("utm_medium", "contact"),
    Dimension.CAMPAIGN: Via("utm_campaign", "contact"),
    Dimension.PROPERTY_TYPE: Via("property_type"),
    Dimension.ZIP: Via("postal_code"),
}
DIMS = frozenset(TX_DIMS)


def closed_transactions(frame: Frame, **measures: Callable[[ir.Table], ir.Value]) -> ir.Table:
    """Transactions closed in the period, shaped with `measures` and the frame's dimensions."""
    tx = frame.sources.table("transactions")
    tx = tx.filter(frame.dates_in_period(tx.close_date))
    values = {name: fn(tx) for name, fn in measures.items()}
    return shape(
        frame,
        tx,
        TX_DIMS,
        values,
        when=tx.close_date,
        when_kind="date",
        agent="agent_id",
        contact="contact_id",
    )


def _total(column: str) -> Callable[[Frame], ir.Table]:
    def build(frame: Frame) -> ir.Table:
        rows = closed_transactions(frame, amount=lambda t: t[column])
        return aggregate(frame, rows, value=lambda t: t.amount.sum())

    build.__doc__ = f"Sum of transactions.{column} over transactions closed in the period."
    return build


def build_closings(frame: Frame) -> ir.Table:
    """Transactions (closed sides) with their close date in the period (count)."""
    rows = closed_transactions(frame, id=lambda t: t.id)
    return aggregate(frame, rows, value=lambda t: t.id.count())


def build_average_deal_size(frame: Frame) -> ir.Table:
    """Mean sale price of transactions closed in the period (money); null without any."""
    rows = closed_transactions(frame, price=lambda t: t.sale_price)
    return aggregate(frame, rows, value=lambda t: t.price.mean())


def build_quota_attainment(frame: Frame) -> ir.Table:
    """GCI closed in the period / the GCI plan for it (company, team or agent plans, monthly
    plans prorated by day); 1.0 is on plan; null where no plan exists or it is 0."""
    gci = _total("gci")(frame).rename(gci="value")
    plan = build_target(frame, "gci").rename(plan="value")
    return combine(frame, [gci, plan], lambda t: divide(t.gci, t.plan))


def _money(slug: str, label: str, column: str, description: str) -> Metric:
    return Metric(slug, label, Unit.MONEY, description, DIMS, True, _total(column))


METRICS: tuple[Metric, ...] = (
    Metric(
        "closings",
        "Closings",
        Unit.COUNT,
        "Transactions (closed sides) with their close date in the period.",
        DIMS,
        True,
        build_closings,
    ),
    _money("sales_volume", "Sales volume", "sale_price", "Sum of sale prices of closings."),
    _money("gci", "GCI", "gci", "Gross commission income of the period's closings."),
    _money(
        "company_dollar",
        "Company dollar",
        "company_dollar",
        "What the brokerage keeps of the period's GCI after referral fees and agent splits.",
    ),
    _money(
        "referral_fees",
        "Referral fees",
        "referral_fee",
        "Referral and portal fees paid out of the period's closings.",
    ),
    _money(
        "agent_commission",
        "Agent commission",
        "agent_commission",
        "The agents' split of the period's GCI.",
    ),
    Metric(
        "average_deal_size",
        "Average deal size",
        Unit.MONEY,
        "Mean sale price of the period's closings.",
        DIMS,
        True,
        build_average_deal_size,
        summable=False,
    ),
    Metric(
        "quota_attainment",
        "Quota attainment",
        Unit.RATIO,
        "GCI of the period's closings / the GCI plan for the period (targets table, monthly "
        "plans prorated by day); by company, team or agent.",
        TARGET_DIMENSIONS,
        True,
        build_quota_attainment,
    ),
)
