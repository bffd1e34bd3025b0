"""Activity metrics: calls, emails, texts, meetings and showings logged by agents, and
appointments set and held. Activities are dated by `occurred_at`, appointments set by
`created_at` and held by `starts_at`."""

from __future__ import annotations

from collections.abc import Callable

import ibis.expr.types as ir

from dealscope.analytics.dimensions import AGENT_ORG, Frame, Via, aggregate, shape
from dealscope.analytics.metrics.base import Metric
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


def _activities(activity_type: str) -> Callable[[Frame], ir.Table]:
    def build(frame: Frame) -> ir.Table:
        acts = frame.sources.table("activities")
        acts = acts.filter(acts.activity_type == activity_type, frame.in_period(acts.occurred_at))
        return _count(frame, acts, acts.occurred_at)

    build.__doc__ = f"Activities of type {activity_type!r} in the period, either direction."
    return build


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
    return Metric(
        slug,
        label,
        Unit.COUNT,
        f"Activities of type {kind} logged in the period (inbound and outbound).",
        DIMS,
        True,
        _activities(kind),
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
