"""Input and output models of the audit log API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_PAGE = 500

Action = Literal["read", "create", "update", "delete", "login", "refresh", "logout"]


class AuditQuery(BaseModel):
    """Filters of `GET /api/v1/audit`; all optional, combined with AND."""

    model_config = ConfigDict(extra="forbid")

    user_id: int | None = Field(default=None, description="Entries of this user.")
    actor: str | None = Field(
        default=None,
        max_length=254,
        description="Entries of this actor (a user's email, an API key's name, or the "
        "username a failed sign-in submitted), exactly.",
    )
    action: Action | None = None
    resource: str | None = Field(
        default=None,
        max_length=128,
        description="Entries whose resource (a route template) starts with this, e.g. "
        "/api/v1/config",
    )
    outcome: Literal["success", "denied", "error"] | None = None
    since: dt.datetime | None = Field(default=None, description="From this time (inclusive).")
    until: dt.datetime | None = Field(default=None, description="Before this time (exclusive).")
    limit: int = Field(default=100, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0)

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, value: dt.datetime | None) -> dt.datetime | None:
        """A time without an offset is read as UTC."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value

    @model_validator(mode="after")
    def _ordered(self) -> AuditQuery:
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise ValueError("until must be after since")
        return self


class AuditEntryRead(BaseModel):
    """One audited request."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 5012,
                    "occurred_at": "2025-03-31T14:02:11.532000Z",
                    "user_id": 17,
                    "actor": "broker@example.com",
                    "action": "update",
                    "resource": "/api/v1/config/dashboard",
                    "resource_id": None,
                    "method": "PUT",
                    "path": "/api/v1/config/dashboard",
                    "status_code": 200,
                    "outcome": "success",
                    "ip": "203.0.113.7",
                    "user_agent": "Mozilla/5.0",
                    "request_id": "3f7a9c0e6b1d4e2f8a5b7c9d0e1f2a3b",
                    "detail": {"kind": "dashboard", "old_version": 3, "new_version": 4},
                }
            ]
        }
    )

    id: int
    occurred_at: dt.datetime
    user_id: int | None = Field(
        description="The signed-in user (for a sign-in attempt, the account its username "
        "named); null for API keys and unknown callers."
    )
    actor: str | None = Field(
        description="The user's email, the API key's name, or the "
        "username a sign-in attempt submitted."
    )
    action: str = Field(
        description="read, create, update or delete by the method; login, refresh or logout "
        "for the sign-in routes."
    )
    resource: str = Field(description="The route template, e.g. /api/v1/users/{user_id}.")
    resource_id: str | None = Field(description="The route's path parameter values.")
    method: str | None
    path: str | None = Field(description="The path requested, without its query string.")
    status_code: int | None
    outcome: Literal["success", "denied", "error"]
    ip: str | None
    user_agent: str | None
    request_id: str | None = Field(description="The X-Request-ID of the request, as in logs.")
    detail: dict[str, Any] | None = Field(description="Facts the endpoint added.")


class AuditPage(BaseModel):
    """Audit entries, newest first."""

    items: list[AuditEntryRead]
    limit: int
    offset: int
    next_offset: int | None = Field(
        description="The offset of the next page, or null when this is the last one."
    )
