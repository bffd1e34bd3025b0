"""The funnel dashboard: conversion through chosen steps, by segment, over time.

The rules for counting a deal at a step (window, strict or any order) are in
`funnel_walk`. The cohort of a period is the deals whose first entry into step 1 falls in
it; they are followed up to the end of `as_of`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from dealscope.analytics.funnel_walk import CohortWindow, FunnelOrder, cohort_deals, walk_steps
from dealscope.analytics.observation import Observation, local_midnight_utc
from dealscope.analytics.sources import Sources
from dealscope.analytics.stages import stage_index
from dealscope.analytics.stats import quantile, ratio, two_proportion_z_test
from dealscope.errors import ValidationFailed

if TYPE_CHECKING:
    import ibis.expr.types as ir

HISTORY_PERIODS = 3  # a step's conversion is compared with this many periods before
HISTOGRAM_EDGES_DAYS = (0, 1, 3, 7, 14, 30, 60, 90, 180, 365)


class FunnelBreakdown(StrEnum):
    SOURCE = "source"
    AGENT = "agent"
    MONTH = "month"


@dataclass(frozen=True)
class FunnelQuery:
    steps: tuple[str, ...]
    window_days: int = 90
    order: FunnelOrder = FunnelOrder.STRICT
    breakdown: FunnelBreakdown | None = None
    segment_a: str | None = None  # "source:<key>" or "agent:<id>"
    segment_b: str | None = None

    def __post_init__(self) -> None:
        if len(self.steps) < 2:
            raise ValidationFailed("a funnel needs at least two steps")
        if len(set(self.steps)) != len(self.steps):
            raise ValidationFailed("each step may appear once in a funnel")
        for step in self.steps:
            stage_index(step)
        if not 1 <= self.window_days <= 3650:
            raise ValidationFailed("the conversion window must be 1 to 3650 days")
        if (self.segment_a is None) != (self.segment_b is None):
            raise ValidationFailed("a comparison needs both segment_a and segment_b")
        for segment in (self.segment_a, self.segment_b):
            if segment is not None:
                parse_segment(segment)


@dataclass(frozen=True)
class FunnelStep:
    step: str
    leads: int  # deals counted at this step
    step_conversion: float | None  # leads / leads of the previous step (0..1)
    overall_conversion: float | None  # leads / leads of step 1 (0..1)


@dataclass(frozen=True)
class FunnelSegment:
    key: str  # source, agent id as text, or month (YYYY-MM)
    leads: int  # deals that entered step 1
    converted: int  # deals that reached the last step
    conversion: float | None  # converted / leads
    steps: list[FunnelStep]
    agent_id: int | None = None


@dataclass(frozen=True)
class HistogramBin:
    low_days: float  # included
    high_days: float  # excluded, except for the last bin
    leads: int


@dataclass(frozen=True)
class TimeToConvert:
    converted: int
    median_days: float | None  # from entering step 1 to reaching the last step, days
    p25_days: float | None
    p75_days: float | None
    p90_days: float | None
    histogram: list[HistogramBin]


@dataclass(frozen=True)
class StepTrend:
    from_step: str
    step: str
    conversion: float | None  # this period: leads at `step` / leads at `from_step`
    baseline: float | None  # the same over the previous periods pooled
    change: float | None  # conversion - baseline, in fraction points (-0.05: 5 points)


@dataclass(frozen=True)
class Bottleneck:
    step: str | None  # the step whose conversion fell most; None when none fell
    from_step: str | None
    change: float | None
    finding: str
    trends: list[StepTrend]


@dataclass(frozen=True)
class SegmentRate:
    segment: str
    leads: int
    converted: int
    conversion: float | None


@dataclass(frozen=True)
class Comparison:
    a: SegmentRate
    b: SegmentRate
    difference: float | None  # conversion a - conversion b (fraction)
    ci_low: float | None  # 95% interval of the difference
    ci_high: float | None
    z: float | None
    p_value: float | None  # two-sided, two-proportion z-test
    significant: bool  # p < 0.05


@dataclass(frozen=True)
class FunnelReport:
    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    timezone: str
    window_days: int
    order: FunnelOrder
    steps: list[FunnelStep]
    breakdown: list[FunnelSegment]
    time_to_convert: TimeToConvert
    bottleneck: Bottleneck
    comparison: Comparison | None


def parse_segment(text: str) -> tuple[str, str]:
    """ "source:zillow" -> ("source", "zillow"); "agent:12" -> ("agent", "12")."""
    kind, _, value = text.partition(":")
    if kind not in ("source", "agent") or not value:
        raise ValidationFailed(f"a segment is source:<key> or agent:<id>, not {text!r}")
    if kind == "agent" and not value.isdigit():
        raise ValidationFailed(f"an agent segment names an agent id, not {value!r}")
    return kind, value


def compute_steps(
    reached: pd.Series, steps: Sequence[str], weights: pd.Series | None = None
) -> list[FunnelStep]:
    """Counts per step from each deal's number of steps reached (or, with `weights`, from
    how many deals reached each number), with conversions."""
    counts = [
        int((reached >= k + 1).sum())
        if weights is None
        else int(weights[(reached >= k + 1).to_numpy()].sum())
        for k in range(len(steps))
    ]
    return [
        FunnelStep(
            step,
            counts[k],
            None if k == 0 else ratio(counts[k], counts[k - 1]),
            ratio(counts[k], counts[0]),
        )
        for k, step in enumerate(steps)
    ]


def compute_time_to_convert(days: pd.Series, window_days: int) -> TimeToConvert:
    """Quantiles (days) and a histogram of the time deals took from step 1 to the last."""
    done = days.dropna().astype(float)
    edges = [e for e in HISTOGRAM_EDGES_DAYS if e < window_days] + [window_days]
    bins = []
    for i, (low, high) in enumerate(itertools.pairwise(edges)):
        last = i == len(edges) - 2
        inside = (done >= low) & ((done <= high) if last else (done < high))
        bins.append(HistogramBin(float(low), float(high), int(inside.sum())))
    return TimeToConvert(
        converted=len(done),
        median_days=quantile(done, 0.5),
        p25_days=quantile(done, 0.25),
        p75_days=quantile(done, 0.75),
        p90_days=quantile(done, 0.9),
        histogram=bins,
    )


def compute_breakdown(
    cohort: pd.DataFrame, steps: Sequence[str], kind: FunnelBreakdown
) -> list[FunnelSegment]:
    """The funnel per source, agent or month of entering step 1, from counts of deals
    (column n) by `kind` and steps reached."""
    result = []
    for key, part in cohort.groupby(kind.value, dropna=True, sort=True):
        funnel = compute_steps(part["reached"], steps, part["n"])
        converted = funnel[-1].leads
        agent_id = int(str(key)) if kind == FunnelBreakdown.AGENT else None
        leads = funnel[0].leads
        result.append(
            FunnelSegment(str(key), leads, converted, ratio(converted, leads), funnel, agent_id)
        )
    if kind == FunnelBreakdown.MONTH:
        return result
    return sorted(result, key=lambda s: (-s.leads, s.key))


def compute_bottleneck(
    current: list[FunnelStep], history: list[list[FunnelStep]], periods: int
) -> Bottleneck:
    """The step whose step-conversion fell most against the previous periods pooled
    (their deals at the step / their deals at the step before), with a plain finding."""
    trends = []
    for k in range(1, len(current)):
        before = sum(h[k - 1].leads for h in history)
        baseline = ratio(sum(h[k].leads for h in history), before)
        rate = current[k].step_conversion
        change = None if rate is None or baseline is None else rate - baseline
        trends.append(StepTrend(current[k - 1].step, current[k].step, rate, baseline, change))
    falling = [t for t in trends if t.change is not None and t.change < 0]
    if not falling:
        finding = (
            f"No step converted worse than over the previous {periods} periods."
            if any(t.change is not None for t in trends)
            else f"Not enough data in this period and the previous {periods} to compare."
        )
        return Bottleneck(None, None, None, finding, trends)
    worst = min(falling, key=lambda t: t.change or 0.0)
    assert worst.conversion is not None and worst.baseline is not None
    assert worst.change is not None
    finding = (
        f"The biggest drop is from {worst.from_step} to {worst.step}: "
        f"{worst.conversion:.1%} converted this period against {worst.baseline:.1%} over "
        f"the previous {periods} periods ({worst.change * 100:+.1f} points)."
    )
    return Bottleneck(worst.step, worst.from_step, worst.change, finding, trends)


def _rate(cohort: pd.DataFrame, segment: str, last: int) -> SegmentRate:
    kind, value = parse_segment(segment)
    if kind == "source":
        part = cohort[(cohort["source"] == value).to_numpy()]
    else:
        part = cohort[cohort["agent"].eq(int(value)).fillna(False).to_numpy()]
    leads = int(part["n"].sum())
    converted = int(part.loc[(part["reached"] >= last).to_numpy(), "n"].sum())
    return SegmentRate(segment, leads, converted, ratio(converted, leads))


def compute_comparison(cohort: pd.DataFrame, query: FunnelQuery) -> Comparison | None:
    """Overall conversion (step 1 -> last step) of two segments, with a two-proportion
    z-test; None when no comparison was asked for. `cohort` counts deals (column n) by
    source, agent and steps reached."""
    if query.segment_a is None or query.segment_b is None:
        return None
    last = len(query.steps)
    a, b = _rate(cohort, query.segment_a, last), _rate(cohort, query.segment_b, last)
    test = two_proportion_z_test(a.converted, a.leads, b.converted, b.leads)
    if test is None:
        return Comparison(a, b, None, None, None, None, None, False)
    significant = test.p_value is not None and test.p_value < 0.05
    return Comparison(
        a, b, test.difference, test.ci_low, test.ci_high, test.z, test.p_value, significant
    )


def _month_key(t1: ir.TimestampValue, observation: Observation) -> ir.StringValue:
    """The month (YYYY-MM, tenant's zone) of instants in the observation's period."""
    period = observation.period
    first, branches = dt.date(period.start.year, period.start.month, 1), []
    while first <= period.last_day:
        following = (first + dt.timedelta(days=32)).replace(day=1)
        bound = local_midnight_utc(following, observation.zone)
        branches.append((t1 < bound, ibis.literal(f"{first:%Y-%m}")))
        first = following
    return ibis.cases(*branches, else_=ibis.null()).cast("string")


def _walk(
    sources: Sources, query: FunnelQuery, observation: Observation
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The observed period's cohort (0) and the HISTORY_PERIODS before it, walked together
    in one query compiled once per query and observation. Returns the deals (n) by period
    and steps reached, for the observed period also by the keys the breakdown and the
    comparison need (source, agent, month; NULL otherwise); and its converted deals (n)
    by t1 (started) and when they reached the last step (finished), for exact quantiles
    of the time to convert."""
    wanted = {query.breakdown.value} if query.breakdown else set()
    for segment in (query.segment_a, query.segment_b):
        if segment is not None:
            wanted.add(parse_segment(segment)[0])

    def build() -> ir.Table:
        observations = [observation] + [
            observation.shifted(p) for p in range(1, HISTORY_PERIODS + 1)
        ]
        windows = [CohortWindow(o.start_utc, o.end_utc, o.cutoff_utc) for o in observations]
        deals = cohort_deals(sources, query.steps[0], windows)
        current = deals.period == 0
        values: dict[str, ir.Value] = {
            "source": deals.source.fill_null("unknown"),
            "agent": deals.agent_id,
            "month": _month_key(deals.t1, observation),
        }
        keys = {
            name: ibis.ifelse(current, value, ibis.null(value.type()))
            for name, value in values.items()
            if name in wanted
        }
        cohort = deals.select("opportunity_id", "t1", "period", **keys)
        window = dt.timedelta(days=query.window_days)
        walked = walk_steps(sources, cohort, query.steps, window, query.order, windows)
        # Deals that reached step k or further, by period and keys; those that reached
        # exactly k are those less the ones that reached k + 1.
        groups = ["period", *keys]
        at_least = [table.group_by(groups).agg(n=ibis._.count()) for table in walked]
        parts = [table.mutate(reached=ibis.literal(k)) for k, table in enumerate(at_least, 1)]
        parts += [
            table.mutate(reached=ibis.literal(k), n=-table.n)
            for k, table in enumerate(at_least[1:], 1)
        ]
        exact = ibis.union(*parts, distinct=False)
        exact = exact.group_by(["period", "reached", *keys]).agg(n=exact.n.sum().cast("int64"))
        moment = deals.t1.type()
        exact = exact.mutate(started=ibis.null(moment), finished=ibis.null(moment))
        done = walked[-1].filter(walked[-1].period == 0)
        converted = done.group_by(started=done.t1, finished=done.latest).agg(n=ibis._.count())
        converted = converted.select(
            period=ibis.null(exact.period.type()),
            reached=ibis.null(exact.reached.type()),
            **{name: ibis.null(value.type()) for name, value in keys.items()},
            started=converted.started,
            finished=converted.finished,
            n=converted.n,
        )
        return ibis.union(exact.select(*converted.columns), converted, distinct=False)

    names, rows = sources.fetch(build, ("funnel.walk", query, observation))
    frame = pd.DataFrame.from_records(rows, columns=names)
    done = frame["finished"].notna().to_numpy()
    counts = frame[~done].drop(columns=["started", "finished"]).reset_index(drop=True)
    for name in ("period", "reached", "n"):
        counts[name] = counts[name].astype("int64")
    if "agent" in counts:
        counts["agent"] = counts["agent"].astype("Int64")
    return counts, frame[done].reset_index(drop=True)


def _convert_days(converted: pd.DataFrame) -> pd.Series:
    """Days from step 1 to the last step of the observed period's converted deals."""
    started = pd.to_datetime(converted["started"], utc=True)
    finished = pd.to_datetime(converted["finished"], utc=True)
    days = (finished - started).dt.total_seconds() / 86400.0
    return days.repeat(converted["n"].astype(int).tolist()).astype(float).reset_index(drop=True)


def compute_funnel(sources: Sources, observation: Observation, query: FunnelQuery) -> FunnelReport:
    """The funnel dashboard for `observation` over the scoped `sources`: the observed
    period's cohort and the HISTORY_PERIODS before it are walked in one query."""
    steps = query.steps
    counts, converted = _walk(sources, query, observation)

    def funnel_of(period: int) -> list[FunnelStep]:
        part = counts[(counts["period"] == period).to_numpy()]
        return compute_steps(part["reached"], steps, part["n"])

    funnel = funnel_of(0)
    past = [funnel_of(p) for p in range(1, HISTORY_PERIODS + 1)]
    current = counts[(counts["period"] == 0).to_numpy()]
    breakdown = compute_breakdown(current, steps, query.breakdown) if query.breakdown else []
    return FunnelReport(
        period_start=observation.period.start,
        period_end=observation.period.last_day,
        as_of=observation.as_of,
        timezone=observation.timezone,
        window_days=query.window_days,
        order=query.order,
        steps=funnel,
        breakdown=breakdown,
        time_to_convert=compute_time_to_convert(_convert_days(converted), query.window_days),
        bottleneck=compute_bottleneck(funnel, past, HISTORY_PERIODS),
        comparison=compute_comparison(current, query),
    )
