"""Bulk appends of Arrow tables: DuckDB scans Arrow directly, PostgreSQL gets COPY.

Everything appended inside one `bulk_load` lands in one transaction, so a failed load
leaves nothing half-written.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Protocol

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa

from dealscope.warehouse.engine import Warehouse

_COPY_BATCH_ROWS = 200_000


class BulkLoader(Protocol):
    def append(self, table: sa.Table, data: pa.Table) -> int:
        """Append every row of `data` (columns named as in `table`); returns the row count."""
        ...

    def execute(self, statement: sa.Executable) -> None:
        """Run a statement whose values are plain literals (ids, names) in the same transaction."""
        ...


def _checked_columns(table: sa.Table, data: pa.Table) -> list[str]:
    unknown = [name for name in data.column_names if name not in table.c]
    if unknown:
        raise ValueError(f"table {table.name!r} has no column(s) {', '.join(unknown)}")
    return list(data.column_names)


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _literal_sql(statement: sa.Executable, dialect: sa.Dialect) -> str:
    assert isinstance(statement, sa.ClauseElement)
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


class _DuckDBLoader:
    def __init__(self, cursor: object, dialect: sa.Dialect) -> None:
        self._cursor = cursor
        self._dialect = dialect

    def execute(self, statement: sa.Executable) -> None:
        self._cursor.execute(_literal_sql(statement, self._dialect))  # type: ignore[attr-defined]

    def append(self, table: sa.Table, data: pa.Table) -> int:
        columns = _checked_columns(table, data)
        view = f"_bulk_{table.name}"
        cur = self._cursor
        cur.register(view, data)  # type: ignore[attr-defined]
        try:
            cur.execute(  # type: ignore[attr-defined]
                f'INSERT INTO "{table.name}" ({_quoted(columns)}) '
                f"SELECT {_quoted(columns)} FROM {view}"
            )
        finally:
            with suppress(duckdb.Error):  # an aborted transaction refuses even this
                cur.unregister(view)  # type: ignore[attr-defined]
        return data.num_rows


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(column.type):
        return pc.cast(column, column.type.value_type)
    return column


class _PostgresLoader:
    def __init__(self, connection: object, dialect: sa.Dialect) -> None:
        self._connection = connection
        self._dialect = dialect
        self.loaded: list[str] = []  # tables appended to, in order

    def execute(self, statement: sa.Executable) -> None:
        with self._connection.cursor() as cur:  # type: ignore[attr-defined]
            cur.execute(_literal_sql(statement, self._dialect))

    def append(self, table: sa.Table, data: pa.Table) -> int:
        columns = _checked_columns(table, data)
        plain = pa.table([_plain(data.column(name)) for name in columns], names=columns)
        options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
        sql = f'COPY "{table.name}" ({_quoted(columns)}) FROM STDIN (FORMAT csv)'
        if table.name not in self.loaded:
            self.loaded.append(table.name)
        with self._connection.cursor() as cur, cur.copy(sql) as copy:  # type: ignore[attr-defined]
            for batch in plain.to_batches(max_chunksize=_COPY_BATCH_ROWS):
                buffer = io.BytesIO()
                pacsv.write_csv(batch, buffer, options)
                copy.write(buffer.getvalue())
        return data.num_rows


@contextmanager
def bulk_load(warehouse: Warehouse) -> Iterator[BulkLoader]:
    """A loader whose appends commit together on success and roll back together on error."""
    if warehouse.duckdb_connection is not None:
        cursor = warehouse.duckdb_connection.cursor()
        cursor.execute("BEGIN TRANSACTION")
        try:
            yield _DuckDBLoader(cursor, warehouse.engine.dialect)
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        else:
            cursor.execute("COMMIT")
        finally:
            cursor.close()
        return
    raw = warehouse.engine.raw_connection()
    try:
        loader = _PostgresLoader(raw.driver_connection, warehouse.engine.dialect)
        yield loader
    except BaseException:
        raw.rollback()
        raise
    else:
        raw.commit()
        # Fresh statistics for the planner now, not when autovacuum next looks: with a
        # table's rows counted as a handful, PostgreSQL picks nested loops over a million.
        if loader.loaded:
            loader.execute(sa.text("ANALYZE " + _quoted(loader.loaded)))
            raw.commit()
    finally:
        raw.close()
