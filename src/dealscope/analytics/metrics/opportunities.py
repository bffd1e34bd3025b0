"""Shared pieces of the deal metrics: the opportunity dimensions and opportunity state at an
instant (open or not, stage then), rebuilt from `stage_history` so past periods are judged
as they stood, not as they stand today."""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from dealscope.analytics.dimensions import AGENT_ORG, Frame, Via, on_duckdb, ts_literal
from dealscope.analytics.specs import Dimension

OPP_DIMS: dict[Dimension, Via] = {
    Dimension.AGENT: Via("assigned_agent_id"),
    **AGENT_ORG,
    Dimension.SOURCE: Via("source"),
    Dimension.MEDIUM: Via("utm_medium", "contact"),
    Dimension.CAMPAIGN: Via("utm_campaign", "contact"),
    Dimension.PROPERTY_TYPE: Via("property_type"),
    Dimension.ZIP: Via("postal_code"),
    Dimension.STAGE: Via("stage_key"),
}

LEAD_STAGES = ("new", "contacted", "qualified")
# Fixed probability that an open deal in a stage closes (documented, not fitted): used by
# weighted_pipeline_value. Round figures in line with brokerage pipelines of this shape.
STAGE_PROBABILITY: dict[str, float] = {
    "new": 0.02,
    "contacted": 0.04,
    "qualified": 0.08,
    "appointment": 0.15,
    "showing": 0.25,
    "offer": 0.45,
    "under_contract": 0.85,
}


def live_opportunities(frame: Frame) -> ir.Table:
    opps = frame.sources.table("opportunities")
    return opps.filter(opps.deleted_at.isnull())


def open_deals_at(frame: Frame, at: dt.datetime) -> ir.Table:
    """Opportunities open at instant `at`, as their rows stand now (current stage): enough
    for counts and values, without the stage history `open_at` reads."""
    opps = live_opportunities(frame)
    moment = ts_literal(at)
    still_open = (opps.status == "open") & opps.closed_at.isnull()
    return opps.filter(opps.created_at < moment, still_open | (opps.closed_at >= moment))


def open_at(frame: Frame, at: dt.datetime) -> ir.Table:
    """Opportunities open at instant `at`, with `stage_key` replaced by their stage then (the
    last stage_history row before `at`; the current stage where history has none).
    `value` is the opportunity's current value (its history is not kept)."""
    opps = open_deals_at(frame, at)
    history = frame.sources.table("stage_history")
    history = history.filter(history.changed_at < ts_literal(at))
    if not on_duckdb(frame):
        return _ranked_beside(opps, history)
    # Only the open deals' history matters: narrowing it first spares grouping every move.
    # A join on their ids (unique), not `isin`: DuckDB runs the semi-join about 3x slower.
    ids = opps.select(_open=opps.id)
    history = history.inner_join(ids, history.opportunity_id == ids._open).select(*history.columns)
    # Each deal's last row (the highest stage among rows of the same last time), in one pass.
    order = [history.changed_at.desc(), history.to_stage.desc()]
    rank = ibis.row_number().over(group_by=history.opportunity_id, order_by=order)
    ranked = history.select(_oid=history.opportunity_id, _stage=history.to_stage, _rank=rank)
    stages = ranked.filter(ranked._rank == 0).select("_oid", "_stage")
    joined = opps.left_join(stages, opps.id == stages._oid)
    cols = {c: joined[c] for c in opps.columns if c != "stage_key"}
    return joined.select(**cols, stage_key=ibis.coalesce(joined._stage, joined.stage_key))


def _ranked_beside(opps: ir.Table, history: ir.Table) -> ir.Table:
    """`open_at` for PostgreSQL: each open deal beside its history rows (one row of nulls
    when it has none), ranked in one pass, the last row (the highest stage among rows of the
    same last time) first. No join back to the deals: PostgreSQL underestimates the open
    deals (an OR of conditions) and would join them back in a nested loop, ten times slower.
    DuckDB carries every deal column through the window this way, a little slower there."""
    rows = opps.left_join(history, opps.id == history.opportunity_id)
    order = [rows.changed_at.desc(), rows.to_stage.desc()]
    rank = ibis.row_number().over(group_by=rows.id, order_by=order)
    ranked = rows.select(
        *[rows[c] for c in opps.columns if c != "stage_key"],
        stage_key=ibis.coalesce(rows.to_stage, rows.stage_key),
        _rank=rank,
    )
    return ranked.filter(ranked._rank == 0).drop("_rank")


def transitions(frame: Frame) -> ir.Table:
    """stage_history rows with `days_in_stage` (days since the deal's previous row) and the
    deal's source, property type, zip and contact, for changes in the period. The agent is
    the one who made the change (stage_history.agent_id); `stage_key` is the stage left."""
    history = frame.sources.table("stage_history")
    previous = history.changed_at.lag().over(
        group_by=history.opportunity_id, order_by=history.changed_at
    )
    seconds = history.changed_at.epoch_seconds() - previous.epoch_seconds()
    history = history.mutate(days_in_stage=seconds.cast("float64") / 86400.0)
    history = history.filter(frame.in_period(history.changed_at))
    opps = live_opportunities(frame).select(
        _oid="id",
        source="source",
        property_type="property_type",
        postal_code="postal_code",
        contact_id="contact_id",
    )
    joined = history.inner_join(opps, history.opportunity_id == opps._oid)
    return joined.select(
        "id",
        "opportunity_id",
        "from_stage",
        "to_stage",
        "changed_at",
        "days_in_stage",
        "source",
        "property_type",
        "postal_code",
        "contact_id",
        assigned_agent_id=joined.agent_id,
        stage_key=joined.from_stage,
    )
