"""/users: the tenant's user accounts (admins only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, status

from dealscope.api.auth import users as service
from dealscope.api.auth.principal import Principal
from dealscope.api.auth.schemas import UserCreate, UserRead, UserUpdate
from dealscope.api.deps import WarehouseDep, require
from dealscope.api.schemas import ErrorRead
from dealscope.kit.roles import Permission
from dealscope.warehouse.unit_of_work import unit_of_work

router = APIRouter(prefix="/users", tags=["users"])

Admin = Annotated[Principal, Depends(require(Permission.MANAGE_USERS))]

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorRead, "description": "No valid credentials."},
    403: {"model": ErrorRead, "description": "The caller's role may not manage users."},
}
_ONE_USER: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    404: {"model": ErrorRead, "description": "No such user in the caller's tenant."},
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@router.get("", summary="List the tenant's users", responses=_ERRORS)
def list_users(admin: Admin, warehouse: WarehouseDep) -> list[UserRead]:
    with warehouse.engine.connect() as conn:
        return service.list_users(conn, admin.tenant_id)


@router.post(
    "",
    summary="Create a user",
    status_code=status.HTTP_201_CREATED,
    responses={
        **_ERRORS,
        400: {"model": ErrorRead, "description": "An agent or team not of this tenant."},
        409: {"model": ErrorRead, "description": "The email has an account here already."},
    },
)
def create_user(body: UserCreate, admin: Admin, warehouse: WarehouseDep) -> UserRead:
    """An agent user needs `agent_id` (their own rows), a manager `team_id` (their team's)."""
    with unit_of_work(warehouse) as uow:
        return service.create_user(uow, admin.tenant_id, body, _now())


@router.get("/{user_id}", summary="Read a user", responses=_ONE_USER)
def read_user(user_id: int, admin: Admin, warehouse: WarehouseDep) -> UserRead:
    with warehouse.engine.connect() as conn:
        return service.get_user(conn, admin.tenant_id, user_id)


@router.patch(
    "/{user_id}",
    summary="Change a user's role, name, links or status",
    responses={
        **_ONE_USER,
        400: {"model": ErrorRead, "description": "A bad link, or the last admin demoted."},
    },
)
def update_user(user_id: int, body: UserUpdate, admin: Admin, warehouse: WarehouseDep) -> UserRead:
    """Only the fields sent change. `is_active: false` disables the user and ends their
    sessions; the tenant must keep one active admin."""
    with unit_of_work(warehouse) as uow:
        return service.update_user(uow, admin.tenant_id, user_id, body, _now())


@router.post("/{user_id}/disable", summary="Disable a user", responses=_ONE_USER)
def disable_user(user_id: int, admin: Admin, warehouse: WarehouseDep) -> UserRead:
    """The user can no longer sign in and every session of theirs ends now."""
    with unit_of_work(warehouse) as uow:
        return service.disable_user(uow, admin.tenant_id, user_id, _now())


@router.post("/{user_id}/unlock", summary="Unlock after failed sign-ins", responses=_ONE_USER)
def unlock_user(user_id: int, admin: Admin, warehouse: WarehouseDep) -> UserRead:
    """Lift a lockout at once and reset the count of failed sign-ins."""
    with unit_of_work(warehouse) as uow:
        return service.unlock_user(uow, admin.tenant_id, user_id)
