"""Per-tenant API keys for machine clients: create, list, revoke, and check one per request.

A key reads `dsk_<prefix>_<secret>`. The prefix (12 hex digits) is stored as it is, to find
the key and to tell keys apart in lists; the secret only as its SHA-256. The whole key is
shown once, when it is made. A key acts with its role for the whole tenant, so its role is
one of the tenant-wide roles (admin, analyst, viewer): a manager or agent key would have no
team or agent to be narrowed to.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets

import sqlalchemy as sa
import structlog

from dealscope.api.auth.principal import Principal, scope_for
from dealscope.api.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from dealscope.api.auth.tokens import digest
from dealscope.errors import AuthenticationFailed, NotFound, ValidationFailed
from dealscope.kit.roles import TENANT_WIDE_ROLES, Role
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import api_keys, tenants
from dealscope.warehouse.tenancy import TenantScope, scope_select
from dealscope.warehouse.unit_of_work import UnitOfWork, unit_of_work

KEY_SCHEME = "dsk"
_KEY = re.compile(rf"{KEY_SCHEME}_(?P<prefix>[0-9a-f]{{12}})_(?P<secret>[A-Za-z0-9_-]{{32,128}})")
# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)

log = structlog.get_logger(__name__)

_COLUMNS = (
    api_keys.c.id,
    api_keys.c.name,
    api_keys.c.prefix,
    api_keys.c.role,
    api_keys.c.created_by,
    api_keys.c.created_at,
    api_keys.c.last_used_at,
    api_keys.c.revoked_at,
)


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(f"{KEY_SCHEME}_")


def _select(tenant_id: int) -> sa.Select[tuple[object, ...]]:
    return scope_select(sa.select(*_COLUMNS), api_keys, TenantScope(tenant_id))


def list_api_keys(conn: sa.Connection, tenant_id: int) -> list[ApiKeyRead]:
    """The tenant's keys, revoked ones included, newest first; never their secrets."""
    rows = conn.execute(_select(tenant_id).order_by(api_keys.c.id.desc())).all()
    return [ApiKeyRead.model_validate(row._mapping) for row in rows]


def get_api_key(conn: sa.Connection, tenant_id: int, key_id: int) -> ApiKeyRead:
    row = conn.execute(_select(tenant_id).where(api_keys.c.id == key_id)).first()
    if row is None:
        raise NotFound(f"no API key with id {key_id} in this tenant")
    return ApiKeyRead.model_validate(row._mapping)


def create_api_key(
    uow: UnitOfWork, tenant_id: int, data: ApiKeyCreate, created_by: int | None, now: dt.datetime
) -> ApiKeyCreated:
    """A new key; the returned `key` is the only time its secret is ever available."""
    if data.role not in TENANT_WIDE_ROLES:
        allowed = ", ".join(sorted(r.value for r in TENANT_WIDE_ROLES))
        raise ValidationFailed(
            f"an API key acts for the whole tenant, so its role must be one of {allowed} "
            f"(not {data.role.value})"
        )
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    key_id = uow.next_id(api_keys)
    uow.connection.execute(
        api_keys.insert().values(
            id=key_id,
            tenant_id=tenant_id,
            name=data.name.strip(),
            prefix=prefix,
            key_hash=digest(secret),
            role=data.role.value,
            created_by=created_by,
            created_at=now,
        )
    )
    stored = get_api_key(uow.connection, tenant_id, key_id)
    return ApiKeyCreated(**stored.model_dump(), key=f"{KEY_SCHEME}_{prefix}_{secret}")


def revoke_api_key(uow: UnitOfWork, tenant_id: int, key_id: int, now: dt.datetime) -> ApiKeyRead:
    """The key stops working at once; revoking a revoked key keeps its first revocation."""
    get_api_key(uow.connection, tenant_id, key_id)
    uow.connection.execute(
        sa.update(api_keys)
        .where(
            api_keys.c.tenant_id == tenant_id,
            api_keys.c.id == key_id,
            api_keys.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return get_api_key(uow.connection, tenant_id, key_id)


def authenticate_api_key(warehouse: Warehouse, key: str, now: dt.datetime) -> Principal:
    """The caller an API key stands for, or AuthenticationFailed."""
    match = _KEY.fullmatch(key.strip())
    if match is None:
        raise AuthenticationFailed("the API key is malformed; it reads dsk_<prefix>_<secret>")
    with warehouse.engine.connect() as conn:
        row = conn.execute(
            sa.select(
                api_keys.c.id,
                api_keys.c.tenant_id,
                api_keys.c.name,
                api_keys.c.key_hash,
                api_keys.c.role,
                api_keys.c.last_used_at,
                api_keys.c.revoked_at,
                tenants.c.is_active.label("tenant_active"),
            )
            .join(tenants, tenants.c.id == api_keys.c.tenant_id)
            .where(api_keys.c.prefix == match["prefix"])
        ).first()
        if row is None or not hmac.compare_digest(digest(match["secret"]), row.key_hash):
            raise AuthenticationFailed("the API key is not valid")
        if row.revoked_at is not None:
            raise AuthenticationFailed("this API key has been revoked; ask an admin for a new one")
        if not row.tenant_active:
            raise AuthenticationFailed("this API key's tenant is disabled")
        tenant_id, role = int(row.tenant_id), Role(row.role)
        scope = scope_for(conn, tenant_id, role, None, None)
    if row.last_used_at is None or row.last_used_at <= now - LAST_USED_RESOLUTION:
        _stamp_last_used(warehouse, int(row.id), now)
    return Principal(
        tenant_id=tenant_id,
        role=role,
        scope=scope,
        display=f"API key {row.name}",
        api_key_id=int(row.id),
    )


def _stamp_last_used(warehouse: Warehouse, key_id: int, now: dt.datetime) -> None:
    """Record the key's use. Best effort: two requests of one key may race to write it (on
    DuckDB the loser gets a transaction conflict), and the request must not fail for that."""
    try:
        with unit_of_work(warehouse) as uow:
            uow.connection.execute(
                sa.update(api_keys)
                .where(api_keys.c.id == key_id)
                .where(
                    sa.or_(
                        api_keys.c.last_used_at.is_(None),
                        api_keys.c.last_used_at < now - LAST_USED_RESOLUTION,
                    )
                )
                .values(last_used_at=now)
            )
    except sa.exc.DBAPIError as exc:
        log.warning("api_key.last_used_not_recorded", api_key_id=key_id, error=str(exc.orig))
