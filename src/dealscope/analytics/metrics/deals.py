"""Deal flow metrics: deals reaching showing and offer, won, lost, win rate, time to close and
time spent per stage. Closed deals are dated by `opportunities.closed_at`; stage moves by
`stage_history.changed_at`."""

from __future__ import annotations

from collections.abc import Callable

import ibis
import ibis.expr.types as ir

from dealscope.analytics.dimensions import Frame, Via, aggregate, divide, epoch_seconds, shape
from dealscope.analytics.metrics.base import Family, Measure, Metric, family_metric
from dealscope.analytics.metrics.opportunities import (
    OPP_DIMS,
    live_opportunities,
    transitions,
)
from dealscope.analytics.specs import Dimension, Unit

CLOSED_DIMS: dict[Dimension, Via] = {d: v for d, v in OPP_DIMS.items() if d != Dimension.STAGE}
MOVE_DIMS = OPP_DIMS  # stage: the stage a deal entered (counts) or left (velocity)


def _closed(frame: Frame, statuses: tuple[str, ...]) -> ir.Table:
    opps = live_opportunities(frame)
    return opps.filter(opps.status.isin(statuses), frame.in_period(opps.closed_at))


WON, LOST = "won", "lost"


def _closed_rows(frame: Frame, needs: frozenset[str]) -> ir.Table:
    """Opportunities of the statuses `needs` names closed in the period, shaped with `id`,
    `status` and `days` (from creation to close). The stage dimension (deals lost only) is
    where a deal stood when it closed."""
    opps = _closed(frame, tuple(sorted(needs)))
    seconds = epoch_seconds(frame, opps.closed_at) - epoch_seconds(frame, opps.created_at)
    # Only won deals' days are read: the others are not worked out.
    days = ibis.ifelse(opps.status == WON, seconds.cast("float64") / 86400.0, ibis.null("float64"))
    return shape(
        frame,
        opps,
        OPP_DIMS,
        {"id": opps.id, "status": opps.status, "days": days},
        when=opps.closed_at,
        agent="assigned_agent_id",
        contact="contact_id",
        text=False,
    )


CLOSED = Family("closed deals", _closed_rows)


def _is(status: str) -> Callable[[ir.Table], ir.BooleanValue]:
    return lambda t: t.status == status


DEALS_WON = Measure(
    "Opportunities won with closed_at in the period (count).",
    lambda t, w: t.id.count(where=w),
    _is(WON),
    frozenset({WON}),
)
DEALS_LOST = Measure(
    "Opportunities lost with closed_at in the period (count).",
    lambda t, w: t.id.count(where=w),
    _is(LOST),
    frozenset({LOST}),
)
WIN_RATE = Measure(
    "won / (won + lost) of opportunities closed in the period; null when none closed.",
    lambda t, w: divide(
        ibis.ifelse(t.status == WON, 1, 0).sum(where=w),
        ibis.ifelse(t.status == WON, 1, 0).count(where=w),
    ),
    lambda t: t.status.isin((WON, LOST)),
    frozenset({WON, LOST}),
)
AVERAGE_DAYS_TO_CLOSE = Measure(
    "Mean days from an opportunity's creation to its win, over deals won in the period.",
    lambda t, w: t.days.mean(where=w),
    _is(WON),
    frozenset({WON}),
)


def _entered(stage: str) -> Callable[[Frame], ir.Table]:
    def build(frame: Frame) -> ir.Table:
        moves = transitions(frame)
        moves = moves.filter(moves.to_stage == stage)
        rows = shape(
            frame,
            moves,
            MOVE_DIMS,
            {"id": moves.id},
            when=moves.changed_at,
            agent="assigned_agent_id",
            contact="contact_id",
        )
        return aggregate(frame, rows, value=lambda t: t.id.count())

    build.__doc__ = f"stage_history rows moving a deal to {stage!r} in the period (count)."
    return build


def build_new_opportunities(frame: Frame) -> ir.Table:
    """Opportunities (deals) created in the period, not deleted (count): the cohort the
    pipeline and funnel dashboards follow."""
    opps = live_opportunities(frame)
    opps = opps.filter(frame.in_period(opps.created_at))
    rows = shape(
        frame,
        opps,
        CLOSED_DIMS,
        {"id": opps.id},
        when=opps.created_at,
        agent="assigned_agent_id",
        contact="contact_id",
    )
    return aggregate(frame, rows, value=lambda t: t.id.count())


def build_stage_velocity(frame: Frame) -> ir.Table:
    """Median days a deal spent in a stage before a move in the period (time since the deal's
    previous stage change); the stage dimension is the stage left. Null without moves."""
    moves = transitions(frame)
    moves = moves.filter(moves.from_stage.notnull(), moves.days_in_stage.notnull())
    measures = {"days": moves.days_in_stage}
    rows = shape(
        frame,
        moves,
        MOVE_DIMS,
        measures,
        when=moves.changed_at,
        agent="assigned_agent_id",
        contact="contact_id",
    )
    return aggregate(frame, rows, value=lambda t: t.days.median())


_CLOSED = frozenset(CLOSED_DIMS)
METRICS: tuple[Metric, ...] = (
    Metric(
        "new_opportunities",
        "New deals",
        Unit.COUNT,
        "Opportunities created in the period (deleted ones excluded): the cohort of the "
        "pipeline and funnel dashboards. Differs from new_leads, which counts people: a "
        "returning client opens a new deal without being a new lead.",
        _CLOSED,
        True,
        build_new_opportunities,
    ),
    Metric(
        "showings",
        "Deals reaching showing",
        Unit.COUNT,
        "Stage changes into 'showing' in the period (stage_history).",
        frozenset(MOVE_DIMS),
        True,
        _entered("showing"),
    ),
    Metric(
        "offers",
        "Offers",
        Unit.COUNT,
        "Stage changes into 'offer' in the period (stage_history).",
        frozenset(MOVE_DIMS),
        True,
        _entered("offer"),
    ),
    family_metric(
        CLOSED,
        DEALS_WON,
        "deals_won",
        "Deals won",
        Unit.COUNT,
        "Opportunities won with their close in the period.",
        _CLOSED,
        True,
    ),
    family_metric(
        CLOSED,
        DEALS_LOST,
        "deals_lost",
        "Deals lost",
        Unit.COUNT,
        "Opportunities lost in the period; the stage dimension is where they were lost.",
        frozenset(OPP_DIMS),
        False,
    ),
    family_metric(
        CLOSED,
        WIN_RATE,
        "win_rate",
        "Win rate",
        Unit.RATIO,
        "won / (won + lost) over opportunities closed in the period.",
        _CLOSED,
        True,
    ),
    family_metric(
        CLOSED,
        AVERAGE_DAYS_TO_CLOSE,
        "average_days_to_close",
        "Average days to close",
        Unit.DAYS,
        "Mean days from an opportunity's creation to its win, for deals won in the period.",
        _CLOSED,
        False,
    ),
    Metric(
        "stage_velocity_days",
        "Days per stage",
        Unit.DAYS,
        "Median days a deal spent in the stage it left, over stage changes in the period.",
        frozenset(MOVE_DIMS),
        False,
        build_stage_velocity,
    ),
)
