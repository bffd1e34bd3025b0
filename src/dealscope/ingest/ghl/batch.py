"""A page of contacts written in bulk, through the same mapping as single upserts.

`ContactPage` is a `GhlRecords` whose contact reads and writes are batched: the page's stored
contacts are read with one query, and its inserts and updates go out as one executemany
each at `flush()`. Everything else (how a GHL contact maps to our columns, staleness,
attribution kept across snapshots, agents) is `GhlRecords.upsert_contact` unchanged, so a
synced contact is exactly what the webhook path would store; only the round trips differ
(two statements per page instead of two per contact).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from dealscope.ingest.ghl.records import GhlRecords, Outcome
from dealscope.kit.crypto import PiiCipher
from dealscope.warehouse.schema import contacts
from dealscope.warehouse.unit_of_work import UnitOfWork


class ContactPage(GhlRecords):
    """Upserts of one page of GHL contacts; call `prefetch` first and `flush` last, inside
    the same unit of work."""

    def __init__(self, uow: UnitOfWork, tenant_id: int, cipher: PiiCipher) -> None:
        super().__init__(uow, tenant_id, cipher, recorded_from="sync")
        self._stored: dict[str, Any] = {}
        self._inserts: list[dict[str, Any]] = []
        self._updates: list[dict[str, Any]] = []

    def prefetch(self, external_ids: Iterable[str]) -> None:
        wanted = sorted({e for e in external_ids if e})
        if not wanted:
            return
        found = self.conn.execute(
            sa.select(contacts).where(
                contacts.c.tenant_id == self.tenant_id, contacts.c.external_id.in_(wanted)
            )
        ).all()
        self._stored.update({row.external_id: row for row in found})

    def _find(self, table: sa.Table, external_id: str) -> Any:
        if table is contacts:
            return self._stored.get(external_id)
        return super()._find(table, external_id)

    def _write(self, table: sa.Table, row: Any, values: dict[str, Any]) -> tuple[int, Outcome]:
        if table is not contacts:
            return super()._write(table, row, values)
        self.uow.touch(self.tenant_id)
        if row is None:
            row_id, outcome = self.uow.next_id(contacts), "created"
            self._inserts.append({"id": row_id, "tenant_id": self.tenant_id, **values})
            merged: dict[str, Any] = {c.name: None for c in contacts.c}
        else:
            row_id, outcome = int(row.id), "updated"
            self._updates.append({"_row_id": row_id, **values})
            merged = dict(row._asdict() if hasattr(row, "_asdict") else vars(row))
        # A later record of the same contact in this page sees this one as stored.
        merged.update(values, id=row_id, tenant_id=self.tenant_id)
        self._stored[str(values.get("external_id"))] = SimpleNamespace(**merged)
        return row_id, outcome  # type: ignore[return-value]

    def flush(self) -> None:
        """Write the page's inserts, then its updates (grouped by the columns they set)."""
        inserts = _last_per_id(self._inserts, "id")
        updates = _last_per_id(self._updates, "_row_id")
        duckdb = self.conn.dialect.name == "duckdb"
        for columns, group in _grouped(inserts).items():
            if duckdb:
                self._duckdb_insert(columns, group)
            else:
                self.conn.execute(
                    sa.insert(contacts), [dict(zip(columns, r, strict=True)) for r in group]
                )
        for columns, group in _grouped(updates).items():
            if duckdb:
                self._duckdb_update(columns, group)
                continue
            set_columns = [c for c in columns if c != "_row_id"]
            statement = (
                sa.update(contacts)
                .where(contacts.c.id == sa.bindparam("_row_id"))
                .values({c: sa.bindparam(f"v_{c}") for c in set_columns})
            )
            params = [
                {
                    ("_row_id" if c == "_row_id" else f"v_{c}"): v
                    for c, v in zip(columns, r, strict=True)
                }
                for r in group
            ]
            self.conn.execute(statement, params)
        self._inserts.clear()
        self._updates.clear()

    # DuckDB runs executemany one row at a time; it scans an Arrow table in one statement.

    def _arrow_view(self, columns: tuple[str, ...], group: list[tuple[Any, ...]]) -> str:
        json_columns = {c.name for c in contacts.c if isinstance(c.type, sa.JSON)}
        data = {
            name: [
                json.dumps(r[i]) if name in json_columns and r[i] is not None else r[i]
                for r in group
            ]
            for i, name in enumerate(columns)
        }
        cursor = self.conn.connection.driver_connection
        cursor.complete()  # type: ignore[union-attr]  # the last SELECT's result, read or not
        cursor.register("_ghl_contact_page", pa.table(data))  # type: ignore[union-attr]
        return "_ghl_contact_page"

    def _duckdb_run(self, sql: str) -> None:
        cursor = self.conn.connection.driver_connection
        try:
            cursor.execute(sql)  # type: ignore[union-attr]
        finally:
            cursor.unregister("_ghl_contact_page")  # type: ignore[union-attr]

    def _duckdb_insert(self, columns: tuple[str, ...], group: list[tuple[Any, ...]]) -> None:
        view = self._arrow_view(columns, group)
        names = ", ".join(f'"{c}"' for c in columns)
        self._duckdb_run(f"INSERT INTO contacts ({names}) SELECT {names} FROM {view}")

    def _duckdb_update(self, columns: tuple[str, ...], group: list[tuple[Any, ...]]) -> None:
        view = self._arrow_view(columns, group)
        assignments = ", ".join(f'"{c}" = u."{c}"' for c in columns if c != "_row_id")
        self._duckdb_run(
            f"UPDATE contacts SET {assignments} FROM {view} AS u WHERE contacts.id = u._row_id"
        )


def _last_per_id(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """One write per row id, the last one (a contact twice in a page is written once)."""
    return list({r[key]: r for r in rows}.values())


def _grouped(rows: list[dict[str, Any]]) -> dict[tuple[str, ...], list[tuple[Any, ...]]]:
    groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for row in rows:
        columns = tuple(sorted(row))
        groups.setdefault(columns, []).append(tuple(row[c] for c in columns))
    return groups
