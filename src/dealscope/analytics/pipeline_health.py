"""The state of the pipeline at the end of `as_of`: velocity, aging, temperature, and the
day-of-week x hour heatmaps of the pipeline dashboard.

Temperature rule (documented in the API schema too), for deals open at the end of `as_of`,
where "touched in the last N days" means an activity of any kind or direction on the deal
dated (tenant's calendar) no earlier than N - 1 days before `as_of`:
- hot: at "appointment" or a later stage, and touched in the last 7 days;
- warm: not hot, and at "qualified" or a later stage, or touched in the last 14 days;
- cold: every other open deal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from dealscope.analytics.journeys import lookup, stage_at
from dealscope.analytics.leadframes import build_leads, load_activities, load_history, load_leads
from dealscope.analytics.observation import Observation, local_midnight_utc
from dealscope.analytics.sources import Sources
from dealscope.analytics.stages import PIPELINE_STAGES, STAGE_INDEX, WON
from dealscope.analytics.stats import ratio

AGING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-7", 0, 7),
    ("8-30", 8, 30),
    ("31-90", 31, 90),
    ("90+", 91, None),
)
HOT, WARM, COLD = "hot", "warm", "cold"
HOT_DAYS, WARM_DAYS = 7, 14


@dataclass(frozen=True)
class StageVelocity:
    stage: str
    exits: int  # moves out of the stage (forward, back or to lost) made in the period
    median_days: float | None  # median time spent in the stage before those moves, days
    p90_days: float | None  # 90th percentile of the same, days


@dataclass(frozen=True)
class Share:
    name: str
    leads: int
    share: float | None  # leads / all open deals (0..1); None when there are none


@dataclass(frozen=True)
class Heatmap:
    total: int
    counts: list[list[int]]  # counts[weekday][hour]; weekday 0 is Monday, hours 0-23 local


def compute_velocity(sources: Sources, observation: Observation) -> list[StageVelocity]:
    """Days spent in each stage, measured on every stage exit that happened in the period:
    the time from entering the stage (one stage_history row) to leaving it (the deal's
    next row). Median and 90th percentile (linear interpolation), in fractional days,
    aggregated in the database."""
    history_table = sources.table("stage_history")
    moved = history_table.filter(
        history_table.changed_at >= observation.start_utc,
        history_table.changed_at < observation.end_utc,
    )
    deals = build_leads(sources, observation.cutoff_utc)
    deals = deals.filter(deals.opportunity_id.isin(moved.opportunity_id))
    history = history_table.filter(
        history_table.opportunity_id.isin(deals.opportunity_id),
        history_table.changed_at < observation.end_utc,
    )
    deal = ibis.window(group_by=history.opportunity_id, order_by=[history.changed_at, history.id])
    pairs = history.select(
        from_stage=history.to_stage.lag().over(deal),
        entered_at=history.changed_at.lag().over(deal),
        left_at=history.changed_at,
    )
    pairs = pairs.filter(pairs.from_stage.notnull(), pairs.left_at >= observation.start_utc)
    days = pairs.left_at.delta(pairs.entered_at, unit="microsecond") / 86_400_000_000.0
    frame = sources.frame(
        pairs.group_by("from_stage").agg(
            exits=ibis._.count(), median=days.quantile(0.5), p90=days.quantile(0.9)
        )
    )
    spent = {
        str(stage): (int(exits), _days(median), _days(p90))
        for stage, exits, median, p90 in zip(
            frame["from_stage"], frame["exits"], frame["median"], frame["p90"], strict=True
        )
    }
    return [
        StageVelocity(stage, *spent.get(stage, (0, None, None)))
        for stage in PIPELINE_STAGES
        if stage != WON
    ]


def _days(value: float | None) -> float | None:
    """A quantile from the database (NULL, or NaN in pandas, when there is none)."""
    return None if value is None or value != value else float(value)


def open_pipeline(sources: Sources, observation: Observation) -> pd.DataFrame:
    """Deals open at the end of `as_of`: opportunity_id, stage, stage_days (whole days of
    the tenant's calendar since the last stage change) and touch_days (days since the last
    activity, NaN when none in the last 14 days)."""
    cutoff = observation.cutoff_utc
    candidates = build_leads(sources, cutoff)
    candidates = candidates.filter(
        (candidates.status == "open") | _closed_after(sources, candidates, cutoff)
    )
    leads = load_leads(sources, candidates)
    state = stage_at(leads, load_history(sources, candidates, cutoff))
    state = state[state["is_open"]].reset_index(drop=True)
    state["stage_days"] = observation.days_before_as_of(state["changed_at"])
    since = local_midnight_utc(
        observation.as_of - dt.timedelta(days=WARM_DAYS - 1), observation.zone
    )
    touches = load_activities(sources, since, cutoff, leads=candidates)
    touches["days"] = observation.days_before_as_of(touches["occurred_at"])
    last_touch = touches.groupby("opportunity_id")["days"].min()
    state["touch_days"] = lookup(state["opportunity_id"], last_touch.astype(float))
    return state


def _closed_after(sources: Sources, candidates: object, cutoff: dt.datetime) -> object:
    opp = sources.table("opportunities")
    later = opp.filter(opp.closed_at.isnull() | (opp.closed_at >= cutoff))
    return candidates.opportunity_id.isin(later.id)  # type: ignore[attr-defined]


def _shares(counts: dict[str, int]) -> list[Share]:
    total = sum(counts.values())
    return [Share(name, n, ratio(n, total)) for name, n in counts.items()]


def compute_aging(pipeline: pd.DataFrame) -> list[Share]:
    """Open deals by whole days since their last stage change: 0-7, 8-30, 31-90, 90+
    (more than 90); counts and shares of all open deals."""
    days = pipeline["stage_days"]
    counts = {}
    for name, low, high in AGING_BUCKETS:
        inside = days >= low if high is None else days.between(low, high)
        counts[name] = int(inside.sum())
    return _shares(counts)


def compute_temperature(pipeline: pd.DataFrame) -> list[Share]:
    """Open deals by temperature (hot, warm, cold; the rule is in the module docstring)."""
    stage = pipeline["stage"].map(STAGE_INDEX).fillna(0)
    touch = pipeline["touch_days"]
    hot = (stage >= STAGE_INDEX["appointment"]) & (touch < HOT_DAYS)
    warm = ~hot & ((stage >= STAGE_INDEX["qualified"]) | (touch < WARM_DAYS))
    counts = {HOT: int(hot.sum()), WARM: int(warm.sum()), COLD: int((~hot & ~warm).sum())}
    return _shares(counts)


def compute_heatmap(
    instants: pd.Series, observation: Observation, weights: pd.Series | None = None
) -> Heatmap:
    """Counts of `instants` (each counting `weights` times when given) by local day of
    week (Monday first) and hour."""
    counts = np.zeros((7, 24), dtype=np.int64)
    local = observation.local(instants)
    times = np.ones(len(local), dtype=np.int64) if weights is None else weights.to_numpy()
    np.add.at(
        counts,
        (local.dt.day_of_week.to_numpy(dtype=np.int64), local.dt.hour.to_numpy(dtype=np.int64)),
        times.astype(np.int64),
    )
    return Heatmap(total=int(times.sum()), counts=[[int(c) for c in row] for row in counts])


def outbound_heatmap(sources: Sources, observation: Observation) -> Heatmap:
    """Outbound activities of the period by local day of week and hour, counted in the
    database by quarter hour (every time zone's offset is a whole number of quarter
    hours, so all instants of one fall on the same local day and hour)."""
    table = sources.table("activities")
    rows = table.filter(
        table.occurred_at >= observation.start_utc,
        table.occurred_at < observation.end_utc,
        table.direction == "outbound",
    )
    quarter = (rows.occurred_at.minute() // 15).cast("int64")
    counts = sources.frame(
        rows.group_by(hour=rows.occurred_at.truncate("h"), quarter=quarter).agg(n=ibis._.count())
    )
    starts = pd.to_datetime(counts["hour"], utc=True) + pd.to_timedelta(
        counts["quarter"].astype("int64") * 15, unit="min"
    )
    return compute_heatmap(starts, observation, counts["n"])
