"""Response models shared by the routers (per-domain input/output models join them here)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ErrorRead(BaseModel):
    """The body of every error response."""

    error: str = Field(description="A stable snake_case code, e.g. not_found.")
    detail: str = Field(description="What went wrong, for a person to read.")


class HealthRead(BaseModel):
    """Whether the API and what it depends on are answering."""

    status: Literal["ok", "degraded"]
    version: str
    backend: Literal["duckdb", "postgres"]
    schema_revision: str | None = Field(description="The warehouse's migration revision.")
    schema_current: bool = Field(description="Whether that is the revision this code needs.")
    database: Literal["ok", "unreachable"]
    redis: Literal["ok", "unreachable", "not configured"]
    problems: list[str] = Field(default_factory=list, description="Why the status is degraded.")
