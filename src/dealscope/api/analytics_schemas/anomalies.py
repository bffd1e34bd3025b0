"""Response of GET /analytics/anomalies."""

from __future__ import annotations

import datetime as dt

from pydantic import ConfigDict, Field

from dealscope.api.analytics_schemas.common import Read


class AnomalyRead(Read):
    metric: str = Field(
        description="new_leads, gci, speed_to_lead_median_minutes or webhook_failures."
    )
    day: dt.date
    value: float = Field(description="What the day measured.")
    expected: float = Field(description="Trend and weekday pattern for the day.")
    lower: float = Field(description="Bottom of the expected range.")
    upper: float = Field(description="Top of the expected range.")
    score: float = Field(description="Robust z-score of the day (beyond the threshold here).")
    direction: str = Field(description="spike or drop.")


class CombinedAnomalyRead(Read):
    day: dt.date
    score: float = Field(description="IsolationForest anomaly score (higher: more unusual).")
    driver: str = Field(description="The series that stood out most that day.")
    scores: dict[str, float] = Field(description="Each series' robust z-score that day.")


class AnomaliesRead(Read):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "as_of": "2025-06-30",
                    "start": "2025-06-01",
                    "metrics": ["new_leads", "gci"],
                    "anomalies": [
                        {
                            "metric": "new_leads",
                            "day": "2025-06-17",
                            "value": 38.0,
                            "expected": 18.8,
                            "lower": 6.7,
                            "upper": 37.0,
                            "score": 3.7,
                            "direction": "spike",
                        }
                    ],
                    "combined": [],
                    "skipped": {},
                }
            ]
        },
    )
    as_of: dt.date
    start: dt.date = Field(description="First day examined for anomalies.")
    metrics: list[str]
    anomalies: list[AnomalyRead] = Field(description="Newest first.")
    combined: list[CombinedAnomalyRead] = Field(
        description="Days whose combination of series was unusual (IsolationForest)."
    )
    skipped: dict[str, str] = Field(description="Series not examined, and why.")
