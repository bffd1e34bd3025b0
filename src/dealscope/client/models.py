"""Response models of the API as the client sees them (kept in step with the server's)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from dealscope.kit.roles import TENANT_WIDE_ROLES, Permission, Role


class HealthRead(BaseModel):
    """Whether the API and what it depends on are answering."""

    status: Literal["ok", "degraded"]
    version: str
    backend: Literal["duckdb", "postgres"]
    schema_revision: str | None
    schema_current: bool
    database: Literal["ok", "unreachable"]
    redis: Literal["ok", "unreachable", "not configured"]
    problems: list[str] = Field(default_factory=list)


# --- sign-in, users and API keys ---------------------------------------------------------


class TokenRead(BaseModel):
    """A signed-in session's tokens (the OAuth2 token response)."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")


class TenantRead(BaseModel):
    id: int
    slug: str
    name: str
    timezone: str
    currency: str
    is_active: bool


class MeRead(BaseModel):
    """Who the caller is: a user signed in with a password, or an API key."""

    kind: Literal["user", "api_key"]
    user_id: int | None
    api_key_id: int | None
    email: str | None
    full_name: str
    role: Role
    tenant: TenantRead
    agent_id: int | None
    team_id: int | None
    permissions: list[Permission]

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def tenant_wide(self) -> bool:
        """Whether this caller's figures cover the whole tenant (not one agent or a team)."""
        return self.role in TENANT_WIDE_ROLES


class UserRead(BaseModel):
    id: int
    email: str
    full_name: str
    role: Role
    agent_id: int | None
    team_id: int | None
    is_active: bool
    failed_logins: int
    locked_until: dt.datetime | None
    last_login_at: dt.datetime | None
    created_at: dt.datetime


class UserCreate(BaseModel):
    email: str
    full_name: str
    password: str
    role: Role
    agent_id: int | None = None
    team_id: int | None = None


class UserUpdate(BaseModel):
    """Fields to change; only the fields set are sent."""

    role: Role | None = None
    full_name: str | None = None
    agent_id: int | None = None
    team_id: int | None = None
    is_active: bool | None = None


class ApiKeyRead(BaseModel):
    id: int
    name: str
    prefix: str
    role: Role
    created_by: int | None
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The whole key, shown this once.")


class ApiKeyCreate(BaseModel):
    name: str
    role: Role = Role.VIEWER
