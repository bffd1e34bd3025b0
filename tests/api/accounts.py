"""Test data for the auth, users and API key tests: tenants, a team and agent, users, sign-in.

Users are written straight into the warehouse with one password hash, made once, with cheap
argon2 parameters: the product's own hash takes ~0.1 s to make and to check, and argon2 checks
a password with the parameters written in its hash. The services that create users (with the
product's parameters) are tested on their own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from dealscope.kit.roles import Role
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import agents, offices, teams, tenants, users
from dealscope.warehouse.unit_of_work import unit_of_work

PASSWORD = "correct horse battery staple"
CREATED = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)


@cache
def password_hash() -> str:
    return PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),)).hash(
        PASSWORD
    )


@dataclass(frozen=True)
class Brokerage:
    tenant_id: int
    slug: str
    team_id: int
    agent_id: int


def add_brokerage(warehouse: Warehouse, slug: str) -> Brokerage:
    """A tenant with one office, one team and one agent on it."""
    with unit_of_work(warehouse) as uow:
        conn = uow.connection
        tenant_id = uow.next_id(tenants)
        conn.execute(
            tenants.insert().values(
                id=tenant_id, slug=slug, name=f"{slug.title()} Realty", created_at=CREATED
            )
        )
        office_id, team_id, agent_id = uow.next_id(offices), uow.next_id(teams), uow.next_id(agents)
        conn.execute(offices.insert().values(id=office_id, tenant_id=tenant_id, name="Main"))
        conn.execute(
            teams.insert().values(id=team_id, tenant_id=tenant_id, office_id=office_id, name="A")
        )
        conn.execute(
            agents.insert().values(
                id=agent_id,
                tenant_id=tenant_id,
                office_id=office_id,
                team_id=team_id,
                first_name="Ada",
                last_name="Agent",
                created_at=CREATED,
            )
        )
    return Brokerage(tenant_id, slug, team_id, agent_id)


def add_user(
    warehouse: Warehouse,
    brokerage: Brokerage,
    email: str,
    role: Role = Role.ADMIN,
    **columns: Any,
) -> int:
    """A user with PASSWORD; `columns` sets others (agent_id, team_id, is_active...)."""
    with unit_of_work(warehouse) as uow:
        user_id = uow.next_id(users)
        uow.connection.execute(
            users.insert().values(
                id=user_id,
                tenant_id=brokerage.tenant_id,
                email=email,
                full_name=email.split("@")[0].title(),
                password_hash=password_hash(),
                role=role.value,
                created_at=CREATED,
                **columns,
            )
        )
    return user_id


def sign_in(
    client: TestClient, email: str, password: str = PASSWORD, **form: str
) -> httpx.Response:
    return client.post("/api/v1/auth/token", data={"username": email, "password": password, **form})


def bearer_of(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    """Authorization headers of a fresh session of `email`."""
    response = sign_in(client, email, password)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def user_row(warehouse: Warehouse, user_id: int) -> sa.Row[Any]:
    with warehouse.engine.connect() as conn:
        return conn.execute(sa.select(users).where(users.c.id == user_id)).one()
