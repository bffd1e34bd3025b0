"""Alembic support for DuckDB, which Alembic does not ship.

DuckDB speaks PostgreSQL's DDL for what our migrations do (create table, add column, create
index), so the PostgreSQL implementation serves. Changing a column's type fails on DuckDB:
write such migrations as add column + copy + drop.
"""

from __future__ import annotations

from alembic.ddl.postgresql import PostgresqlImpl


class DuckDBImpl(PostgresqlImpl):
    __dialect__ = "duckdb"
