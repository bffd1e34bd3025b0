"""What the pipeline, funnel and speed-to-lead dashboards answer (kept in step with the
server's models by `tests/api/test_client.py`)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from dealscope.client.enums import FunnelOrder, Grain


class _Model(BaseModel):
    pass


class StageCountRead(_Model):
    stage: str
    leads: int
    step_conversion: float | None
    overall_conversion: float | None


class VolumePointRead(_Model):
    bucket_start: dt.date
    leads: int


class SourceVolumeRead(_Model):
    source: str
    total: int
    points: list[VolumePointRead]


class StageVelocityRead(_Model):
    stage: str
    exits: int
    median_days: float | None
    p90_days: float | None


class ShareRead(_Model):
    name: str
    leads: int
    share: float | None


class ConversionRead(_Model):
    key: str
    leads: int
    won: int
    conversion: float | None
    agent_id: int | None = None


class DropOffRead(_Model):
    stage: str
    reached: int
    lost: int
    loss_rate: float | None


class FlowRead(_Model):
    from_stage: str
    to_stage: str
    deals: int


class HeatmapRead(_Model):
    total: int
    counts: list[list[int]]


class PipelineRead(_Model):
    """The stage funnel and what became of the period's leads (the cohort: deals created in"""

    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    timezone: str
    grain: Grain
    cohort_leads: int
    funnel: list[StageCountRead]
    volume_by_source: list[SourceVolumeRead]
    velocity: list[StageVelocityRead]
    aging: list[ShareRead]
    temperature: list[ShareRead]
    conversion_by_source: list[ConversionRead]
    conversion_by_agent: list[ConversionRead]
    conversion_by_month: list[ConversionRead]
    drop_off: list[DropOffRead]
    flows: list[FlowRead]
    arrivals_heatmap: HeatmapRead
    outbound_heatmap: HeatmapRead


class FunnelStepRead(_Model):
    step: str
    leads: int
    step_conversion: float | None
    overall_conversion: float | None


class FunnelSegmentRead(_Model):
    key: str
    leads: int
    converted: int
    conversion: float | None
    steps: list[FunnelStepRead]
    agent_id: int | None = None


class HistogramBinRead(_Model):
    low_days: float
    high_days: float
    leads: int


class TimeToConvertRead(_Model):
    converted: int
    median_days: float | None
    p25_days: float | None
    p75_days: float | None
    p90_days: float | None
    histogram: list[HistogramBinRead]


class StepTrendRead(_Model):
    from_step: str
    step: str
    conversion: float | None
    baseline: float | None
    change: float | None


class BottleneckRead(_Model):
    step: str | None
    from_step: str | None
    change: float | None
    finding: str
    trends: list[StepTrendRead]


class SegmentRateRead(_Model):
    segment: str
    leads: int
    converted: int
    conversion: float | None


class ComparisonRead(_Model):
    a: SegmentRateRead
    b: SegmentRateRead
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    z: float | None
    p_value: float | None
    significant: bool


class FunnelRead(_Model):
    """Conversion through the chosen steps for the deals that entered step 1 in the period."""

    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    timezone: str
    window_days: int
    order: FunnelOrder
    steps: list[FunnelStepRead]
    breakdown: list[FunnelSegmentRead]
    time_to_convert: TimeToConvertRead
    bottleneck: BottleneckRead
    comparison: ComparisonRead | None


class ResponseTimesRead(_Model):
    key: str
    leads: int
    contacted: int
    median_minutes: float | None
    p90_minutes: float | None
    agent_id: int | None = None
    hour: int | None = None


class SlaRead(_Model):
    threshold_minutes: float
    leads: int
    within: int
    breached: int
    never_contacted: int
    within_share: float | None
    breached_share: float | None
    never_contacted_share: float | None


class ResponseBucketRead(_Model):
    bucket: str
    leads: int
    won: int
    win_rate: float | None


class SpeedToLeadRead(_Model):
    """Response time: from a deal's creation to the first outbound call, text or email an"""

    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    timezone: str
    overall: ResponseTimesRead
    by_source: list[ResponseTimesRead]
    by_agent: list[ResponseTimesRead]
    by_hour: list[ResponseTimesRead]
    sla: SlaRead
    win_rate_by_response: list[ResponseBucketRead]
