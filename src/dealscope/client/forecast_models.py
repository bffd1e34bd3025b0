"""What the forecasting endpoints answer (GET /api/v1/analytics/forecast, the Monte Carlo
fan chart and its density, and /analytics/forecast/accuracy, the ledger of past forecasts
scored); kept in step with the server's models by `tests/api/test_client.py`."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel


class _Model(BaseModel):
    pass


class ScenarioRead(_Model):
    name: str
    lead_volume: float
    conversion: float
    deal_size: float
    cycle_time: float


class BandRead(_Model):
    p10: float
    p50: float
    p90: float
    mean: float


class BucketRead(_Model):
    start: dt.date
    end: dt.date
    amount: BandRead
    cumulative: BandRead


class MilestoneRead(_Model):
    days: int
    end: dt.date
    band: BandRead


class DensityRead(_Model):
    edges: list[float]
    counts: list[int]
    percentiles: list[float]


class ScenarioOutcomeRead(_Model):
    scenario: ScenarioRead
    total: BandRead


class DriversRead(_Model):
    open_deals: int
    open_pipeline_amount: float
    stage_close_rates: dict[str, float]
    expected_new_leads: float
    new_lead_conversion: float
    typical_deal_revenue: float
    lead_dispersion: float | None


class MonteCarloRead(_Model):
    as_of: dt.date
    timezone: str
    metric: str
    period_start: dt.date
    period_end: dt.date
    horizon_days: int
    iterations: int
    seed: int
    scenario: ScenarioRead
    total: BandRead
    pipeline_mean: float
    new_business_mean: float
    target: float | None
    probability_of_target: float | None
    grain: str
    buckets: list[BucketRead]
    milestones: list[MilestoneRead]
    density: DensityRead
    scenarios: list[ScenarioOutcomeRead]
    drivers: DriversRead
    warnings: list[str]


class ScoreRead(_Model):
    method: str
    horizon_days: int
    forecasts: int
    mape: float | None
    bias: float | None
    coverage: float | None


class ScoredForecastRead(_Model):
    method: str
    kind: str
    issued_at: dt.datetime
    as_of: dt.date
    period_start: dt.date
    period_end: dt.date
    p10: float
    p50: float
    p90: float
    actual: float


class AccuracyRead(_Model):
    as_of: dt.date
    metric: str
    scores: list[ScoreRead]
    recent: list[ScoredForecastRead]
