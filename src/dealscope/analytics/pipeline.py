"""The pipeline dashboard: what became of the leads of a period, and the open pipeline now.

Two populations are used, and each figure says which:
- the *cohort*: deals created in the period (tenant's calendar), followed until the end of
  `as_of` (funnel, conversion, drop-off, flows, volume, arrival heatmap);
- the *open pipeline*: deals open at the end of `as_of` (aging, temperature).
Velocity looks at stage exits that happened in the period, whatever the deal's age.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import ibis

from dealscope.analytics import pipeline_health as health
from dealscope.analytics.leadframes import build_leads
from dealscope.analytics.observation import Observation
from dealscope.analytics.periods import Grain, buckets, grain_start
from dealscope.analytics.sources import Sources
from dealscope.analytics.stages import LOST, PIPELINE_STAGES, STAGE_INDEX, WON
from dealscope.analytics.stats import ratio

if TYPE_CHECKING:
    import ibis.expr.types as ir

K = TypeVar("K")


@dataclass(frozen=True)
class StageCount:
    stage: str
    leads: int  # cohort deals that reached this stage or a later one
    step_conversion: float | None  # leads / leads of the previous stage (None for the first)
    overall_conversion: float | None  # leads / cohort size


@dataclass(frozen=True)
class VolumePoint:
    bucket_start: dt.date
    leads: int


@dataclass(frozen=True)
class SourceVolume:
    source: str
    total: int
    points: list[VolumePoint]  # one per bucket of the period, zeros included


@dataclass(frozen=True)
class Conversion:
    key: str  # the source, the agent id as text, or the month (YYYY-MM)
    leads: int
    won: int
    conversion: float | None  # won / leads
    agent_id: int | None = None


@dataclass(frozen=True)
class DropOff:
    stage: str
    reached: int  # cohort deals that reached the stage
    lost: int  # of those, lost with this as the furthest stage they reached
    loss_rate: float | None  # lost / reached


@dataclass(frozen=True)
class Flow:
    from_stage: str
    to_stage: str
    deals: int  # moves from -> to made by cohort deals


@dataclass(frozen=True)
class PipelineReport:
    period_start: dt.date
    period_end: dt.date  # last day included
    as_of: dt.date
    timezone: str
    grain: Grain
    cohort_leads: int
    funnel: list[StageCount]
    volume_by_source: list[SourceVolume]
    velocity: list[health.StageVelocity]
    aging: list[health.Share]
    temperature: list[health.Share]
    conversion_by_source: list[Conversion]
    conversion_by_agent: list[Conversion]
    conversion_by_month: list[Conversion]
    drop_off: list[DropOff]
    flows: list[Flow]
    arrivals_heatmap: health.Heatmap
    outbound_heatmap: health.Heatmap


def default_grain(days: int) -> Grain:
    """Weeks for periods up to 92 days, months beyond."""
    return Grain.WEEK if days <= 92 else Grain.MONTH


# Kinds of rows of the cohort's counts (`build_cohort_counts`).
BY_SOURCE_DAY, BY_AGENT, BY_CLOCK, BY_PROGRESS = 0, 1, 2, 3


@dataclass(frozen=True)
class CohortCounts:
    """The cohort's deals counted in the database: `n` deals and `won` of them per key."""

    by_source_day: list[tuple[str, dt.date, int, int]]  # source, local day of creation
    by_agent: list[tuple[int | None, int, int]]  # assigned agent (None: unassigned)
    by_clock: list[tuple[int, int, int]]  # local weekday (Monday 0), local hour, n
    by_progress: list[tuple[int, bool, int]]  # furthest stage index, lost, n

    @property
    def leads(self) -> int:
        return sum(n for *_, n, _won in self.by_source_day)


def compute_stage_funnel(progress: list[tuple[int, bool, int]]) -> list[StageCount]:
    """Deals reaching each stage (furthest stage index at or beyond it), with the share of
    the previous stage and of all deals that got there (fractions 0..1). `progress` counts
    deals by furthest stage index and lost flag."""
    total = sum(n for _, _, n in progress)
    counts = [
        sum(n for furthest, _, n in progress if furthest >= i) for i in range(len(PIPELINE_STAGES))
    ]
    return [
        StageCount(
            stage=stage,
            leads=counts[i],
            step_conversion=None if i == 0 else ratio(counts[i], counts[i - 1]),
            overall_conversion=ratio(counts[i], total),
        )
        for i, stage in enumerate(PIPELINE_STAGES)
    ]


