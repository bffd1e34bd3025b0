"""Alembic support for DuckDB, which Alembic does not ship.

DuckDB speaks PostgreSQL's DDL for what our migrations do (create table, add column, create
index), so the PostgreSQL implementation serves. Changing a column's type fails on DuckDB:
write such migrations as add column + copy + drop.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.ddl.postgresql import PostgresqlImpl


class DuckDBImpl(PostgresqlImpl):
    __dialect__ = "duckdb"

    def drop_column(
        self, table_name: str, column: sa.Column[Any], schema: str | None = None, **kw: Any
    ) -> None:
        """DuckDB refuses to drop a column of a table that has an index (`CREATE INDEX`, not
        its primary key or unique constraints): drop the table's indexes, the column, then
        create again the indexes that did not cover it."""
        indexes = self.connection.execute(  # type: ignore[union-attr]
            sa.text(
                "SELECT index_name, sql, expressions FROM duckdb_indexes() "
                "WHERE table_name = :table AND sql IS NOT NULL"
            ),
            {"table": table_name},
        ).all()
        for name, _, _ in indexes:
            self._exec(sa.text(f'DROP INDEX "{name}"'))
        super().drop_column(table_name, column, schema=schema, **kw)
        for _, sql, expressions in indexes:
            if column.name not in str(expressions):
                self._exec(sa.text(sql))
