"""Output models of the alert centre and the alert rules API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from urllib.parse import urlsplit

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from dealscope.alerts.messages import public_detail
from dealscope.alerts.repository import ACTIVE, AlertRecord, RuleRecord, list_alerts
from dealscope.alerts.rules import AlertRuleSpec, SlackChannel, WebhookChannel
from dealscope.alerts.service import REDACTED_SECRET
from dealscope.analytics.summary import SummaryAlert
from dealscope.api.auth.principal import Principal
from dealscope.warehouse.tenancy import TenantScope

_FIRED = "2025-03-31T13:05:00Z"

_ALERT_EXAMPLE: dict[str, Any] = {
    "id": 5012,
    "rule_id": 311,
    "rule_name": "New leads fell against the same weekday",
    "severity": "warning",
    "status": "open",
    "title": "New leads on Monday 2025-03-31 fell 45% against the 4-week Monday average: 22 vs 40",
    "value": 22,
    "fired_at": _FIRED,
    "acknowledged_at": None,
    "acknowledged_by": None,
    "resolved_at": None,
    "detail": {
        "kind": "change",
        "metric": "new_leads",
        "baseline_kind": "same_weekday_average",
        "baseline": 40,
        "change": -18,
        "change_pct": -45,
        "day": "2025-03-31",
    },
    "notifications": [{"event": "fired", "at": _FIRED, "sent": ["email"], "errors": {}}],
}


class NotificationRead(BaseModel):
    event: Literal["fired", "resolved"]
    at: dt.datetime
    sent: list[str] = Field(description="Channel types that received it.")
    errors: dict[str, str] = Field(description="Channel type -> why it failed.")


class AlertRead(BaseModel):
    """A fired alert, as the alert centre shows it."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ALERT_EXAMPLE]})

    id: int
    rule_id: int | None
    rule_name: str | None = Field(description="Null when the rule was deleted since.")
    severity: Literal["info", "warning", "critical"]
    status: Literal["open", "acknowledged", "resolved"]
    title: str = Field(description="What was found when it fired.")
    value: float | None = Field(description="The latest value measured while it was active.")
    fired_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: int | None
    resolved_at: dt.datetime | None
    detail: dict[str, Any] = Field(
        description="The measurement: metric, baseline, change, feed counts, resolution."
    )
    notifications: list[NotificationRead]


class AlertList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"items": [_ALERT_EXAMPLE], "open": 1, "acknowledged": 0, "scoped_out": False}
            ]
        }
    )

    items: list[AlertRead]
    open: int = Field(description="Open alerts in all (not only those listed).")
    acknowledged: int
    scoped_out: bool = Field(
        description="True for callers whose data scope is narrowed to agents: alerts watch "
        "the whole brokerage's figures, so none are shown to them."
    )


def alert_read(alert: AlertRecord, rules: dict[int, RuleRecord]) -> AlertRead:
    rule = rules.get(alert.rule_id or -1)
    channels = list(rule.spec.channels or []) if rule is not None else []

    def kind(index: int | str) -> str:
        i = int(index)
        return channels[i].type if i < len(channels) else f"channel {i}"

    notifications = [
        NotificationRead(
            event=n["event"],
            at=n["at"],
            sent=[kind(i) for i in n.get("sent", [])],
            errors={kind(i): e for i, e in n.get("errors", {}).items()},
        )
        for n in alert.detail.get("notifications", [])
    ]
    return AlertRead(
        id=alert.id,
        rule_id=alert.rule_id,
        rule_name=None if rule is None else rule.spec.name,
        severity=alert.severity,  # type: ignore[arg-type]
        status=alert.status,  # type: ignore[arg-type]
        title=alert.title,
        value=alert.value,
        fired_at=alert.fired_at,
        acknowledged_at=alert.acknowledged_at,
        acknowledged_by=alert.acknowledged_by,
        resolved_at=alert.resolved_at,
        detail=public_detail(alert),
        notifications=notifications,
    )


