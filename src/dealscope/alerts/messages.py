"""How an alert reads in each channel: mail (HTML and text), Slack blocks, webhook JSON."""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any, Literal
from zoneinfo import ZoneInfo

from dealscope.alerts.channels import Email
from dealscope.alerts.repository import AlertRecord

Event = Literal["fired", "resolved"]
_ICON = {"info": ":information_source:", "warning": ":warning:", "critical": ":rotating_light:"}
_COLOUR = {"info": "#1f6feb", "warning": "#d29922", "critical": "#cf222e", "resolved": "#1a7f37"}
PUBLIC_DETAIL_KEYS = (
    "kind",
    "metric",
    "range",
    "baseline_kind",
    "day",
    "weekdays",
    "threshold",
    "change",
    "change_pct",
    "percent",
    "baseline",
    "source",
    "events",
    "failed",
    "failure_rate",
    "p95_latency_ms",
    "minutes_since_last",
    "last_received_at",
    "current_title",
    "last_checked_at",
    "resolution",
    "score",
)


def public_detail(alert: AlertRecord) -> dict[str, Any]:
    """The alert's detail without bookkeeping (pending sends, channel results)."""
    return {k: alert.detail[k] for k in PUBLIC_DETAIL_KEYS if k in alert.detail}


def _when(at: dt.datetime, timezone: str) -> str:
    return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")


def subject(alert: AlertRecord, event: Event, tenant_name: str) -> str:
    tag = "resolved" if event == "resolved" else alert.severity
    return f"[DealScope {tag}] {tenant_name}: {alert.title}"


def email(
    alert: AlertRecord, event: Event, tenant_name: str, timezone: str, to: list[str]
) -> Email:
    colour = _COLOUR["resolved" if event == "resolved" else alert.severity]
    at = alert.resolved_at if event == "resolved" and alert.resolved_at else alert.fired_at
    when = _when(at, timezone)
    state = "Resolved" if event == "resolved" else f"{alert.severity.title()} alert"
    rows = "".join(
        f"<tr><td style='padding:2px 12px 2px 0;color:#57606a'>{escape(str(k))}</td>"
        f"<td>{escape(str(v))}</td></tr>"
        for k, v in public_detail(alert).items()
        if v is not None
    )
    html = (
        "<div style='font-family:Helvetica,Arial,sans-serif;font-size:14px;color:#24292f'>"
        f"<div style='border-left:4px solid {colour};padding:8px 12px'>"
        f"<div style='font-size:12px;color:{colour};font-weight:bold'>{escape(state)}</div>"
        f"<div style='font-size:16px;margin:4px 0'>{escape(alert.title)}</div>"
        f"<div style='font-size:12px;color:#57606a'>{escape(tenant_name)} · {escape(when)}</div>"
        "</div>"
        f"<table style='margin-top:8px;font-size:13px'>{rows}</table>"
        "</div>"
    )
    text = f"{state}: {alert.title}\n{tenant_name} · {when}\n" + "".join(
        f"{k}: {v}\n" for k, v in public_detail(alert).items() if v is not None
    )
    return Email(to=to, subject=subject(alert, event, tenant_name), html=html, text=text)


def slack(alert: AlertRecord, event: Event, tenant_name: str, timezone: str) -> dict[str, Any]:
    """A Slack incoming-webhook message: `text` (the notification's fallback) and blocks."""
    resolved = event == "resolved"
    icon = ":white_check_mark:" if resolved else _ICON[alert.severity]
    state = "Resolved" if resolved else alert.severity.upper()
    when = _when(alert.resolved_at if resolved and alert.resolved_at else alert.fired_at, timezone)
    text = f"{icon} {state}: {alert.title}"
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{state}* {alert.title}"}},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"{tenant_name} · {when}"}],
            },
        ],
    }


def webhook(alert: AlertRecord, event: Event, tenant_id: int) -> dict[str, Any]:
    return {
        "event": f"alert.{event}",
        "tenant_id": tenant_id,
        "alert": {
            "id": alert.id,
            "rule_id": alert.rule_id,
            "severity": alert.severity,
            "status": alert.status,
            "title": alert.title,
            "value": alert.value,
            "fired_at": alert.fired_at.isoformat(),
            "resolved_at": None if alert.resolved_at is None else alert.resolved_at.isoformat(),
            "detail": public_detail(alert),
        },
    }
