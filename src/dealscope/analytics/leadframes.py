"""The deals the funnel and speed dashboards start from, and row loaders as pandas frames
(the pipeline dashboard counts in the database instead: `pipeline_queries`).

Each loader is one Ibis expression over `Sources` (so tenant and agent scope apply) that
selects, filters and joins in the database; the per-lead sequencing that follows (stage
order, windows, first responses) is done on the returned frames. Timestamps come back as
UTC-aware pandas datetimes. Deleted deals are never read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import pandas as pd

from dealscope.analytics.sources import Sources

if TYPE_CHECKING:
    import ibis.expr.types as ir

LEAD_COLUMNS = ("opportunity_id", "created_at", "source", "agent_id", "status")
HISTORY_COLUMNS = ("opportunity_id", "to_stage", "changed_at")
ACTIVITY_COLUMNS = ("opportunity_id", "agent_id", "activity_type", "direction", "occurred_at")
PERSONAL_OUTREACH = ("call", "sms", "email")


def _utc(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for column in columns:
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def build_leads(
    sources: Sources, before: dt.datetime, created_from: dt.datetime | None = None
) -> ir.Table:
    """Deals created in `[created_from, before)` (from the beginning when None), not deleted."""
    opp = sources.table("opportunities")
    expr = opp.filter(opp.deleted_at.isnull(), opp.created_at < before)
    if created_from is not None:
        expr = expr.filter(expr.created_at >= created_from)
    return expr.select(
        opportunity_id=expr.id,
        created_at=expr.created_at,
        source=expr.source,
        agent_id=expr.assigned_agent_id,
        status=expr.status,
    )


def load_leads(sources: Sources, leads: ir.Table) -> pd.DataFrame:
    """`leads` (from `build_leads`) executed: one row per deal, columns LEAD_COLUMNS."""
    frame = cast(pd.DataFrame, sources.execute(leads.order_by("opportunity_id")))
    frame = _utc(frame, "created_at")
    frame["source"] = frame["source"].fillna("unknown").astype(str)
    frame["agent_id"] = frame["agent_id"].astype("Int64")
    return frame.reset_index(drop=True)


def load_history(
    sources: Sources,
    leads: ir.Table,
    before: dt.datetime,
    stages: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every stage change of the deals in `leads` before `before` (only moves into `stages`
    when given), in the order they happened (columns HISTORY_COLUMNS)."""
    history = sources.table("stage_history")
    expr = history.filter(
        history.opportunity_id.isin(leads.opportunity_id), history.changed_at < before
    )
    if stages is not None:
        expr = expr.filter(expr.to_stage.isin(list(stages)))
    expr = expr.select("opportunity_id", "to_stage", "changed_at", "id")
    frame = cast(pd.DataFrame, sources.execute(expr))
    frame = _utc(frame, "changed_at")
    frame = frame.sort_values(["opportunity_id", "changed_at", "id"], kind="stable")
    return frame.drop(columns="id").reset_index(drop=True)


def load_activities(
    sources: Sources,
    since: dt.datetime,
    before: dt.datetime,
    leads: ir.Table | None = None,
    direction: str | None = None,
    personal_outreach: bool = False,
) -> pd.DataFrame:
    """Activities in `[since, before)` (columns ACTIVITY_COLUMNS): optionally only those of
    the deals in `leads`, of one `direction`, or only personal outreach (an outbound call,
    text or email logged by an agent, not an automation) when `personal_outreach`."""
    activities = sources.table("activities")
    expr = activities.filter(activities.occurred_at >= since, activities.occurred_at < before)
    if leads is not None:
        expr = expr.filter(expr.opportunity_id.isin(leads.opportunity_id))
    if direction is not None:
        expr = expr.filter(expr.direction == direction)
    if personal_outreach:
        expr = expr.filter(
            expr.direction == "outbound",
            expr.activity_type.isin(list(PERSONAL_OUTREACH)),
            expr.agent_id.notnull(),
        )
    frame = cast(pd.DataFrame, sources.execute(expr.select(*ACTIVITY_COLUMNS)))
    frame = _utc(frame, "occurred_at")
    return frame.reset_index(drop=True)
