"""What a Monte Carlo simulation says: quantiles of the total and of each day, week or month
(alone and cumulative), the expected figure, the chance of reaching a target and the density
of the total for a chart.

Quantiles are the empirical inverse CDF of the simulated values (`inverted_cdf`: the
smallest simulated value with at least the given share at or below it), so a discrete
outcome reports a value that can happen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from dealscope.analytics.models.montecarlo import Scenario, Simulation

DENSITY_BINS = 50
MILESTONE_DAYS = (30, 60, 90)


class BucketGrain(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Band:
    """P10 / P50 / P90 and the mean of a simulated quantity (the metric's unit)."""

    p10: float
    p50: float
    p90: float
    mean: float


@dataclass(frozen=True)
class BucketForecast:
    start: dt.date  # first day (inside the horizon)
    end: dt.date  # last day, inclusive
    amount: Band  # what closes in the bucket
    cumulative: Band  # what has closed from the first day of the horizon to `end`


@dataclass(frozen=True)
class Milestone:
    days: int  # the first `days` days after as_of
    end: dt.date
    band: Band  # what has closed by the end of them


@dataclass(frozen=True)
class Density:
    edges: list[float]  # DENSITY_BINS + 1 bin edges of the total
    counts: list[int]  # iterations per bin
    percentiles: list[float]  # the 1st to 99th percentile of the total


@dataclass(frozen=True)
class ForecastSummary:
    as_of: dt.date
    period_start: dt.date
    period_end: dt.date
    horizon_days: int
    iterations: int
    scenario: Scenario
    total: Band
    pipeline_mean: float  # expected closings of today's open deals
    new_business_mean: float  # expected closings of leads not yet arrived
    target: float | None
    probability_of_target: float | None  # share of iterations reaching the target
    grain: BucketGrain
    buckets: list[BucketForecast]
    milestones: list[Milestone]  # 30, 60 and 90 days (those inside the horizon), and the end
    density: Density
    warnings: list[str]


def band(values: np.ndarray) -> Band:
    q = np.quantile(values, [0.1, 0.5, 0.9], method="inverted_cdf")
    return Band(float(q[0]), float(q[1]), float(q[2]), float(np.mean(values)))


def bucket_starts(as_of: dt.date, horizon: int, grain: BucketGrain) -> list[int]:
    """0-based offsets of the first day of each bucket within the horizon."""
    starts = []
    previous = None
    for offset in range(horizon):
        day = as_of + dt.timedelta(days=offset + 1)
        if grain == BucketGrain.DAY:
            key: object = day
        elif grain == BucketGrain.WEEK:
            key = day - dt.timedelta(days=day.weekday())
        else:
            key = (day.year, day.month)
        if key != previous:
            starts.append(offset)
            previous = key
    return starts


def density(totals: np.ndarray) -> Density:
    low, high = float(totals.min()), float(totals.max())
    if high <= low:
        high = low + 1.0
    counts, edges = np.histogram(totals, bins=DENSITY_BINS, range=(low, high))
    percentiles = np.quantile(totals, np.arange(1, 100) / 100, method="inverted_cdf")
    return Density(
        [float(e) for e in edges], [int(c) for c in counts], [float(p) for p in percentiles]
    )


def summarize(
    simulation: Simulation, grain: BucketGrain = BucketGrain.WEEK, target: float | None = None
) -> ForecastSummary:
    """The figures of `simulation` (see the module docstring)."""
    totals = simulation.totals
    horizon = simulation.horizon_days
    as_of = simulation.as_of
    starts = bucket_starts(as_of, horizon, grain)
    buckets = []
    daily = simulation.daily
    if daily.shape[0]:
        amounts = np.add.reduceat(daily, starts, axis=1)
        running = np.cumsum(amounts, axis=1)
        ends = [*starts[1:], horizon]
        for i, (first, stop) in enumerate(zip(starts, ends, strict=True)):
            buckets.append(
                BucketForecast(
                    start=as_of + dt.timedelta(days=first + 1),
                    end=as_of + dt.timedelta(days=stop),
                    amount=band(amounts[:, i]),
                    cumulative=band(running[:, i]),
                )
            )
    milestones = []
    if daily.shape[0]:
        running_days = np.cumsum(daily, axis=1)
        marks = sorted({d for d in MILESTONE_DAYS if d < horizon} | {horizon})
        milestones = [
            Milestone(d, as_of + dt.timedelta(days=d), band(running_days[:, d - 1])) for d in marks
        ]
    chance = None if target is None else float(np.mean(totals >= target))
    return ForecastSummary(
        as_of=as_of,
        period_start=as_of + dt.timedelta(days=1),
        period_end=as_of + dt.timedelta(days=horizon),
        horizon_days=horizon,
        iterations=len(totals),
        scenario=simulation.scenario,
        total=band(totals),
        pipeline_mean=float(simulation.pipeline.mean()),
        new_business_mean=float(simulation.new_business.mean()),
        target=target,
        probability_of_target=chance,
        grain=grain,
        buckets=buckets,
        milestones=milestones,
        density=density(totals),
        warnings=list(simulation.warnings),
    )
