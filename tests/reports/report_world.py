"""Test data of the report tests: a generated brokerage with a few hostile campaign names
(text a spreadsheet would run as a formula), and warehouses loaded once per module."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from dealscope.demo.generator import BrokerageSpec, generate_brokerage
from dealscope.demo.loader import load_brokerage
from dealscope.kit.crypto import PiiCipher
from dealscope.warehouse.engine import Warehouse, open_warehouse
from dealscope.warehouse.migrate import upgrade
from dealscope.warehouse.schema import agents, contacts
from dealscope.warehouse.unit_of_work import unit_of_work

END = dt.date(2025, 3, 31)  # the reports' as-of day: the last day of March
CIPHER = PiiCipher([Fernet.generate_key()], b"reports-hash-key")
HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+1-555-0100", "@SUM(A1:A9)", "-2+3"]


@dataclass(frozen=True)
class World:
    warehouse: Warehouse
    tenant_id: int
    agent_ids: list[int]
    agent_names: dict[int, str]


def load_world(warehouse: Warehouse, slug: str = "acme") -> World:
    spec = BrokerageSpec(leads=1500, seed=11, end=END, years=1, agents=6, name="Acme Realty")
    tenant_id = load_brokerage(warehouse, generate_brokerage(spec), slug, cipher=CIPHER).tenant_id
    with unit_of_work(warehouse) as uow:
        rows = uow.connection.execute(
            sa.select(agents.c.id, agents.c.first_name, agents.c.last_name)
            .where(agents.c.tenant_id == tenant_id)
            .order_by(agents.c.id)
        ).all()
        march = uow.connection.execute(
            sa.select(contacts.c.id)
            .where(
                contacts.c.tenant_id == tenant_id,
                contacts.c.created_at >= dt.datetime(2025, 3, 10, tzinfo=dt.UTC),
                contacts.c.created_at < dt.datetime(2025, 3, 25, tzinfo=dt.UTC),
                contacts.c.deleted_at.is_(None),
            )
            .order_by(contacts.c.id)
            .limit(len(HOSTILE))
        ).scalars()
        for contact_id, name in zip(list(march), HOSTILE, strict=True):
            uow.connection.execute(
                contacts.update().where(contacts.c.id == contact_id).values(utm_campaign=name)
            )
        uow.touch(tenant_id)
    return World(
        warehouse,
        tenant_id,
        [int(r.id) for r in rows],
        {int(r.id): f"{r.first_name} {r.last_name}" for r in rows},
    )


@contextmanager
def module_warehouse(request: pytest.FixtureRequest, backend: str) -> Iterator[Warehouse]:
    """A migrated, empty warehouse for one test module: a DuckDB file, or the session's
    PostgreSQL database with its schema dropped and re-created."""
    if backend == "duckdb":
        factory = request.getfixturevalue("tmp_path_factory")
        path = factory.mktemp("reports") / "warehouse.duckdb"
        shutil.copyfile(request.getfixturevalue("_migrated_duckdb_file"), path)
        warehouse = open_warehouse(f"duckdb:///{path}")
    else:
        warehouse = open_warehouse(request.getfixturevalue("postgres_url"))
        with warehouse.engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        upgrade(warehouse)
    try:
        yield warehouse
    finally:
        warehouse.close()
