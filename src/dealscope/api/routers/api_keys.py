"""/api-keys: the tenant's keys for machine clients (admins only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status

from dealscope.api.auth import api_keys as service
from dealscope.api.auth.principal import Principal
from dealscope.api.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from dealscope.api.deps import WarehouseDep, require
from dealscope.api.schemas import ErrorRead
from dealscope.kit.roles import Permission
from dealscope.warehouse.unit_of_work import unit_of_work

router = APIRouter(prefix="/api-keys", tags=["api keys"])

Admin = Annotated[Principal, Depends(require(Permission.MANAGE_API_KEYS))]

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorRead, "description": "No valid credentials."},
    403: {"model": ErrorRead, "description": "The caller's role may not manage API keys."},
}


@router.get("", summary="List the tenant's API keys", responses=_ERRORS)
def list_api_keys(admin: Admin, warehouse: WarehouseDep) -> list[ApiKeyRead]:
    """Every key, revoked ones too, newest first. Secrets are never shown again."""
    with warehouse.engine.connect() as conn:
        return service.list_api_keys(conn, admin.tenant_id)


@router.post(
    "",
    summary="Create an API key",
    status_code=status.HTTP_201_CREATED,
    responses={
        **_ERRORS,
        400: {"model": ErrorRead, "description": "A role an API key cannot have."},
    },
)
def create_api_key(
    body: ApiKeyCreate, admin: Admin, warehouse: WarehouseDep, response: Response
) -> ApiKeyCreated:
    """The answer's `key` is the only copy of the key there will ever be: store it now.
    Send it as `X-API-Key: <key>` (or `Authorization: Bearer <key>`)."""
    response.headers["Cache-Control"] = "no-store"
    with unit_of_work(warehouse) as uow:
        return service.create_api_key(
            uow, admin.tenant_id, body, admin.user_id, dt.datetime.now(dt.UTC)
        )


@router.delete(
    "/{key_id}",
    summary="Revoke an API key",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        **_ERRORS,
        404: {"model": ErrorRead, "description": "No such key in the caller's tenant."},
    },
)
def revoke_api_key(key_id: int, admin: Admin, warehouse: WarehouseDep) -> None:
    """The key stops working at once; it stays in the list, marked revoked."""
    with unit_of_work(warehouse) as uow:
        service.revoke_api_key(uow, admin.tenant_id, key_id, dt.datetime.now(dt.UTC))
