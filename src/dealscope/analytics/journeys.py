"""Per-deal facts derived from stage history read into pandas: how far each deal got and
where it stood at a given moment. (The pipeline's flows, velocity and progress are
aggregated in the database instead: `pipeline`, `pipeline_health`.)

Inputs are frames from `leadframes` (history sorted by deal, then time).
"""

from __future__ import annotations

import pandas as pd

from dealscope.analytics.stages import LOST, PIPELINE_STAGES, STAGE_INDEX, WON


def lookup(keys: pd.Series, mapping: pd.Series) -> pd.Series:
    """`mapping[key]` for each of `keys` (missing: NA), indexed like `keys`, keeping the
    mapping's dtype even when either is empty (`Series.map` does not, for datetimes)."""
    return pd.Series(mapping.reindex(keys.to_numpy()).array, index=keys.index)


def furthest_stage(leads: pd.DataFrame, history: pd.DataFrame) -> pd.Series:
    """For each deal of `leads` (indexed like it), the index in PIPELINE_STAGES of the
    furthest stage it entered; 0 ("new") for a deal without history. A deal that reached
    "offer" is counted as having reached every stage before it, even one it skipped."""
    index = history["to_stage"].map(STAGE_INDEX)
    furthest = index.groupby(history["opportunity_id"]).max()
    return lookup(leads["opportunity_id"], furthest.astype(float)).fillna(0).astype(int)


def stage_at(leads: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """Where each deal of `leads` stands at the end of `history` (load it up to the moment
    wanted): columns opportunity_id, stage, changed_at (its last stage change, or its
    creation when it has none) and is_open (not won, not lost)."""
    last = history.groupby("opportunity_id", sort=False).tail(1).set_index("opportunity_id")
    frame = leads[["opportunity_id", "created_at"]].copy()
    stage = lookup(frame["opportunity_id"], last["to_stage"].astype(object))
    frame["stage"] = stage.fillna(PIPELINE_STAGES[0])
    changed = lookup(frame["opportunity_id"], last["changed_at"])
    frame["changed_at"] = changed.where(changed.notna(), frame["created_at"])
    frame["is_open"] = ~frame["stage"].isin([WON, LOST])
    return frame.drop(columns="created_at").reset_index(drop=True)
