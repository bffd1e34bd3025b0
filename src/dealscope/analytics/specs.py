"""Query specs and results of the metric service: what a caller asks for, what comes back.

A `MetricQuery` names metrics by slug, the dimensions to split them by, filters (values of
dimensions, compared through Ibis, never pasted into SQL), a period (a named range or
custom dates), an optional time grain and an optional comparison. `MetricResult` carries one
row per (bucket, dimension values) for every metric, with the comparison beside it.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dealscope.analytics.periods import Compare, Grain, RangeName


class Dimension(StrEnum):
    """What a metric can be split or filtered by (besides the time grain).

    agent, team and office values are our ids written as strings; the others are the
    warehouse's own keys (source key, utm medium and campaign, property type, postal code,
    canonical stage key)."""

    AGENT = "agent"
    TEAM = "team"
    OFFICE = "office"
    SOURCE = "source"
    MEDIUM = "medium"
    CAMPAIGN = "campaign"
    PROPERTY_TYPE = "property_type"
    ZIP = "zip"
    STAGE = "stage"


class Unit(StrEnum):
    """How to read a metric's value."""

    COUNT = "count"  # a number of things
    MONEY = "money"  # the tenant's currency
    RATIO = "ratio"  # a share, 0..1 (or a multiple for ROI and attainment)
    DURATION_MINUTES = "duration_minutes"
    DURATION_HOURS = "duration_hours"
    DAYS = "days"


# Units whose value over no rows is 0; every other unit gives null (no data, not zero).
ADDITIVE_UNITS = frozenset({Unit.COUNT, Unit.MONEY})

_QUERY_EXAMPLE: dict[str, Any] = {
    "metrics": ["new_leads", "deals_won"],
    "dimensions": ["source"],
    "filters": {},
    "range": "30d",
    "grain": "month",
    "compare": "previous_period",
}


class MetricQuery(BaseModel):
    """Metrics by slug over one period, optionally split, filtered, bucketed and compared."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, json_schema_extra={"examples": [_QUERY_EXAMPLE]}
    )

    metrics: list[str] = Field(
        min_length=1, max_length=20, description="Metric slugs (GET /metrics lists them)."
    )
    dimensions: list[Dimension] = Field(
        default_factory=list, max_length=3, description="Split every metric by these."
    )
    filters: dict[Dimension, list[str]] = Field(
        default_factory=dict,
        description="Keep only rows whose dimension value is one of these (ids as strings).",
    )
    range: RangeName = Field(default=RangeName.LAST_30_DAYS, description="A named period.")
    start: dt.date | None = Field(default=None, description="First day, with range 'custom'.")
    end: dt.date | None = Field(default=None, description="Last day (inclusive), 'custom'.")
    grain: Grain | None = Field(default=None, description="Bucket the period by this grain.")
    compare: Compare | None = Field(default=None, description="Compare with this.")
    as_of: dt.date | None = Field(
        default=None,
        description="The day the period is resolved on (default: today in the tenant's time "
        "zone); set it to reproduce a past answer.",
    )

    @model_validator(mode="after")
    def _no_duplicates(self) -> MetricQuery:
        if len(set(self.metrics)) != len(self.metrics):
            raise ValueError("metrics are named more than once")
        if len(set(self.dimensions)) != len(self.dimensions):
            raise ValueError("dimensions are named more than once")
        for name, values in self.filters.items():
            if not values:
                raise ValueError(f"filter {name.value!r} lists no values")
        return self


class PeriodRead(BaseModel):
    start: dt.date = Field(description="First day included.")
    end: dt.date = Field(description="Last day included.")


class MetricRow(BaseModel):
    """One value of a metric: for a bucket (when a grain was asked) and dimension values."""

    bucket: dt.date | None = Field(default=None, description="First day of the grain bucket.")
    dimensions: dict[str, str | None] = Field(default_factory=dict)
    value: float | None = Field(description="Null when there is nothing to measure.")
    comparison: float | None = Field(
        default=None, description="The comparison period's value, or the target."
    )
    change: float | None = Field(default=None, description="value - comparison.")
    change_pct: float | None = Field(
        default=None, description="(value - comparison) / |comparison|; null when it is 0."
    )


class MetricSeries(BaseModel):
    slug: str
    label: str
    unit: Unit
    higher_is_better: bool
    rows: list[MetricRow]


class MetricResult(BaseModel):
    """Every metric asked for, over the period (and the comparison), row by row."""

    as_of: dt.date
    period: PeriodRead
    comparison_period: PeriodRead | None = Field(
        default=None, description="The other period compared with (none for targets)."
    )
    compare: Compare | None = None
    grain: Grain | None = None
    dimensions: list[Dimension]
    labels: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Display names of agent, team and office ids in the rows, by dimension.",
    )
    metrics: list[MetricSeries]


class MetricInfo(BaseModel):
    """A metric of the catalog."""

    slug: str
    label: str
    unit: Unit
    description: str
    dimensions: list[Dimension]
    higher_is_better: bool
    targetable: bool = Field(description="Whether compare=target can find plans for it.")
