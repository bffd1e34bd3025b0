"""The one place where tenant and agent scoping is applied to queries.

Every read of tenant data, through Ibis or SQLAlchemy, passes its table through
`scope_table` or `scope_select`. An agent-scoped caller sees only rows of its agents; a
table that has no agent column and is not shared market data is refused to such callers
rather than shown whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from dealscope.errors import DealScopeError
from dealscope.warehouse.schema import TENANT_TABLES

if TYPE_CHECKING:
    import ibis.expr.types as ir


class ScopeViolation(DealScopeError):
    """A query asked for rows its scope may not see (a table an agent has no rows in)."""


# The column that names the agent a row belongs to, per table.
AGENT_COLUMNS: dict[str, str] = {
    "agents": "id",
    "contacts": "assigned_agent_id",
    "opportunities": "assigned_agent_id",
    "stage_history": "agent_id",
    "activities": "agent_id",
    "messages": "agent_id",
    "appointments": "agent_id",
    "transactions": "agent_id",
    "recommendations": "agent_id",
}

# Tenant tables that hold no agent's figures and that every role of the tenant may read.
SHARED_TABLES: frozenset[str] = frozenset(
    {"offices", "teams", "pipelines", "pipeline_stages", "listings", "market_series"}
)


@dataclass(frozen=True)
class TenantScope:
    """Who is asking: a tenant, optionally narrowed to some agents (an agent, a team)."""

    tenant_id: int
    agent_ids: frozenset[int] | None = None  # None: every agent of the tenant

    @classmethod
    def for_agents(cls, tenant_id: int, agent_ids: Iterable[int]) -> TenantScope:
        return cls(tenant_id=tenant_id, agent_ids=frozenset(agent_ids))


def _agent_column(table_name: str, scope: TenantScope) -> str | None:
    if table_name not in TENANT_TABLES:
        raise ScopeViolation(f"table {table_name!r} holds no tenant data and cannot be scoped")
    if scope.agent_ids is None or table_name in SHARED_TABLES:
        return None
    column = AGENT_COLUMNS.get(table_name)
    if column is None:
        raise ScopeViolation(f"an agent-scoped caller may not read {table_name!r}")
    return column


def scope_table(table: ir.Table, table_name: str, scope: TenantScope) -> ir.Table:
    """`table` (an Ibis table named `table_name`) narrowed to what `scope` may see."""
    column = _agent_column(table_name, scope)
    scoped = table.filter(table.tenant_id == scope.tenant_id)
    if column is not None:
        assert scope.agent_ids is not None
        scoped = scoped.filter(scoped[column].isin(sorted(scope.agent_ids)))
    return scoped


def scope_select(
    stmt: sa.Select[tuple[object, ...]], table: sa.Table, scope: TenantScope
) -> sa.Select[tuple[object, ...]]:
    """`stmt` (a SELECT over `table`) narrowed to what `scope` may see."""
    column = _agent_column(table.name, scope)
    stmt = stmt.where(table.c.tenant_id == scope.tenant_id)
    if column is not None:
        assert scope.agent_ids is not None
        stmt = stmt.where(table.c[column].in_(sorted(scope.agent_ids)))
    return stmt
