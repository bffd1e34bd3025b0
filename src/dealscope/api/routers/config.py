"""/config/{dashboard,alerts,attribution}: the tenant's settings documents, versioned.

Each kind has its own routes, so the OpenAPI schema shows its exact document. Reading needs
config:read (every role), changing needs config:write (admins). A change names the version
it was based on and is refused with 409 when someone saved in between.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from dealscope.api.audit.records import add_audit_detail
from dealscope.api.auth.principal import Principal
from dealscope.api.configuration.documents import ConfigKind, Document
from dealscope.api.configuration.schemas import (
    AlertsConfigHistory,
    AlertsConfigRead,
    AlertsConfigUpdate,
    AttributionConfigHistory,
    AttributionConfigRead,
    AttributionConfigUpdate,
    DashboardConfigHistory,
    DashboardConfigRead,
    DashboardConfigUpdate,
)
from dealscope.api.configuration.service import (
    ConfigState,
    get_config,
    list_config_versions,
    save_config,
)
from dealscope.api.deps import WarehouseDep, require
from dealscope.api.schemas import ErrorRead
from dealscope.errors import Conflict
from dealscope.kit.roles import Permission
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.unit_of_work import unit_of_work

router = APIRouter(prefix="/config", tags=["config"])

ConfigReader = Annotated[Principal, Depends(require(Permission.READ_CONFIG))]
ConfigWriter = Annotated[Principal, Depends(require(Permission.WRITE_CONFIG))]
HistoryLimit = Annotated[
    int, Query(ge=1, le=500, description="At most this many versions, newest first.")
]

_PUT_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorRead, "description": "The version named is not the current one."}
}

M = TypeVar("M", bound=BaseModel)


def _as(model: type[M], state: ConfigState) -> M:
    return model.model_validate(
        {
            "kind": state.kind,
            "version": state.version,
            "document": state.document,
            "updated_at": state.updated_at,
            "updated_by": state.updated_by,
        }
    )


def _history(model: type[M], kind: ConfigKind, states: list[ConfigState]) -> M:
    items = [
        {
            "version": s.version,
            "document": s.document,
            "created_at": s.updated_at,
            "created_by": s.updated_by,
        }
        for s in states
    ]
    return model.model_validate({"kind": kind, "items": items})


def _read(warehouse: Warehouse, principal: Principal, kind: ConfigKind) -> ConfigState:
    with warehouse.engine.connect() as connection:
        return get_config(connection, principal, kind)


def _versions(
    warehouse: Warehouse, principal: Principal, kind: ConfigKind, limit: int
) -> list[ConfigState]:
    with warehouse.engine.connect() as connection:
        return list_config_versions(connection, principal, kind, limit)


def _save(
    request: Request,
    warehouse: Warehouse,
    principal: Principal,
    kind: ConfigKind,
    based_on: int,
    document: Document,
) -> ConfigState:
    try:
        with unit_of_work(warehouse) as uow:
            now = dt.datetime.now(dt.UTC)
            saved = save_config(uow, principal, kind, based_on, document, now)
    except Conflict:
        add_audit_detail(request, kind=kind.value, based_on_version=based_on)
        raise
    add_audit_detail(request, kind=kind.value, old_version=based_on, new_version=saved.version)
    return saved


# --- dashboard -----------------------------------------------------------------------


@router.get("/dashboard", summary="The dashboard configuration in force")
def read_dashboard_config(principal: ConfigReader, warehouse: WarehouseDep) -> DashboardConfigRead:
    return _as(DashboardConfigRead, _read(warehouse, principal, ConfigKind.DASHBOARD))


@router.put("/dashboard", summary="Save a new dashboard configuration", responses=_PUT_RESPONSES)
def update_dashboard_config(
    update: DashboardConfigUpdate,
    request: Request,
    principal: ConfigWriter,
    warehouse: WarehouseDep,
) -> DashboardConfigRead:
    kind = ConfigKind.DASHBOARD
    state = _save(request, warehouse, principal, kind, update.version, update.document)
    return _as(DashboardConfigRead, state)


@router.get("/dashboard/versions", summary="Saved dashboard configurations, newest first")
def list_dashboard_config_versions(
    principal: ConfigReader, warehouse: WarehouseDep, limit: HistoryLimit = 50
) -> DashboardConfigHistory:
    kind = ConfigKind.DASHBOARD
    return _history(DashboardConfigHistory, kind, _versions(warehouse, principal, kind, limit))


# --- alerts --------------------------------------------------------------------------


@router.get("/alerts", summary="The alerting configuration in force")
def read_alerts_config(principal: ConfigReader, warehouse: WarehouseDep) -> AlertsConfigRead:
    """Callers who may not change the configuration see the Slack webhook URL redacted."""
    return _as(AlertsConfigRead, _read(warehouse, principal, ConfigKind.ALERTS))


@router.put("/alerts", summary="Save a new alerting configuration", responses=_PUT_RESPONSES)
def update_alerts_config(
    update: AlertsConfigUpdate,
    request: Request,
    principal: ConfigWriter,
    warehouse: WarehouseDep,
) -> AlertsConfigRead:
    kind = ConfigKind.ALERTS
    state = _save(request, warehouse, principal, kind, update.version, update.document)
    return _as(AlertsConfigRead, state)


@router.get("/alerts/versions", summary="Saved alerting configurations, newest first")
def list_alerts_config_versions(
    principal: ConfigReader, warehouse: WarehouseDep, limit: HistoryLimit = 50
) -> AlertsConfigHistory:
    kind = ConfigKind.ALERTS
    return _history(AlertsConfigHistory, kind, _versions(warehouse, principal, kind, limit))


# --- attribution ---------------------------------------------------------------------


@router.get("/attribution", summary="The attribution configuration in force")
def read_attribution_config(
    principal: ConfigReader, warehouse: WarehouseDep
) -> AttributionConfigRead:
    return _as(AttributionConfigRead, _read(warehouse, principal, ConfigKind.ATTRIBUTION))


@router.put(
    "/attribution", summary="Save a new attribution configuration", responses=_PUT_RESPONSES
)
def update_attribution_config(
    update: AttributionConfigUpdate,
    request: Request,
    principal: ConfigWriter,
    warehouse: WarehouseDep,
) -> AttributionConfigRead:
    """Saving moves the tenant's data version on: attributed figures are computed afresh."""
    kind = ConfigKind.ATTRIBUTION
    state = _save(request, warehouse, principal, kind, update.version, update.document)
    return _as(AttributionConfigRead, state)


@router.get("/attribution/versions", summary="Saved attribution configurations, newest first")
def list_attribution_config_versions(
    principal: ConfigReader, warehouse: WarehouseDep, limit: HistoryLimit = 50
) -> AttributionConfigHistory:
    kind = ConfigKind.ATTRIBUTION
    return _history(AttributionConfigHistory, kind, _versions(warehouse, principal, kind, limit))
