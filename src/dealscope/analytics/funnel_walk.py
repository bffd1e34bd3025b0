"""How far each deal went through a chosen sequence of stages ("steps").

A deal enters the funnel when it first enters step 1 (t1). Within the conversion window
(t1 to t1 + window, and never past the observation's cut-off) it counts for step k:
- strict order: if it entered steps 2..k one after another, each no earlier than the one
  before (t1 <= t2 <= ... <= tk);
- any order: if it entered each of steps 2..k at some moment in the window, in any order.
Either way a deal counted for step k is counted for every step before it, so counts never
increase along the funnel. Step entries are stage_history rows into that stage; a skipped
stage is not entered.

`walk` states the rules for one deal in Python; `cohorts` applies the same rules to every
deal in the database (an Ibis expression), so only per-deal results of a few columns, or
their aggregates, leave it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from dealscope.analytics.leadframes import build_leads
from dealscope.analytics.sources import Sources

if TYPE_CHECKING:
    import ibis.expr.types as ir

Entries = dict[str, list[pd.Timestamp]]


class FunnelOrder(StrEnum):
    STRICT = "strict"
    ANY = "any"


def walk(
    entries: Entries,
    steps: Sequence[str],
    window: dt.timedelta,
    order: FunnelOrder,
    cutoff: pd.Timestamp,
) -> tuple[int, float | None]:
    """(steps reached, days from step 1 to completing the last step or None) for one deal
    that entered step 1 (its first entry), following the rules of the module docstring."""
    t1 = entries[steps[0]][0]
    limit = min(t1 + window, cutoff)
    reached, current, finished = 1, t1, t1
    for step in steps[1:]:
        earliest = current if order == FunnelOrder.STRICT else t1
        found = next((t for t in entries.get(step, []) if earliest <= t <= limit), None)
        if found is None:
            break
        reached += 1
        current = found
        finished = max(finished, found)
    days = (finished - t1).total_seconds() / 86400.0 if reached == len(steps) else None
    return reached, days


@dataclass(frozen=True)
class CohortWindow:
    """One period's cohort: deals whose first entry into step 1 lies in `[start, end)`,
    walked up to `cutoff` (its observation's end of `as_of`)."""

    start: dt.datetime
    end: dt.datetime
    cutoff: dt.datetime


def _which(
    t1: ir.TimestampValue, windows: Sequence[CohortWindow], values: Sequence[object]
) -> ir.Value:
    """values[i] for a deal whose t1 lies in windows[i]; NULL in none."""
    return ibis.cases(
        *[
            ((t1 >= w.start) & (t1 < w.end), ibis.literal(v))
            for w, v in zip(windows, values, strict=True)
        ],
        else_=ibis.null(),
    )


def cohorts(
    sources: Sources,
    steps: Sequence[str],
    window: dt.timedelta,
    order: FunnelOrder,
    windows: Sequence[CohortWindow],
) -> ir.Table:
    """The deals of the cohorts of `windows` (disjoint periods; the last cut-off is the
    latest), walked through `steps` as `walk` does, in the database. Columns:
    opportunity_id, source ("unknown" when none), agent_id, period (index into `windows`),
    t1, reached (1..len(steps)) and finished (the moment the last step was completed, NULL
    unless all were reached)."""
    cutoff = max(w.cutoff for w in windows)
    history = sources.table("stage_history")
    lo, hi = min(w.start for w in windows), max(w.end for w in windows)
    # A deal's t1 is its first entry into step 1 ever: its earliest entry in [lo, hi), when
    # it has none before lo (checked at the end). A deal's walk reads only its own history.
    into_first = history.filter(history.to_stage == steps[0])
    recent = into_first.filter(into_first.changed_at >= lo, into_first.changed_at < hi)
    firsts = recent.group_by("opportunity_id").agg(t1=recent.changed_at.min())
    firsts = firsts.filter(_which(firsts.t1, windows, range(len(windows))).notnull())
    firsts = firsts.mutate(
        deadline=ibis.least(
            firsts.t1 + ibis.interval(seconds=int(window.total_seconds())),
            _which(firsts.t1, windows, [w.cutoff for w in windows]),
        ),
        at=firsts.t1,  # when the last step reached was entered
    )
    # One step at a time, over the deals that reached the step before only: each looks for
    # its earliest entry into this step in the window (strict: not before the step
    # before's; any: not before t1). Later steps are entered after t1, so no earlier than
    # the first window. The query grows linearly with the steps.
    entries = history.filter(
        history.to_stage.isin(list(steps[1:])),
        history.changed_at >= lo,
        history.changed_at < cutoff,
    ).select(deal=history.opportunity_id, stage=history.to_stage, entry=history.changed_at)
    reached = [firsts]
    for step in steps[1:]:
        before = reached[-1]
        view = entries.view()  # each step reads the entries read once (a shared CTE)
        into = view.filter(view.stage == step)
        earliest = before.at if order == FunnelOrder.STRICT else before.t1
        # `before` joins on the right: it is also the left table of a join below, and Ibis
        # shares a relation between queries (a CTE) only when its uses differ.
        joined = into.inner_join(
            before,
            [
                before.opportunity_id == into.deal,
                into.entry >= earliest,
                into.entry <= before.deadline,
            ],
        )
        reached.append(
            joined.group_by(["opportunity_id", "t1", "deadline"]).agg(at=joined.entry.min())
        )
    # Each step's deals are among the step before's, so the steps a deal reached and when it
    # entered the latest of them are gathered from the last step back (each join probes
    # only the deals of one step).
    last = reached[-1]
    tail = last.select(deal=last.opportunity_id, count=ibis.literal(len(steps)), latest=last.at)
    for k in range(len(steps) - 1, 1, -1):
        step = reached[k - 1]
        joined = step.left_join(tail, step.opportunity_id == tail.deal)
        tail = joined.select(
            deal=joined.opportunity_id,
            count=joined["count"].fill_null(k),
            latest=ibis.ifelse(
                joined.deal.notnull(), ibis.greatest(joined.at, joined.latest), joined.at
            ),
        )
    # Candidates with an entry into step 1 before the first window are not in any cohort:
    # an anti-join reads only those earlier entries' ids, so all history is not grouped.
    # Deleted or later-created deals drop out at the join with the deals.
    earlier = into_first.filter(into_first.changed_at < lo)
    walked = (
        firsts.anti_join(earlier, firsts.opportunity_id == earlier.opportunity_id)
        .left_join(tail, firsts.opportunity_id == tail.deal)
        .inner_join(build_leads(sources, cutoff), "opportunity_id")
    )
    count = walked["count"].fill_null(1)
    return walked.select(
        "opportunity_id",
        "agent_id",
        "t1",
        reached=count,
        source=walked.source.fill_null("unknown"),
        period=_which(walked.t1, windows, range(len(windows))),
        finished=ibis.ifelse(count == len(steps), walked.latest, ibis.null()),
    )
