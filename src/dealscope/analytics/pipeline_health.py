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
from typing import TYPE_CHECKING, Any

import ibis

from dealscope.analytics.leadframes import build_leads
from dealscope.analytics.observation import Observation, local_midnight_utc
from dealscope.analytics.sources import Sources
from dealscope.analytics.stages import LOST, PIPELINE_STAGES, STAGE_INDEX, WON
from dealscope.analytics.stats import ratio

if TYPE_CHECKING:
    import ibis.expr.types as ir

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


def build_velocity(sources: Sources, observation: Observation) -> ir.Table:
    """Stage exits made in the period counted per stage left (`exits`), with the median
    and 90th percentile (linear interpolation) of the days spent in that stage before
    them: each stage_history row of the period paired with the deal's row before it."""
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
    # Differences of UTC wall-clock times (the same microseconds): DuckDB's difference of
    # two instants goes through its calendar library, four times slower.
    left, entered = pairs.left_at.cast("timestamp"), pairs.entered_at.cast("timestamp")
    days = left.delta(entered, unit="microsecond") / 86_400_000_000.0
    return pairs.group_by("from_stage").agg(
        exits=ibis._.count(), median=days.quantile(0.5), p90=days.quantile(0.9)
    )


def compute_velocity(sources: Sources, observation: Observation) -> list[StageVelocity]:
    """Days spent in each stage, measured on every stage exit that happened in the period:
    the time from entering the stage (one stage_history row) to leaving it (the deal's
    next row). Median and 90th percentile (linear interpolation), in fractional days,
    aggregated in the database (`build_velocity`)."""
    _, rows = sources.fetch(
        lambda: build_velocity(sources, observation), ("pipeline.velocity", observation)
    )
    spent = {
        str(stage): (int(exits), _days(median), _days(p90)) for stage, exits, median, p90 in rows
    }
    return [
        StageVelocity(stage, *spent.get(stage, (0, None, None)))
        for stage in PIPELINE_STAGES
        if stage != WON
    ]


def _days(value: Any) -> float | None:
    """A quantile from the database (NULL when there is none)."""
    return None if value is None or value != value else float(value)


@dataclass(frozen=True)
class OpenPipeline:
    """Deals open at the end of `as_of`, counted by aging bucket (index in AGING_BUCKETS),
    stage index (0 for a stage outside PIPELINE_STAGES) and last touch (0: none in the
    last WARM_DAYS days, 1: in them, 2: in the last HOT_DAYS days): (bucket, stage, touch,
    deals) rows."""

    counts: list[tuple[int, int, int, int]]


def build_open_pipeline(sources: Sources, observation: Observation) -> ir.Table:
    """`OpenPipeline`'s counts, in the database. A deal is open when its last stage change
    before the end of `as_of` (its creation, in "new", when it has none) is not won or
    lost; its age is whole days of the tenant's calendar from that change to `as_of`, and
    a touch is an activity of any kind or direction on it."""
    cutoff = observation.cutoff_utc
    candidates = build_leads(sources, cutoff)
    candidates = candidates.filter(
        (candidates.status == "open") | _closed_after(sources, candidates, cutoff)
    )
    table = sources.table("stage_history")
    history = table.filter(
        table.opportunity_id.isin(candidates.opportunity_id), table.changed_at < cutoff
    )
    latest = ibis.window(
        group_by=history.opportunity_id,
        order_by=[history.changed_at.desc(), history.id.desc()],
    )
    ranked = history.select(
        "opportunity_id", "to_stage", "changed_at", rank=ibis.row_number().over(latest)
    )
    last = ranked.filter(ranked.rank == 0).select("opportunity_id", "to_stage", "changed_at")
    activities = sources.table("activities")
    touches = activities.filter(
        activities.occurred_at >= _midnight_before(observation, WARM_DAYS - 1),
        activities.occurred_at < cutoff,
        activities.opportunity_id.isin(candidates.opportunity_id),
    )
    touched = touches.group_by("opportunity_id").agg(last_touch=touches.occurred_at.max())
    joined = candidates.left_join(last, "opportunity_id")
    deals = joined.select(
        opportunity_id=joined.opportunity_id,
        stage=joined.to_stage.fill_null(PIPELINE_STAGES[0]),
        changed_at=joined.changed_at.fill_null(joined.created_at),
    )
    deals = deals.filter(~deals.stage.isin([WON, LOST]))
    joined = deals.left_join(touched, "opportunity_id")
    bucket: ir.IntegerValue = ibis.literal(len(AGING_BUCKETS) - 1, "int64")
    for i in reversed(range(len(AGING_BUCKETS) - 1)):
        high = AGING_BUCKETS[i][2]
        assert high is not None and AGING_BUCKETS[i + 1][1] == high + 1
        since = _midnight_before(observation, high)
        bucket = ibis.ifelse(joined.changed_at >= since, i, bucket)
    touch = ibis.cases(
        (joined.last_touch.isnull(), 0),
        (joined.last_touch >= _midnight_before(observation, HOT_DAYS - 1), 2),
        else_=1,
    )
    keyed = joined.select(
        bucket=bucket.cast("int64"),
        stage=joined.stage.cases(*STAGE_INDEX.items(), else_=0).cast("int64"),
        touch=touch.cast("int64"),
    )
    return keyed.group_by("bucket", "stage", "touch").agg(n=ibis._.count())


