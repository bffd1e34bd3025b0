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

from dataclasses import dataclass

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


def compute_velocity(
    exits: list[tuple[str, int, float | None, float | None]],
) -> list[StageVelocity]:
    """Days spent in each stage, measured on every stage exit that happened in the period:
    the time from entering the stage (one stage_history row) to leaving it (the deal's
    next row). `exits` holds, per stage left, the exits and the median and 90th percentile
    (linear interpolation) in fractional days, as counted in the database
    (`pipeline_queries`)."""
    spent = {stage: (n, median, p90) for stage, n, median, p90 in exits}
    return [
        StageVelocity(stage, *spent.get(stage, (0, None, None)))
        for stage in PIPELINE_STAGES
        if stage != WON
    ]


def _shares(counts: dict[str, int]) -> list[Share]:
    total = sum(counts.values())
    return [Share(name, n, ratio(n, total)) for name, n in counts.items()]


def compute_aging(open_deals: list[tuple[int, int, int, int]]) -> list[Share]:
    """Open deals by whole days since their last stage change: 0-7, 8-30, 31-90, 90+
    (more than 90); counts and shares of all open deals. `open_deals` counts them by
    aging bucket (index in AGING_BUCKETS), stage index, touch (see `compute_temperature`)."""
    counts = dict.fromkeys((name for name, _, _ in AGING_BUCKETS), 0)
    names = list(counts)
    for bucket, _, _, n in open_deals:
        counts[names[bucket]] += n
    return _shares(counts)


def compute_temperature(open_deals: list[tuple[int, int, int, int]]) -> list[Share]:
    """Open deals by temperature (hot, warm, cold; the rule is in the module docstring).
    `open_deals` counts them by aging bucket, stage index (0 for a stage outside
    PIPELINE_STAGES) and last touch: 0 none in the last WARM_DAYS days, 1 in them, 2 in
    the last HOT_DAYS days."""
    counts = {HOT: 0, WARM: 0, COLD: 0}
    for _, stage, touch, n in open_deals:
        if stage >= STAGE_INDEX["appointment"] and touch == 2:
            counts[HOT] += n
        elif stage >= STAGE_INDEX["qualified"] or touch >= 1:
            counts[WARM] += n
        else:
            counts[COLD] += n
    return _shares(counts)


def heatmap_of(counts: list[tuple[int, int, int]]) -> Heatmap:
    """A heatmap from (local weekday, Monday 0; local hour; count) rows."""
    cells = [[0] * 24 for _ in range(7)]
    for weekday, hour, n in counts:
        cells[weekday][hour] += n
    return Heatmap(total=sum(n for _, _, n in counts), counts=cells)
