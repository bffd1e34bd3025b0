"""Password sign-in, refresh-token rotation and sign-out: the life of a session.

A sign-in opens a session (`auth_sessions`): it lives `refresh_token_days` from the sign-in,
and every access and refresh token issued for it names it. Ending the session (sign-out, a
disabled user, a reused refresh token) ends all of its tokens at once, because every request
checks the session, not only the token's signature (`access.py`).

Lockout: each wrong password counts; at `max_failed_logins` in a row the account refuses
every password, the right one too, for `lockout_minutes`. A successful sign-in resets the
count. A wrong password and an unknown email get the same answer, after the same work (a
dummy hash check), so answers do not tell which emails have accounts.

The sign-in and refresh functions own their transaction: a failed attempt must be recorded
(the failure count, a session revoked for reuse) even though the request fails.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa

from dealscope.api.auth.tokens import digest, encode_access_token, new_secret
from dealscope.config import Settings
from dealscope.errors import (
    AccountLocked,
    AuthenticationFailed,
    DealScopeError,
    ValidationFailed,
)
from dealscope.kit.passwords import hash_password, verify_password
from dealscope.kit.roles import Role
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import auth_sessions, refresh_tokens, tenants, users
from dealscope.warehouse.unit_of_work import UnitOfWork, unit_of_work

DISABLED = "this account is disabled; ask an admin of your brokerage to enable it"
SIGN_IN_AGAIN = "sign in again at /api/v1/auth/token"

# Why a session ended, as said to its holder.
_ENDED_BECAUSE = {
    "logout": "it was signed out",
    "reuse_detected": "a refresh token of it was used twice",
    "disabled": "the account was disabled",
}


@dataclass(frozen=True)
class SignInAttempt:
    email: str
    password: str
    tenant_slug: str | None = None  # needed only when the email has accounts in several tenants
    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int  # seconds the access token is valid
    session_id: int
    user_id: int
    tenant_id: int


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to check passwords against when there is no account, so that takes as long."""
    return hash_password("no account has this password")


# --- sign-in ---------------------------------------------------------------------------


def sign_in(
    warehouse: Warehouse, settings: Settings, attempt: SignInAttempt, now: dt.datetime
) -> IssuedTokens:
    """Tokens for a new session, or AuthenticationFailed / AccountLocked / ValidationFailed."""
    with unit_of_work(warehouse) as uow:
        outcome = _sign_in(uow, settings, attempt, now)
    if isinstance(outcome, DealScopeError):
        raise outcome  # after the commit, so the failure count is kept
    return outcome


def _sign_in(
    uow: UnitOfWork, settings: Settings, attempt: SignInAttempt, now: dt.datetime
) -> IssuedTokens | DealScopeError:
    conn = uow.connection
    refused = AuthenticationFailed(
        "incorrect email or password"
        if attempt.tenant_slug is None
        else "incorrect email, password or tenant"
    )
    stmt = (
        sa.select(
            users.c.id,
            users.c.tenant_id,
            users.c.password_hash,
            users.c.role,
            users.c.is_active,
            users.c.failed_logins,
            users.c.locked_until,
            tenants.c.is_active.label("tenant_active"),
        )
        .join(tenants, tenants.c.id == users.c.tenant_id)
        .where(users.c.email == attempt.email.strip().lower())
    )
    if attempt.tenant_slug is not None:
        stmt = stmt.where(tenants.c.slug == attempt.tenant_slug)
    rows = conn.execute(stmt).all()
    if len(rows) > 1:
        return ValidationFailed(
            "this email has accounts in several tenants; name the tenant's slug in the "
            "`tenant` (or OAuth2 `client_id`) form field"
        )
    if not rows:
        verify_password(attempt.password, _dummy_hash())
        return refused
    user = rows[0]
    if user.locked_until is not None and user.locked_until > now:
        verify_password(attempt.password, _dummy_hash())
        return AccountLocked(user.locked_until, user.failed_logins)
    if not verify_password(attempt.password, user.password_hash):
        # A lock that has run out gives a fresh count.
        failures = (0 if user.locked_until is not None else user.failed_logins) + 1
        locked_until = None
        if failures >= settings.max_failed_logins:
            locked_until = now + dt.timedelta(minutes=settings.lockout_minutes)
        conn.execute(
            sa.update(users)
            .where(users.c.id == user.id)
            .values(failed_logins=failures, locked_until=locked_until)
        )
        return refused if locked_until is None else AccountLocked(locked_until, failures)
    if not (user.is_active and user.tenant_active):
        return AuthenticationFailed(DISABLED)
    conn.execute(
        sa.update(users)
        .where(users.c.id == user.id)
        .values(failed_logins=0, locked_until=None, last_login_at=now)
    )
    session_id = uow.next_id(auth_sessions)
    expires_at = now + dt.timedelta(days=settings.refresh_token_days)
    conn.execute(
        auth_sessions.insert().values(
            id=session_id,
            tenant_id=user.tenant_id,
            user_id=user.id,
            created_at=now,
            expires_at=expires_at,
            ip=None if attempt.ip is None else attempt.ip[:64],
            user_agent=None if attempt.user_agent is None else attempt.user_agent[:300],
        )
    )
    return _issue(
        uow,
        settings,
        int(user.id),
        int(user.tenant_id),
        Role(user.role),
        session_id,
        expires_at,
        now,
    )


