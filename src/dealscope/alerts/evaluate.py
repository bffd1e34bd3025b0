"""Running a tenant's alert rules at one moment: fire, deduplicate, auto-resolve, notify.

For each enabled rule, the condition is measured at `now` (the tenant's local day is the
`as_of` of metric conditions). Then:
- it holds and the rule has an active (open or acknowledged) alert: that alert's value and
  current reading are updated; nobody is notified again;
- it holds and there is none: a new alert opens, unless the rule fired less than its
  `cooldown_minutes` ago (counted from the last firing, resolved or not), so a flapping
  condition notifies at most once per cooldown;
- it does not hold and there is an active alert: it resolves itself (resolution "auto").

Notifications are queued on the alert (`detail.pending`) in the same transaction and sent
afterwards by `dispatch_notifications`; a channel that fails is retried on the next runs
(up to `MAX_NOTIFY_ATTEMPTS`), quiet hours hold messages of non-critical alerts until they
end. One tenant is evaluated by one process at a time (`tenant_lock`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import structlog

from dealscope.alerts import messages
from dealscope.alerts.channels import (
    DeliveryFailed,
    post_signed_webhook,
    post_slack,
    send_email,
)
from dealscope.alerts.conditions import Finding, measure
from dealscope.alerts.repository import (
    AlertRecord,
    RuleRecord,
    alerts_to_notify,
    find_active_alert,
    insert_alert,
    last_fired_at,
    list_rules,
    save_alert,
)
from dealscope.alerts.rules import EmailChannel, SlackChannel, WebhookChannel
from dealscope.alerts.settings import Outbox, TenantAlertSettings
from dealscope.analytics.service import AnalyticsService
from dealscope.analytics.sources import Sources
from dealscope.errors import NotFound
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import tenants
from dealscope.warehouse.tenancy import TenantScope
from dealscope.warehouse.unit_of_work import UnitOfWork, unit_of_work

MAX_NOTIFY_ATTEMPTS = 3

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class TenantInfo:
    id: int
    name: str
    timezone: str
    currency: str = "USD"


def get_tenant_info(connection: sa.Connection, tenant_id: int) -> TenantInfo:
    row = connection.execute(
        sa.select(tenants.c.name, tenants.c.timezone, tenants.c.currency).where(
            tenants.c.id == tenant_id
        )
    ).first()
    if row is None:
        raise NotFound(f"no tenant {tenant_id}")
    return TenantInfo(tenant_id, row.name, row.timezone, row.currency)


@dataclass
class EvaluationReport:
    """What one run did, by rule id (and alert id for fired/resolved)."""

    tenant_id: int
    fired: dict[int, int] = field(default_factory=dict)  # rule -> new alert
    updated: list[int] = field(default_factory=list)
    resolved: dict[int, int] = field(default_factory=dict)  # rule -> resolved alert
    suppressed: list[int] = field(default_factory=list)  # held back by the cooldown
    quiet: list[int] = field(default_factory=list)  # nothing to report
    failed: dict[int, str] = field(default_factory=dict)  # the rule's error


# --- one process per tenant at a time ---------------------------------------------------

_local_locks: dict[tuple[str, int], threading.Lock] = {}
_local_guard = threading.Lock()


@contextmanager
def tenant_lock(warehouse: Warehouse, tenant_id: int, purpose: str) -> Iterator[bool]:
    """Yields True when this caller holds the tenant's `purpose` lock (a PostgreSQL advisory
    lock across processes; a lock in this process on DuckDB, whose file has one writer
    process), False when someone else does: the caller then skips its run."""
    if warehouse.backend == "postgres":
        digest = hashlib.sha256(f"dealscope:{purpose}:{tenant_id}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        with warehouse.engine.connect() as connection:
            got = bool(connection.execute(sa.select(sa.func.pg_try_advisory_lock(key))).scalar())
            connection.commit()
            try:
                yield got
            finally:
                if got:
                    connection.execute(sa.select(sa.func.pg_advisory_unlock(key)))
                    connection.commit()
        return
    with _local_guard:
        lock = _local_locks.setdefault((purpose, tenant_id), threading.Lock())
    got = lock.acquire(blocking=False)
    try:
        yield got
    finally:
        if got:
            lock.release()


# --- evaluation ------------------------------------------------------------------------


def _new_alert(rule: RuleRecord, finding: Finding, now: dt.datetime) -> AlertRecord:
    channels = list(range(len(rule.spec.channels or [])))
    detail: dict[str, Any] = {
        "kind": rule.spec.condition.kind,
        **finding.detail,
        "baseline": finding.baseline,
        "last_checked_at": now.isoformat(),
        "pending": [{"event": "fired", "channels": channels, "attempts": 0}] if channels else [],
        "notifications": [],
    }
    return AlertRecord(
        id=0,
        tenant_id=rule.tenant_id,
        rule_id=rule.id,
        fired_at=now,
        severity=rule.spec.severity,
        title=finding.title[:300],
        value=finding.value,
        status="open",
        detail=detail,
    )


def resolve_alert(
    uow: UnitOfWork, alert: AlertRecord, now: dt.datetime, resolution: str, notify: bool
) -> None:
    """Close `alert`; queue a "resolved" message when its "fired" one went out."""
    alert.status = "resolved"
    alert.resolved_at = now
    alert.detail["resolution"] = resolution
    pending = alert.detail.get("pending") or []
    was_announced = not any(p["event"] == "fired" for p in pending)
    # A "fired" message still waiting (quiet hours) is dropped with its alert.
    pending = [p for p in pending if p["event"] != "fired"]
    if notify and was_announced and alert.detail.get("notifications"):
        sent_to = sorted({i for n in alert.detail["notifications"] for i in n.get("sent", [])})
        if sent_to:
            pending.append({"event": "resolved", "channels": sent_to, "attempts": 0})
    alert.detail["pending"] = pending
    save_alert(uow, alert)
    uow.touch(alert.tenant_id)


def apply_finding(
    uow: UnitOfWork, rule: RuleRecord, finding: Finding, now: dt.datetime, report: EvaluationReport
) -> None:
    """Fire, update, hold back or resolve the rule's alert after `finding`."""
    scope = TenantScope(rule.tenant_id)
    active = find_active_alert(uow.connection, scope, rule.id)
    if finding.firing and active is not None:
        active.value = finding.value
        active.detail.update(finding.detail)
        active.detail.update(current_title=finding.title, last_checked_at=now.isoformat())
        save_alert(uow, active)
        report.updated.append(rule.id)
    elif finding.firing:
        last = last_fired_at(uow.connection, scope, rule.id)
        cooldown = dt.timedelta(minutes=rule.spec.cooldown_minutes or 60)
        if last is not None and now - last < cooldown:
            report.suppressed.append(rule.id)
            return
        alert = insert_alert(uow, _new_alert(rule, finding, now))
        uow.touch(rule.tenant_id)
        report.fired[rule.id] = alert.id
    elif active is not None:
        active.value = finding.value
        active.detail.update(current_title=finding.title, last_checked_at=now.isoformat())
        resolve_alert(uow, active, now, "auto: the condition cleared", notify=True)
        report.resolved[rule.id] = active.id
    else:
        report.quiet.append(rule.id)


