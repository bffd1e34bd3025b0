"""Managing rules and working the alert centre: create, change and delete rules; acknowledge
and resolve alerts. Services never commit: the caller's unit of work does.

A rule's channels and cooldown are fixed when it is saved: left out, they are the tenant's
`default_channels` and `dedupe_minutes` of the moment (config/alerts), as that document
describes them ("where a new alert rule notifies unless it says otherwise"). The rules
themselves live in one place, the `alert_rules` table, managed at /config/alerts/rules.
"""

from __future__ import annotations

import datetime as dt

from dealscope.alerts.evaluate import resolve_alert
from dealscope.alerts.repository import (
    ACTIVE,
    AlertRecord,
    RuleRecord,
    delete_rule,
    get_alert,
    get_rule,
    insert_rule,
    list_alerts,
    save_alert,
    update_rule,
)
from dealscope.alerts.rules import (
    AlertRuleSpec,
    EmailChannel,
    SlackChannel,
    WebhookChannel,
    check_rule,
)
from dealscope.alerts.settings import TenantAlertSettings
from dealscope.errors import Conflict, ValidationFailed
from dealscope.warehouse.tenancy import TenantScope
from dealscope.warehouse.unit_of_work import UnitOfWork

REDACTED_SECRET = "*" * 20


def _resolved_spec(
    spec: AlertRuleSpec, prefs: TenantAlertSettings, old: RuleRecord | None
) -> AlertRuleSpec:
    channels = spec.channels
    if channels is None:
        defaults: dict[str, EmailChannel | SlackChannel] = {
            "email": EmailChannel(),
            "slack": SlackChannel(),
        }
        channels = [defaults[name] for name in prefs.default_channels if name in defaults]
    # A webhook sent back with its secret redacted (as it was read) keeps the stored secret.
    kept = []
    old_hooks = {
        c.url: c.secret
        for c in (old.spec.channels or [] if old is not None else [])
        if isinstance(c, WebhookChannel)
    }
    for channel in channels:
        if isinstance(channel, WebhookChannel) and channel.secret == REDACTED_SECRET:
            secret = old_hooks.get(channel.url)
            if secret is None:
                raise ValidationFailed(
                    f"the webhook {channel.url} needs its secret: the redacted value stands "
                    "for a stored secret only for a URL the rule already had"
                )
            channel = channel.model_copy(update={"secret": secret})
        kept.append(channel)
    cooldown = spec.cooldown_minutes or prefs.dedupe_minutes
    return spec.model_copy(update={"channels": kept, "cooldown_minutes": cooldown})


def create_rule(
    uow: UnitOfWork,
    tenant_id: int,
    spec: AlertRuleSpec,
    prefs: TenantAlertSettings,
    created_by: int | None,
    now: dt.datetime,
) -> RuleRecord:
    """Check `spec` against the registry, fill its defaults and store it."""
    check_rule(spec)
    return insert_rule(uow, tenant_id, _resolved_spec(spec, prefs, None), created_by, now)


def _close_active(
    uow: UnitOfWork, scope: TenantScope, rule_id: int, why: str, now: dt.datetime
) -> None:
    for alert in list_alerts(uow.connection, scope, ACTIVE, limit=1000, rule_id=rule_id):
        resolve_alert(uow, alert, now, why, notify=False)


def change_rule(
    uow: UnitOfWork,
    scope: TenantScope,
    rule_id: int,
    spec: AlertRuleSpec,
    prefs: TenantAlertSettings,
    now: dt.datetime,
) -> RuleRecord:
    """Replace the rule; its open alerts are resolved ("rule changed") since they were
    judged by the old condition. The cooldown still counts from their firing."""
    check_rule(spec)
    old = get_rule(uow.connection, scope, rule_id)
    saved = update_rule(uow, scope, rule_id, _resolved_spec(spec, prefs, old), now)
    if old.spec.condition != saved.spec.condition or not saved.spec.is_enabled:
        _close_active(uow, scope, rule_id, "rule changed", now)
    return saved


def remove_rule(uow: UnitOfWork, scope: TenantScope, rule_id: int, now: dt.datetime) -> None:
    """Delete the rule; its open alerts are resolved ("rule deleted") and kept."""
    _close_active(uow, scope, rule_id, "rule deleted", now)
    delete_rule(uow, scope, rule_id)


def acknowledge(
    uow: UnitOfWork, scope: TenantScope, alert_id: int, user_id: int | None, now: dt.datetime
) -> AlertRecord:
    """Someone is on it: the alert stays until its condition clears (or it is resolved)."""
    alert = get_alert(uow.connection, scope, alert_id)
    if alert.status == "resolved":
        raise Conflict(f"alert {alert_id} is resolved already; there is nothing to acknowledge")
    if alert.status == "acknowledged":
        return alert
    alert.status = "acknowledged"
    alert.acknowledged_by = user_id
    alert.acknowledged_at = now
    save_alert(uow, alert)
    uow.touch(scope.tenant_id)
    return alert


def resolve(
    uow: UnitOfWork, scope: TenantScope, alert_id: int, user_id: int | None, now: dt.datetime
) -> AlertRecord:
    """Close the alert by hand. If its condition still holds, the rule fires again once its
    cooldown (from this alert's firing) is over."""
    alert = get_alert(uow.connection, scope, alert_id)
    if alert.status == "resolved":
        return alert
    who = "an API key" if user_id is None else f"user {user_id}"
    resolve_alert(uow, alert, now, f"manual: resolved by {who}", notify=False)
    return alert
