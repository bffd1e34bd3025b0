"""Response of GET /dashboard/speed-to-lead."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from dealscope.api.analytics_schemas.common import PeriodFields, Read


class ResponseTimesRead(Read):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key": "zillow",
                    "leads": 104,
                    "contacted": 101,
                    "median_minutes": 12.5,
                    "p90_minutes": 240.0,
                    "agent_id": None,
                    "hour": None,
                }
            ]
        }
    )
    key: str = Field(description="'all', a source, an agent id, or a local hour '00'..'23'.")
    leads: int = Field(description="Deals created in the period.")
    contacted: int = Field(description="Of those, reached by a person by the end of as_of.")
    median_minutes: float | None = Field(description="Median response time, minutes.")
    p90_minutes: float | None = Field(description="90th percentile response time, minutes.")
    agent_id: int | None = None
    hour: int | None = Field(default=None, description="Local hour of arrival, 0-23.")


class SlaRead(Read):
    threshold_minutes: float
    leads: int
    within: int = Field(description="Contacted within the threshold.")
    breached: int = Field(description="Contacted later than the threshold.")
    never_contacted: int
    within_share: float | None = Field(description="Shares of all leads; the three sum to 1.")
    breached_share: float | None
    never_contacted_share: float | None


class ResponseBucketRead(Read):
    bucket: str = Field(examples=["5-30m"])
    leads: int
    won: int
    win_rate: float | None = Field(description="won / leads, 0..1; null when no leads.")


class SpeedToLeadRead(PeriodFields):
    """Response time: from a deal's creation to the first outbound call, text or email an
    agent logged on it (automations do not count)."""

    overall: ResponseTimesRead
    by_source: list[ResponseTimesRead]
    by_agent: list[ResponseTimesRead]
    by_hour: list[ResponseTimesRead] = Field(description="24 rows, by local hour of arrival.")
    sla: SlaRead
    win_rate_by_response: list[ResponseBucketRead] = Field(
        description="Buckets <5m, 5-30m, 30m-4h, 4-24h, >24h and never."
    )
