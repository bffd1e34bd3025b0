"""Finding the rows an imported row refers to: agents, contacts, offices, teams."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from dealscope.ingest.files.values import BadValue
from dealscope.kit.crypto import PiiCipher
from dealscope.warehouse.schema import agents, contacts, offices, teams


@dataclass
class AgentDirectory:
    """The tenant's agents by external id, email and full name (case-insensitive)."""

    by_external: dict[str, int] = field(default_factory=dict)
    by_email: dict[str, int] = field(default_factory=dict)
    by_name: dict[str, list[int]] = field(default_factory=dict)
    split: dict[int, Decimal | None] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: sa.Connection, tenant_id: int) -> AgentDirectory:
        found = cls()
        query = sa.select(
            agents.c.id,
            agents.c.external_id,
            agents.c.email,
            agents.c.first_name,
            agents.c.last_name,
            agents.c.agent_split,
        ).where(agents.c.tenant_id == tenant_id)
        for row in conn.execute(query):
            if row.external_id:
                found.by_external[row.external_id] = row.id
            if row.email:
                found.by_email[row.email.lower()] = row.id
            name = f"{row.first_name} {row.last_name}".strip().lower()
            found.by_name.setdefault(name, []).append(row.id)
            found.split[row.id] = row.agent_split
        return found

    def resolve(self, ref: str) -> int:
        if ref in self.by_external:
            return self.by_external[ref]
        lowered = ref.strip().lower()
        if lowered in self.by_email:
            return self.by_email[lowered]
        named = self.by_name.get(" ".join(lowered.split()), [])
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            raise BadValue(f"{len(named)} agents are named {ref!r}; use the agent's email")
        raise BadValue(f"no agent {ref!r} (looked up by id, email and full name)")


@dataclass
class ContactDirectory:
    by_external: dict[str, int]
    by_email_hash: dict[str, int]
    cipher: PiiCipher

    @classmethod
    def load(cls, conn: sa.Connection, tenant_id: int, cipher: PiiCipher) -> ContactDirectory:
        query = sa.select(contacts.c.id, contacts.c.external_id, contacts.c.email_hash).where(
            contacts.c.tenant_id == tenant_id, contacts.c.deleted_at.is_(None)
        )
        external: dict[str, int] = {}
        hashed: dict[str, int] = {}
        for row in conn.execute(query):
            if row.external_id:
                external[row.external_id] = row.id
            if row.email_hash:
                hashed.setdefault(row.email_hash, row.id)
        return cls(external, hashed, cipher)

    def find(self, external_id: str | None, email: str | None) -> int | None:
        if external_id and external_id in self.by_external:
            return self.by_external[external_id]
        digest = self.cipher.email_hash(email) if email else None
        if digest and digest in self.by_email_hash:
            return self.by_email_hash[digest]
        return None

    def resolve(self, external_id: str | None, email: str | None) -> int:
        found = self.find(external_id, email)
        if found is None:
            named = " or ".join(
                repr(x) for x in (external_id, email) if x
            )  # the row named at least one
            raise BadValue(f"no contact {named}; import the contacts first")
        return found


def names_of(conn: sa.Connection, table: sa.Table, tenant_id: int) -> dict[str, int]:
    """Offices or teams of the tenant by lower-case name."""
    query = sa.select(table.c.id, table.c.name).where(table.c.tenant_id == tenant_id)
    return {row.name.strip().lower(): row.id for row in conn.execute(query)}


__all__ = ["AgentDirectory", "ContactDirectory", "names_of", "offices", "teams"]
