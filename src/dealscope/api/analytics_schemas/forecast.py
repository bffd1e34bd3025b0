"""Requests and responses of the forecast endpoints. Money is in the tenant's currency;
`closings` and `new_leads` are counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dealscope.analytics.forecast_history import ForecastMetric
from dealscope.analytics.models.mc_summary import BucketGrain
from dealscope.analytics.models.montecarlo import MAX_HORIZON_DAYS, MAX_ITERATIONS
from dealscope.analytics.models.timeseries import SeriesGrain, TimeSeriesMethod
from dealscope.api.analytics_schemas.common import Read

_BAND: dict[str, Any] = {"p10": 880000.0, "p50": 1030000.0, "p90": 1190000.0, "mean": 1034000.0}


class BandRead(Read):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_BAND]})
    p10: float = Field(description="10% of simulated futures end at or below this.")
    p50: float = Field(description="The median.")
    p90: float = Field(description="90% of simulated futures end at or below this.")
    mean: float = Field(description="The expected (risk-adjusted) figure.")


class BucketRead(Read):
    start: dt.date = Field(description="First day of the day, week or month (inside the horizon).")
    end: dt.date = Field(description="Last day, inclusive.")
    amount: BandRead = Field(description="What closes within the bucket.")
    cumulative: BandRead = Field(description="What has closed from the first day through `end`.")


class MilestoneRead(Read):
    days: int = Field(description="The first this many days after as_of (30, 60, 90, end).")
    end: dt.date
    band: BandRead = Field(description="What has closed by the end of them.")


class DensityRead(Read):
    edges: list[float] = Field(description="Histogram bin edges of the total (51 edges).")
    counts: list[int] = Field(description="Simulated futures per bin.")
    percentiles: list[float] = Field(description="The 1st to 99th percentile of the total.")


class ScenarioRead(Read):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "name": "worst",
                    "lead_volume": 0.86,
                    "conversion": 0.88,
                    "deal_size": 0.92,
                    "cycle_time": 1.14,
                }
            ]
        },
    )
    name: str = Field(description="expected, best, worst, or '<name> (custom)' with overrides.")
    lead_volume: float = Field(description="Multiplier on lead arrivals.")
    conversion: float = Field(description="Multiplier on closing and conversion probabilities.")
    deal_size: float = Field(description="Multiplier on deal values.")
    cycle_time: float = Field(description="Multiplier on the time deals take to close.")


class ScenarioOutcomeRead(Read):
    scenario: ScenarioRead
    total: BandRead


class DriversRead(Read):
    open_deals: int = Field(description="Deals open on as_of in the caller's scope.")
    open_pipeline_amount: float = Field(description="Sum of their amounts (expected prices).")
    stage_close_rates: dict[str, float] = Field(
        description="Mean probability that an open deal of each stage closes in the horizon."
    )
    expected_new_leads: float = Field(description="Leads expected to arrive in the horizon.")
    new_lead_conversion: float = Field(
        description="Probability that a lead arriving tomorrow is won within the horizon."
    )
    typical_deal_revenue: float = Field(description="Median value of a recent won deal.")
    lead_dispersion: float | None = Field(
        description="Negative binomial shape of daily lead counts (null: Poisson)."
    )


class MonteCarloRead(Read):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "as_of": "2025-03-31",
                    "timezone": "America/New_York",
                    "metric": "gci",
                    "period_start": "2025-04-01",
                    "period_end": "2025-06-29",
                    "horizon_days": 90,
                    "iterations": 10000,
                    "seed": 0,
                    "scenario": {
                        "name": "expected",
                        "lead_volume": 1.0,
                        "conversion": 1.0,
                        "deal_size": 1.0,
                        "cycle_time": 1.0,
                    },
                    "total": _BAND,
                    "pipeline_mean": 830000.0,
                    "new_business_mean": 204000.0,
                    "target": 1000000.0,
                    "probability_of_target": 0.61,
                    "grain": "month",
                    "buckets": [
                        {
                            "start": "2025-04-01",
                            "end": "2025-04-30",
                            "amount": _BAND,
                            "cumulative": _BAND,
                        }
                    ],
                    "milestones": [
                        {"days": 30, "end": "2025-04-30", "band": _BAND},
                        {"days": 60, "end": "2025-05-30", "band": _BAND},
                        {"days": 90, "end": "2025-06-29", "band": _BAND},
                    ],
                    "density": {"edges": [0.0, 1.0], "counts": [10000], "percentiles": [1.0]},
                    "scenarios": [],
                    "drivers": {
                        "open_deals": 1202,
                        "open_pipeline_amount": 655349000.0,
                        "stage_close_rates": {"under_contract": 0.8, "offer": 0.6},
                        "expected_new_leads": 1724.0,
                        "new_lead_conversion": 0.03,
                        "typical_deal_revenue": 12740.0,
                        "lead_dispersion": None,
                    },
                    "warnings": [],
                }
            ]
        },
    )
    as_of: dt.date = Field(description="Seen from the end of this day (tenant's calendar).")
    timezone: str
    metric: ForecastMetric
    period_start: dt.date = Field(description="First forecast day (the day after as_of).")
    period_end: dt.date = Field(description="Last forecast day, inclusive.")
    horizon_days: int
    iterations: int
    seed: int = Field(description="The same seed and data give the same forecast.")
    scenario: ScenarioRead
    total: BandRead = Field(description="What closes over the whole horizon.")
    pipeline_mean: float = Field(description="Expected part from deals open on as_of.")
    new_business_mean: float = Field(description="Expected part from leads yet to arrive.")
    target: float | None
    probability_of_target: float | None = Field(
        description="Share of simulated futures reaching the target (null without one)."
    )
    grain: BucketGrain
    buckets: list[BucketRead] = Field(
        description="Per day, week or month (from the first 50,000 iterations of a bigger run)."
    )
    milestones: list[MilestoneRead] = Field(
        description="Cumulative figures at 30, 60 and 90 days (inside the horizon) and its end."
    )
    density: DensityRead
    scenarios: list[ScenarioOutcomeRead] = Field(
        description="Worst, expected and best case totals (GET /forecast; on request in POST)."
    )
    drivers: DriversRead
    warnings: list[str] = Field(description="What the history was too thin to learn.")


class MonteCarloQuery(BaseModel):
    """A Monte Carlo run with any horizon, up to a million iterations and custom drivers."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "horizon_days": 60,
                    "iterations": 10000,
                    "seed": 7,
                    "metric": "gci",
                    "grain": "week",
                    "target": 600000,
                    "scenario": "expected",
                    "conversion": 0.9,
                }
            ]
        },
    )
    horizon_days: int = Field(default=90, ge=1, le=MAX_HORIZON_DAYS)
    iterations: int = Field(default=10_000, ge=100, le=MAX_ITERATIONS)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    metric: ForecastMetric = ForecastMetric.GCI
    grain: BucketGrain = BucketGrain.WEEK
    target: float | None = Field(default=None, ge=0)
    scenario: str = Field(default="expected", description="expected, best or worst.")
    lead_volume: float | None = Field(default=None, ge=0, le=10, description="Override.")
    conversion: float | None = Field(default=None, ge=0, le=10, description="Override.")
    deal_size: float | None = Field(default=None, ge=0, le=10, description="Override.")
    cycle_time: float | None = Field(default=None, ge=0.25, le=4, description="Override.")
    compare_scenarios: bool = Field(default=False, description="Also simulate best and worst.")
    as_of: dt.date | None = Field(default=None, description="Default: today (tenant's zone).")