def compute_volume(
    by_source_day: list[tuple[str, dt.date, int, int]], observation: Observation, grain: Grain
) -> list[SourceVolume]:
    """New deals per source per bucket (count), every bucket of the period listed."""
    starts = buckets(observation.period, grain)
    per_source: dict[str, dict[dt.date, int]] = {}
    for source, day, n, _ in by_source_day:
        row = per_source.setdefault(source, {})
        start = grain_start(day, grain)
        row[start] = row.get(start, 0) + n
    result = [
        SourceVolume(source, sum(row.values()), [VolumePoint(s, row.get(s, 0)) for s in starts])
        for source, row in per_source.items()
    ]
    return sorted(result, key=lambda v: (-v.total, v.source))


def _conversions(keyed: list[tuple[K, int, int]]) -> dict[K, tuple[int, int]]:
    """Deals and won deals summed per key."""
    totals: dict[K, tuple[int, int]] = {}
    for key, n, won in keyed:
        leads, wins = totals.get(key, (0, 0))
        totals[key] = (leads + n, wins + won)
    return totals


def compute_conversions(
    counts: CohortCounts,
) -> tuple[list[Conversion], list[Conversion], list[Conversion]]:
    """Lead -> won conversion (won deals / cohort deals, 0..1) by source, by agent and by
    month of creation. Deals without an agent are left out of the agent table."""
    sources = _conversions([(s, n, w) for s, _, n, w in counts.by_source_day])
    by_source = [Conversion(k, n, w, ratio(w, n)) for k, (n, w) in sources.items()]
    agents = _conversions([(a, n, w) for a, n, w in counts.by_agent if a is not None])
    by_agent = [Conversion(str(k), n, w, ratio(w, n), agent_id=k) for k, (n, w) in agents.items()]
    months = _conversions([(f"{d:%Y-%m}", n, w) for _, d, n, w in counts.by_source_day])
    by_month = [Conversion(k, n, w, ratio(w, n)) for k, (n, w) in sorted(months.items())]
    by_source.sort(key=lambda c: (-c.leads, c.key))
    by_agent.sort(key=lambda c: (-c.leads, c.agent_id or 0))
    return by_source, by_agent, by_month


def compute_drop_off(progress: list[tuple[int, bool, int]]) -> list[DropOff]:
    """Per stage: deals that reached it, and those lost with it as their furthest stage."""
    result = []
    for i, stage in enumerate(PIPELINE_STAGES):
        if stage == WON:
            continue
        reached = sum(n for furthest, _, n in progress if furthest >= i)
        lost_here = sum(n for furthest, lost, n in progress if furthest == i and lost)
        result.append(DropOff(stage, reached, lost_here, ratio(lost_here, reached)))
    return result


def build_cohort_counts(sources: Sources, observation: Observation) -> ir.Table:
    """The cohort's deals (created in the period) counted four ways in one statement, one
    `kind` per way: by source and local day of creation, by agent, by local weekday and
    hour, and by furthest stage and lost flag (see `_with_progress`); `won` counts those
    that reached the won stage. Keys not used by a kind are NULL."""
    cohort = build_leads(sources, observation.end_utc, observation.start_utc)
    deals = _with_progress(sources, cohort, observation.cutoff_utc)
    local = observation.local_clock(deals.created_at, observation.start_utc, observation.end_utc)
    base = deals.select(
        source=deals.source.fill_null("unknown"),
        agent_id=deals.agent_id,
        day=local.date(),
        weekday=local.date().day_of_week.index().cast("int64"),
        hour=local.hour().cast("int64"),
        furthest=deals.furthest.cast("int64"),
        lost=deals.lost.cast("int64"),
        won=ibis.ifelse(deals.furthest == STAGE_INDEX[WON], 1, 0),
    )

    def counted(kind: int, **keys: ir.Value) -> ir.Table:
        columns: dict[str, ir.Value] = {
            "kind": ibis.literal(kind, "int64"),
            "source": ibis.null("string"),
            "day": ibis.null("date"),
            "a": ibis.null("int64"),
            "b": ibis.null("int64"),
            **keys,
        }
        return base.group_by(**columns).agg(n=ibis._.count(), won=base.won.sum())

    return ibis.union(
        counted(BY_SOURCE_DAY, source=base.source, day=base.day),
        counted(BY_AGENT, a=base.agent_id),
        counted(BY_CLOCK, a=base.weekday, b=base.hour),
        counted(BY_PROGRESS, a=base.furthest, b=base.lost),
    )