def evaluate_tenant(
    warehouse: Warehouse, tenant_id: int, now: dt.datetime, rule_ids: set[int] | None = None
) -> EvaluationReport:
    """Run the tenant's enabled rules (or only `rule_ids`) at `now` (aware, any zone)."""
    now = now.astimezone(dt.UTC)
    scope = TenantScope(tenant_id)
    report = EvaluationReport(tenant_id)
    with warehouse.engine.connect() as connection:
        tenant = get_tenant_info(connection, tenant_id)
        rules = list_rules(connection, scope, enabled_only=True)
    as_of = now.astimezone(ZoneInfo(tenant.timezone)).date()
    service = AnalyticsService(Sources(warehouse, scope), as_of, tenant.timezone)
    for rule in rules:
        if rule_ids is not None and rule.id not in rule_ids:
            continue
        try:
            with warehouse.engine.connect() as connection:
                condition = rule.spec.condition
                finding = measure(condition, service, connection, now, tenant.currency)
            with unit_of_work(warehouse) as uow:
                apply_finding(uow, rule, finding, now, report)
        except Exception as exc:  # one broken rule must not stop the others
            log.warning("alerts.rule_failed", tenant_id=tenant_id, rule_id=rule.id, error=str(exc))
            report.failed[rule.id] = f"{type(exc).__name__}: {exc}"
    return report


