"""All SQL of alert rules and fired alerts. Functions take a connection (reads) or a unit of
work (writes) and never commit: the caller's unit of work does."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa

from dealscope.alerts.rules import AlertRuleSpec
from dealscope.errors import NotFound
from dealscope.warehouse.schema import alert_rules, alerts
from dealscope.warehouse.tenancy import TenantScope, scope_select
from dealscope.warehouse.unit_of_work import UnitOfWork

ACTIVE = ("open", "acknowledged")
STATUSES = ("open", "acknowledged", "resolved")

_r = alert_rules.c
_a = alerts.c


@dataclass(frozen=True)
class RuleRecord:
    id: int
    tenant_id: int
    spec: AlertRuleSpec
    created_by: int | None
    created_at: dt.datetime
    updated_at: dt.datetime | None


@dataclass
class AlertRecord:
    id: int
    tenant_id: int
    rule_id: int | None
    fired_at: dt.datetime
    severity: str
    title: str
    value: float | None
    status: str
    detail: dict[str, Any] = field(default_factory=dict)
    acknowledged_by: int | None = None
    acknowledged_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# --- rules -------------------------------------------------------------------------


def _rule(row: sa.Row[Any]) -> RuleRecord:
    spec = AlertRuleSpec.model_validate(
        {
            "name": row.name,
            "condition": row.condition,
            "severity": row.severity,
            "channels": row.channels,
            "cooldown_minutes": row.cooldown_minutes,
            "is_enabled": row.is_enabled,
        }
    )
    created = _utc(row.created_at)
    assert created is not None
    return RuleRecord(
        int(row.id), int(row.tenant_id), spec, row.created_by, created, _utc(row.updated_at)
    )


def _rule_values(spec: AlertRuleSpec) -> dict[str, Any]:
    condition = spec.condition
    return {
        "name": spec.name,
        "kind": condition.kind,
        "metric": getattr(condition, "metric", None),
        "condition": condition.model_dump(mode="json"),
        "severity": spec.severity,
        "channels": [c.model_dump(mode="json") for c in spec.channels or []],
        "cooldown_minutes": spec.cooldown_minutes,
        "is_enabled": spec.is_enabled,
    }


def list_rules(
    connection: sa.Connection, scope: TenantScope, enabled_only: bool = False
) -> list[RuleRecord]:
    stmt = scope_select(sa.select(alert_rules), alert_rules, scope).order_by(_r.id)
    if enabled_only:
        stmt = stmt.where(_r.is_enabled.is_(True))
    return [_rule(row) for row in connection.execute(stmt)]


def get_rule(connection: sa.Connection, scope: TenantScope, rule_id: int) -> RuleRecord:
    stmt = scope_select(sa.select(alert_rules), alert_rules, scope).where(_r.id == rule_id)
    row = connection.execute(stmt).first()
    if row is None:
        raise NotFound(f"no alert rule {rule_id}")
    return _rule(row)


def insert_rule(
    uow: UnitOfWork, tenant_id: int, spec: AlertRuleSpec, created_by: int | None, now: dt.datetime
) -> RuleRecord:
    """Store `spec` (its channels and cooldown already resolved: neither may be null)."""
    assert spec.channels is not None and spec.cooldown_minutes is not None
    rule_id = uow.next_id(alert_rules)
    uow.connection.execute(
        alert_rules.insert().values(
            id=rule_id,
            tenant_id=tenant_id,
            created_by=created_by,
            created_at=now,
            **_rule_values(spec),
        )
    )
    return RuleRecord(rule_id, tenant_id, spec, created_by, now, None)


def update_rule(
    uow: UnitOfWork, scope: TenantScope, rule_id: int, spec: AlertRuleSpec, now: dt.datetime
) -> RuleRecord:
    assert spec.channels is not None and spec.cooldown_minutes is not None
    old = get_rule(uow.connection, scope, rule_id)
    uow.connection.execute(
        sa.update(alert_rules)
        .where(_r.id == rule_id, _r.tenant_id == scope.tenant_id)
        .values(updated_at=now, **_rule_values(spec))
    )
    return RuleRecord(rule_id, scope.tenant_id, spec, old.created_by, old.created_at, now)


def delete_rule(uow: UnitOfWork, scope: TenantScope, rule_id: int) -> None:
    get_rule(uow.connection, scope, rule_id)
    uow.connection.execute(
        sa.delete(alert_rules).where(_r.id == rule_id, _r.tenant_id == scope.tenant_id)
    )


# --- alerts ------------------------------------------------------------------------


def _alert(row: sa.Row[Any]) -> AlertRecord:
    fired = _utc(row.fired_at)
    assert fired is not None
    detail = dict(row.detail or {})
    # `alerts.value` is a 4-byte REAL on DuckDB (7 digits); the exact value rides in detail.
    value = detail.get("value", row.value)
    return AlertRecord(
        id=int(row.id),
        tenant_id=int(row.tenant_id),
        rule_id=row.rule_id,
        fired_at=fired,
        severity=row.severity,
        title=row.title,
        value=None if value is None else float(value),
        status=row.status,
        detail=detail,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=_utc(row.acknowledged_at),
        resolved_at=_utc(row.resolved_at),
    )


def list_alerts(
    connection: sa.Connection,
    scope: TenantScope,
    statuses: tuple[str, ...] = STATUSES,
    limit: int = 100,
    rule_id: int | None = None,
) -> list[AlertRecord]:
    """Alerts newest first; the worst open ones first when only active ones are asked."""
    stmt = scope_select(sa.select(alerts), alerts, scope).where(_a.status.in_(statuses))
    if rule_id is not None:
        stmt = stmt.where(_a.rule_id == rule_id)
    rows = connection.execute(stmt.order_by(_a.fired_at.desc(), _a.id.desc()).limit(limit))
    return [_alert(row) for row in rows]


def get_alert(connection: sa.Connection, scope: TenantScope, alert_id: int) -> AlertRecord:
    stmt = scope_select(sa.select(alerts), alerts, scope).where(_a.id == alert_id)
    row = connection.execute(stmt).first()
    if row is None:
        raise NotFound(f"no alert {alert_id}")
    return _alert(row)


def find_active_alert(
    connection: sa.Connection, scope: TenantScope, rule_id: int
) -> AlertRecord | None:
    found = list_alerts(connection, scope, ACTIVE, limit=1, rule_id=rule_id)
    return found[0] if found else None


def last_fired_at(
    connection: sa.Connection, scope: TenantScope, rule_id: int
) -> dt.datetime | None:
    stmt = scope_select(sa.select(sa.func.max(_a.fired_at)), alerts, scope).where(
        _a.rule_id == rule_id
    )
    return _utc(cast(dt.datetime | None, connection.execute(stmt).scalar()))


def insert_alert(uow: UnitOfWork, alert: AlertRecord) -> AlertRecord:
    alert.id = uow.next_id(alerts)
    alert.detail["value"] = alert.value
    uow.connection.execute(
        alerts.insert().values(
            id=alert.id,
            tenant_id=alert.tenant_id,
            rule_id=alert.rule_id,
            fired_at=alert.fired_at,
            severity=alert.severity,
            title=alert.title,
            detail=alert.detail,
            value=alert.value,
            status=alert.status,
            dedupe_key=None if alert.rule_id is None else f"rule:{alert.rule_id}",
        )
    )
    return alert


def save_alert(uow: UnitOfWork, alert: AlertRecord) -> None:
    """Write back the changeable fields of `alert`."""
    alert.detail["value"] = alert.value
    uow.connection.execute(
        sa.update(alerts)
        .where(_a.id == alert.id, _a.tenant_id == alert.tenant_id)
        .values(
            status=alert.status,
            value=alert.value,
            detail=alert.detail,
            acknowledged_by=alert.acknowledged_by,
            acknowledged_at=alert.acknowledged_at,
            resolved_at=alert.resolved_at,
        )
    )


def alerts_to_notify(
    connection: sa.Connection, scope: TenantScope, now: dt.datetime
) -> list[AlertRecord]:
    """Alerts with notifications not yet sent (`detail.pending` not empty), oldest first:
    active ones, and ones resolved in the last two days (their "resolved" message)."""
    recent = now - dt.timedelta(days=2)
    stmt = (
        scope_select(sa.select(alerts), alerts, scope)
        .where(sa.or_(_a.status.in_(ACTIVE), _a.resolved_at >= recent))
        .order_by(_a.fired_at, _a.id)
    )
    # JSON path queries differ between DuckDB and PostgreSQL, and the rows are few (one
    # tenant's active and just-resolved alerts), so the last filter runs here.
    found = [_alert(row) for row in connection.execute(stmt)]
    return [a for a in found if a.detail.get("pending")]