def cohort_counts(sources: Sources, observation: Observation) -> CohortCounts:
    """`build_cohort_counts` run (its SQL kept per observation and scope)."""
    names, rows = sources.fetch(
        lambda: build_cohort_counts(sources, observation), ("pipeline.cohort", observation)
    )
    at = {name: i for i, name in enumerate(names)}
    counts = CohortCounts([], [], [], [])
    for row in rows:
        kind, n, won = int(row[at["kind"]]), int(row[at["n"]]), int(row[at["won"]])
        a, b = row[at["a"]], row[at["b"]]
        if kind == BY_SOURCE_DAY:
            counts.by_source_day.append((str(row[at["source"]]), row[at["day"]], n, won))
        elif kind == BY_AGENT:
            counts.by_agent.append((None if a is None else int(a), n, won))
        elif kind == BY_CLOCK:
            counts.by_clock.append((int(a), int(b), n))
        else:
            counts.by_progress.append((int(a), bool(b), n))
    return counts


def build_flows(sources: Sources, cohort: ir.Table, cutoff: dt.datetime) -> ir.Table:
    """Counts of stage moves from -> to (including moves to "lost") made by the deals of
    `cohort` before `cutoff`, for a Sankey chart: each stage_history row paired with the
    deal's row before it (a deal's first row, its arrival, is no move), counted in the
    database."""
    table = sources.table("stage_history")
    history = table.filter(
        table.opportunity_id.isin(cohort.opportunity_id), table.changed_at < cutoff
    )
    deal = ibis.window(group_by=history.opportunity_id, order_by=[history.changed_at, history.id])
    pairs = history.select(from_stage=history.to_stage.lag().over(deal), to_stage=history.to_stage)
    pairs = pairs.filter(pairs.from_stage.notnull())
    return pairs.group_by("from_stage", "to_stage").agg(n=ibis._.count())


def compute_flows(sources: Sources, observation: Observation) -> list[Flow]:
    """`build_flows` for the observation's cohort, in stage order."""
    cohort = build_leads(sources, observation.end_utc, observation.start_utc)
    _, rows = sources.fetch(
        lambda: build_flows(sources, cohort, observation.cutoff_utc),
        ("pipeline.flows", observation),
    )
    order = {**STAGE_INDEX, LOST: len(PIPELINE_STAGES)}
    flows = [Flow(str(f), str(t), int(n)) for f, t, n in rows]
    return sorted(
        flows,
        key=lambda x: (
            order.get(x.from_stage, 99),
            order.get(x.to_stage, 99),
            x.from_stage,
            x.to_stage,
        ),
    )


def _with_progress(sources: Sources, cohort: ir.Table, cutoff: dt.datetime) -> ir.Table:
    """`cohort` with, per deal, `furthest` (the index in PIPELINE_STAGES of the furthest
    stage it entered before `cutoff`; 0, "new", without history: a deal that reached
    "offer" counts as having reached every stage before it) and `lost` (1 when it moved
    to "lost"), aggregated in the database."""
    table = sources.table("stage_history")
    history = table.filter(
        table.opportunity_id.isin(cohort.opportunity_id), table.changed_at < cutoff
    )
    index = history.to_stage.cases(*STAGE_INDEX.items(), else_=ibis.null("int64"))
    progress = history.group_by("opportunity_id").agg(
        furthest=index.max(), lost=ibis.ifelse(history.to_stage == LOST, 1, 0).max()
    )
    joined = cohort.left_join(progress, "opportunity_id")
    return joined.select(
        *[cohort[c] for c in cohort.columns],
        furthest=joined.furthest.fill_null(0),
        lost=joined.lost.fill_null(0),
    )


def compute_pipeline(
    sources: Sources, observation: Observation, grain: Grain | None = None
) -> PipelineReport:
    """The pipeline dashboard for `observation` over the scoped `sources`."""
    grain = grain or default_grain(observation.period.days)
    counts = cohort_counts(sources, observation)
    by_source, by_agent, by_month = compute_conversions(counts)
    pipeline = health.open_pipeline(sources, observation)
    return PipelineReport(
        period_start=observation.period.start,
        period_end=observation.period.last_day,
        as_of=observation.as_of,
        timezone=observation.timezone,
        grain=grain,
        cohort_leads=counts.leads,
        funnel=compute_stage_funnel(counts.by_progress),
        volume_by_source=compute_volume(counts.by_source_day, observation, grain),
        velocity=health.compute_velocity(sources, observation),
        aging=health.compute_aging(pipeline),
        temperature=health.compute_temperature(pipeline),
        conversion_by_source=by_source,
        conversion_by_agent=by_agent,
        conversion_by_month=by_month,
        drop_off=compute_drop_off(counts.by_progress),
        flows=compute_flows(sources, observation),
        arrivals_heatmap=health.heatmap_of(counts.by_clock),
        outbound_heatmap=health.outbound_heatmap(sources, observation),
    )
