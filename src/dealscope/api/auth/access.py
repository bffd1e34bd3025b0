"""The access token presented with a request: valid only while its session and user are."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from dealscope.api.auth.principal import Principal, scope_for
from dealscope.api.auth.sessions import DISABLED, SIGN_IN_AGAIN, session_ended
from dealscope.api.auth.tokens import decode_access_token
from dealscope.config import Settings
from dealscope.errors import AuthenticationFailed
from dealscope.kit.roles import Role
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import auth_sessions, tenants, users


def authenticate_access_token(
    warehouse: Warehouse, settings: Settings, token: str, now: dt.datetime
) -> Principal:
    """The caller an access token stands for, if the token is valid and its session and user
    still are: a signed-out session, a disabled user or tenant end the token at once."""
    claims = decode_access_token(settings.jwt_secret.get_secret_value(), token, now)
    with warehouse.engine.connect() as conn:
        row = conn.execute(
            sa.select(
                auth_sessions.c.revoked_at,
                auth_sessions.c.revoked_reason,
                auth_sessions.c.expires_at,
                users.c.email,
                users.c.role,
                users.c.agent_id,
                users.c.team_id,
                users.c.is_active,
                tenants.c.is_active.label("tenant_active"),
            )
            .join(
                users,
                sa.and_(
                    users.c.id == auth_sessions.c.user_id,
                    users.c.tenant_id == auth_sessions.c.tenant_id,
                ),
            )
            .join(tenants, tenants.c.id == users.c.tenant_id)
            .where(
                auth_sessions.c.id == claims.session_id,
                auth_sessions.c.tenant_id == claims.tenant_id,
                auth_sessions.c.user_id == claims.user_id,
            )
        ).first()
        if row is None:
            raise AuthenticationFailed(
                f"the access token's session does not exist; {SIGN_IN_AGAIN}"
            )
        if row.revoked_at is not None:
            raise session_ended(row.revoked_reason)
        if row.expires_at <= now:
            raise AuthenticationFailed(f"this session has expired; {SIGN_IN_AGAIN}")
        if not (row.is_active and row.tenant_active):
            raise AuthenticationFailed(DISABLED)
        role = Role(row.role)  # the user's role now, not when the token was issued
        agent_id = None if row.agent_id is None else int(row.agent_id)
        team_id = None if row.team_id is None else int(row.team_id)
        scope = scope_for(conn, claims.tenant_id, role, agent_id, team_id)
    return Principal(
        tenant_id=claims.tenant_id,
        role=role,
        scope=scope,
        display=str(row.email),
        user_id=claims.user_id,
        session_id=claims.session_id,
        agent_id=agent_id,
        team_id=team_id,
    )
