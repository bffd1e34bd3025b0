"""/audit: who did what, when, from where — the tenant's audit log, for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from dealscope.api.audit.repository import list_audit_entries
from dealscope.api.audit.schemas import AuditPage, AuditQuery
from dealscope.api.auth.principal import Principal
from dealscope.api.deps import WarehouseDep, require
from dealscope.kit.roles import Permission

router = APIRouter(prefix="/audit", tags=["audit"])

AuditReader = Annotated[Principal, Depends(require(Permission.READ_AUDIT))]


@router.get("", summary="List audit entries, newest first")
def read_audit_log(
    principal: AuditReader,
    warehouse: WarehouseDep,
    query: Annotated[AuditQuery, Query()],
) -> AuditPage:
    """Every request to the API is recorded after its response: reads, changes and sign-in
    attempts (a failed one names the username it tried, never the password). Filters
    combine; `resource` matches route templates by prefix; pages hold at most 500 entries."""
    with warehouse.engine.connect() as connection:
        return list_audit_entries(connection, principal.scope, query)
