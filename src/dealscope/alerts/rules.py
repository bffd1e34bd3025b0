"""What an alert rule watches and where it notifies: validated models, stored as JSON.

A rule is a condition (one of the kinds below), a severity, channels and a cooldown. Metric
conditions name a metric of the registry by slug and may filter it by the metric's own
dimensions; `check_rule` refuses an unknown metric or dimension with a message naming it.

Kinds:
- `threshold`: the metric over a named range (`today`, `7d`, `mtd`...) is above or below a
  value;
- `change`: the metric moved by at least `percent` % against a baseline, and by at least
  `min_change` in its own units (the absolute floor that keeps 2 -> 1 leads from paging
  anyone). Baselines: `previous_period` (the range against the same length just before) or
  `same_weekday_average` (the last complete day against the mean of the same weekday over
  the `weeks` weeks before it);
- `feed_health`: webhook intake from `raw_events` over the last `window_minutes`: the share
  of events that failed (dead-lettered or carrying an error) above `max_failure_rate` once at
  least `min_events` arrived, their 95th-percentile latency (receipt to applied) above
  `max_p95_latency_ms`, or nothing received for `stale_after_minutes`;
- `anomaly`: an anomaly signal of a metric. The detector belongs to the forecasting work
  (`analytics/models/anomalies.py`); until a detector is registered in
  `alerts.signals.ANOMALY_DETECTORS`, such rules are refused with a message saying so.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dealscope.alerts.signals import ANOMALY_DETECTORS
from dealscope.analytics.periods import RangeName
from dealscope.analytics.service import validate_query
from dealscope.analytics.specs import Dimension, MetricQuery
from dealscope.errors import ValidationFailed

Severity = Literal["info", "warning", "critical"]
SEVERITY_ORDER: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}
DEFAULT_COOLDOWN_MINUTES = 60
MAX_RECIPIENTS = 50

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _http_url(url: str, what: str, https_only: bool) -> str:
    url = url.strip()
    parts = urlsplit(url)
    schemes = ("https",) if https_only else ("http", "https")
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"{what} must be an {' or '.join(s + '://' for s in schemes)} URL")
    return url


# --- channels ----------------------------------------------------------------------


class EmailChannel(_Spec):
    """Mail to `recipients`; empty means the tenant's alert recipients (config/alerts)."""

    type: Literal["email"] = "email"
    recipients: list[str] = Field(default_factory=list, max_length=MAX_RECIPIENTS)

    @field_validator("recipients")
    @classmethod
    def _emails(cls, addresses: list[str]) -> list[str]:
        cleaned = [address.strip().lower() for address in addresses]
        bad = [address for address in cleaned if not _EMAIL.fullmatch(address)]
        if bad:
            raise ValueError(f"not an email address: {', '.join(bad)}")
        return list(dict.fromkeys(cleaned))


class SlackChannel(_Spec):
    """A Slack incoming webhook; none means the tenant's (config/alerts), then the server's
    (DEALSCOPE_SLACK_WEBHOOK_URL)."""

    type: Literal["slack"] = "slack"
    webhook_url: str | None = Field(default=None, max_length=500)

    @field_validator("webhook_url")
    @classmethod
    def _https(cls, url: str | None) -> str | None:
        return None if url is None else _http_url(url, "the Slack webhook URL", https_only=False)


class WebhookChannel(_Spec):
    """A JSON POST to `url`, signed: `X-DealScope-Signature: sha256=<hex>` is the HMAC-SHA256
    of `<X-DealScope-Timestamp>.<body>` under `secret`."""

    type: Literal["webhook"] = "webhook"
    url: str = Field(max_length=500)
    secret: str = Field(min_length=16, max_length=200)

    @field_validator("url")
    @classmethod
    def _url(cls, url: str) -> str:
        return _http_url(url, "the webhook URL", https_only=False)


Channel = Annotated[EmailChannel | SlackChannel | WebhookChannel, Field(discriminator="type")]

# --- conditions --------------------------------------------------------------------

_RANGES_ALLOWED = [r for r in RangeName if r != RangeName.CUSTOM]


class _MetricCondition(_Spec):
    metric: str = Field(max_length=64, description="A metric slug (GET /metrics lists them).")
    filters: dict[Dimension, list[str]] = Field(
        default_factory=dict, description="Watch only these dimension values (ids as text)."
    )

    @field_validator("filters")
    @classmethod
    def _values(cls, filters: dict[Dimension, list[str]]) -> dict[Dimension, list[str]]:
        for name, values in filters.items():
            if not values:
                raise ValueError(f"filter {name.value!r} lists no values")
        return filters


