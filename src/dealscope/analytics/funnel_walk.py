"""How far each deal went through a chosen sequence of stages ("steps").

A deal enters the funnel when it first enters step 1 (t1). Within the conversion window
(t1 to t1 + window, and never past the observation's cut-off) it counts for step k:
- strict order: if it entered steps 2..k one after another, each no earlier than the one
  before (t1 <= t2 <= ... <= tk);
- any order: if it entered each of steps 2..k at some moment in the window, in any order.
Either way a deal counted for step k is counted for every step before it, so counts never
increase along the funnel. Step entries are stage_history rows into that stage; a skipped
stage is not entered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import StrEnum

import pandas as pd

Entries = dict[str, list[pd.Timestamp]]


class FunnelOrder(StrEnum):
    STRICT = "strict"
    ANY = "any"


def entries_by_deal(history: pd.DataFrame) -> dict[int, Entries]:
    """For each deal, the times it entered each stage, earliest first."""
    result: dict[int, Entries] = {}
    for deal, stage, at in zip(
        history["opportunity_id"], history["to_stage"], history["changed_at"], strict=True
    ):
        result.setdefault(int(deal), {}).setdefault(str(stage), []).append(at)
    return result


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


def walk_all(
    deals: pd.DataFrame,
    entries: dict[int, Entries],
    steps: Sequence[str],
    window: dt.timedelta,
    order: FunnelOrder,
    start: dt.datetime,
    end: dt.datetime,
    cutoff: dt.datetime,
) -> pd.DataFrame:
    """The deals of `deals` whose first entry into step 1 lies in `[start, end)`, with
    columns t1, reached (1..len(steps)) and convert_days (None unless all steps reached)."""
    lo, hi, stop = pd.Timestamp(start), pd.Timestamp(end), pd.Timestamp(cutoff)
    rows = []
    for deal in deals["opportunity_id"]:
        own = entries.get(int(deal), {})
        firsts = own.get(steps[0])
        if not firsts or not lo <= firsts[0] < hi:
            continue
        reached, days = walk(own, steps, window, order, stop)
        rows.append((int(deal), firsts[0], reached, days))
    walked = pd.DataFrame(rows, columns=["opportunity_id", "t1", "reached", "convert_days"])
    return deals.merge(walked, on="opportunity_id", how="inner")
