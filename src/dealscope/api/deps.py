"""Dependencies for route handlers, as `Annotated` aliases: `def f(warehouse: WarehouseDep)`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import redis
from fastapi import Depends, Request

from dealscope.api.auth.deps import current_principal
from dealscope.api.auth.principal import Principal
from dealscope.config import Settings
from dealscope.errors import PermissionDenied
from dealscope.kit.roles import Permission, Role, allows
from dealscope.warehouse.engine import Warehouse


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_warehouse(request: Request) -> Warehouse:
    warehouse: Warehouse = request.app.state.warehouse
    return warehouse


def get_redis(request: Request) -> redis.Redis | None:
    """The shared Redis client, or None when DEALSCOPE_REDIS_URL is not set."""
    client: redis.Redis | None = request.app.state.redis
    return client


SettingsDep = Annotated[Settings, Depends(get_settings)]
WarehouseDep = Annotated[Warehouse, Depends(get_warehouse)]
RedisDep = Annotated[redis.Redis | None, Depends(get_redis)]


def authenticated_principal(
    request: Request, principal: Annotated[Principal, Depends(current_principal)]
) -> Principal:
    """The caller (401 without valid credentials), then counted against its rate limit when
    the app has a limiter (`app.state.rate_limiter.check(request, principal)`)."""
    limiter = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:
        limiter.check(request, principal)
    return principal


authenticated_principal.authenticates = True  # type: ignore[attr-defined]

PrincipalDep = Annotated[Principal, Depends(authenticated_principal)]


def require(permission: Permission) -> Callable[[Principal], Principal]:
    """A dependency that returns the caller if its role has `permission`, else raises
    PermissionDenied (403): `principal: Annotated[Principal, Depends(require(P))]`."""

    def check_permission(principal: PrincipalDep) -> Principal:
        if not principal.can(permission):
            roles = ", ".join(r.value for r in Role if allows(r, permission))
            raise PermissionDenied(
                f"this needs the {permission.value} permission, which the "
                f"{principal.role.value} role does not have (roles that do: {roles})"
            )
        return principal

    check_permission.required_permission = permission  # type: ignore[attr-defined]
    return check_permission
