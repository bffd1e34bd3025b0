"""Sync cursors: where a tenant's sync of one resource of one outside account stopped.

A cursor moves in the same transaction as the rows it covers, so after any failure the
stored cursor names exactly what is in the warehouse and the next run resumes from it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from dealscope.warehouse.schema import sync_cursors
from dealscope.warehouse.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class CursorKey:
    tenant_id: int
    source: str  # ghl
    account: str  # the GHL location id
    resource: str

    def where(self) -> sa.ColumnElement[bool]:
        return sa.and_(
            sync_cursors.c.tenant_id == self.tenant_id,
            sync_cursors.c.source == self.source,
            sync_cursors.c.account == self.account,
            sync_cursors.c.resource == self.resource,
        )


@dataclass(frozen=True)
class CursorState:
    cursor: dict[str, Any] | None
    status: str
    mode: str | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    rows_fetched: int
    error: str | None


def find_cursor(conn: sa.Connection, key: CursorKey) -> CursorState | None:
    row = conn.execute(sa.select(sync_cursors).where(key.where())).first()
    if row is None:
        return None
    return CursorState(
        cursor=row.cursor,
        status=row.status,
        mode=row.mode,
        started_at=row.started_at,
        finished_at=row.finished_at,
        rows_fetched=int(row.rows_fetched),
        error=row.error,
    )


def list_cursors(conn: sa.Connection, tenant_id: int, source: str) -> list[sa.Row[Any]]:
    """Every cursor of the tenant for `source`, by account and resource."""
    return list(
        conn.execute(
            sa.select(sync_cursors)
            .where(sync_cursors.c.tenant_id == tenant_id, sync_cursors.c.source == source)
            .order_by(sync_cursors.c.account, sync_cursors.c.resource)
        ).all()
    )


def _upsert(uow: UnitOfWork, key: CursorKey, values: dict[str, Any]) -> None:
    conn = uow.connection
    exists = conn.execute(sa.select(sync_cursors.c.id).where(key.where())).first()
    if exists is None:
        conn.execute(
            sa.insert(sync_cursors).values(
                id=uow.next_id(sync_cursors),
                tenant_id=key.tenant_id,
                source=key.source,
                account=key.account,
                resource=key.resource,
                **{"status": "running", **values},
            )
        )
    else:
        conn.execute(sa.update(sync_cursors).where(sync_cursors.c.id == exists.id).values(**values))


def start_run(uow: UnitOfWork, key: CursorKey, mode: str, now: dt.datetime) -> None:
    """Mark a run of `key` as started (the stored cursor stays until pages move it)."""
    _upsert(
        uow,
        key,
        {
            "status": "running",
            "mode": mode,
            "started_at": now,
            "finished_at": None,
            "rows_fetched": 0,
            "error": None,
        },
    )


def advance(uow: UnitOfWork, key: CursorKey, cursor: dict[str, Any] | None, rows: int) -> None:
    """Move the cursor past `rows` more records, inside the transaction that wrote them
    (after `start_run` made the row)."""
    values: dict[str, Any] = {"rows_fetched": sync_cursors.c.rows_fetched + rows}
    if cursor is not None:
        values["cursor"] = cursor
    uow.connection.execute(sa.update(sync_cursors).where(key.where()).values(**values))


def finish_run(uow: UnitOfWork, key: CursorKey, now: dt.datetime, error: str | None = None) -> None:
    _upsert(
        uow,
        key,
        {"status": "failed" if error else "ok", "finished_at": now, "error": error},
    )
