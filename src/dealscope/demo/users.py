"""Demo logins, one per role, tied to real agents and teams of the demo tenant."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from dealscope.kit.passwords import hash_password
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import agents, opportunities, users
from dealscope.warehouse.unit_of_work import unit_of_work


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str
    description: str


def _top_agent(conn: sa.Connection, tenant_id: int) -> tuple[int, int | None, str]:
    """The agent with the most closed deals (the demo agent login), with team and name."""
    wins = (
        sa.select(opportunities.c.assigned_agent_id.label("agent_id"), sa.func.count().label("won"))
        .where(opportunities.c.tenant_id == tenant_id, opportunities.c.status == "won")
        .group_by(opportunities.c.assigned_agent_id)
        .subquery()
    )
    row = conn.execute(
        sa.select(agents.c.id, agents.c.team_id, agents.c.first_name, agents.c.last_name)
        .join(wins, wins.c.agent_id == agents.c.id, isouter=True)
        .where(agents.c.tenant_id == tenant_id)
        .order_by(sa.func.coalesce(wins.c.won, 0).desc(), agents.c.id)
        .limit(1)
    ).one()
    return (
        int(row.id),
        None if row.team_id is None else int(row.team_id),
        f"{row.first_name} {row.last_name}",
    )


def create_demo_users(
    warehouse: Warehouse, tenant_id: int, domain: str = "summitridge.example"
) -> list[DemoLogin]:
    """Create (or keep) one login per role; returns them with their demo passwords."""
    with unit_of_work(warehouse) as uow:
        conn = uow.connection
        agent_id, team_id, agent_name = _top_agent(conn, tenant_id)
        specs = [
            ("admin", "Alex Admin", None, None, "everything, including users and settings"),
            ("manager", "Morgan Manager", None, team_id, "their team's leads, deals and agents"),
            ("analyst", "Avery Analyst", None, None, "all figures; builds reports"),
            ("agent", agent_name, agent_id, team_id, "only their own leads, deals and figures"),
            ("viewer", "Vic Viewer", None, None, "read-only executive views"),
        ]
        logins = []
        existing = set(
            conn.execute(sa.select(users.c.email).where(users.c.tenant_id == tenant_id)).scalars()
        )
        for role, name, agent, team, description in specs:
            email, password = f"{role}@{domain}", f"demo-{role}"
            logins.append(DemoLogin(email, password, role, description))
            if email in existing:
                continue
            conn.execute(
                users.insert().values(
                    id=uow.next_id(users),
                    tenant_id=tenant_id,
                    email=email,
                    full_name=name,
                    password_hash=hash_password(password),
                    role=role,
                    agent_id=agent,
                    team_id=team,
                    created_at=dt.datetime.now(dt.UTC),
                )
            )
        uow.touch(tenant_id)
    return logins