def _issue(
    uow: UnitOfWork,
    settings: Settings,
    user_id: int,
    tenant_id: int,
    role: Role,
    session_id: int,
    session_expires_at: dt.datetime,
    now: dt.datetime,
) -> IssuedTokens:
    """A new refresh token (stored as its hash) and access token for the session."""
    refresh_token = new_secret()
    uow.connection.execute(
        refresh_tokens.insert().values(
            id=uow.next_id(refresh_tokens),
            tenant_id=tenant_id,
            session_id=session_id,
            token_hash=digest(refresh_token),
            issued_at=now,
            expires_at=session_expires_at,
        )
    )
    lifetime = dt.timedelta(minutes=settings.access_token_minutes)
    access_token = encode_access_token(
        settings.jwt_secret.get_secret_value(),
        user_id=user_id,
        tenant_id=tenant_id,
        role=role,
        session_id=session_id,
        now=now,
        lifetime=lifetime,
    )
    return IssuedTokens(
        access_token=access_token,
        refresh_token=refresh_token,
        expires_in=int(lifetime.total_seconds()),
        session_id=session_id,
        user_id=user_id,
        tenant_id=tenant_id,
    )


# --- refresh and sign-out --------------------------------------------------------------


def refresh(
    warehouse: Warehouse, settings: Settings, refresh_token: str, now: dt.datetime
) -> IssuedTokens:
    """New tokens for the refresh token's session; the presented token is used up.

    Presenting a used refresh token again means two parties hold it, so the whole session
    ends (`reuse_detected`) and the request is refused."""
    with unit_of_work(warehouse) as uow:
        outcome = _refresh(uow, settings, refresh_token, now)
    if isinstance(outcome, DealScopeError):
        raise outcome  # after the commit, so a session revoked for reuse stays revoked
    return outcome


def _refresh(
    uow: UnitOfWork, settings: Settings, refresh_token: str, now: dt.datetime
) -> IssuedTokens | DealScopeError:
    conn = uow.connection
    row = conn.execute(
        sa.select(
            refresh_tokens.c.id,
            refresh_tokens.c.used_at,
            refresh_tokens.c.expires_at,
            auth_sessions.c.id.label("session_id"),
            auth_sessions.c.revoked_at,
            auth_sessions.c.revoked_reason,
            auth_sessions.c.expires_at.label("session_expires_at"),
            users.c.id.label("user_id"),
            users.c.tenant_id,
            users.c.role,
            users.c.is_active,
            tenants.c.is_active.label("tenant_active"),
        )
        .join(
            auth_sessions,
            sa.and_(
                auth_sessions.c.id == refresh_tokens.c.session_id,
                auth_sessions.c.tenant_id == refresh_tokens.c.tenant_id,
            ),
        )
        .join(
            users,
            sa.and_(
                users.c.id == auth_sessions.c.user_id,
                users.c.tenant_id == auth_sessions.c.tenant_id,
            ),
        )
        .join(tenants, tenants.c.id == users.c.tenant_id)
        .where(refresh_tokens.c.token_hash == digest(refresh_token))
    ).first()
    if row is None:
        return AuthenticationFailed(f"the refresh token is not valid; {SIGN_IN_AGAIN}")
    if row.revoked_at is not None:
        return session_ended(row.revoked_reason)
    reused = AuthenticationFailed(
        "this refresh token was used before, so it may have been copied; its session has "
        f"been ended to protect the account: {SIGN_IN_AGAIN}"
    )
    if row.used_at is not None:
        _revoke(conn, int(row.session_id), now, "reuse_detected")
        return reused
    if min(row.expires_at, row.session_expires_at) <= now:
        return AuthenticationFailed(f"the refresh token has expired; {SIGN_IN_AGAIN}")
    if not (row.is_active and row.tenant_active):
        return AuthenticationFailed(DISABLED)
    claimed = conn.execute(
        sa.update(refresh_tokens)
        .where(refresh_tokens.c.id == row.id, refresh_tokens.c.used_at.is_(None))
        .values(used_at=now)
        .returning(refresh_tokens.c.id)
    ).first()
    if claimed is None:  # another request rotated it between our read and this write
        _revoke(conn, int(row.session_id), now, "reuse_detected")
        return reused
    return _issue(
        uow,
        settings,
        int(row.user_id),
        int(row.tenant_id),
        Role(row.role),
        int(row.session_id),
        row.session_expires_at,
        now,
    )


def sign_out(warehouse: Warehouse, tenant_id: int, session_id: int, now: dt.datetime) -> None:
    """End the session: its access and refresh tokens stop working at once."""
    with unit_of_work(warehouse) as uow:
        uow.connection.execute(
            sa.update(auth_sessions)
            .where(
                auth_sessions.c.tenant_id == tenant_id,
                auth_sessions.c.id == session_id,
                auth_sessions.c.revoked_at.is_(None),
            )
            .values(revoked_at=now, revoked_reason="logout")
        )


def revoke_sessions(
    conn: sa.Connection, tenant_id: int, user_id: int, now: dt.datetime, reason: str
) -> None:
    """End every live session of the user (when they are disabled)."""
    conn.execute(
        sa.update(auth_sessions)
        .where(
            auth_sessions.c.tenant_id == tenant_id,
            auth_sessions.c.user_id == user_id,
            auth_sessions.c.revoked_at.is_(None),
        )
        .values(revoked_at=now, revoked_reason=reason)
    )


def _revoke(conn: sa.Connection, session_id: int, now: dt.datetime, reason: str) -> None:
    conn.execute(
        sa.update(auth_sessions)
        .where(auth_sessions.c.id == session_id, auth_sessions.c.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )


def session_ended(reason: str | None) -> AuthenticationFailed:
    because = _ENDED_BECAUSE.get(reason or "", "it was revoked")
    return AuthenticationFailed(f"this session has ended ({because}); {SIGN_IN_AGAIN}")
