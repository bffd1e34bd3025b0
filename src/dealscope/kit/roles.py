"""Roles and what each may do: the permission matrix, in one place.

| permission        | admin | manager | analyst | agent | viewer |
|-------------------|:-----:|:-------:|:-------:|:-----:|:------:|
| data:read         |   x   |    x    |    x    |   x   |   x    |
| config:read       |   x   |    x    |    x    |   x   |   x    |
| reports:build     |   x   |    x    |    x    |       |        |
| config:write      |   x   |         |         |       |        |
| users:manage      |   x   |         |         |       |        |
| api_keys:manage   |   x   |         |         |       |        |
| audit:read        |   x   |         |         |       |        |
| ingest:write      |   x   |         |         |       |        |

What rows `data:read` reaches is the role's scope (`warehouse.tenancy.TenantScope`): admins,
analysts and viewers see their whole tenant, a manager the agents of their team, an agent
only themselves. No role ever sees another tenant.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    ANALYST = "analyst"
    AGENT = "agent"
    VIEWER = "viewer"


class Permission(StrEnum):
    READ_DATA = "data:read"
    READ_CONFIG = "config:read"
    BUILD_REPORTS = "reports:build"
    WRITE_CONFIG = "config:write"
    MANAGE_USERS = "users:manage"
    MANAGE_API_KEYS = "api_keys:manage"
    READ_AUDIT = "audit:read"
    WRITE_INGEST = "ingest:write"


_EVERYONE = frozenset({Permission.READ_DATA, Permission.READ_CONFIG})

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MANAGER: _EVERYONE | {Permission.BUILD_REPORTS},
    Role.ANALYST: _EVERYONE | {Permission.BUILD_REPORTS},
    Role.AGENT: _EVERYONE,
    Role.VIEWER: _EVERYONE,
}

# Roles whose data scope is the whole tenant; the others are narrowed to agents.
TENANT_WIDE_ROLES = frozenset({Role.ADMIN, Role.ANALYST, Role.VIEWER})


def allows(role: Role, permission: Permission) -> bool:
    return permission in PERMISSIONS[role]
