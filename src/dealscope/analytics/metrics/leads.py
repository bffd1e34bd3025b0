"""Lead metrics: how many leads arrive, how fast and how often they are worked, how many close.

A lead is a contact (not deleted) created in the period; its time is `contacts.created_at`.
Decision: `new_leads` counts people, while the pipeline and funnel dashboards follow deals
(opportunities created in the period, the `new_opportunities` metric). The two differ by
design: a returning client opens a new deal without being a new lead, and a new contact may
not have a deal yet. Each figure names which it counts.
Outreach is an outbound call, email or sms in `activities` at or after the lead's creation
and no later than the end of `as_of` (later periods are judged with what is known today).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from dealscope.analytics.dimensions import (
    AGENT_ORG,
    Frame,
    Via,
    aggregate,
    divide,
    shape,
    ts_literal,
)
from dealscope.analytics.metrics.base import Metric
from dealscope.analytics.specs import Dimension, Unit

OUTREACH_TYPES = ("call", "email", "sms")
FOLLOW_UP_TOUCHES = 3  # outbound touches within FOLLOW_UP_DAYS that count as compliant
FOLLOW_UP_DAYS = 7

LEAD_DIMS: dict[Dimension, Via] = {
    Dimension.AGENT: Via("assigned_agent_id"),
    **AGENT_ORG,
    Dimension.SOURCE: Via("source"),
    Dimension.MEDIUM: Via("utm_medium"),
    Dimension.CAMPAIGN: Via("utm_campaign"),
    Dimension.ZIP: Via("postal_code"),
}
DIMS = frozenset(LEAD_DIMS)


def new_lead_rows(frame: Frame) -> ir.Table:
    """Contacts created in the period, not deleted."""
    contacts = frame.sources.table("contacts")
    return contacts.filter(frame.in_period(contacts.created_at), contacts.deleted_at.isnull())


def lead_responses(frame: Frame) -> ir.Table:
    """New leads with `first_out` (first outreach, null if none) and `touches` (outreach in
    the first FOLLOW_UP_DAYS days)."""
    leads = new_lead_rows(frame)
    acts = frame.sources.table("activities")
    acts = acts.filter(
        acts.direction == "outbound",
        acts.activity_type.isin(OUTREACH_TYPES),
        acts.occurred_at < ts_literal(frame.as_of_end),
    ).select(_cid=acts.contact_id, _at=acts.occurred_at)
    keys = leads.select(_lid=leads.id, _created=leads.created_at)
    pairs = keys.inner_join(acts, [keys._lid == acts._cid, acts._at >= keys._created])
    window = pairs._created + ibis.interval(days=FOLLOW_UP_DAYS)
    responses = pairs.group_by("_lid").aggregate(
        first_out=pairs._at.min(),
        touches=ibis.ifelse(pairs._at < window, 1, 0).sum(),
    )
    joined = leads.left_join(responses, leads.id == responses._lid)
    return joined.select(*leads.columns, "first_out", "touches")


def _shape(frame: Frame, table: ir.Table, **measures: ir.Value) -> ir.Table:
    return shape(
        frame,
        table,
        LEAD_DIMS,
        measures,
        when=table.created_at,
        agent="assigned_agent_id",
    )


def build_new_leads(frame: Frame) -> ir.Table:
    """Leads created in the period (count)."""
    leads = new_lead_rows(frame)
    rows = _shape(frame, leads, id=leads.id)
    return aggregate(frame, rows, value=lambda t: t.id.count())


def build_contact_rate(frame: Frame) -> ir.Table:
    """Share (0..1) of the period's new leads with any outreach by as_of; null without leads."""
    table = lead_responses(frame)
    rows = _shape(frame, table, hit=ibis.ifelse(table.first_out.notnull(), 1, 0))
    return aggregate(frame, rows, value=lambda t: divide(t.hit.sum(), t.hit.count()))


