"""Tenants (brokerages): create one, list them, find one by slug or id.

The tenants table is the one table above tenancy: it is not scoped, because it is the scope.
Only the operator's command line creates and lists tenants; the API reads the caller's own.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from dealscope.api.auth.schemas import TenantCreate, TenantRead
from dealscope.errors import AlreadyExists, NotFound
from dealscope.warehouse.schema import tenants
from dealscope.warehouse.unit_of_work import UnitOfWork

_COLUMNS = (
    tenants.c.id,
    tenants.c.slug,
    tenants.c.name,
    tenants.c.timezone,
    tenants.c.currency,
    tenants.c.is_active,
)


def _read(row: sa.RowMapping) -> TenantRead:
    return TenantRead.model_validate(row)


def create_tenant(uow: UnitOfWork, data: TenantCreate, now: dt.datetime) -> TenantRead:
    """A new, empty tenant; AlreadyExists when the slug is taken."""
    conn = uow.connection
    if conn.execute(sa.select(tenants.c.id).where(tenants.c.slug == data.slug)).first():
        raise AlreadyExists(f"a tenant with the slug {data.slug!r} already exists")
    tenant_id = uow.next_id(tenants)
    conn.execute(
        tenants.insert().values(
            id=tenant_id,
            slug=data.slug,
            name=data.name,
            timezone=data.timezone,
            currency=data.currency,
            created_at=now,
        )
    )
    return get_tenant(conn, tenant_id)


def list_tenants(conn: sa.Connection) -> list[TenantRead]:
    rows = conn.execute(sa.select(*_COLUMNS).order_by(tenants.c.slug)).all()
    return [_read(row._mapping) for row in rows]


def get_tenant(conn: sa.Connection, tenant_id: int) -> TenantRead:
    row = conn.execute(sa.select(*_COLUMNS).where(tenants.c.id == tenant_id)).first()
    if row is None:
        raise NotFound(f"no tenant with id {tenant_id}")
    return _read(row._mapping)


def get_tenant_by_slug(conn: sa.Connection, slug: str) -> TenantRead:
    row = conn.execute(sa.select(*_COLUMNS).where(tenants.c.slug == slug)).first()
    if row is None:
        raise NotFound(f"no tenant {slug!r}; `dealscope tenants list` shows the tenants there are")
    return _read(row._mapping)
