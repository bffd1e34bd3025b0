"""What the client asks the API for: a period, and metric queries (the query string and
bodies the endpoints take)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from dealscope.client.enums import Compare, Dimension, Grain, RangeName


@dataclass(frozen=True)
class PeriodQuery:
    """A period as the dashboards take it: a named range, or custom dates (both inclusive),
    seen from `as_of` (default: today in the tenant's time zone, decided by the API)."""

    range: RangeName = RangeName.LAST_30_DAYS
    start: dt.date | None = None
    end: dt.date | None = None
    as_of: dt.date | None = None

    def __post_init__(self) -> None:
        if self.range == RangeName.CUSTOM:
            if self.start is None or self.end is None:
                raise ValueError("a custom range needs both start and end")
            if self.end < self.start:
                raise ValueError(f"the range ends ({self.end}) before it starts ({self.start})")
        elif self.start is not None or self.end is not None:
            raise ValueError(f"start and end go with range 'custom', not {self.range.value!r}")

    def params(self) -> dict[str, str]:
        """The query-string parameters of this period."""
        out = {"range": self.range.value}
        if self.start is not None and self.end is not None:
            out |= {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.as_of is not None:
            out["as_of"] = self.as_of.isoformat()
        return out


class MetricQuery(BaseModel):
    """The body of POST /api/v1/metrics/query: metrics by slug over one period, optionally
    split, filtered, bucketed and compared."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    metrics: list[str] = Field(min_length=1, max_length=20)
    dimensions: list[Dimension] = Field(default_factory=list, max_length=3)
    filters: dict[Dimension, list[str]] = Field(default_factory=dict)
    range: RangeName = RangeName.LAST_30_DAYS
    start: dt.date | None = None
    end: dt.date | None = None
    grain: Grain | None = None
    compare: Compare | None = None
    as_of: dt.date | None = None

    @classmethod
    def over(cls, period: PeriodQuery, metrics: list[str], **fields: object) -> MetricQuery:
        """A query of `metrics` over `period` (other fields as keywords)."""
        return cls.model_validate(
            {
                "metrics": metrics,
                "range": period.range,
                "start": period.start,
                "end": period.end,
                "as_of": period.as_of,
                **fields,
            }
        )
