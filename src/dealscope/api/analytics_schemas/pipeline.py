"""Response of GET /dashboard/pipeline."""

from __future__ import annotations

import datetime as dt

from pydantic import ConfigDict, Field

from dealscope.analytics.periods import Grain
from dealscope.api.analytics_schemas.common import PeriodFields, Read

_RATE = "A fraction 0..1; null when its denominator is 0."


class StageCountRead(Read):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "stage": "qualified",
                    "leads": 172,
                    "step_conversion": 0.385,
                    "overall_conversion": 0.317,
                }
            ]
        }
    )
    stage: str
    leads: int = Field(description="Deals of the cohort that reached this stage or a later one.")
    step_conversion: float | None = Field(description=f"Share of the previous stage. {_RATE}")
    overall_conversion: float | None = Field(description=f"Share of the cohort. {_RATE}")


class VolumePointRead(Read):
    bucket_start: dt.date = Field(description="First day of the bucket (weeks start Monday).")
    leads: int


class SourceVolumeRead(Read):
    source: str
    total: int
    points: list[VolumePointRead] = Field(description="Every bucket of the period, zeros too.")


class StageVelocityRead(Read):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"stage": "offer", "exits": 30, "median_days": 3.4, "p90_days": 7.3}]
        }
    )
    stage: str
    exits: int = Field(description="Moves out of the stage made in the period.")
    median_days: float | None = Field(description="Median days spent in the stage before moving.")
    p90_days: float | None = Field(description="90th percentile of the same, days.")


class ShareRead(Read):
    name: str
    leads: int
    share: float | None = Field(description=f"Share of all open deals. {_RATE}")


class ConversionRead(Read):
    key: str = Field(description="The source, the agent id, or the month (YYYY-MM).")
    leads: int = Field(description="Deals of the cohort.")
    won: int = Field(description="Of those, deals won by the end of as_of.")
    conversion: float | None = Field(description=f"won / leads. {_RATE}")
    agent_id: int | None = None


class DropOffRead(Read):
    stage: str
    reached: int = Field(description="Cohort deals that reached the stage.")
    lost: int = Field(description="Of those, lost with this as the furthest stage reached.")
    loss_rate: float | None = Field(description=f"lost / reached. {_RATE}")


class FlowRead(Read):
    from_stage: str
    to_stage: str = Field(description="A stage, or 'lost'.")
    deals: int = Field(description="Moves from -> to made by cohort deals.")


class HeatmapRead(Read):
    total: int
    counts: list[list[int]] = Field(
        description="counts[weekday][hour], weekday 0 = Monday, hours 0-23 in the tenant's zone."
    )


class PipelineRead(PeriodFields):
    """The stage funnel and what became of the period's leads (the cohort: deals created in
    the period), and the open pipeline at the end of as_of."""

    grain: Grain = Field(description="Bucket size of volume_by_source.")
    cohort_leads: int = Field(description="Deals created in the period.")
    funnel: list[StageCountRead]
    volume_by_source: list[SourceVolumeRead]
    velocity: list[StageVelocityRead] = Field(
        description="Time spent in each stage, measured on the stage exits of the period "
        "(from entering a stage to the deal's next stage change)."
    )
    aging: list[ShareRead] = Field(
        description="Deals open at the end of as_of by whole days since their last stage "
        "change: 0-7, 8-30, 31-90, 90+ (more than 90)."
    )
    temperature: list[ShareRead] = Field(
        description="Deals open at the end of as_of. hot: at 'appointment' or later and "
        "touched (any activity) in the last 7 days, today included; warm: otherwise at "
        "'qualified' or later, or touched in the last 14 days; cold: the rest."
    )
    conversion_by_source: list[ConversionRead]
    conversion_by_agent: list[ConversionRead]
    conversion_by_month: list[ConversionRead] = Field(description="By month of creation.")
    drop_off: list[DropOffRead]
    flows: list[FlowRead] = Field(description="Stage moves of the cohort, for a Sankey chart.")
    arrivals_heatmap: HeatmapRead = Field(description="When the cohort's leads arrived.")
    outbound_heatmap: HeatmapRead = Field(description="Outbound activities in the period.")
