"""Who the caller is, as told to the caller (GET /auth/me)."""

from __future__ import annotations

import sqlalchemy as sa

from dealscope.api.auth.api_keys import get_api_key
from dealscope.api.auth.principal import Principal
from dealscope.api.auth.schemas import MeRead
from dealscope.api.auth.tenants import get_tenant
from dealscope.api.auth.users import get_user
from dealscope.kit.roles import PERMISSIONS


def describe_principal(conn: sa.Connection, principal: Principal) -> MeRead:
    """The caller's account, tenant, data links and permissions."""
    tenant = get_tenant(conn, principal.tenant_id)
    permissions = sorted(PERMISSIONS[principal.role])
    if principal.user_id is not None:
        user = get_user(conn, principal.tenant_id, principal.user_id)
        return MeRead(
            kind="user",
            user_id=user.id,
            api_key_id=None,
            email=user.email,
            full_name=user.full_name,
            role=principal.role,
            tenant=tenant,
            agent_id=user.agent_id,
            team_id=user.team_id,
            permissions=permissions,
        )
    assert principal.api_key_id is not None  # a principal is a user or a key
    key = get_api_key(conn, principal.tenant_id, principal.api_key_id)
    return MeRead(
        kind="api_key",
        user_id=None,
        api_key_id=key.id,
        email=None,
        full_name=key.name,
        role=principal.role,
        tenant=tenant,
        agent_id=None,
        team_id=None,
        permissions=permissions,
    )
