"""Activity metrics: calls, emails, texts, meetings and showings logged by agents, and
appointments set and held. Activities are dated by `occurred_at`, appointments set by
`created_at` and held by `starts_at`."""

from __future__ import annotations

from collections.abc import Callable

import ibis.expr.types as ir

from dealscope.analytics.dimensions import AGENT_ORG, Frame, Via, aggregate, shape
from dealscope.analytics.metrics.base import Family, Measure, Metric, family_metric
from dealscope.analytics.specs import Dimension, Unit

ACTIVITY_DIMS: dict[Dimension, Via] = {
    Dimension.AGENT: Via("agent_id"),
    **AGENT_ORG,
    Dimension.SOURCE: Via("source", "contact"),
    Dimension.MEDIUM: Via("utm_medium", "contact"),
    Dimension.CAMPAIGN: Via("utm_campaign", "contact"),
    Dimension.ZIP: Via("postal_code", "contact"),
}
DIMS = frozenset(ACTIVITY_DIMS)


def _count(frame: Frame, table: ir.Table, when: ir.Value) -> ir.Table:
    rows = shape(
        frame,
        table,
        ACTIVITY_DIMS,
        {"id": table.id},
        when=when,
        agent="agent_id",
        contact="contact_id",
    )
    return aggregate(frame, rows, value=lambda t: t.id.count())


def _activity_rows(frame: Frame, needs: frozenset[str]) -> ir.Table:
    """Activities in the period of the types `needs` names, shaped with `id` and
    `activity_type`: one scan serves every type asked together."""
    acts = frame.sources.table("activities")
    acts = acts.filter(acts.activity_type.isin(sorted(needs)), frame.in_period(acts.occurred_at))
    return shape(
        frame,
        acts,
        ACTIVITY_DIMS,
        {"id": acts.id, "activity_type": acts.activity_type},
        when=acts.occurred_at,
        agent="agent_id",
        contact="contact_id",
        text=False,
    )


class _Counted(Family):
    """Activities counted by key and type first (a plain count), then one column per type
    from those few rows, rather than a filtered count per type over every activity."""

    def wide(
        self,
        frame: Frame,
        needs: frozenset[str],
        values: dict[str, Callable[[ir.Table], ir.Value]],
    ) -> ir.Table:
        rows = self.rows(frame, needs)
        counted = rows.group_by([*frame.keys, "activity_type"]).aggregate(n=rows.count())
        return aggregate(frame, counted, **values)


ACTIVITIES = _Counted("activities", _activity_rows)


def _of_type(activity_type: str) -> Measure:
    """Activities of type `activity_type` in the period, either direction (count)."""
    return Measure(
        f"Activities of type {activity_type!r} in the period, either direction (count).",
        lambda t, w: t.n.sum(where=w).coalesce(0),
        lambda t: t.activity_type == activity_type,
        frozenset({activity_type}),
    )


def build_appointments_set(frame: Frame) -> ir.Table:
    """Appointments booked (created) in the period, whatever became of them (count)."""
    appts = frame.sources.table("appointments")
    appts = appts.filter(frame.in_period(appts.created_at))
    return _count(frame, appts, appts.created_at)


def build_appointments_held(frame: Frame) -> ir.Table:
    """Appointments starting in the period that the client attended (status 'showed')."""
    appts = frame.sources.table("appointments")
    appts = appts.filter(appts.status == "showed", frame.in_period(appts.starts_at))
    return _count(frame, appts, appts.starts_at)


def _activity_metric(slug: str, kind: str, label: str) -> Metric:
    return family_metric(
        ACTIVITIES,
        _of_type(kind),
        slug,
        label,
        Unit.COUNT,
        f"Activities of type {kind} logged in the period (inbound and outbound).",
        DIMS,
        True,
    )


METRICS: tuple[Metric, ...] = (
    _activity_metric("calls", "call", "Calls"),
    _activity_metric("emails", "email", "Emails"),
    _activity_metric("sms", "sms", "Text messages"),
    _activity_metric("meetings", "meeting", "Meetings"),
    _activity_metric("showings_held", "showing", "Showings held"),
    Metric(
        "appointments_set",
        "Appointments set",
        Unit.COUNT,
        "Appointments booked in the period, whatever their outcome.",
        DIMS,
        True,
        build_appointments_set,
    ),
    Metric(
        "appointments_held",
        "Appointments held",
        Unit.COUNT,
        "Appointments starting in the period that the client attended (status showed).",
        DIMS,
        True,
        build_appointments_held,
    ),
)
