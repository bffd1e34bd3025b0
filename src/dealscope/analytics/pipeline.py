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
from typing import TypeVar

from dealscope.analytics import pipeline_health as health
from dealscope.analytics.observation import Observation
from dealscope.analytics.periods import Grain, buckets, grain_start
from dealscope.analytics.pipeline_queries import PipelineCounts, fetch_pipeline_counts
from dealscope.analytics.sources import Sources
from dealscope.analytics.stages import LOST, PIPELINE_STAGES, STAGE_INDEX, WON
from dealscope.analytics.stats import ratio

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
    counts: PipelineCounts,
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


def compute_flows(flows: list[tuple[str, str, int]]) -> list[Flow]:
    """Counts of stage moves from -> to (including moves to "lost") made by the cohort's
    deals before the cut-off, for a Sankey chart (a deal's first row, its arrival, is no
    move), in stage order."""
    order = {**STAGE_INDEX, LOST: len(PIPELINE_STAGES)}
    result = [Flow(f, t, n) for f, t, n in flows]
    return sorted(
        result,
        key=lambda x: (
            order.get(x.from_stage, 99),
            order.get(x.to_stage, 99),
            x.from_stage,
            x.to_stage,
        ),
    )


def compute_pipeline(
    sources: Sources, observation: Observation, grain: Grain | None = None
) -> PipelineReport:
    """The pipeline dashboard for `observation` over the scoped `sources` (one query:
    `pipeline_queries`)."""
    grain = grain or default_grain(observation.period.days)
    counts = fetch_pipeline_counts(sources, observation)
    by_source, by_agent, by_month = compute_conversions(counts)
    return PipelineReport(
        period_start=observation.period.start,
        period_end=observation.period.last_day,
        as_of=observation.as_of,
        timezone=observation.timezone,
        grain=grain,
        cohort_leads=counts.cohort_leads,
        funnel=compute_stage_funnel(counts.by_progress),
        volume_by_source=compute_volume(counts.by_source_day, observation, grain),
        velocity=health.compute_velocity(counts.velocity),
        aging=health.compute_aging(counts.open),
        temperature=health.compute_temperature(counts.open),
        conversion_by_source=by_source,
        conversion_by_agent=by_agent,
        conversion_by_month=by_month,
        drop_off=compute_drop_off(counts.by_progress),
        flows=compute_flows(counts.flows),
        arrivals_heatmap=health.heatmap_of(counts.by_clock),
        outbound_heatmap=health.heatmap_of(counts.outbound),
    )
