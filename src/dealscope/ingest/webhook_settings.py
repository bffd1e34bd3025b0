"""Per-tenant webhook settings (`webhook_settings`): reading them as credentials, changing
them, and the tenant a webhook URL names."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from dealscope.errors import NotFound, ValidationFailed
from dealscope.ingest.ghl.webhook_auth import (
    WebhookCredentials,
    load_ed25519_key,
    load_rsa_key,
    secret_sha256,
)
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import tenants, webhook_settings
from dealscope.warehouse.unit_of_work import UnitOfWork

MIN_SECRET_LENGTH = 24


@dataclass(frozen=True)
class TenantWebhooks:
    tenant_id: int
    slug: str
    credentials: WebhookCredentials


def load_tenant_webhooks(warehouse: Warehouse, slug: str) -> TenantWebhooks:
    """The active tenant called `slug` and its webhook credentials; NotFound otherwise."""
    with warehouse.engine.connect() as conn:
        row = conn.execute(
            sa.select(
                tenants.c.id,
                webhook_settings.c.ghl_ed25519_public_key,
                webhook_settings.c.ghl_rsa_public_key,
                webhook_settings.c.workflow_secret_sha256,
                webhook_settings.c.generic_secret,
                webhook_settings.c.location_ids,
            )
            .select_from(
                tenants.outerjoin(webhook_settings, webhook_settings.c.tenant_id == tenants.c.id)
            )
            .where(tenants.c.slug == slug, tenants.c.is_active.is_(True))
        ).first()
    if row is None:
        raise NotFound(f"no active tenant {slug!r} receives webhooks here")
    credentials = WebhookCredentials(
        ed25519_public_key=load_ed25519_key(row.ghl_ed25519_public_key)
        if row.ghl_ed25519_public_key
        else None,
        rsa_public_key=load_rsa_key(row.ghl_rsa_public_key) if row.ghl_rsa_public_key else None,
        workflow_secret_sha256=row.workflow_secret_sha256,
        generic_secret=row.generic_secret,
        location_ids=frozenset(row.location_ids or ()),
    )
    return TenantWebhooks(int(row.id), slug, credentials)


def read_settings(conn: sa.Connection, tenant_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        sa.select(webhook_settings).where(webhook_settings.c.tenant_id == tenant_id)
    ).first()
    return None if row is None else dict(row._mapping)


def write_settings(
    uow: UnitOfWork, tenant_id: int, changes: dict[str, Any], user_id: int | None
) -> dict[str, Any]:
    """Apply `changes` (only the keys given; None clears one). Keys are checked by loading
    them; secrets must be at least MIN_SECRET_LENGTH characters; the workflow secret is kept
    only as its SHA-256."""
    values: dict[str, Any] = {}
    if "ghl_ed25519_public_key" in changes:
        key = changes["ghl_ed25519_public_key"]
        if key:
            load_ed25519_key(key)
        values["ghl_ed25519_public_key"] = key or None
    if "ghl_rsa_public_key" in changes:
        key = changes["ghl_rsa_public_key"]
        if key:
            load_rsa_key(key)
        values["ghl_rsa_public_key"] = key or None
    for name, column in (
        ("workflow_secret", "workflow_secret_sha256"),
        ("generic_secret", "generic_secret"),
    ):
        if name in changes:
            secret = changes[name]
            if secret is not None and len(secret) < MIN_SECRET_LENGTH:
                raise ValidationFailed(f"{name} must be at least {MIN_SECRET_LENGTH} characters")
            stored = secret if column == "generic_secret" else secret_sha256(secret)
            values[column] = None if secret is None else stored
    if "location_ids" in changes:
        values["location_ids"] = sorted(set(changes["location_ids"] or []))
    now = dt.datetime.now(dt.UTC)
    values.update(updated_at=now, updated_by=user_id)
    conn = uow.connection
    conn.execute(
        pg_insert(webhook_settings)
        .values(id=uow.next_id(webhook_settings), tenant_id=tenant_id, **values)
        .on_conflict_do_update(index_elements=["tenant_id"], set_=values)
    )
    found = read_settings(conn, tenant_id)
    assert found is not None
    return found
