"""The warehouse on DuckDB and PostgreSQL alike: schema, ids, writes, scoping, reads."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from cryptography.fernet import Fernet

from dealscope.demo.generator import BrokerageSpec, generate_brokerage
from dealscope.demo.loader import find_tenant, load_brokerage
from dealscope.demo.users import create_demo_users
from dealscope.errors import ValidationFailed
from dealscope.kit.crypto import PiiCipher
from dealscope.kit.passwords import verify_password
from dealscope.warehouse import schema
from dealscope.warehouse.bulk import bulk_load
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.migrate import current_revision, ensure_current, head_revision
from dealscope.warehouse.tenancy import ScopeViolation, TenantScope, scope_select, scope_table
from dealscope.warehouse.unit_of_work import unit_of_work

END = dt.date(2025, 3, 31)
CIPHER = PiiCipher([Fernet.generate_key()], b"test-hash-key")
NOW = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)


def _columns(warehouse: Warehouse) -> dict[str, dict[str, bool]]:
    """table -> column -> nullable, read from information_schema (both backends have it)."""
    query = sa.text(
        "SELECT table_name, column_name, is_nullable FROM information_schema.columns "
        "WHERE table_schema IN ('main', 'public')"
    )
    found: dict[str, dict[str, bool]] = {}
    with warehouse.engine.connect() as conn:
        for table, column, nullable in conn.execute(query):
            found.setdefault(table, {})[column] = nullable == "YES"
    return found


def test_migrations_create_the_schema_on_both_backends(warehouse: Warehouse) -> None:
    assert current_revision(warehouse) == head_revision()
    ensure_current(warehouse)
    found = _columns(warehouse)
    for name, table in schema.metadata.tables.items():
        assert found.get(name) == {c.name: bool(c.nullable) for c in table.columns}, name
    if warehouse.backend == "postgres":
        # Types, indexes and constraints too (SQLAlchemy cannot reflect DuckDB's catalog).
        with warehouse.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, schema.metadata) == []


def test_ids_are_unique_across_blocks_and_singles(warehouse: Warehouse) -> None:
    block = warehouse.ids.reserve("contacts", 1000)
    singles = [warehouse.ids.next_id("contacts") for _ in range(100)]
    second = warehouse.ids.reserve("contacts", 10)
    ids = list(range(block, block + 1000)) + singles + list(range(second, second + 10))
    assert len(set(ids)) == len(ids)
    assert warehouse.ids.reserve("agents", 5) == 1  # counters are per table


def _tenant(uow_conn: sa.Connection, tenant_id: int, slug: str) -> None:
    uow_conn.execute(
        schema.tenants.insert().values(id=tenant_id, slug=slug, name=slug, created_at=NOW)
    )


def test_unit_of_work_commits_all_or_nothing(warehouse: Warehouse) -> None:
    with unit_of_work(warehouse) as uow:
        _tenant(uow.connection, 1, "alpha")
    with pytest.raises(RuntimeError), unit_of_work(warehouse) as uow:
        uow.connection.execute(schema.offices.insert().values(id=1, tenant_id=1, name="HQ"))
        uow.touch(1)
        raise RuntimeError("half-way")
    with warehouse.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.offices)).scalar() == 0
        assert conn.execute(sa.select(schema.tenants.c.data_version)).scalar() == 0
    with unit_of_work(warehouse) as uow:
        uow.connection.execute(schema.offices.insert().values(id=1, tenant_id=1, name="HQ"))
        uow.touch(1)
    with warehouse.engine.connect() as conn:
        assert conn.execute(sa.select(schema.tenants.c.data_version)).scalar() == 1


def test_bulk_load_rolls_back_every_table_on_error(warehouse: Warehouse) -> None:
    offices = pa.table({"id": [1, 2], "tenant_id": [1, 1], "name": ["A", "B"]})
    with pytest.raises(ValueError, match="no column"), bulk_load(warehouse) as loader:
        loader.append(schema.offices, offices)
        loader.append(schema.teams, pa.table({"id": [1], "nonsense": [1]}))
    with warehouse.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.offices)).scalar() == 0


def test_bulk_load_keeps_money_exact(warehouse: Warehouse) -> None:
    amounts = [0.01, 1234567.89, 19.99, 0.1 + 0.2]
    with bulk_load(warehouse) as loader:
        loader.append(
            schema.marketing_spend,
            pa.table(
                {
                    "id": [1, 2, 3, 4],
                    "tenant_id": [1] * 4,
                    "source": ["zillow"] * 4,
                    "spend_month": pa.array([dt.date(2025, 1, 1)] * 4),
                    "amount": [round(a, 2) for a in amounts],
                }
            ),
        )
    with warehouse.engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.sum(schema.marketing_spend.c.amount))).scalar()
    assert str(total) == "1234588.19"  # 0.01 + 1234567.89 + 19.99 + 0.30


@pytest.fixture
def two_tenants(warehouse: Warehouse) -> tuple[Warehouse, int, int]:
    small = generate_brokerage(BrokerageSpec(leads=1_500, seed=5, end=END, years=1, agents=12))
    other = generate_brokerage(BrokerageSpec(leads=800, seed=6, end=END, years=1, agents=8))
    first = load_brokerage(warehouse, small, "alpha", cipher=CIPHER).tenant_id
    second = load_brokerage(warehouse, other, "beta", cipher=CIPHER, tenant_name="Beta Homes")
    return warehouse, first, second.tenant_id


def test_load_writes_every_generated_row_with_consistent_ids(
    two_tenants: tuple[Warehouse, int, int],
) -> None:
    warehouse, alpha, beta = two_tenants
    assert find_tenant(warehouse, "alpha") == alpha and find_tenant(warehouse, "nope") is None
    with warehouse.engine.connect() as conn:
        counts = dict(
            conn.execute(
                sa.select(schema.opportunities.c.tenant_id, sa.func.count()).group_by(
                    schema.opportunities.c.tenant_id
                )
            ).all()
        )
        # Every deal's contact and agent exist, in the same tenant.
        o, c, a = schema.opportunities, schema.contacts, schema.agents
        orphans = conn.execute(
            sa.select(sa.func.count())
            .select_from(o)
            .outerjoin(c, (c.c.id == o.c.contact_id) & (c.c.tenant_id == o.c.tenant_id))
            .outerjoin(a, (a.c.id == o.c.assigned_agent_id) & (a.c.tenant_id == o.c.tenant_id))
            .where(sa.or_(c.c.id.is_(None), a.c.id.is_(None)))
        ).scalar()
        versions = dict(
            conn.execute(sa.select(schema.tenants.c.slug, schema.tenants.c.data_version)).all()
        )
    assert counts[alpha] > 1_500 and counts[beta] > 800
    assert orphans == 0
    assert versions == {"alpha": 1, "beta": 1}


def test_replacing_a_tenant_swaps_its_data_and_leaves_others(
    two_tenants: tuple[Warehouse, int, int],
) -> None:
    warehouse, alpha, beta = two_tenants
    again = generate_brokerage(BrokerageSpec(leads=300, seed=9, end=END, years=1, agents=5))
    with pytest.raises(ValidationFailed, match="already exists"):
        load_brokerage(warehouse, again, "alpha", cipher=CIPHER)
    result = load_brokerage(warehouse, again, "alpha", cipher=CIPHER, replace=True)
    assert result.tenant_id == alpha
    with warehouse.engine.connect() as conn:
        agents = dict(
            conn.execute(
                sa.select(schema.agents.c.tenant_id, sa.func.count()).group_by(
                    schema.agents.c.tenant_id
                )
            ).all()
        )
        version = conn.execute(
            sa.select(schema.tenants.c.data_version).where(schema.tenants.c.id == alpha)
        ).scalar()
    assert agents == {alpha: 5, beta: 8}
    assert version == 2


def test_tenancy_scopes_ibis_and_sqlalchemy_reads(two_tenants: tuple[Warehouse, int, int]) -> None:
    warehouse, alpha, _beta = two_tenants
    con = warehouse.ibis()
    deals = con.table("opportunities")
    tenant = scope_table(deals, "opportunities", TenantScope(alpha))
    frame = tenant.execute()
    assert set(frame.tenant_id) == {alpha}
    some_agent = int(frame.assigned_agent_id.iloc[0])
    mine = scope_table(deals, "opportunities", TenantScope.for_agents(alpha, [some_agent]))
    assert set(mine.execute().assigned_agent_id) == {some_agent}
    expected = int((frame.assigned_agent_id == some_agent).sum())
    stmt = scope_select(
        sa.select(sa.func.count()).select_from(schema.opportunities),
        schema.opportunities,
        TenantScope.for_agents(alpha, [some_agent]),
    )
    with warehouse.engine.connect() as conn:
        assert conn.execute(stmt).scalar() == expected
    # Shared market data stays visible to an agent; company money does not.
    listings = scope_table(con.table("listings"), "listings", TenantScope.for_agents(alpha, [1]))
    assert listings.count().execute() > 0
    with pytest.raises(ScopeViolation, match="marketing_spend"):
        scope_table(
            con.table("marketing_spend"),
            "marketing_spend",
            TenantScope.for_agents(alpha, [some_agent]),
        )
    with pytest.raises(ScopeViolation, match="no tenant data"):
        scope_table(con.table("id_allocator"), "id_allocator", TenantScope(alpha))


def test_demo_users_one_per_role_idempotent(two_tenants: tuple[Warehouse, int, int]) -> None:
    warehouse, alpha, _ = two_tenants
    logins = create_demo_users(warehouse, alpha)
    assert [login.role for login in logins] == ["admin", "manager", "analyst", "agent", "viewer"]
    create_demo_users(warehouse, alpha)
    with warehouse.engine.connect() as conn:
        rows = conn.execute(sa.select(schema.users).where(schema.users.c.tenant_id == alpha)).all()
    assert len(rows) == 5
    by_role = {r.role: r for r in rows}
    agent = by_role["agent"]
    assert agent.agent_id is not None and by_role["manager"].team_id == agent.team_id
    assert verify_password("demo-agent", agent.password_hash)
    assert not verify_password("wrong", agent.password_hash)
