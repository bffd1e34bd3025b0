"""All SQL of the audit log: writing one entry, and reading a tenant's entries."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from dealscope.api.audit.records import AuditRecord
from dealscope.api.audit.schemas import AuditEntryRead, AuditPage, AuditQuery
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import audit_log, tenants, users
from dealscope.warehouse.tenancy import TenantScope, scope_select


def insert_audit_record(warehouse: Warehouse, record: AuditRecord) -> int:
    """Write `record` in its own short transaction; returns the entry's id."""
    entry_id = warehouse.ids.next_id(audit_log.name)
    with warehouse.engine.begin() as connection:
        connection.execute(audit_log.insert().values(id=entry_id, **record.row()))
    return entry_id


def find_sign_in_account(
    connection: sa.Connection, username: str, tenant_slug: str | None
) -> tuple[int, int] | None:
    """The (tenant id, user id) a sign-in attempt's username names, when it names exactly one
    account, so the attempt lands in that tenant's audit log, failed or not."""
    stmt = (
        sa.select(users.c.tenant_id, users.c.id)
        .join(tenants, tenants.c.id == users.c.tenant_id)
        .where(users.c.email == username.strip().lower())
        .limit(2)
    )
    if tenant_slug:
        stmt = stmt.where(tenants.c.slug == tenant_slug)
    rows = connection.execute(stmt).all()
    return (int(rows[0].tenant_id), int(rows[0].id)) if len(rows) == 1 else None


def _filters(query: AuditQuery) -> list[sa.ColumnElement[bool]]:
    c = audit_log.c
    filters: list[sa.ColumnElement[bool]] = []
    if query.user_id is not None:
        filters.append(c.user_id == query.user_id)
    if query.actor is not None:
        filters.append(c.actor == query.actor)
    if query.action is not None:
        filters.append(c.action == query.action)
    if query.resource is not None:
        filters.append(c.resource.startswith(query.resource, autoescape=True))
    if query.outcome is not None:
        filters.append(c.outcome == query.outcome)
    if query.since is not None:
        filters.append(c.occurred_at >= query.since)
    if query.until is not None:
        filters.append(c.occurred_at < query.until)
    return filters


def list_audit_entries(
    connection: sa.Connection, scope: TenantScope, query: AuditQuery
) -> AuditPage:
    """The scope's entries matching `query`, newest first, one page of them."""
    stmt = scope_select(sa.select(*audit_log.c), audit_log, scope)
    stmt = (
        stmt.where(*_filters(query))
        .order_by(audit_log.c.occurred_at.desc(), audit_log.c.id.desc())
        .limit(query.limit + 1)  # one more, to know whether another page follows
        .offset(query.offset)
    )
    rows = connection.execute(stmt).mappings().all()
    items = [_entry(row) for row in rows[: query.limit]]
    more = len(rows) > query.limit
    return AuditPage(
        items=items,
        limit=query.limit,
        offset=query.offset,
        next_offset=query.offset + query.limit if more else None,
    )


def _entry(row: sa.RowMapping) -> AuditEntryRead:
    values: dict[str, Any] = dict(row)
    values.pop("tenant_id", None)
    return AuditEntryRead.model_validate(values)
