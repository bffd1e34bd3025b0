"""All SQL of the configuration documents: the current version, the history, a new version."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from dealscope.api.configuration.documents import ConfigKind
from dealscope.errors import Conflict
from dealscope.warehouse.schema import config_documents
from dealscope.warehouse.tenancy import TenantScope, scope_select
from dealscope.warehouse.unit_of_work import UnitOfWork

_c = config_documents.c


@dataclass(frozen=True)
class StoredVersion:
    """One saved version of a configuration document, its JSON as stored."""

    version: int
    document: dict[str, Any]
    created_at: dt.datetime
    created_by: int | None


def _versions(scope: TenantScope, kind: ConfigKind) -> sa.Select[tuple[Any, ...]]:
    stmt = sa.select(_c.version, _c.document, _c.created_at, _c.created_by)
    return (
        scope_select(stmt, config_documents, scope)
        .where(_c.kind == kind.value)
        .order_by(_c.version.desc())
    )


def _stored(row: sa.Row[tuple[Any, ...]]) -> StoredVersion:
    return StoredVersion(
        version=int(row.version),
        document=dict(row.document),
        created_at=row.created_at,
        created_by=row.created_by,
    )


def find_current_version(
    connection: sa.Connection, scope: TenantScope, kind: ConfigKind
) -> StoredVersion | None:
    """The newest saved version of `kind`, or None while nothing has been saved."""
    row = connection.execute(_versions(scope, kind).limit(1)).first()
    return None if row is None else _stored(row)


def list_versions(
    connection: sa.Connection, scope: TenantScope, kind: ConfigKind, limit: int
) -> list[StoredVersion]:
    """Saved versions of `kind`, newest first."""
    return [_stored(row) for row in connection.execute(_versions(scope, kind).limit(limit))]


def insert_version(
    uow: UnitOfWork,
    tenant_id: int,
    kind: ConfigKind,
    version: StoredVersion,
) -> None:
    """Save `version`; `Conflict` when another writer saved the same number first."""
    # No savepoint (DuckDB has none): the Conflict rolls the whole unit of work back.
    try:
        uow.connection.execute(
            config_documents.insert().values(
                id=uow.next_id(config_documents),
                tenant_id=tenant_id,
                kind=kind.value,
                version=version.version,
                document=version.document,
                created_by=version.created_by,
                created_at=version.created_at,
            )
        )
    except sa.exc.IntegrityError as exc:
        raise Conflict(
            f"the {kind.value} configuration was changed by someone else at the same time "
            f"(version {version.version} exists now); reload it and apply your change again"
        ) from exc
