"""Live checks of what the API depends on, for /health: each does real I/O and never raises."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import redis
import sqlalchemy as sa
import structlog

from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.migrate import current_revision

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class DatabaseProbe:
    reachable: bool
    revision: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class RedisProbe:
    state: Literal["ok", "unreachable", "not configured"]
    problem: str | None = None


def probe_database(warehouse: Warehouse) -> DatabaseProbe:
    """Run `SELECT 1` and read the schema revision."""
    try:
        with warehouse.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1")).scalar_one()
        revision = current_revision(warehouse)
    except Exception as exc:  # any failure here means "not reachable"; the log keeps the cause
        log.warning("health.database_unreachable", backend=warehouse.backend, error=str(exc))
        return DatabaseProbe(
            reachable=False,
            problem=f"the {warehouse.backend} warehouse did not answer ({type(exc).__name__})",
        )
    return DatabaseProbe(reachable=True, revision=revision)


def probe_redis(client: redis.Redis | None) -> RedisProbe:
    """PING the configured Redis; `None` means Redis is not configured."""
    if client is None:
        return RedisProbe(state="not configured")
    try:
        client.ping()
    except redis.RedisError as exc:
        log.warning("health.redis_unreachable", error=str(exc))
        # Like the database's, the public reason names no host: /health is unauthenticated.
        return RedisProbe(
            state="unreachable", problem=f"redis did not answer ({type(exc).__name__})"
        )
    return RedisProbe(state="ok")