# --- notifications -----------------------------------------------------------------------


@dataclass
class DispatchReport:
    sent: list[tuple[int, str, str]] = field(default_factory=list)  # alert, event, channel
    failed: list[tuple[int, str, str, str]] = field(default_factory=list)  # ... error
    waiting: list[int] = field(default_factory=list)  # held by quiet hours


def _send(
    channel: EmailChannel | SlackChannel | WebhookChannel,
    alert: AlertRecord,
    event: messages.Event,
    tenant: TenantInfo,
    prefs: TenantAlertSettings,
    outbox: Outbox,
    now: dt.datetime,
) -> None:
    if isinstance(channel, EmailChannel):
        recipients = list(channel.recipients or prefs.email_recipients)
        if not recipients:
            raise DeliveryFailed("email: no recipients (set email_recipients in config/alerts)")
        if outbox.smtp is None:
            raise DeliveryFailed("email: DEALSCOPE_SMTP_URL is not set")
        mail = messages.email(alert, event, tenant.name, tenant.timezone, recipients)
        send_email(outbox.smtp, outbox.sender, mail)
    elif isinstance(channel, SlackChannel):
        url = channel.webhook_url or prefs.slack_webhook_url or outbox.slack_webhook_url
        if url is None:
            raise DeliveryFailed("slack: no webhook URL (set slack_webhook_url in config/alerts)")
        post_slack(url, messages.slack(alert, event, tenant.name, tenant.timezone))
    else:
        payload = messages.webhook(alert, event, tenant.id)
        post_signed_webhook(channel.url, channel.secret, payload, int(now.timestamp()))


def dispatch_notifications(
    warehouse: Warehouse,
    tenant_id: int,
    now: dt.datetime,
    prefs: TenantAlertSettings,
    outbox: Outbox,
) -> DispatchReport:
    """Send what alerts have queued; record each channel's result on the alert."""
    now = now.astimezone(dt.UTC)
    scope = TenantScope(tenant_id)
    report = DispatchReport()
    with warehouse.engine.connect() as connection:
        tenant = get_tenant_info(connection, tenant_id)
        rules = {r.id: r for r in list_rules(connection, scope)}
        queued = alerts_to_notify(connection, scope, now)
    local = now.astimezone(ZoneInfo(tenant.timezone)).time()
    for alert in queued:
        rule = rules.get(alert.rule_id or -1)
        channels = list(rule.spec.channels or []) if rule is not None else []
        keep: list[dict[str, Any]] = []
        for item in alert.detail.get("pending", []):
            event = item["event"]
            if alert.severity != "critical" and prefs.is_quiet(local):
                keep.append(item)
                report.waiting.append(alert.id)
                continue
            sent: list[int] = []
            errors: dict[str, str] = {}
            for index in item["channels"]:
                if index >= len(channels):
                    continue  # the rule lost that channel since
                channel = channels[index]
                try:
                    _send(channel, alert, event, tenant, prefs, outbox, now)
                except DeliveryFailed as exc:
                    errors[str(index)] = str(exc)
                    report.failed.append((alert.id, event, channel.type, str(exc)))
                    continue
                sent.append(index)
                report.sent.append((alert.id, event, channel.type))
            item["attempts"] = int(item.get("attempts", 0)) + 1
            alert.detail.setdefault("notifications", []).append(
                {"event": event, "at": now.isoformat(), "sent": sent, "errors": errors}
            )
            remaining = [i for i in item["channels"] if str(i) in errors]
            if remaining and item["attempts"] < MAX_NOTIFY_ATTEMPTS:
                keep.append({**item, "channels": remaining})
        alert.detail["pending"] = keep
        with unit_of_work(warehouse) as uow:
            save_alert(uow, alert)
    return report


def run_alerts(
    warehouse: Warehouse,
    tenant_id: int,
    now: dt.datetime,
    prefs: TenantAlertSettings,
    outbox: Outbox,
) -> tuple[EvaluationReport, DispatchReport] | None:
    """Evaluate and notify one tenant, unless another run for it is under way (None)."""
    with tenant_lock(warehouse, tenant_id, "alerts") as mine:
        if not mine:
            return None
        evaluation = evaluate_tenant(warehouse, tenant_id, now)
        dispatch = dispatch_notifications(warehouse, tenant_id, now, prefs, outbox)
        return evaluation, dispatch
