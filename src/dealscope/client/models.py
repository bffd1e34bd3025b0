"""Response models of the API as the client sees them (kept in step with the server's)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


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
