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
    divide,
    epoch_seconds,
    shape,
    ts_literal,
    within_days,
)
from dealscope.analytics.metrics.base import Family, Measure, Metric, family_metric
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
        # Outreach counts from the lead's creation on, so nothing before the period does.
        acts.occurred_at >= ts_literal(frame.start_at),
    ).select(_cid=acts.contact_id, _at=acts.occurred_at)
    keys = leads.select(_lid=leads.id, _created=leads.created_at)
    pairs = keys.inner_join(acts, [keys._lid == acts._cid, acts._at >= keys._created])
    in_window = within_days(frame, pairs._at, pairs._created, FOLLOW_UP_DAYS)
    responses = pairs.group_by("_lid").aggregate(
        first_out=pairs._at.min(),
        touches=ibis.ifelse(in_window, 1, 0).sum(),
    )
    joined = leads.left_join(responses, leads.id == responses._lid)
    return joined.select(*leads.columns, "first_out", "touches")


def _won_contacts(frame: Frame) -> ir.Column:
    """Contacts with a won opportunity closed by as_of (a lead is a hit when among them)."""
    opps = frame.sources.table("opportunities")
    won = opps.filter(
        opps.status == "won",
        opps.deleted_at.isnull(),
        opps.closed_at < ts_literal(frame.as_of_end),
        opps.contact_id.notnull(),
    )
    return won.contact_id


RESPONSES = "responses"  # first outreach and follow-up touches (lead_responses)
WON = "won"  # whether the lead's contact has a won deal (_won_contacts)


def _lead_rows(frame: Frame, needs: frozenset[str]) -> ir.Table:
    """The period's new leads shaped with `id` and, as `needs` asks, `first_out`, `touches`,
    `minutes` (to first outreach, null without any) and `won` (whether the contact has a
    won deal)."""
    table = lead_responses(frame) if RESPONSES in needs else new_lead_rows(frame)
    # Derived columns on the leads themselves, before any split: the frames of a page (by
    # agent, by team, the whole) share these rows, worked out once.
    measures = ["id"]
    if RESPONSES in needs:
        table = table.mutate(minutes=_response_minutes(frame, table))
        measures += ["first_out", "touches", "minutes"]
    if WON in needs:
        table = table.mutate(won=table.id.isin(_won_contacts(frame)))
        measures.append("won")
    return _shape(frame, table, **{m: table[m] for m in measures})


LEADS = Family("leads", _lead_rows)


def _shape(frame: Frame, table: ir.Table, **measures: ir.Value) -> ir.Table:
    return shape(
        frame,
        table,
        LEAD_DIMS,
        measures,
        when=table.created_at,
        agent="assigned_agent_id",
        text=False,
    )


def _response_minutes(frame: Frame, table: ir.Table) -> ir.Value:
    seconds = epoch_seconds(frame, table.first_out) - epoch_seconds(frame, table.created_at)
    return seconds.cast("float64") / 60.0


def _contacted(t: ir.Table) -> ir.BooleanValue:
    return t.first_out.notnull()


def _share(flag: ir.BooleanValue, where: ir.BooleanValue | None) -> ir.Value:
    hit = ibis.ifelse(flag, 1, 0)
    return divide(hit.sum(where=where), hit.count(where=where))


NEW_LEADS = Measure("Leads created in the period (count).", lambda t, w: t.id.count(where=w))
CONTACT_RATE = Measure(
    "Share (0..1) of the period's new leads with any outreach by as_of; null without leads.",
    lambda t, w: _share(_contacted(t), w),
    needs=frozenset({RESPONSES}),
)
SPEED_MEDIAN = Measure(
    (
        "Median minutes from a new lead's creation to its first outreach (contacted leads only; "
        "null when none was contacted)."
    ),
    lambda t, w: t.minutes.median(where=w),
    _contacted,
    frozenset({RESPONSES}),
)
SPEED_P90 = Measure(
    "90th percentile (continuous) of minutes to first outreach, contacted leads only.",
    lambda t, w: t.minutes.quantile(0.9, where=w),
    _contacted,
    frozenset({RESPONSES}),
)
FOLLOW_UP = Measure(
    (
        "Share of contacted new leads that got at least FOLLOW_UP_TOUCHES (3) outbound calls, "
        "emails or texts within FOLLOW_UP_DAYS (7) of creation; null when none was contacted."
    ),
    lambda t, w: _share(t.touches >= FOLLOW_UP_TOUCHES, w),
    _contacted,
    frozenset({RESPONSES}),
)
LEAD_TO_CLOSE = Measure(
    "Share of the period's new leads whose contact has a won opportunity closed by as_of.",
    lambda t, w: _share(t.won, w),
    needs=frozenset({WON}),
)


METRICS: tuple[Metric, ...] = (
    family_metric(
        LEADS,
        NEW_LEADS,
        "new_leads",
        "New leads",
        Unit.COUNT,
        "Contacts created in the period (deleted ones excluded).",
        DIMS,
        True,
    ),
    family_metric(
        LEADS,
        CONTACT_RATE,
        "contact_rate",
        "Contact rate",
        Unit.RATIO,
        "Share of the period's new leads that got an outbound call, email or sms by as_of.",
        DIMS,
        True,
    ),
    family_metric(
        LEADS,
        SPEED_MEDIAN,
        "speed_to_lead_median_minutes",
        "Speed to lead (median)",
        Unit.DURATION_MINUTES,
        "Median minutes from a new lead's creation to its first outbound call, email or sms; "
        "leads never contacted are left out.",
        DIMS,
        False,
    ),
    family_metric(
        LEADS,
        SPEED_P90,
        "speed_to_lead_p90_minutes",
        "Speed to lead (90th percentile)",
        Unit.DURATION_MINUTES,
        "90th percentile of minutes from creation to first outreach (contacted leads).",
        DIMS,
        False,
    ),
    family_metric(
        LEADS,
        FOLLOW_UP,
        "follow_up_compliance",
        "Follow-up compliance",
        Unit.RATIO,
        f"Share of contacted new leads with at least {FOLLOW_UP_TOUCHES} outbound calls, "
        f"emails or texts within {FOLLOW_UP_DAYS} days of creation.",
        DIMS,
        True,
    ),
    family_metric(
        LEADS,
        LEAD_TO_CLOSE,
        "lead_to_close_rate",
        "Lead-to-close rate",
        Unit.RATIO,
        "Share of the period's new leads whose contact has a won opportunity closed by as_of.",
        DIMS,
        True,
    ),
)
