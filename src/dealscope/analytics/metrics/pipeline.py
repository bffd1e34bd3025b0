"""Pipeline state metrics, taken at the end of the period (or of every bucket with a grain):
open leads and deals, their value, weighted value and age."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import ibis
import ibis.expr.types as ir

from dealscope.analytics.dimensions import (
    Frame,
    aggregate,
    epoch_seconds,
    shape,
    snapshot,
    ts_literal,
)
from dealscope.analytics.metrics.base import Family, Measure, Metric, family_metric
from dealscope.analytics.metrics.opportunities import (
    LEAD_STAGES,
    OPP_DIMS,
    STAGE_PROBABILITY,
    open_at,
    open_deals_at,
)
from dealscope.analytics.specs import Dimension, Unit

DIMS = frozenset(OPP_DIMS)


STAGE = "stage"  # the stage each deal stood in at the instant (from stage_history)


def _open_rows(frame: Frame, at: dt.datetime, needs: frozenset[str]) -> ir.Table:
    """Opportunities open at instant `at`, shaped with `id`, `amount` (value) and `age` (days
    since creation), and where `needs` asks for the stage then (or the frame splits or
    filters by stage), `open_stage` and `weighted` (value × STAGE_PROBABILITY of it)."""
    staged = STAGE in needs or Dimension.STAGE in frame.wanted
    table = open_at(frame, at) if staged else open_deals_at(frame, at)
    seconds = epoch_seconds(frame, ts_literal(at)) - epoch_seconds(frame, table.created_at)
    measures = {
        "id": table.id,
        "amount": table.value,
        "age": seconds.cast("float64") / 86400.0,
    }
    if staged:
        measures |= {
            "open_stage": table.stage_key,
            "weighted": table.value.cast("float64") * _probability(table.stage_key),
        }
    return shape(
        frame,
        table,
        OPP_DIMS,
        measures,
        agent="assigned_agent_id",
        contact="contact_id",
        text=False,
    )


class _OpenFamily(Family):
    """State metrics: the rows are the deals open at the end of the period, or at the end of
    every bucket with a grain (`snapshot`), and aggregated there."""

    def wide(
        self,
        frame: Frame,
        needs: frozenset[str],
        values: dict[str, Callable[[ir.Table], ir.Value]],
    ) -> ir.Table:
        def at(flat: Frame, instant: dt.datetime) -> ir.Table:
            return aggregate(flat, _open_rows(flat, instant, needs), **values)

        return snapshot(frame, at)


OPEN = _OpenFamily("open deals", lambda frame, needs: _open_rows(frame, frame.end_at, needs))


def _in_lead_stage(t: ir.Table) -> ir.BooleanValue:
    return t.open_stage.isin(LEAD_STAGES)


_STAGED = frozenset({STAGE})
OPEN_DEALS = Measure(
    "Opportunities open at the end of the period, any stage (count).",
    lambda t, w: t.id.count(where=w),
)
OPEN_LEADS = Measure(
    (
        "Opportunities open at the end of the period still in a lead stage (new, contacted, "
        "qualified) (count)."
    ),
    lambda t, w: t.id.count(where=w),
    _in_lead_stage,
    _STAGED,
)
LEAD_AGING = Measure(
    "Median age in days, at the end of the period, of the open leads (as in OPEN_LEADS).",
    lambda t, w: t.age.median(where=w),
    _in_lead_stage,
    _STAGED,
)
PIPELINE_VALUE = Measure(
    "Sum of the value (expected sale price) of opportunities open at the period's end.",
    lambda t, w: t.amount.sum(where=w),
)
WEIGHTED_PIPELINE_VALUE = Measure(
    (
        "Sum over open opportunities at the period's end of value × the fixed probability of "
        "closing from their stage (STAGE_PROBABILITY: new 2%, contacted 4%, qualified 8%, "
        "appointment 15%, showing 25%, offer 45%, under contract 85%), in money."
    ),
    lambda t, w: t.weighted.sum(where=w),
    needs=_STAGED,
)


def _probability(stage: ir.StringValue) -> ir.Value:
    cases = [(stage == key, ibis.literal(p)) for key, p in STAGE_PROBABILITY.items()]
    return ibis.cases(*cases, else_=ibis.literal(0.0))


METRICS: tuple[Metric, ...] = (
    family_metric(
        OPEN,
        OPEN_DEALS,
        "open_deals",
        "Open deals",
        Unit.COUNT,
        "Opportunities open at the end of the period (any stage).",
        DIMS,
        True,
    ),
    family_metric(
        OPEN,
        OPEN_LEADS,
        "leads",
        "Open leads",
        Unit.COUNT,
        "Opportunities open at the end of the period in a lead stage (new, contacted, qualified).",
        DIMS,
        True,
    ),
    family_metric(
        OPEN,
        LEAD_AGING,
        "lead_aging_days",
        "Lead age (median)",
        Unit.DAYS,
        "Median age in days of the open leads at the end of the period.",
        DIMS,
        False,
    ),
    family_metric(
        OPEN,
        PIPELINE_VALUE,
        "pipeline_value",
        "Pipeline value",
        Unit.MONEY,
        "Sum of the value of opportunities open at the end of the period.",
        DIMS,
        True,
    ),
    family_metric(
        OPEN,
        WEIGHTED_PIPELINE_VALUE,
        "weighted_pipeline_value",
        "Weighted pipeline value",
        Unit.MONEY,
        "Open opportunities' value × a fixed close probability per stage (new 2%, contacted "
        "4%, qualified 8%, appointment 15%, showing 25%, offer 45%, under contract 85%).",
        DIMS,
        True,
    ),
)
