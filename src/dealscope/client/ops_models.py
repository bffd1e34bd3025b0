"""What the alert centre and the reports API answer (kept in step with the server's models
by `tests/api/test_client.py`; report specs and rule definitions are kept as documents)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field


class _Model(BaseModel):
    pass


class NotificationRead(_Model):
    event: Literal["fired", "resolved"]
    at: dt.datetime
    sent: list[str]
    errors: dict[str, str]


class AlertRead(_Model):
    """A fired alert, as the alert centre shows it."""

    id: int
    rule_id: int | None
    rule_name: str | None
    severity: Literal["info", "warning", "critical"]
    status: Literal["open", "acknowledged", "resolved"]
    title: str
    value: float | None
    fired_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: int | None
    resolved_at: dt.datetime | None
    detail: dict[str, Any]
    notifications: list[NotificationRead]


class AlertList(_Model):
    items: list[AlertRead]
    open: int
    acknowledged: int
    scoped_out: bool


class AlertRuleRead(_Model):
    """A rule as stored: its definition (`rule`: name, metric, condition, severity,
    channels...) is kept as the document the API returns."""

    id: int
    created_at: dt.datetime
    created_by: int | None
    updated_at: dt.datetime | None
    rule: dict[str, Any]


class TemplateRead(_Model):
    name: str
    title: str
    audience: str
    sections: list[str]


class ReportRead(_Model):
    id: int
    name: str
    owner_user_id: int
    template: str | None
    spec: dict[str, Any]
    audience: str
    shared_with_roles: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime | None
    editable: bool


class ReportList(_Model):
    reports: list[ReportRead]
    templates: list[TemplateRead]


class ReportGenerated(_Model):
    download_id: str
    download_url: str
    filename: str
    content_type: str
    size_bytes: int
    title: str
    expires_at: dt.datetime


class ScheduleRead(_Model):
    id: int
    report_id: int
    cron: str
    timezone: str
    recipients: list[str]
    formats: list[str]
    slack_webhook: bool
    is_enabled: bool
    next_run_at: dt.datetime | None
    last_run_at: dt.datetime | None
    created_by: int | None
    created_at: dt.datetime


class ReportFile(_Model):
    """A rendered report's bytes and how to save them."""

    filename: str
    content_type: str
    content: bytes = Field(repr=False)


class DeliveryTargetRead(_Model):
    channel: Literal["email", "slack"]
    audience: str
    to: list[str] = Field(default_factory=list)
    status: Literal["pending", "sent", "failed"]
    error: str | None = None


class DeliveryRead(_Model):
    """One run of a report schedule: when it was due and what became of it."""

    id: int
    schedule_id: int | None
    report_id: int
    scheduled_for: dt.datetime | None
    status: Literal["pending", "sending", "retrying", "sent", "failed"]
    attempts: int
    attempted_at: dt.datetime | None
    error: str | None
    skipped_runs: int
    targets: list[DeliveryTargetRead]


class AnomalyRead(_Model):
    """An unusual day of one series, with the range its trend and weekday pattern expected."""

    metric: str
    day: dt.date
    value: float
    expected: float
    lower: float
    upper: float
    score: float
    direction: str


class CombinedAnomalyRead(_Model):
    day: dt.date
    score: float
    driver: str
    scores: dict[str, float]


class AnomaliesRead(_Model):
    as_of: dt.date
    start: dt.date
    metrics: list[str]
    anomalies: list[AnomalyRead]
    combined: list[CombinedAnomalyRead]
    skipped: dict[str, str]