class PeriodForecastRead(Read):
    start: dt.date
    end: dt.date
    band: BandRead


class HistoryPointRead(BaseModel):
    start: dt.date
    value: float


class TimeSeriesRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "as_of": "2025-03-31",
                    "metric": "gci",
                    "method": "ets",
                    "grain": "month",
                    "history": [{"start": "2025-03-01", "value": 309572.75}],
                    "periods": [
                        {"start": "2025-04-01", "end": "2025-04-30", "band": _BAND},
                    ],
                    "total": _BAND,
                }
            ]
        }
    )
    as_of: dt.date
    metric: str
    method: TimeSeriesMethod
    grain: SeriesGrain
    history: list[HistoryPointRead] = Field(description="The whole periods it learned from.")
    periods: list[PeriodForecastRead] = Field(description="P10/P50/P90 per future period.")
    total: BandRead = Field(description="Of all forecast periods together (from sample paths).")


class ScoreRead(Read):
    method: str = Field(description="monte_carlo, timeseries:ets or timeseries:prophet.")
    horizon_days: int = Field(description="Forecasts up to this many days ahead.")
    forecasts: int
    mape: float | None = Field(description="Mean |P50 - actual| / actual (actual > 0 only).")
    bias: float | None = Field(description="Mean (P50 - actual) / actual; > 0 over-forecasts.")
    coverage: float | None = Field(description="Share of actuals within P10..P90 (aim: 0.8).")


class ScoredForecastRead(BaseModel):
    method: str
    kind: str = Field(description="issued (served by the API) or backtest.")
    issued_at: dt.datetime
    as_of: dt.date
    period_start: dt.date
    period_end: dt.date
    p10: float
    p50: float
    p90: float
    actual: float


class AccuracyRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "as_of": "2025-06-30",
                    "metric": "gci",
                    "scores": [
                        {
                            "method": "monte_carlo",
                            "horizon_days": 31,
                            "forecasts": 12,
                            "mape": 0.08,
                            "bias": 0.02,
                            "coverage": 0.83,
                        }
                    ],
                    "recent": [],
                }
            ]
        }
    )
    as_of: dt.date
    metric: str
    scores: list[ScoreRead] = Field(description="By method and horizon.")
    recent: list[ScoredForecastRead] = Field(description="The latest scored forecasts (50).")
