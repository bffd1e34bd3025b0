"""Writing planned rows: insert what is new, update what changed, leave the rest alone.

Inside the import's unit of work. Inserts go in bulk (DuckDB scans an Arrow table; PostgreSQL
gets one multi-row INSERT per batch); updates touch only rows whose values differ from what
is stored, so re-importing a file changes nothing and says so.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from dealscope.warehouse.unit_of_work import UnitOfWork

Key = tuple[Hashable, ...]


@dataclass
class Counts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: Counts) -> Counts:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated)


def _arrow_type(column: sa.Column[Any]) -> pa.DataType:
    kind = column.type
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        return pa.decimal128(kind.precision or 38, kind.scale or 0)
    if isinstance(kind, sa.Float):
        return pa.float64()
    if isinstance(kind, sa.BigInteger):
        return pa.int64()
    if isinstance(kind, sa.SmallInteger):
        return pa.int16()
    if isinstance(kind, sa.Integer):
        return pa.int32()
    if isinstance(kind, sa.Boolean):
        return pa.bool_()
    if isinstance(kind, sa.DateTime):
        return pa.timestamp("us", tz="UTC")
    if isinstance(kind, sa.Date):
        return pa.date32()
    return pa.string()


def _arrow(table: sa.Table, rows: list[dict[str, Any]], names: list[str]) -> pa.Table:
    arrays = []
    for name in names:
        column = table.c[name]
        data = [r.get(name) for r in rows]
        if isinstance(column.type, sa.JSON):
            data = [None if x is None else json.dumps(x) for x in data]
        arrays.append(pa.array(data, _arrow_type(column)))
    return pa.table(arrays, names=names)


def insert_rows(uow: UnitOfWork, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    names = sorted({name for row in rows for name in row})
    if uow.warehouse.backend == "duckdb":
        cursor = uow.connection.connection.driver_connection
        view = f"_import_{table.name}"
        cursor.register(view, _arrow(table, rows, names))  # type: ignore[union-attr]
        try:
            columns = ", ".join(f'"{n}"' for n in names)
            uow.connection.exec_driver_sql(
                f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM {view}'
            )
        finally:
            cursor.unregister(view)  # type: ignore[union-attr]
        return
    full = [{name: row.get(name) for name in names} for row in rows]
    for start in range(0, len(full), 5_000):
        uow.connection.execute(table.insert(), full[start : start + 5_000])


def update_rows(uow: UnitOfWork, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Set each row's columns (all rows carry the same columns and `id`)."""
    if not rows:
        return
    names = [n for n in rows[0] if n != "id"]
    if uow.warehouse.backend == "duckdb" and len(rows) > 50:
        cursor = uow.connection.connection.driver_connection
        view = f"_update_{table.name}"
        cursor.register(view, _arrow(table, rows, ["id", *names]))  # type: ignore[union-attr]
        try:
            sets = ", ".join(f'"{n}" = u."{n}"' for n in names)
            uow.connection.exec_driver_sql(
                f'UPDATE "{table.name}" SET {sets} FROM {view} AS u WHERE "{table.name}".id = u.id'
            )
        finally:
            cursor.unregister(view)  # type: ignore[union-attr]
        return
    statement = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("_id"))
        .values({n: sa.bindparam(f"_v_{n}") for n in names})
    )
    params = [{"_id": r["id"], **{f"_v_{n}": r[n] for n in names}} for r in rows]
    uow.connection.execute(statement, params)


def _same(stored: Any, new: Any) -> bool:
    if isinstance(stored, str) and isinstance(new, list | dict):
        try:
            stored = json.loads(stored)
        except ValueError:
            return False
    if isinstance(stored, dt.datetime) and isinstance(new, dt.datetime):
        return stored.astimezone(dt.UTC) == new.astimezone(dt.UTC)
    if isinstance(stored, Decimal | int | float) and isinstance(new, Decimal | int | float):
        return Decimal(str(stored)) == Decimal(str(new))
    return bool(stored == new)


def load_existing(
    uow: UnitOfWork,
    table: sa.Table,
    tenant_id: int,
    key_columns: Iterable[str],
    columns: Iterable[str],
) -> dict[Key, dict[str, Any]]:
    """The tenant's stored rows of `table` by natural key, with `columns` and `id`."""
    keys = list(key_columns)
    wanted = sorted({"id", *keys, *columns})
    query = sa.select(*(table.c[n] for n in wanted)).where(table.c.tenant_id == tenant_id)
    found: dict[Key, dict[str, Any]] = {}
    for row in uow.connection.execute(query).mappings():
        found[tuple(row[k] for k in keys)] = dict(row)
    return found


@dataclass
class Upsert:
    """Rows to write into one table, matched to stored rows by natural key."""

    table: sa.Table
    tenant_id: int
    existing: dict[Key, dict[str, Any]]
    reserve: Callable[[int], int]  # n new ids of this table; returns the first
    expected: int = 256  # rows to be planned, so ids come in one block
    counts: Counts = field(default_factory=Counts)
    _inserts: list[dict[str, Any]] = field(default_factory=list, repr=False)
    _updates: list[dict[str, Any]] = field(default_factory=list, repr=False)
    _next: int = 0
    _end: int = 0

    def add(
        self,
        key: Key | None,
        values: dict[str, Any],
        create_only: dict[str, Any] | None = None,
        on_change: dict[str, Any] | None = None,
    ) -> tuple[int, dict[str, Any] | None]:
        """Plan one row; returns its id and the stored row it replaces (None when new).
        `create_only` values are written on insert only (created_at); `on_change` ones with
        any insert or update (updated_at), and never make a row count as changed."""
        stored = self.existing.get(key) if key is not None else None
        if stored is None:
            row_id = self._new_id()
            row = {
                "id": row_id,
                "tenant_id": self.tenant_id,
                **(create_only or {}),
                **(on_change or {}),
                **values,
            }
            self._inserts.append(row)
            if key is not None:
                self.existing[key] = row
            self.counts.inserted += 1
            return row_id, None
        if all(_same(stored.get(n), v) for n, v in values.items()):
            self.counts.unchanged += 1
            return int(stored["id"]), stored
        self._updates.append({"id": stored["id"], **(on_change or {}), **values})
        self.counts.updated += 1
        return int(stored["id"]), stored

    def _new_id(self) -> int:
        if self._next >= self._end:
            block = max(self.expected, 16)
            self._next = self.reserve(block)
            self._end = self._next + block
            self.expected = 256
        self._next += 1
        return self._next - 1

    def flush(self, uow: UnitOfWork) -> Counts:
        insert_rows(uow, self.table, self._inserts)
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in self._updates:
            by_columns.setdefault(tuple(row), []).append(row)
        for rows in by_columns.values():
            update_rows(uow, self.table, rows)
        self._inserts, self._updates = [], []
        return self.counts


def upsert_for(
    uow: UnitOfWork,
    table: sa.Table,
    tenant_id: int,
    existing: dict[Key, dict[str, Any]],
    expected: int = 256,
) -> Upsert:
    """An `Upsert` drawing new ids from the warehouse's allocator."""

    def reserve(count: int) -> int:
        return uow.warehouse.ids.reserve(table.name, count)

    return Upsert(table, tenant_id, existing, reserve, expected)