def _response_minutes(table: ir.Table) -> ir.Value:
    seconds = table.first_out.epoch_seconds() - table.created_at.epoch_seconds()
    return seconds.cast("float64") / 60.0


def build_speed_median(frame: Frame) -> ir.Table:
    """Median minutes from a new lead's creation to its first outreach (contacted leads only;
    null when none was contacted)."""
    table = lead_responses(frame)
    table = table.filter(table.first_out.notnull())
    rows = _shape(frame, table, minutes=_response_minutes(table))
    return aggregate(frame, rows, value=lambda t: t.minutes.median())


def build_speed_p90(frame: Frame) -> ir.Table:
    """90th percentile (continuous) of minutes to first outreach, contacted leads only."""
    table = lead_responses(frame)
    table = table.filter(table.first_out.notnull())
    rows = _shape(frame, table, minutes=_response_minutes(table))
    return aggregate(frame, rows, value=lambda t: t.minutes.quantile(0.9))


def build_follow_up_compliance(frame: Frame) -> ir.Table:
    """Share of contacted new leads that got at least FOLLOW_UP_TOUCHES (3) outbound calls,
    emails or texts within FOLLOW_UP_DAYS (7) of creation; null when none was contacted."""
    table = lead_responses(frame)
    table = table.filter(table.first_out.notnull())
    rows = _shape(frame, table, ok=ibis.ifelse(table.touches >= FOLLOW_UP_TOUCHES, 1, 0))
    return aggregate(frame, rows, value=lambda t: divide(t.ok.sum(), t.ok.count()))


def build_lead_to_close_rate(frame: Frame) -> ir.Table:
    """Share of the period's new leads whose contact has a won opportunity closed by as_of."""
    leads = new_lead_rows(frame)
    opps = frame.sources.table("opportunities")
    won = (
        opps.filter(
            opps.status == "won",
            opps.deleted_at.isnull(),
            opps.closed_at < ts_literal(frame.as_of_end),
        )
        .select(_wc=opps.contact_id)
        .distinct()
    )
    joined = leads.left_join(won, leads.id == won._wc)
    table = joined.select(*leads.columns, "_wc")
    rows = _shape(frame, table, hit=ibis.ifelse(table._wc.notnull(), 1, 0))
    return aggregate(frame, rows, value=lambda t: divide(t.hit.sum(), t.hit.count()))


METRICS: tuple[Metric, ...] = (
    Metric(
        "new_leads",
        "New leads",
        Unit.COUNT,
        "Contacts created in the period (deleted ones excluded).",
        DIMS,
        True,
        build_new_leads,
    ),
    Metric(
        "contact_rate",
        "Contact rate",
        Unit.RATIO,
        "Share of the period's new leads that got an outbound call, email or sms by as_of.",
        DIMS,
        True,
        build_contact_rate,
    ),
    Metric(
        "speed_to_lead_median_minutes",
        "Speed to lead (median)",
        Unit.DURATION_MINUTES,
        "Median minutes from a new lead's creation to its first outbound call, email or sms; "
        "leads never contacted are left out.",
        DIMS,
        False,
        build_speed_median,
    ),
    Metric(
        "speed_to_lead_p90_minutes",
        "Speed to lead (90th percentile)",
        Unit.DURATION_MINUTES,
        "90th percentile of minutes from creation to first outreach (contacted leads).",
        DIMS,
        False,
        build_speed_p90,
    ),
    Metric(
        "follow_up_compliance",
        "Follow-up compliance",
        Unit.RATIO,
        f"Share of contacted new leads with at least {FOLLOW_UP_TOUCHES} outbound calls, "
        f"emails or texts within {FOLLOW_UP_DAYS} days of creation.",
        DIMS,
        True,
        build_follow_up_compliance,
    ),
    Metric(
        "lead_to_close_rate",
        "Lead-to-close rate",
        Unit.RATIO,
        "Share of the period's new leads whose contact has a won opportunity closed by as_of.",
        DIMS,
        True,
        build_lead_to_close_rate,
    ),
)
