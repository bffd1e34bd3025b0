"""Pipeline state metrics, taken at the end of the period (or of every bucket with a grain):
open leads and deals, their value, weighted value and age."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import ibis
import ibis.expr.types as ir

from dealscope.analytics.dimensions import Frame, aggregate, shape, snapshot, ts_literal
from dealscope.analytics.metrics.base import Metric
from dealscope.analytics.metrics.opportunities import (
    LEAD_STAGES,
    OPP_DIMS,
    STAGE_PROBABILITY,
    open_at,
)
from dealscope.analytics.specs import Unit

DIMS = frozenset(OPP_DIMS)


def _open(
    frame: Frame, at: dt.datetime, leads_only: bool, **measures: Callable[[ir.Table], ir.Value]
) -> ir.Table:
    table = open_at(frame, at)
    if leads_only:
        table = table.filter(table.stage_key.isin(LEAD_STAGES))
    values = {name: fn(table) for name, fn in measures.items()}
    return shape(frame, table, OPP_DIMS, values, agent="assigned_agent_id", contact="contact_id")


def build_open_deals(frame: Frame) -> ir.Table:
    """Opportunities open at the end of the period, any stage (count)."""

    def at(flat: Frame, instant: dt.datetime) -> ir.Table:
        rows = _open(flat, instant, False, id=lambda t: t.id)
        return aggregate(flat, rows, value=lambda t: t.id.count())

    return snapshot(frame, at)


def build_open_leads(frame: Frame) -> ir.Table:
    """Opportunities open at the end of the period still in a lead stage (new, contacted,
    qualified) (count)."""

    def at(flat: Frame, instant: dt.datetime) -> ir.Table:
        rows = _open(flat, instant, True, id=lambda t: t.id)
        return aggregate(flat, rows, value=lambda t: t.id.count())

    return snapshot(frame, at)


def build_lead_aging(frame: Frame) -> ir.Table:
    """Median age in days, at the end of the period, of the open leads (as in `leads`)."""

    def at(flat: Frame, instant: dt.datetime) -> ir.Table:
        moment = ts_literal(instant)

        def age(t: ir.Table) -> ir.Value:
            seconds = moment.epoch_seconds() - t.created_at.epoch_seconds()
            return seconds.cast("float64") / 86400.0

        rows = _open(flat, instant, True, age=age)
        return aggregate(flat, rows, value=lambda t: t.age.median())

    return snapshot(frame, at)


def build_pipeline_value(frame: Frame) -> ir.Table:
    """Sum of the value (expected sale price) of opportunities open at the period's end."""

    def at(flat: Frame, instant: dt.datetime) -> ir.Table:
        rows = _open(flat, instant, False, amount=lambda t: t.value)
        return aggregate(flat, rows, value=lambda t: t.amount.sum())

    return snapshot(frame, at)


def _probability(stage: ir.StringValue) -> ir.Value:
    cases = [(stage == key, ibis.literal(p)) for key, p in STAGE_PROBABILITY.items()]
    return ibis.cases(*cases, else_=ibis.literal(0.0))


def build_weighted_pipeline_value(frame: Frame) -> ir.Table:
    """Sum over open opportunities at the period's end of value × the fixed probability of
    closing from their stage (STAGE_PROBABILITY: new 2%, contacted 4%, qualified 8%,
    appointment 15%, showing 25%, offer 45%, under contract 85%), in money."""

    def at(flat: Frame, instant: dt.datetime) -> ir.Table:
        rows = _open(
            flat,
            instant,
            False,
            amount=lambda t: t.value.cast("float64") * _probability(t.stage_key),
        )
        return aggregate(flat, rows, value=lambda t: t.amount.sum())

    return snapshot(frame, at)


METRICS: tuple[Metric, ...] = (
    Metric(
        "open_deals",
        "Open deals",
        Unit.COUNT,
        "Opportunities open at the end of the period (any stage).",
        DIMS,
        True,
        build_open_deals,
    ),
    Metric(
        "leads",
        "Open leads",
        Unit.COUNT,
        "Opportunities open at the end of the period in a lead stage (new, contacted, qualified).",
        DIMS,
        True,
        build_open_leads,
    ),
    Metric(
        "lead_aging_days",
        "Lead age (median)",
        Unit.DAYS,
        "Median age in days of the open leads at the end of the period.",
        DIMS,
        False,
        build_lead_aging,
    ),
    Metric(
        "pipeline_value",
        "Pipeline value",
        Unit.MONEY,
        "Sum of the value of opportunities open at the end of the period.",
        DIMS,
        True,
        build_pipeline_value,
    ),
    Metric(
        "weighted_pipeline_value",
        "Weighted pipeline value",
        Unit.MONEY,
        "Open opportunities' value × a fixed close probability per stage (new 2%, contacted "
        "4%, qualified 8%, appointment 15%, showing 25%, offer 45%, under contract 85%).",
        DIMS,
        True,
        build_weighted_pipeline_value,
    ),
)
