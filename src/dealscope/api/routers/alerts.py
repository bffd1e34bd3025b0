"""The alert centre (/dashboard/alerts) and alert rules (/config/alerts/rules).

Reading alerts needs data:read; alerts watch the whole brokerage's figures, so callers whose
data scope is narrowed to agents (agents, managers) see none. Acknowledging and resolving,
and changing rules, need config:write (admins); every role reads the rules, with webhook
secrets never shown and Slack URLs redacted for those who may not change them. The
tenant's channel preferences (recipients, Slack webhook, quiet hours, default channels and
cooldown) are the `alerts` configuration document at /config/alerts.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status

from dealscope.alerts.delivery import list_deliveries
from dealscope.alerts.evaluate import run_alerts
from dealscope.alerts.repository import (
    ACTIVE,
    STATUSES,
    get_alert,
    get_rule,
    list_alerts,
    list_rules,
)
from dealscope.alerts.rules import AlertRuleSpec
from dealscope.alerts.service import acknowledge, change_rule, create_rule, remove_rule, resolve
from dealscope.alerts.settings import Outbox
from dealscope.api.alert_schemas import (
    AlertList,
    AlertRead,
    AlertRuleRead,
    DeliveryRead,
    EvaluationRead,
    alert_read,
    rule_read,
)
from dealscope.api.audit.records import add_audit_detail
from dealscope.api.auth.principal import Principal
from dealscope.api.deps import SettingsDep, WarehouseDep, require
from dealscope.api.scheduling import load_alert_settings
from dealscope.api.schemas import ErrorRead
from dealscope.errors import Conflict, NotFound
from dealscope.kit.roles import Permission
from dealscope.warehouse.tenancy import TenantScope
from dealscope.warehouse.unit_of_work import unit_of_work

router = APIRouter(tags=["alerts"])
ReportBuilder = Annotated[Principal, Depends(require(Permission.BUILD_REPORTS))]

DataReader = Annotated[Principal, Depends(require(Permission.READ_DATA))]
ConfigReader = Annotated[Principal, Depends(require(Permission.READ_CONFIG))]
Admin = Annotated[Principal, Depends(require(Permission.WRITE_CONFIG))]

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorRead, "description": "No such alert or rule in the caller's tenant."}
}
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorRead, "description": "The alert is resolved already."}
}
_BAD_RULE: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorRead, "description": "An unknown metric or dimension, or the like."}
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _tenant_wide(principal: Principal) -> bool:
    return principal.scope.agent_ids is None


def _rules(warehouse: WarehouseDep, tenant_id: int) -> dict[int, Any]:
    with warehouse.engine.connect() as connection:
        return {r.id: r for r in list_rules(connection, TenantScope(tenant_id))}


# --- the alert centre ----------------------------------------------------------------


@router.get("/dashboard/alerts", summary="Alerts: open and acknowledged first, or by status")
def read_alerts(
    principal: DataReader,
    warehouse: WarehouseDep,
    status_filter: Annotated[
        Literal["active", "open", "acknowledged", "resolved", "all"],
        Query(alias="status", description="active: open and acknowledged."),
    ] = "active",
    severity: Annotated[
        Literal["info", "warning", "critical"] | None, Query(description="Only this severity.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AlertList:
    """Newest first. Counts of open and acknowledged alerts are over all of them."""
    if not _tenant_wide(principal):
        return AlertList(items=[], open=0, acknowledged=0, scoped_out=True)
    statuses = {"active": ACTIVE, "all": STATUSES}.get(status_filter, (status_filter,))
    scope = TenantScope(principal.tenant_id)
    with warehouse.engine.connect() as connection:
        active = list_alerts(connection, scope, ACTIVE, limit=10_000)
        found = list_alerts(connection, scope, tuple(statuses), limit=10_000)
    if severity is not None:
        found = [a for a in found if a.severity == severity]
    rules = _rules(warehouse, principal.tenant_id)
    return AlertList(
        items=[alert_read(a, rules) for a in found[:limit]],
        open=sum(a.status == "open" for a in active),
        acknowledged=sum(a.status == "acknowledged" for a in active),
        scoped_out=False,
    )


def _one_alert(principal: Principal, warehouse: WarehouseDep, alert_id: int) -> AlertRead:
    if not _tenant_wide(principal):
        raise NotFound(f"no alert {alert_id}")
    with warehouse.engine.connect() as connection:
        alert = get_alert(connection, TenantScope(principal.tenant_id), alert_id)
    return alert_read(alert, _rules(warehouse, principal.tenant_id))


@router.get("/dashboard/alerts/{alert_id}", summary="One alert", responses=_NOT_FOUND)
def read_alert(alert_id: int, principal: DataReader, warehouse: WarehouseDep) -> AlertRead:
    return _one_alert(principal, warehouse, alert_id)


@router.post(
    "/dashboard/alerts/{alert_id}/acknowledge",
    summary="Acknowledge an alert (someone is on it)",
    responses={**_NOT_FOUND, **_CONFLICT},
)
def acknowledge_alert(
    alert_id: int, request: Request, principal: Admin, warehouse: WarehouseDep
) -> AlertRead:
    """The alert stays until its condition clears, which resolves it."""
    with unit_of_work(warehouse) as uow:
        acknowledge(uow, TenantScope(principal.tenant_id), alert_id, principal.user_id, _now())
    add_audit_detail(request, alert_id=alert_id)
    return _one_alert(principal, warehouse, alert_id)


@router.post(
    "/dashboard/alerts/{alert_id}/resolve",
    summary="Resolve an alert by hand",
    responses=_NOT_FOUND,
)
def resolve_alert(
    alert_id: int, request: Request, principal: Admin, warehouse: WarehouseDep
) -> AlertRead:
    """If the condition still holds, the rule fires again after its cooldown."""
    with unit_of_work(warehouse) as uow:
        resolve(uow, TenantScope(principal.tenant_id), alert_id, principal.user_id, _now())
    add_audit_detail(request, alert_id=alert_id)
    return _one_alert(principal, warehouse, alert_id)


# --- rules ---------------------------------------------------------------------------


@router.get("/config/alerts/rules", summary="The tenant's alert rules")
def read_rules(principal: ConfigReader, warehouse: WarehouseDep) -> list[AlertRuleRead]:
    full = principal.can(Permission.WRITE_CONFIG)
    return [rule_read(r, full) for r in _rules(warehouse, principal.tenant_id).values()]


@router.get("/config/alerts/rules/{rule_id}", summary="One alert rule", responses=_NOT_FOUND)
def read_rule(rule_id: int, principal: ConfigReader, warehouse: WarehouseDep) -> AlertRuleRead:
    with warehouse.engine.connect() as connection:
        rule = get_rule(connection, TenantScope(principal.tenant_id), rule_id)
    return rule_read(rule, principal.can(Permission.WRITE_CONFIG))


@router.post(
    "/config/alerts/rules",
    summary="Create an alert rule",
    status_code=status.HTTP_201_CREATED,
    responses=_BAD_RULE,
)
def create_alert_rule(
    body: AlertRuleSpec, request: Request, principal: Admin, warehouse: WarehouseDep
) -> AlertRuleRead:
    """Metric conditions name a metric slug (GET /metrics) and may filter by its dimensions.
    Channels and cooldown left out take the tenant's defaults from /config/alerts."""
    with unit_of_work(warehouse) as uow:
        prefs = load_alert_settings(uow.connection, principal.tenant_id)
        rule = create_rule(uow, principal.tenant_id, body, prefs, principal.user_id, _now())
    add_audit_detail(request, rule_id=rule.id, kind=body.condition.kind)
    return rule_read(rule, full=True)