class AlertRuleRead(BaseModel):
    """A stored rule, with its channels and cooldown as they apply (defaults filled in).
    Webhook secrets are never shown; Slack webhook URLs only to callers who may change them."""

    id: int
    created_at: dt.datetime
    created_by: int | None
    updated_at: dt.datetime | None
    rule: AlertRuleSpec


def rule_read(record: RuleRecord, full: bool) -> AlertRuleRead:
    channels = []
    for channel in record.spec.channels or []:
        if isinstance(channel, WebhookChannel):
            channel = channel.model_copy(update={"secret": REDACTED_SECRET})
        if isinstance(channel, SlackChannel) and channel.webhook_url and not full:
            host = urlsplit(channel.webhook_url).hostname
            channel = channel.model_copy(update={"webhook_url": f"https://{host}/redacted"})
        channels.append(channel)
    return AlertRuleRead(
        id=record.id,
        created_at=record.created_at,
        created_by=record.created_by,
        updated_at=record.updated_at,
        rule=record.spec.model_copy(update={"channels": channels}),
    )


class EvaluationRead(BaseModel):
    """What running the rules now did, by rule id."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "fired": [311],
                    "updated": [],
                    "resolved": [],
                    "suppressed": [],
                    "unchanged": [312],
                    "failed": {},
                    "notifications_sent": 1,
                    "notifications_failed": 0,
                }
            ]
        }
    )

    fired: list[int]
    updated: list[int] = Field(description="Still firing: the open alert got the new value.")
    resolved: list[int]
    suppressed: list[int] = Field(description="Firing again within the rule's cooldown.")
    unchanged: list[int] = Field(description="Not firing, nothing open.")
    failed: dict[str, str] = Field(description="Rule id -> the error measuring it.")
    notifications_sent: int
    notifications_failed: int


_SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


def summary_alerts(connection: sa.Connection, principal: Principal) -> list[SummaryAlert]:
    """The open and acknowledged alerts for the executive summary, worst first (none for
    callers whose scope is narrowed to agents: alerts watch the whole brokerage)."""
    if principal.scope.agent_ids is not None:
        return []
    active = list_alerts(connection, TenantScope(principal.tenant_id), ACTIVE, limit=50)
    active.sort(key=lambda a: (_SEVERITY_RANK.get(a.severity, 3), -a.fired_at.timestamp()))
    return [
        SummaryAlert(severity=a.severity, title=a.title, metric=a.detail.get("metric"))
        for a in active
    ]


class DeliveryTargetRead(BaseModel):
    channel: Literal["email", "slack"]
    audience: str = Field(description="all, or agent-<id> for a report sent to each agent.")
    to: list[str] = Field(default_factory=list, description="Email recipients.")
    status: Literal["pending", "sent", "failed"]
    error: str | None = None


class DeliveryRead(BaseModel):
    """One run of a report schedule: when it was due and what became of it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 901,
                    "schedule_id": 12,
                    "report_id": 40,
                    "scheduled_for": "2025-03-31T12:00:00Z",
                    "status": "sent",
                    "attempts": 2,
                    "attempted_at": "2025-03-31T12:01:05Z",
                    "error": None,
                    "skipped_runs": 0,
                    "targets": [
                        {
                            "channel": "email",
                            "audience": "all",
                            "to": ["owner@brokerage.example"],
                            "status": "sent",
                            "error": None,
                        }
                    ],
                }
            ]
        }
    )

    id: int
    schedule_id: int | None
    report_id: int
    scheduled_for: dt.datetime | None
    status: Literal["pending", "sending", "retrying", "sent", "failed"]
    attempts: int
    attempted_at: dt.datetime | None
    error: str | None = Field(description="The last failure, while retrying or failed.")
    skipped_runs: int = Field(description="Earlier due runs folded into this one (downtime).")
    targets: list[DeliveryTargetRead]
