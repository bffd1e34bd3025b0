"""Response of GET /dashboard/funnel."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from dealscope.analytics.funnel_walk import FunnelOrder
from dealscope.api.analytics_schemas.common import PeriodFields, Read

_RATE = "A fraction 0..1; null when its denominator is 0."


class FunnelStepRead(Read):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "step": "appointment",
                    "leads": 79,
                    "step_conversion": 0.177,
                    "overall_conversion": 0.146,
                }
            ]
        }
    )
    step: str
    leads: int = Field(description="Deals counted at this step.")
    step_conversion: float | None = Field(description=f"Share of the previous step. {_RATE}")
    overall_conversion: float | None = Field(description=f"Share of step 1. {_RATE}")


class FunnelSegmentRead(Read):
    key: str = Field(description="The source, the agent id, or the month (YYYY-MM) of step 1.")
    leads: int
    converted: int
    conversion: float | None
    steps: list[FunnelStepRead]
    agent_id: int | None = None


class HistogramBinRead(Read):
    low_days: float
    high_days: float
    leads: int


class TimeToConvertRead(Read):
    converted: int = Field(description="Deals that reached the last step.")
    median_days: float | None = Field(description="From step 1 to the last step, days.")
    p25_days: float | None
    p75_days: float | None
    p90_days: float | None
    histogram: list[HistogramBinRead]


class StepTrendRead(Read):
    from_step: str
    step: str
    conversion: float | None = Field(description="This period's step conversion.")
    baseline: float | None = Field(description="The previous 3 periods' pooled conversion.")
    change: float | None = Field(description="conversion - baseline (-0.05 is 5 points down).")


class BottleneckRead(Read):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "step": "offer",
                    "from_step": "appointment",
                    "change": -0.064,
                    "finding": "The biggest drop is from appointment to offer: 20.3% converted "
                    "this period against 26.7% over the previous 3 periods (-6.4 points).",
                    "trends": [],
                }
            ]
        }
    )
    step: str | None
    from_step: str | None
    change: float | None
    finding: str
    trends: list[StepTrendRead]


class SegmentRateRead(Read):
    segment: str = Field(examples=["source:zillow"])
    leads: int
    converted: int
    conversion: float | None


class ComparisonRead(Read):
    a: SegmentRateRead
    b: SegmentRateRead
    difference: float | None = Field(description="conversion a - conversion b.")
    ci_low: float | None = Field(description="Lower end of the 95% interval of the difference.")
    ci_high: float | None
    z: float | None
    p_value: float | None = Field(description="Two-sided two-proportion z-test (pooled).")
    significant: bool = Field(description="p_value < 0.05.")


class FunnelRead(PeriodFields):
    """Conversion through the chosen steps for the deals that entered step 1 in the period.
    A deal counts for step k if it entered step k within window_days of entering step 1,
    and (strict order) after steps 2..k-1 in order, or (any order) with steps 2..k-1 also
    in the window in any order."""

    window_days: int
    order: FunnelOrder
    steps: list[FunnelStepRead]
    breakdown: list[FunnelSegmentRead]
    time_to_convert: TimeToConvertRead
    bottleneck: BottleneckRead
    comparison: ComparisonRead | None = Field(description="Present with segment_a/segment_b.")
