"""Pages of GHL records written in bulk, through the same mapping as single upserts.

`ContactPage` and `MessagePage` are `GhlRecords` whose reads and writes of their own table
are batched: what the page needs from the warehouse is read with one query per table, and
its inserts and updates are written at `flush()` in one statement per group of rows (an
Arrow scan on DuckDB, executemany on PostgreSQL). How a GHL record maps to our columns,
staleness, attribution kept across snapshots, agents, the activity a message makes: all
of that is `GhlRecords` unchanged, so a synced record is exactly what the webhook path
would store; only the round trips differ.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from dealscope.ingest.ghl.records import GhlRecords, Outcome
from dealscope.kit.crypto import PiiCipher
from dealscope.warehouse.schema import (
    activities,
    contacts,
    messages,
    opportunities,
    pipeline_stages,
    pipelines,
)
from dealscope.warehouse.unit_of_work import UnitOfWork

_VIEW = "_ghl_page_rows"


class BulkWrites:
    """Inserts and updates of one table, kept until `flush` (inside the same transaction)."""

    def __init__(self, conn: sa.Connection, table: sa.Table) -> None:
        self.conn = conn
        self.table = table
        self._inserts: dict[int, dict[str, Any]] = {}
        self._updates: dict[int, dict[str, Any]] = {}

    def insert(self, row: dict[str, Any]) -> None:
        self._inserts[int(row["id"])] = row

    def update(self, row_id: int, values: dict[str, Any]) -> None:
        self._updates[row_id] = {"_row_id": row_id, **values}  # the last write of a row wins

    def flush(self) -> None:
        duckdb = self.conn.dialect.name == "duckdb"
        for columns, group in _grouped(self._inserts.values()).items():
            if duckdb:
                names = ", ".join(f'"{c}"' for c in columns)
                self._duckdb(
                    columns,
                    group,
                    f'INSERT INTO "{self.table.name}" ({names}) SELECT {names} FROM {_VIEW}',
                )
            else:
                self.conn.execute(
                    sa.insert(self.table), [dict(zip(columns, r, strict=True)) for r in group]
                )
        for columns, group in _grouped(self._updates.values()).items():
            set_columns = [c for c in columns if c != "_row_id"]
            if duckdb:
                assignments = ", ".join(f'"{c}" = u."{c}"' for c in set_columns)
                self._duckdb(
                    columns,
                    group,
                    f'UPDATE "{self.table.name}" SET {assignments} FROM {_VIEW} AS u '
                    f'WHERE "{self.table.name}".id = u._row_id',
                )
                continue
            statement = (
                sa.update(self.table)
                .where(self.table.c.id == sa.bindparam("_row_id"))
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

    def _duckdb(self, columns: tuple[str, ...], group: list[tuple[Any, ...]], sql: str) -> None:
        """Run `sql` over the rows as an Arrow table (DuckDB runs executemany row by row)."""
        json_columns = {c.name for c in self.table.c if isinstance(c.type, sa.JSON)}
        data = {
            name: [
                json.dumps(r[i]) if name in json_columns and r[i] is not None else r[i]
                for r in group
            ]
            for i, name in enumerate(columns)
        }
        cursor = self.conn.connection.driver_connection
        cursor.complete()  # type: ignore[union-attr]  # the last SELECT's result, read or not
        cursor.register(_VIEW, pa.table(data))  # type: ignore[union-attr]
        try:
            cursor.execute(sql)  # type: ignore[union-attr]
        finally:
            cursor.unregister(_VIEW)  # type: ignore[union-attr]


def _grouped(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, ...], list[tuple[Any, ...]]]:
    """Rows grouped by the columns they set, each as a tuple in sorted column order."""
    groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for row in rows:
        columns = tuple(sorted(row))
        groups.setdefault(columns, []).append(tuple(row[c] for c in columns))
    return groups


class ContactPage(GhlRecords):
    """Upserts of one page of GHL contacts: `prefetch` first, `flush` last, in one unit of
    work."""

    def __init__(
        self, uow: UnitOfWork, tenant_id: int, cipher: PiiCipher, recorded_from: str = "sync"
    ) -> None:
        super().__init__(uow, tenant_id, cipher, recorded_from)
        self._stored: dict[str, Any] = {}
        self._writes = BulkWrites(uow.connection, contacts)

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
            self._writes.insert({"id": row_id, "tenant_id": self.tenant_id, **values})
            merged: dict[str, Any] = {c.name: None for c in contacts.c}
        else:
            row_id, outcome = int(row.id), "updated"
            self._writes.update(row_id, values)
            merged = dict(row._asdict() if hasattr(row, "_asdict") else vars(row))
        # A later record of the same contact in this page sees this one as stored.
        merged.update(values, id=row_id, tenant_id=self.tenant_id)
        self._stored[str(values.get("external_id"))] = SimpleNamespace(**merged)
        return row_id, outcome  # type: ignore[return-value]

    def flush(self) -> None:
        self._writes.flush()


class MessagePage(GhlRecords):
    """Inserts of one page of GHL messages and the activities they make: `prefetch` first,
    `flush` last, in one unit of work. Messages never change once sent, so a stored one is
    skipped."""

    reads_contacts = True  # `prefetch` reads the contacts (False: a subclass knows them)

    def __init__(
        self, uow: UnitOfWork, tenant_id: int, cipher: PiiCipher, recorded_from: str = "sync"
    ) -> None:
        super().__init__(uow, tenant_id, cipher, recorded_from)
        self._known_messages: set[str] = set()
        self._contacts: dict[str, int] = {}
        self._writes = {
            messages.name: BulkWrites(uow.connection, messages),
            activities.name: BulkWrites(uow.connection, activities),
        }

    def prefetch(self, rows: Iterable[dict[str, Any]]) -> None:
        rows = list(rows)
        message_ids = sorted({str(r.get("messageId") or r.get("id") or "") for r in rows} - {""})
        contact_ids = sorted({str(r.get("contactId") or "") for r in rows} - {""})
        if message_ids:
            self._known_messages.update(
                self.conn.execute(
                    sa.select(messages.c.external_id).where(
                        messages.c.tenant_id == self.tenant_id,
                        messages.c.external_id.in_(message_ids),
                    )
                ).scalars()
            )
        if contact_ids and self.reads_contacts:
            found = self.conn.execute(
                sa.select(contacts.c.external_id, contacts.c.id).where(
                    contacts.c.tenant_id == self.tenant_id,
                    contacts.c.external_id.in_(contact_ids),
                    contacts.c.updated_at.is_not(None),  # placeholders: GhlRecords dates them
                )
            ).all()
            self._contacts.update({r.external_id: int(r.id) for r in found})

    def contact_id(self, external: Any, at: dt.datetime) -> int:
        found = self._contacts.get(str(external or ""))
        return found if found is not None else super().contact_id(external, at)

    def _find(self, table: sa.Table, external_id: str) -> Any:
        if table is messages:
            return True if external_id in self._known_messages else None
        return super()._find(table, external_id)

    def _write(self, table: sa.Table, row: Any, values: dict[str, Any]) -> tuple[int, Outcome]:
        writes = self._writes.get(table.name)
        if writes is None or row is not None:
            return super()._write(table, row, values)
        self.uow.touch(self.tenant_id)
        row_id = self.uow.next_id(table)
        writes.insert({"id": row_id, "tenant_id": self.tenant_id, **values})
        if table is messages:
            self._known_messages.add(str(values["external_id"]))
        return row_id, "created"

    def flush(self) -> None:
        self._writes[messages.name].flush()
        self._writes[activities.name].flush()


class OpportunityPage(GhlRecords):
    """Upserts of one page of GHL opportunities with the page's lookups read once: the
    tenant's pipeline stages and pipeline names, and the deals' contacts. The deal itself,
    its observations and stage history are written as `GhlRecords.upsert_opportunity` does
    (they depend on each other row by row)."""

    reads_contacts = True  # `prefetch` reads the contacts (False: a subclass knows them)

    def __init__(
        self, uow: UnitOfWork, tenant_id: int, cipher: PiiCipher, recorded_from: str = "sync"
    ) -> None:
        super().__init__(uow, tenant_id, cipher, recorded_from)
        self._contacts: dict[str, int] = {}  # contacts seen in full (not placeholders)
        self._deals: dict[str, Any] = {}  # the page's stored deals, as written so far
        self._looked_up: set[str] = set()  # deal ids whose absence is known too

    def prefetch(self, rows: Iterable[dict[str, Any]]) -> None:
        rows = list(rows)
        deal_ids = sorted({str(r.get("id") or "") for r in rows} - {""})
        if deal_ids:
            stored = self.conn.execute(
                sa.select(opportunities).where(
                    opportunities.c.tenant_id == self.tenant_id,
                    opportunities.c.external_id.in_(deal_ids),
                )
            ).all()
            self._deals = {r.external_id: r for r in stored}
            self._looked_up = set(deal_ids)
        found = self.conn.execute(
            sa.select(
                pipeline_stages.c.external_id,
                pipeline_stages.c.pipeline_id,
                pipeline_stages.c.stage_key,
            ).where(pipeline_stages.c.tenant_id == self.tenant_id)
        ).all()
        self._stages.update({r.external_id: (r.pipeline_id, str(r.stage_key)) for r in found})
        names = self.conn.execute(
            sa.select(pipelines.c.id, pipelines.c.name).where(
                pipelines.c.tenant_id == self.tenant_id
            )
        ).all()
        self._pipeline_names.update({int(r.id): r.name for r in names})
        contact_ids = sorted(
            {str(r.get("contactId") or (r.get("contact") or {}).get("id") or "") for r in rows}
            - {""}
        )
        if contact_ids and self.reads_contacts:
            known = self.conn.execute(
                sa.select(contacts.c.external_id, contacts.c.id).where(
                    contacts.c.tenant_id == self.tenant_id,
                    contacts.c.external_id.in_(contact_ids),
                    contacts.c.updated_at.is_not(None),  # placeholders: GhlRecords dates them
                )
            ).all()
            self._contacts = {r.external_id: int(r.id) for r in known}

    def _find(self, table: sa.Table, external_id: str) -> Any:
        if table is opportunities and external_id in self._looked_up:
            return self._deals.get(external_id)
        return super()._find(table, external_id)

    def _write(self, table: sa.Table, row: Any, values: dict[str, Any]) -> tuple[int, Outcome]:
        row_id, outcome = super()._write(table, row, values)
        if table is opportunities:
            # The row as stored now, for the deal's next read in this page.
            if row is None:
                merged: dict[str, Any] = {c.name: None for c in opportunities.c}
            else:
                merged = dict(row._asdict() if hasattr(row, "_asdict") else vars(row))
            merged.update(values, id=row_id, tenant_id=self.tenant_id)
            external = str(merged["external_id"])
            self._deals[external] = SimpleNamespace(**merged)
            self._looked_up.add(external)
        return row_id, outcome

    def contact_id(self, external: Any, at: dt.datetime) -> int:
        found = self._contacts.get(str(external or ""))
        return found if found is not None else super().contact_id(external, at)

    def _write_deal(
        self, row: Any, opportunity_id: int, external: str, values: dict[str, Any]
    ) -> None:
        super()._write_deal(row, opportunity_id, external, values)
        self._remember_deal(row, opportunity_id, external, values)

    def _remember_deal(
        self, row: Any, opportunity_id: int, external: str, values: dict[str, Any]
    ) -> None:
        """The deal as stored now, for a later record of it in this page."""
        if row is None:
            merged: dict[str, Any] = {c.name: None for c in opportunities.c}
        else:
            merged = dict(row._asdict() if hasattr(row, "_asdict") else vars(row))
        merged.update(values, id=opportunity_id, tenant_id=self.tenant_id, external_id=external)
        self._deals[external] = SimpleNamespace(**merged)
        self._looked_up.add(external)
