"""Reading and changing a tenant's configuration documents, with optimistic concurrency.

Every change is a new version; a change must name the version it was based on, so two
people editing at once cannot silently overwrite each other. Services never commit: the
caller's unit of work does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from dealscope.api.auth.principal import Principal
from dealscope.api.configuration.documents import DOCUMENT_MODELS, ConfigKind, Document
from dealscope.api.configuration.repository import (
    StoredVersion,
    find_current_version,
    insert_version,
    list_versions,
)
from dealscope.errors import Conflict
from dealscope.kit.roles import Permission
from dealscope.warehouse.tenancy import TenantScope
from dealscope.warehouse.unit_of_work import UnitOfWork

# Kinds whose documents change computed figures: saving one moves the tenant's data version
# on, so cached results made under the old settings are not served again.
CHANGES_RESULTS = frozenset({ConfigKind.ATTRIBUTION})


@dataclass(frozen=True)
class ConfigState:
    """A version of a document, validated (version 0: the defaults, never saved)."""

    kind: ConfigKind
    version: int
    document: Document
    updated_at: dt.datetime | None
    updated_by: int | None


def _scope(principal: Principal) -> TenantScope:
    # Configuration belongs to the tenant, not to any agent: every role of the tenant reads
    # the same documents, whatever rows of data its role narrows it to.
    return TenantScope(principal.tenant_id)


def _state(kind: ConfigKind, stored: StoredVersion | None, principal: Principal) -> ConfigState:
    model = DOCUMENT_MODELS[kind]
    if stored is None:
        return ConfigState(kind, 0, model(), None, None)
    document = model.model_validate(stored.document)
    if not principal.can(Permission.WRITE_CONFIG):
        document = document.redacted()
    return ConfigState(kind, stored.version, document, stored.created_at, stored.created_by)


def get_config(connection: sa.Connection, principal: Principal, kind: ConfigKind) -> ConfigState:
    """The document of `kind` in force for the principal's tenant."""
    return _state(kind, find_current_version(connection, _scope(principal), kind), principal)


def list_config_versions(
    connection: sa.Connection, principal: Principal, kind: ConfigKind, limit: int
) -> list[ConfigState]:
    """Saved versions of `kind`, newest first (the defaults, version 0, are not listed)."""
    stored = list_versions(connection, _scope(principal), kind, limit)
    return [_state(kind, version, principal) for version in stored]


def save_config(
    uow: UnitOfWork,
    principal: Principal,
    kind: ConfigKind,
    based_on: int,
    document: Document,
    now: dt.datetime,
) -> ConfigState:
    """Save `document` as the next version of `kind`; `Conflict` unless `based_on` is the
    current version."""
    if not isinstance(document, DOCUMENT_MODELS[kind]):
        raise TypeError(f"a {kind.value} configuration needs {DOCUMENT_MODELS[kind].__name__}")
    current = find_current_version(uow.connection, _scope(principal), kind)
    current_version = 0 if current is None else current.version
    if based_on != current_version:
        raise Conflict(
            f"the {kind.value} configuration is at version {current_version}, but this change "
            f"is based on version {based_on}; reload it, apply your change again and send "
            f"version {current_version}"
        )
    saved = StoredVersion(
        version=current_version + 1,
        document=document.model_dump(mode="json"),
        created_at=now,
        created_by=principal.user_id,
    )
    insert_version(uow, principal.tenant_id, kind, saved)
    if kind in CHANGES_RESULTS:
        uow.touch(principal.tenant_id)
    return _state(kind, saved, principal)
