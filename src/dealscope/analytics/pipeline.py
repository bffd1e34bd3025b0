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
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from dealscope.analytics import pipeline_health as health
from dealscope.analytics.leadframes import build_leads, load_leads
from dealscope.analytics.observation import Observation
from dealscope.analytics.periods import Grain, buckets, grain_start
from dealscope.analytics.sources import Sources
from dealscope.analytics.stages import LOST, PIPELINE_STAGES, STAGE_INDEX, WON
from dealscope.analytics.stats import ratio

if TYPE_CHECKING:
    import ibis.expr.types as ir


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


def compute_stage_funnel(furthest: pd.Series) -> list[StageCount]:
    """Deals reaching each stage (furthest stage index at or beyond it), with the share of
    the previous stage and of all deals that got there (fractions 0..1)."""
    total = len(furthest)
    counts = [int((furthest >= i).sum()) for i in range(len(PIPELINE_STAGES))]
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
    cohort: pd.DataFrame, observation: Observation, grain: Grain
) -> list[SourceVolume]:
    """New deals per source per bucket (count), every bucket of the period listed."""
    starts = buckets(observation.period, grain)
    days = observation.local_dates(cohort["created_at"])
    bucket = days.map({d: grain_start(d, grain) for d in days.unique()})  # once per day
    counts = pd.crosstab(cohort["source"], bucket) if len(cohort) else pd.DataFrame()
    result = []
    for source in sorted(counts.index):
        row = counts.loc[source]
        points = [VolumePoint(s, int(row.get(s, 0))) for s in starts]
        result.append(SourceVolume(str(source), int(row.sum()), points))
    return sorted(result, key=lambda v: (-v.total, v.source))


def _conversions(keys: pd.Series, won: pd.Series) -> list[tuple[object, int, int]]:
    grouped = pd.DataFrame({"key": keys, "won": won}).groupby("key", dropna=True)["won"]
    return [
        (key, int(n), int(w))
        for key, n, w in zip(grouped.size().index, grouped.size(), grouped.sum(), strict=True)
    ]


def compute_conversions(
    cohort: pd.DataFrame, won: pd.Series, observation: Observation
) -> tuple[list[Conversion], list[Conversion], list[Conversion]]:
    """Lead -> won conversion (won deals / cohort deals, 0..1) by source, by agent and by
    month of creation. Deals without an agent are left out of the agent table."""
    by_source = [
        Conversion(str(k), n, w, ratio(w, n)) for k, n, w in _conversions(cohort["source"], won)
    ]
    by_agent = [
        Conversion(str(k), n, w, ratio(w, n), agent_id=int(str(k)))
        for k, n, w in _conversions(cohort["agent_id"], won)
    ]
    days = observation.local_dates(cohort["created_at"])
    months = days.map({d: f"{d:%Y-%m}" for d in days.unique()})  # once per day
    by_month = [Conversion(str(k), n, w, ratio(w, n)) for k, n, w in _conversions(months, won)]
    by_source.sort(key=lambda c: (-c.leads, c.key))
    by_agent.sort(key=lambda c: (-c.leads, c.agent_id or 0))
    return by_source, by_agent, by_month


def compute_drop_off(furthest: pd.Series, lost: pd.Series) -> list[DropOff]:
    """Per stage: deals that reached it, and those lost with it as their furthest stage."""
    result = []
    for i, stage in enumerate(PIPELINE_STAGES):
        if stage == WON:
            continue
        reached = int((furthest >= i).sum())
        lost_here = int(((furthest == i) & lost).sum())
        result.append(DropOff(stage, reached, lost_here, ratio(lost_here, reached)))
    return result


def compute_flows(sources: Sources, cohort: ir.Table, cutoff: dt.datetime) -> list[Flow]:
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
    counts = sources.frame(pairs.group_by("from_stage", "to_stage").agg(n=ibis._.count()))
    order = {**STAGE_INDEX, LOST: len(PIPELINE_STAGES)}
    flows = [
        Flow(str(f), str(t), int(n))
        for f, t, n in zip(counts["from_stage"], counts["to_stage"], counts["n"], strict=True)
    ]
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
    cutoff = observation.cutoff_utc
    cohort_expr = build_leads(sources, observation.end_utc, observation.start_utc)
    cohort = load_leads(sources, _with_progress(sources, cohort_expr, cutoff))
    furthest = cohort["furthest"].astype(int)
    won = furthest == STAGE_INDEX[WON]
    lost = cohort["lost"].astype(int) == 1
    by_source, by_agent, by_month = compute_conversions(cohort, won, observation)
    pipeline = health.open_pipeline(sources, observation)
    return PipelineReport(
        period_start=observation.period.start,
        period_end=observation.period.last_day,
        as_of=observation.as_of,
        timezone=observation.timezone,
        grain=grain,
        cohort_leads=len(cohort),
        funnel=compute_stage_funnel(furthest),
        volume_by_source=compute_volume(cohort, observation, grain),
        velocity=health.compute_velocity(sources, observation),
        aging=health.compute_aging(pipeline),
        temperature=health.compute_temperature(pipeline),
        conversion_by_source=by_source,
        conversion_by_agent=by_agent,
        conversion_by_month=by_month,
        drop_off=compute_drop_off(furthest, lost),
        flows=compute_flows(sources, cohort_expr, cutoff),
        arrivals_heatmap=health.compute_heatmap(cohort["created_at"], observation),
        outbound_heatmap=health.outbound_heatmap(sources, observation),
    )