@router.put(
    "/config/alerts/rules/{rule_id}",
    summary="Replace an alert rule",
    responses={**_NOT_FOUND, **_BAD_RULE},
)
def update_alert_rule(
    rule_id: int, body: AlertRuleSpec, request: Request, principal: Admin, warehouse: WarehouseDep
) -> AlertRuleRead:
    """A webhook channel may carry the redacted secret it was read with to keep the stored
    one. Changing the condition (or disabling the rule) resolves its open alerts."""
    scope = TenantScope(principal.tenant_id)
    with unit_of_work(warehouse) as uow:
        prefs = load_alert_settings(uow.connection, principal.tenant_id)
        rule = change_rule(uow, scope, rule_id, body, prefs, _now())
    add_audit_detail(request, rule_id=rule_id)
    return rule_read(rule, full=True)


@router.delete(
    "/config/alerts/rules/{rule_id}",
    summary="Delete an alert rule",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_NOT_FOUND,
)
def delete_alert_rule(
    rule_id: int, request: Request, principal: Admin, warehouse: WarehouseDep
) -> Response:
    """Its open alerts are resolved and kept in the alert centre's history."""
    with unit_of_work(warehouse) as uow:
        remove_rule(uow, TenantScope(principal.tenant_id), rule_id, _now())
    add_audit_detail(request, rule_id=rule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/config/alerts/evaluate",
    summary="Run the tenant's alert rules now and send what they fire",
    responses={409: {"model": ErrorRead, "description": "A run is under way already."}},
)
def evaluate_rules(
    principal: Admin, warehouse: WarehouseDep, settings: SettingsDep
) -> EvaluationRead:
    """What the scheduler does every few minutes, at once: after changing rules or loading
    data. Notifications go out as configured."""
    with warehouse.engine.connect() as connection:
        prefs = load_alert_settings(connection, principal.tenant_id)
    outbox = Outbox.from_settings(settings)
    result = run_alerts(warehouse, principal.tenant_id, _now(), prefs, outbox)
    if result is None:
        raise Conflict("the tenant's alert rules are being evaluated right now; try again")
    evaluation, dispatch = result
    return EvaluationRead(
        fired=sorted(evaluation.fired),
        updated=evaluation.updated,
        resolved=sorted(evaluation.resolved),
        suppressed=evaluation.suppressed,
        unchanged=evaluation.quiet,
        failed={str(k): v for k, v in evaluation.failed.items()},
        notifications_sent=len(dispatch.sent),
        notifications_failed=len(dispatch.failed),
    )


# --- the delivery log of scheduled reports ---------------------------------------------


@router.get(
    "/report-deliveries",
    summary="The delivery log of scheduled reports, newest run first",
    tags=["reports"],
)
def read_deliveries(
    principal: ReportBuilder,
    warehouse: WarehouseDep,
    schedule_id: Annotated[int | None, Query(description="Only this schedule's runs.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryRead]:
    """Each run: pending, sending, retrying (with the last error), sent or failed, the
    attempts made, and each recipient's or channel's own result."""
    with warehouse.engine.connect() as connection:
        found = list_deliveries(connection, principal.tenant_id, schedule_id, limit)
    return [DeliveryRead.model_validate(d, from_attributes=True) for d in found]
