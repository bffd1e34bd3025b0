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
    deals = build_leads(sources, cutoff)
    history = sources.table("stage_history")
    lo, hi = min(w.start for w in windows), max(w.end for w in windows)
    # A deal's t1 is its first entry into step 1 ever; later steps are entered after t1,
    # so no earlier than the first window. Deleted or later-created deals drop out at the
    # join with `deals` at the end (a deal's walk reads only its own history).
    into_first = history.filter(history.changed_at < hi, history.to_stage == steps[0])
    entries = history.filter(
        history.changed_at >= lo,
        history.changed_at < cutoff,
        history.to_stage.isin(list(steps[1:])),
    ).select("opportunity_id", "to_stage", "changed_at")
    firsts = into_first.group_by("opportunity_id").agg(t1=into_first.changed_at.min())
    firsts = firsts.filter(
        firsts.t1 >= lo,
        firsts.t1 < hi,
        _which(firsts.t1, windows, range(len(windows))).notnull(),
    )
    chain = firsts.select(
        "opportunity_id",
        "t1",
        deadline=ibis.least(
            firsts.t1 + ibis.interval(seconds=int(window.total_seconds())),
            _which(firsts.t1, windows, [w.cutoff for w in windows]),
        ),
        reached=ibis.literal(1),
        at=firsts.t1,  # when the last step reached was entered
        latest=firsts.t1,  # the latest entry among the steps reached
    )
    # One step at a time: a deal that reached the step before looks for its earliest entry
    # into this step in the window (strict: not before the step before; any: not before
    # t1). Each step reads only the one before, so the query grows linearly with steps.
    for k, step in enumerate(steps[1:], start=2):
        into = entries.filter(entries.to_stage == step).select(
            deal=entries.opportunity_id, entry=entries.changed_at
        )
        earliest = chain.at if order == FunnelOrder.STRICT else chain.t1
        joined = chain.left_join(
            into,
            [
                chain.opportunity_id == into.deal,
                chain.reached == k - 1,
                into.entry >= earliest,
                into.entry <= chain.deadline,
            ],
        )
        grouped = joined.group_by(list(chain.columns)).agg(hit=joined.entry.min())
        found = grouped.hit.notnull()
        chain = grouped.select(
            "opportunity_id",
            "t1",
            "deadline",
            reached=ibis.ifelse(found, k, grouped.reached),
            at=ibis.ifelse(found, grouped.hit, grouped.at),
            latest=ibis.ifelse(found, ibis.greatest(grouped.latest, grouped.hit), grouped.latest),
        )
    walked = chain.inner_join(deals, "opportunity_id")
    return walked.select(
        "opportunity_id",
        "agent_id",
        "t1",
        "reached",
        source=walked.source.fill_null("unknown"),
        period=_which(walked.t1, windows, range(len(windows))),
        finished=ibis.ifelse(walked.reached == len(steps), walked.latest, ibis.null()),
    )
