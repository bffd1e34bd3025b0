"""Schema migrations (Alembic) on DuckDB and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from dealscope.config import get_settings
from dealscope.errors import SchemaOutOfDate
from dealscope.warehouse import alembic_duckdb  # noqa: F401  (registers the duckdb dialect)
from dealscope.warehouse.engine import Warehouse, open_warehouse

_MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(warehouse: Warehouse) -> str | None:
    """The revision the warehouse is at; None for an empty database."""
    with warehouse.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(warehouse: Warehouse, revision: str = "head") -> None:
    """Bring the schema up to `revision` in one transaction."""
    config = _config()
    with warehouse.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(warehouse: Warehouse, revision: str) -> None:
    config = _config()
    with warehouse.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def new_revision(warehouse: Warehouse, message: str) -> Path:
    """Write a migration for what `schema.py` changed, compared with this (migrated)
    warehouse; returns the new file's path."""
    config = _config()
    with warehouse.engine.begin() as connection:
        config.attributes["connection"] = connection
        script = command.revision(config, message=message, autogenerate=True)
    assert script is not None and not isinstance(script, list)
    return Path(script.path)


def ensure_current(warehouse: Warehouse) -> None:
    """Raise SchemaOutOfDate unless the warehouse is at this code's head revision."""
    current, head = current_revision(warehouse), head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"the warehouse schema is at revision {current or 'none (empty database)'} but this "
            f"version of DealScope needs {head}; run `dealscope db upgrade`"
        )


@contextmanager
def opened_warehouse(url: str | None = None, check_schema: bool = True) -> Iterator[Warehouse]:
    """The warehouse at `url` (default: the configured one), open for the block and closed
    after it, checked to be at this code's schema revision unless `check_schema` is false
    (for `db upgrade` itself)."""
    warehouse = open_warehouse(url or get_settings().resolved_database_url)
    try:
        if check_schema:
            ensure_current(warehouse)
        yield warehouse
    finally:
        warehouse.close()