def _midnight_before(observation: Observation, days: int) -> dt.datetime:
    """The first instant (UTC) of the day `days` days before `as_of`, in the tenant's zone:
    an instant is at most `days` whole calendar days before `as_of` when not earlier."""
    return local_midnight_utc(observation.as_of - dt.timedelta(days=days), observation.zone)


def open_pipeline(sources: Sources, observation: Observation) -> OpenPipeline:
    """Deals open at the end of `as_of`, counted (`build_open_pipeline`)."""
    _, rows = sources.fetch(
        lambda: build_open_pipeline(sources, observation), ("pipeline.open", observation)
    )
    return OpenPipeline([(int(b), int(s), int(t), int(n)) for b, s, t, n in rows])


def _closed_after(sources: Sources, candidates: object, cutoff: dt.datetime) -> object:
    opp = sources.table("opportunities")
    later = opp.filter(opp.closed_at.isnull() | (opp.closed_at >= cutoff))
    return candidates.opportunity_id.isin(later.id)  # type: ignore[attr-defined]


def _shares(counts: dict[str, int]) -> list[Share]:
    total = sum(counts.values())
    return [Share(name, n, ratio(n, total)) for name, n in counts.items()]


def compute_aging(pipeline: OpenPipeline) -> list[Share]:
    """Open deals by whole days since their last stage change: 0-7, 8-30, 31-90, 90+
    (more than 90); counts and shares of all open deals."""
    counts = dict.fromkeys((name for name, _, _ in AGING_BUCKETS), 0)
    names = list(counts)
    for bucket, _, _, n in pipeline.counts:
        counts[names[bucket]] += n
    return _shares(counts)


def compute_temperature(pipeline: OpenPipeline) -> list[Share]:
    """Open deals by temperature (hot, warm, cold; the rule is in the module docstring)."""
    counts = {HOT: 0, WARM: 0, COLD: 0}
    for _, stage, touch, n in pipeline.counts:
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


def build_outbound_heatmap(sources: Sources, observation: Observation) -> ir.Table:
    """Outbound activities of the period counted by local weekday and hour."""
    table = sources.table("activities")
    rows = table.filter(
        table.occurred_at >= observation.start_utc,
        table.occurred_at < observation.end_utc,
        table.direction == "outbound",
    )
    local = observation.local_clock(rows.occurred_at, observation.start_utc, observation.end_utc)
    return rows.group_by(
        weekday=local.date().day_of_week.index().cast("int64"), hour=local.hour().cast("int64")
    ).agg(n=ibis._.count())


def outbound_heatmap(sources: Sources, observation: Observation) -> Heatmap:
    """Outbound activities of the period by local day of week and hour."""
    _, rows = sources.fetch(
        lambda: build_outbound_heatmap(sources, observation), ("pipeline.outbound", observation)
    )
    return heatmap_of([(int(w), int(h), int(n)) for w, h, n in rows])
