"""The authenticated caller of a request and the data scope its role grants."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from dealscope.kit.roles import TENANT_WIDE_ROLES, Permission, Role, allows
from dealscope.warehouse.schema import agents
from dealscope.warehouse.tenancy import TenantScope


@dataclass(frozen=True)
class Principal:
    """A signed-in user or an API key, with its tenant, role and data scope."""

    tenant_id: int
    role: Role
    scope: TenantScope
    display: str  # the user's email or the API key's name, for the audit log
    user_id: int | None = None
    api_key_id: int | None = None
    session_id: int | None = None
    agent_id: int | None = None
    team_id: int | None = None

    @property
    def subject(self) -> str:
        """A stable key for rate limits and logs: `user:<id>` or `api_key:<id>`."""
        return f"user:{self.user_id}" if self.user_id is not None else f"api_key:{self.api_key_id}"

    def can(self, permission: Permission) -> bool:
        return allows(self.role, permission)


def scope_for(
    conn: sa.Connection, tenant_id: int, role: Role, agent_id: int | None, team_id: int | None
) -> TenantScope:
    """The rows `role` may read: the tenant, a manager's team, or an agent's own.

    A manager without a team, or an agent user not linked to an agent, sees no agent's rows
    rather than everyone's."""
    if role in TENANT_WIDE_ROLES:
        return TenantScope(tenant_id)
    if role == Role.AGENT:
        return TenantScope.for_agents(tenant_id, [] if agent_id is None else [agent_id])
    if team_id is None:
        return TenantScope.for_agents(tenant_id, [])
    team = conn.execute(
        sa.select(agents.c.id).where(agents.c.tenant_id == tenant_id, agents.c.team_id == team_id)
    ).scalars()
    return TenantScope.for_agents(tenant_id, [int(a) for a in team])
