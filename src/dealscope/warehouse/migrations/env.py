"""Alembic environment: runs on the connection handed in by `dealscope.warehouse.migrate`."""

from __future__ import annotations

from alembic import context

from dealscope.warehouse import alembic_duckdb  # noqa: F401  (registers the duckdb dialect)
from dealscope.warehouse.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations through `dealscope db upgrade` (it opens the configured warehouse)"
    )

context.configure(connection=connection, target_metadata=metadata, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
