"""User accounts of a tenant: create, list, change, disable, unlock.

Every read goes through the tenancy helper, so a user id of another tenant is simply not
found. The rules kept here: an agent user is linked to an agent and a manager to a team of
the same tenant (that link is their data scope), emails are unique per tenant, and a tenant
always keeps at least one active admin.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from dealscope.api.auth.schemas import UserCreate, UserRead, UserUpdate, normalise_email
from dealscope.api.auth.sessions import revoke_sessions
from dealscope.errors import AlreadyExists, NotFound, ValidationFailed
from dealscope.kit.passwords import hash_password
from dealscope.kit.roles import Role
from dealscope.warehouse.schema import agents, teams, users
from dealscope.warehouse.tenancy import TenantScope, scope_select
from dealscope.warehouse.unit_of_work import UnitOfWork

_COLUMNS = (
    users.c.id,
    users.c.email,
    users.c.full_name,
    users.c.role,
    users.c.agent_id,
    users.c.team_id,
    users.c.is_active,
    users.c.failed_logins,
    users.c.locked_until,
    users.c.last_login_at,
    users.c.created_at,
)


def _select(tenant_id: int) -> sa.Select[tuple[object, ...]]:
    return scope_select(sa.select(*_COLUMNS), users, TenantScope(tenant_id))


def list_users(conn: sa.Connection, tenant_id: int) -> list[UserRead]:
    rows = conn.execute(_select(tenant_id).order_by(users.c.email)).all()
    return [UserRead.model_validate(row._mapping) for row in rows]


def get_user(conn: sa.Connection, tenant_id: int, user_id: int) -> UserRead:
    row = conn.execute(_select(tenant_id).where(users.c.id == user_id)).first()
    if row is None:
        raise NotFound(f"no user with id {user_id} in this tenant")
    return UserRead.model_validate(row._mapping)


def find_user_by_email(conn: sa.Connection, tenant_id: int, email: str) -> UserRead | None:
    row = conn.execute(_select(tenant_id).where(users.c.email == email.strip().lower())).first()
    return None if row is None else UserRead.model_validate(row._mapping)


def get_user_by_email(conn: sa.Connection, tenant_id: int, email: str) -> UserRead:
    found = find_user_by_email(conn, tenant_id, email)
    if found is None:
        raise NotFound(f"no user with the email {email.strip().lower()!r} in this tenant")
    return found


def create_user(uow: UnitOfWork, tenant_id: int, data: UserCreate, now: dt.datetime) -> UserRead:
    """A new active user; AlreadyExists when the tenant has the email already."""
    conn = uow.connection
    if find_user_by_email(conn, tenant_id, data.email) is not None:
        raise AlreadyExists(f"this tenant already has a user with the email {data.email!r}")
    _check_links(conn, tenant_id, data.role, data.agent_id, data.team_id)
    user_id = uow.next_id(users)
    conn.execute(
        users.insert().values(
            id=user_id,
            tenant_id=tenant_id,
            email=normalise_email(data.email),
            full_name=data.full_name.strip(),
            password_hash=hash_password(data.password),
            role=data.role.value,
            agent_id=data.agent_id,
            team_id=data.team_id,
            created_at=now,
        )
    )
    return get_user(conn, tenant_id, user_id)


def update_user(
    uow: UnitOfWork, tenant_id: int, user_id: int, changes: UserUpdate, now: dt.datetime
) -> UserRead:
    """Apply the fields set in `changes`; disabling a user also ends their sessions."""
    conn = uow.connection
    current = get_user(conn, tenant_id, user_id)
    given = changes.model_fields_set
    role = changes.role if changes.role is not None else current.role
    agent_id = changes.agent_id if "agent_id" in given else current.agent_id
    team_id = changes.team_id if "team_id" in given else current.team_id
    is_active = changes.is_active if changes.is_active is not None else current.is_active
    full_name = changes.full_name.strip() if changes.full_name is not None else current.full_name
    if (role, agent_id, team_id) != (current.role, current.agent_id, current.team_id):
        _check_links(conn, tenant_id, role, agent_id, team_id)
    if current.role == Role.ADMIN and current.is_active and (role != Role.ADMIN or not is_active):
        _keep_an_admin(conn, tenant_id, current)
    conn.execute(
        sa.update(users)
        .where(users.c.tenant_id == tenant_id, users.c.id == user_id)
        .values(
            role=role.value,
            agent_id=agent_id,
            team_id=team_id,
            is_active=is_active,
            full_name=full_name,
        )
    )
    if current.is_active and not is_active:
        revoke_sessions(conn, tenant_id, user_id, now, reason="disabled")
    return get_user(conn, tenant_id, user_id)


def disable_user(uow: UnitOfWork, tenant_id: int, user_id: int, now: dt.datetime) -> UserRead:
    """The user can no longer sign in, and every session they have ends now."""
    return update_user(uow, tenant_id, user_id, UserUpdate(is_active=False), now)


def unlock_user(uow: UnitOfWork, tenant_id: int, user_id: int) -> UserRead:
    """Lift a lockout after failed sign-ins, and start the count of failures afresh."""
    conn = uow.connection
    get_user(conn, tenant_id, user_id)
    conn.execute(
        sa.update(users)
        .where(users.c.tenant_id == tenant_id, users.c.id == user_id)
        .values(failed_logins=0, locked_until=None)
    )
    return get_user(conn, tenant_id, user_id)


def _exists(conn: sa.Connection, table: sa.Table, row_id: int, tenant_id: int) -> bool:
    stmt = sa.select(table.c.id).where(table.c.id == row_id)
    stmt = scope_select(stmt, table, TenantScope(tenant_id))
    return conn.execute(stmt).first() is not None


def _check_links(
    conn: sa.Connection, tenant_id: int, role: Role, agent_id: int | None, team_id: int | None
) -> None:
    """The agent and team named exist in the tenant, and the role has the one it needs."""
    if agent_id is not None and not _exists(conn, agents, agent_id, tenant_id):
        raise ValidationFailed(f"agent_id {agent_id} is not an agent of this tenant")
    if team_id is not None and not _exists(conn, teams, team_id, tenant_id):
        raise ValidationFailed(f"team_id {team_id} is not a team of this tenant")
    if role == Role.AGENT and agent_id is None:
        raise ValidationFailed(
            "a user with role agent needs an agent_id: an agent sees only that agent's rows"
        )
    if role == Role.MANAGER and team_id is None:
        raise ValidationFailed(
            "a user with role manager needs a team_id: a manager sees that team's agents"
        )


def _keep_an_admin(conn: sa.Connection, tenant_id: int, user: UserRead) -> None:
    other_admin = scope_select(sa.select(users.c.id), users, TenantScope(tenant_id)).where(
        users.c.role == Role.ADMIN.value, users.c.is_active, users.c.id != user.id
    )
    if conn.execute(other_admin.limit(1)).first() is None:
        raise ValidationFailed(
            f"{user.email} is the tenant's only active admin; make another user an admin first"
        )