class ThresholdCondition(_MetricCondition):
    kind: Literal["threshold"] = "threshold"
    range: RangeName = Field(default=RangeName.LAST_7_DAYS, description="The period watched.")
    operator: Literal["above", "below"]
    value: float

    @field_validator("range")
    @classmethod
    def _named(cls, value: RangeName) -> RangeName:
        if value == RangeName.CUSTOM:
            raise ValueError(f"range must be one of {', '.join(r.value for r in _RANGES_ALLOWED)}")
        return value


class ChangeCondition(_MetricCondition):
    kind: Literal["change"] = "change"
    baseline: Literal["previous_period", "same_weekday_average"] = "previous_period"
    range: RangeName = Field(
        default=RangeName.LAST_7_DAYS, description="previous_period: the period watched."
    )
    weeks: int = Field(default=4, ge=1, le=12, description="same_weekday_average: weeks back.")
    direction: Literal["drop", "rise", "either"] = "drop"
    percent: float = Field(gt=0, le=10_000, description="The change that fires, in percent.")
    min_change: float = Field(
        default=0, ge=0, description="The absolute floor: |value - baseline| must reach it."
    )

    @field_validator("range")
    @classmethod
    def _named(cls, value: RangeName) -> RangeName:
        if value == RangeName.CUSTOM:
            raise ValueError(f"range must be one of {', '.join(r.value for r in _RANGES_ALLOWED)}")
        return value


class AnomalyCondition(_MetricCondition):
    kind: Literal["anomaly"] = "anomaly"
    detector: str = Field(default="default", max_length=64)
    direction: Literal["drop", "rise", "either"] = "either"


class FeedHealthCondition(_Spec):
    kind: Literal["feed_health"] = "feed_health"
    source: str | None = Field(
        default=None, max_length=32, description="Only this source (ghl...); none: all."
    )
    window_minutes: int = Field(default=60, ge=5, le=7 * 24 * 60)
    max_failure_rate: float | None = Field(
        default=0.1, ge=0, le=1, description="Fire above this share of failed events."
    )
    min_events: int = Field(
        default=10, ge=1, description="The failure rate counts once this many events arrived."
    )
    stale_after_minutes: int | None = Field(
        default=None, ge=5, le=30 * 24 * 60, description="Fire when nothing arrived this long."
    )
    max_p95_latency_ms: float | None = Field(
        default=None,
        gt=0,
        description="Fire when the 95th percentile of receipt-to-applied latency of the "
        "window's events (at least min_events of them) is above this.",
    )

    @model_validator(mode="after")
    def _something(self) -> FeedHealthCondition:
        limits = (self.max_failure_rate, self.stale_after_minutes, self.max_p95_latency_ms)
        if all(limit is None for limit in limits):
            raise ValueError("set max_failure_rate, stale_after_minutes, max_p95_latency_ms")
        return self


Condition = Annotated[
    ThresholdCondition | ChangeCondition | AnomalyCondition | FeedHealthCondition,
    Field(discriminator="kind"),
]
MetricConditions = (ThresholdCondition, ChangeCondition, AnomalyCondition)


_RULE_EXAMPLE: dict[str, Any] = {
    "name": "New leads fell against the same weekday",
    "condition": {
        "kind": "change",
        "metric": "new_leads",
        "baseline": "same_weekday_average",
        "weeks": 4,
        "direction": "drop",
        "percent": 40,
        "min_change": 5,
    },
    "severity": "warning",
    "channels": [{"type": "email", "recipients": ["broker@example.com"]}],
    "cooldown_minutes": 60,
    "is_enabled": True,
}


class AlertRuleSpec(_Spec):
    """A rule as written by its author (and as stored)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_RULE_EXAMPLE]})

    name: str = Field(min_length=1, max_length=200)
    condition: Condition
    severity: Severity = "warning"
    channels: list[Channel] | None = Field(
        default=None,
        max_length=10,
        description="Where it notifies; null means the tenant's default channels "
        "(config/alerts). An empty list records alerts without notifying.",
    )
    cooldown_minutes: int | None = Field(
        default=None,
        ge=1,
        le=7 * 24 * 60,
        description="At most one alert per this many minutes; null means the tenant's "
        "dedupe_minutes (config/alerts), 60 by default.",
    )
    is_enabled: bool = True


def check_rule(spec: AlertRuleSpec) -> None:
    """ValidationFailed naming what is wrong: an unknown metric, a dimension the metric cannot
    be filtered by, or an anomaly rule while no detector is registered."""
    condition = spec.condition
    if isinstance(condition, MetricConditions):
        query = MetricQuery(metrics=[condition.metric], filters=condition.filters)
        validate_query(query)
    if isinstance(condition, AnomalyCondition) and condition.detector not in ANOMALY_DETECTORS:
        known = ", ".join(sorted(ANOMALY_DETECTORS)) or "none is installed yet"
        raise ValidationFailed(
            f"anomaly detector {condition.detector!r} is not available ({known}); anomaly "
            "rules work once the forecasting models register a detector"
        )
