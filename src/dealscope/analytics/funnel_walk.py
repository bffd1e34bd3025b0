"""How far each deal went through a chosen sequence of stages ("steps").

A deal enters the funnel when it first enters step 1 (t1). Within the conversion window
(t1 to t1 + window, and never past the observation's cut-off) it counts for step k:
- strict order: if it entered steps 2..k one after another, each no earlier than the one
  before (t1 <= t2 <= ... <= tk);
- any order: if it entered each of steps 2..k at some moment in the window, in any order.
Either way a deal counted for step k is counted for every step before it, so counts never
increase along the funnel. Step entries are stage_history rows into that stage; a skipped
stage is not entered.

`walk` states the rules for one deal in Python; `cohort_deals` and `walk_steps` apply the
same rules to every deal in the database (Ibis expressions), so only their aggregates
leave it.
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


def cohort_deals(sources: Sources, first_step: str, windows: Sequence[CohortWindow]) -> ir.Table:
    """The deals of the cohorts of `windows` (disjoint periods; the last cut-off is the
    latest): those whose first entry ever into `first_step` (t1) lies in one of them, not
    deleted and created before the last cut-off. Columns: opportunity_id, t1, period
    (index into `windows`), source (NULL when none), agent_id."""
    cutoff = max(w.cutoff for w in windows)
    history = sources.table("stage_history")
    lo, hi = min(w.start for w in windows), max(w.end for w in windows)
    into_first = history.filter(history.to_stage == first_step)
    # t1 is the earliest entry in [lo, hi) of a deal with none before lo: an anti-join
    # reads only the earlier entries' ids, so the deals of all history are not grouped;
    # only ids in the candidates' range can match (the older deals' rows are skipped
    # where ids follow creation time, as they mostly do).
    recent = into_first.filter(into_first.changed_at >= lo, into_first.changed_at < hi)
    firsts = recent.group_by("opportunity_id").agg(t1=recent.changed_at.min())
    firsts = firsts.mutate(period=_which(firsts.t1, windows, range(len(windows))))
    firsts = firsts.filter(firsts.period.notnull())
    earlier = into_first.filter(
        into_first.changed_at < lo,
        into_first.opportunity_id >= firsts.opportunity_id.min(),
        into_first.opportunity_id <= firsts.opportunity_id.max(),
    )
    cohort = firsts.anti_join(earlier, firsts.opportunity_id == earlier.opportunity_id)
    joined = cohort.inner_join(build_leads(sources, cutoff), "opportunity_id")
    return joined.select("opportunity_id", "t1", "period", "source", "agent_id")


def walk_steps(
    sources: Sources,
    cohort: ir.Table,
    steps: Sequence[str],
    window: dt.timedelta,
    order: FunnelOrder,
    windows: Sequence[CohortWindow],
) -> list[ir.Table]:
    """The deals of `cohort` (from `cohort_deals`, with any further columns) that reached
    each step, walked as `walk` does, in the database: item k-1 holds those counted for
    step k, with the cohort's columns and `latest`, when the latest of their steps 1..k
    was entered (t1 for step 1). Each step's deals are among the step before's."""
    cutoff = max(w.cutoff for w in windows)
    lo = min(w.start for w in windows)
    history = sources.table("stage_history")
    carried = list(cohort.columns)
    # The window closes `window` after t1, or at the cohort's cut-off if that comes first.
    cutoffs = cohort.period.cases(*[(i, w.cutoff) for i, w in enumerate(windows)])
    first = cohort.mutate(
        deadline=ibis.least(
            cohort.t1 + ibis.interval(seconds=int(window.total_seconds())), cutoffs
        ),
        latest=cohort.t1,
    )
    reached = [first]
    for step in steps[1:]:
        before = reached[-1]
        # Later steps are entered after t1, so no earlier than the first window. (Each step
        # reads its own entries: a scan filtered on one stage costs less than sharing one
        # read of all the steps' entries, which the database then filters row by row.)
        into = history.filter(
            history.to_stage == step, history.changed_at >= lo, history.changed_at < cutoff
        ).select(deal=history.opportunity_id, entry=history.changed_at)
        # A deal that reached the step before looks for its earliest entry into this step
        # in the window: strict, not before the step before's (the latest so far); any
        # order, not before t1. (Each step's deals are read twice, here and by the
        # caller's counts: Ibis shares them as one CTE.)
        earliest = before.latest if order == FunnelOrder.STRICT else before.t1
        joined = into.inner_join(
            before,
            [
                before.opportunity_id == into.deal,
                into.entry >= earliest,
                into.entry <= before.deadline,
            ],
        )
        if order == FunnelOrder.STRICT:  # the step is entered no earlier than the latest
            found = joined.group_by([*carried, "deadline"]).agg(latest=joined.entry.min())
        else:
            found = joined.group_by([*carried, "deadline", "latest"]).agg(hit=joined.entry.min())
            found = found.select(
                *carried, "deadline", latest=ibis.greatest(found.latest, found.hit)
            )
        reached.append(found)
    return [table.select(*carried, "latest") for table in reached]
