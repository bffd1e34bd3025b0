"""Sign-in, refresh, sign-out and lockout through the real app, on DuckDB and PostgreSQL."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass

import jwt
import pytest
import sqlalchemy as sa
from accounts import PASSWORD, Brokerage, add_brokerage, add_user, bearer_of, sign_in, user_row
from fastapi import Request
from fastapi.testclient import TestClient

from dealscope.api.auth.principal import Principal
from dealscope.api.auth.tokens import encode_access_token
from dealscope.config import DEFAULT_JWT_SECRET
from dealscope.kit.roles import Role
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import auth_sessions, refresh_tokens, users

EMAIL = "morgan@acme.example"
GENERIC = {"error": "not_authenticated", "detail": "incorrect email or password"}


@dataclass(frozen=True)
class Acme:
    brokerage: Brokerage
    user_id: int


@pytest.fixture
def acme(warehouse: Warehouse) -> Acme:
    brokerage = add_brokerage(warehouse, "acme")
    return Acme(brokerage, add_user(warehouse, brokerage, EMAIL, Role.ANALYST))


def _me(api: TestClient, token: str) -> tuple[int, dict[str, object]]:
    response = api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.json()


def _sessions(warehouse: Warehouse, user_id: int) -> list[sa.Row[tuple[object, ...]]]:
    with warehouse.engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(auth_sessions.c.id, auth_sessions.c.revoked_reason).where(
                    auth_sessions.c.user_id == user_id
                )
            ).all()
        )


# --- signing in --------------------------------------------------------------------------


def test_sign_in_issues_an_access_and_a_refresh_token(
    api: TestClient, acme: Acme, warehouse: Warehouse
) -> None:
    response = sign_in(api, "  Morgan@ACME.example ")

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert len(body["refresh_token"]) == 64
    claims = jwt.decode(body["access_token"], DEFAULT_JWT_SECRET, algorithms=["HS256"])
    assert claims["sub"] == str(acme.user_id)
    assert claims["tid"] == acme.brokerage.tenant_id
    assert claims["role"] == "analyst" and claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == 3600
    status, me = _me(api, body["access_token"])
    assert status == 200
    assert me == {
        "kind": "user",
        "user_id": acme.user_id,
        "api_key_id": None,
        "email": EMAIL,
        "full_name": "Morgan",
        "role": "analyst",
        "tenant": {
            "id": acme.brokerage.tenant_id,
            "slug": "acme",
            "name": "Acme Realty",
            "timezone": "America/New_York",
            "currency": "USD",
            "is_active": True,
        },
        "agent_id": None,
        "team_id": None,
        "permissions": ["config:read", "data:read", "reports:build"],
    }
    assert [s.id for s in _sessions(warehouse, acme.user_id)] == [claims["sid"]]


def test_the_refresh_token_is_stored_only_as_its_hash(
    api: TestClient, acme: Acme, warehouse: Warehouse
) -> None:
    token = sign_in(api, EMAIL).json()["refresh_token"]

    with warehouse.engine.connect() as conn:
        stored = conn.execute(sa.select(refresh_tokens.c.token_hash)).scalar_one()
    assert token not in stored
    assert len(stored) == 64


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(
    api: TestClient, acme: Acme, warehouse: Warehouse
) -> None:
    wrong = sign_in(api, EMAIL, "not the password at all")
    unknown = sign_in(api, "nobody@acme.example", PASSWORD)

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == GENERIC
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert user_row(warehouse, acme.user_id).failed_logins == 1


def test_without_credentials_the_answer_says_how_to_sign_in(api: TestClient) -> None:
    response = api.get("/api/v1/auth/me")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"].startswith("sign in first: send `Authorization: Bearer")


# --- lockout -----------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_until_the_lock_runs_out(
    api: TestClient, acme: Acme, warehouse: Warehouse
) -> None:
    for attempt in range(1, 5):
        assert sign_in(api, EMAIL, f"wrong password {attempt}").json() == GENERIC

    fifth = sign_in(api, EMAIL, "wrong password 5")

    row = user_row(warehouse, acme.user_id)
    assert row.failed_logins == 5
    minutes_left = (row.locked_until - dt.datetime.now(dt.UTC)).total_seconds() / 60
    assert 14 < minutes_left <= 15
    locked = {
        "error": "account_locked",
        "detail": "account locked after 5 failed sign-ins; try again after "
        f"{row.locked_until.astimezone(dt.UTC):%H:%M} UTC or ask an admin",
    }
    assert fifth.status_code == 423
    assert fifth.json() == locked
    right_while_locked = sign_in(api, EMAIL, PASSWORD)
    assert right_while_locked.status_code == 423
    assert right_while_locked.json() == locked

    _set_user(warehouse, acme.user_id, locked_until=dt.datetime.now(dt.UTC) - dt.timedelta(1))
    assert sign_in(api, EMAIL, PASSWORD).status_code == 200
    after = user_row(warehouse, acme.user_id)
    assert (after.failed_logins, after.locked_until) == (0, None)


def test_a_lock_that_ran_out_gives_a_fresh_count(
    api: TestClient, acme: Acme, warehouse: Warehouse
) -> None:
    expired = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    _set_user(warehouse, acme.user_id, failed_logins=5, locked_until=expired)

    response = sign_in(api, EMAIL, "still wrong")

    assert response.json() == GENERIC
    row = user_row(warehouse, acme.user_id)
    assert (row.failed_logins, row.locked_until) == (1, None)


def test_a_success_resets_the_count(api: TestClient, acme: Acme, warehouse: Warehouse) -> None:
    for _ in range(3):
        sign_in(api, EMAIL, "wrong")

    assert sign_in(api, EMAIL).status_code == 200
    assert user_row(warehouse, acme.user_id).failed_logins == 0
    assert user_row(warehouse, acme.user_id).last_login_at is not None


# --- disabled users, tenants ---------------------------------------------------------------


def test_a_disabled_user_cannot_sign_in_and_their_tokens_stop_working(
    api: TestClient, acme: Acme, warehouse: Warehouse
) -> None:
    headers = bearer_of(api, EMAIL)
    _set_user(warehouse, acme.user_id, is_active=False)

    refused = sign_in(api, EMAIL)
    assert refused.status_code == 401
    assert refused.json()["detail"] == (
        "this account is disabled; ask an admin of your brokerage to enable it"
    )
    assert api.get("/api/v1/auth/me", headers=headers).json()["detail"] == refused.json()["detail"]
    assert sign_in(api, EMAIL, "wrong").json() == GENERIC  # says nothing without the password


def test_an_email_in_two_tenants_needs_the_tenant_named(
    api: TestClient, acme: Acme, warehouse: Warehouse
) -> None:
    rival = add_brokerage(warehouse, "rival")
    rival_user = add_user(warehouse, rival, EMAIL, Role.VIEWER)

    ambiguous = sign_in(api, EMAIL)
    by_tenant = sign_in(api, EMAIL, tenant="rival")
    by_client_id = sign_in(api, EMAIL, client_id="acme")
    wrong_tenant = sign_in(api, EMAIL, tenant="nowhere")

    assert ambiguous.status_code == 400
    assert ambiguous.json()["detail"] == (
        "this email has accounts in several tenants; name the tenant's slug in the `tenant` "
        "(or OAuth2 `client_id`) form field"
    )
    assert _me(api, by_tenant.json()["access_token"])[1]["user_id"] == rival_user
    assert _me(api, by_client_id.json()["access_token"])[1]["user_id"] == acme.user_id
    assert wrong_tenant.status_code == 401
    assert wrong_tenant.json()["detail"] == "incorrect email, password or tenant"


# --- refresh -------------------------------------------------------------------------------


def test_refresh_rotates_and_a_reused_token_ends_the_session(
    api: TestClient, acme: Acme, warehouse: Warehouse
) -> None:
    first = sign_in(api, EMAIL).json()
    second = api.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    second_tokens = second.json()
    assert second_tokens["refresh_token"] != first["refresh_token"]
    assert _me(api, second_tokens["access_token"])[0] == 200
    assert _me(api, first["access_token"])[0] == 200  # same session, still live

    replay = api.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})

    assert replay.status_code == 401
    assert replay.json()["detail"].startswith(
        "this refresh token was used before, so it may have been copied; its session has been ended"
    )
    status, body = _me(api, second_tokens["access_token"])
    assert status == 401
    assert body["detail"] == (
        "this session has ended (a refresh token of it was used twice); sign in again at "
        "/api/v1/auth/token"
    )
    assert _me(api, first["access_token"])[0] == 401
    newest = api.post(
        "/api/v1/auth/refresh", json={"refresh_token": second_tokens["refresh_token"]}
    )
    assert newest.status_code == 401
    assert [s.revoked_reason for s in _sessions(warehouse, acme.user_id)] == ["reuse_detected"]


def test_an_expired_refresh_token_is_refused(
    api: TestClient, acme: Acme, warehouse: Warehouse
) -> None:
    token = sign_in(api, EMAIL).json()["refresh_token"]
    with warehouse.engine.begin() as conn:
        conn.execute(
            sa.update(refresh_tokens).values(
                expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            )
        )

    response = api.post("/api/v1/auth/refresh", json={"refresh_token": token})

    assert response.status_code == 401
    assert response.json()["detail"] == (
        "the refresh token has expired; sign in again at /api/v1/auth/token"
    )


def test_an_unknown_refresh_token_is_refused(api: TestClient, acme: Acme) -> None:
    response = api.post("/api/v1/auth/refresh", json={"refresh_token": "made-up"})

    assert response.status_code == 401
    assert response.json()["detail"].startswith("the refresh token is not valid")


def test_a_refresh_token_is_not_an_access_token(api: TestClient, acme: Acme) -> None:
    tokens = sign_in(api, EMAIL).json()

    assert _me(api, tokens["refresh_token"])[0] == 401


def test_a_disabled_user_cannot_refresh(api: TestClient, acme: Acme, warehouse: Warehouse) -> None:
    token = sign_in(api, EMAIL).json()["refresh_token"]
    _set_user(warehouse, acme.user_id, is_active=False)

    response = api.post("/api/v1/auth/refresh", json={"refresh_token": token})

    assert response.status_code == 401
    assert "disabled" in response.json()["detail"]


# --- sign-out ------------------------------------------------------------------------------


def test_logout_ends_the_session_and_only_that_one(
    api: TestClient, acme: Acme, warehouse: Warehouse
) -> None:
    phone, laptop = sign_in(api, EMAIL).json(), sign_in(api, EMAIL).json()

    response = api.post(
        "/api/v1/auth/logout", headers={"Authorization": f"Bearer {phone['access_token']}"}
    )

    assert response.status_code == 204
    status, body = _me(api, phone["access_token"])
    assert status == 401
    assert body["detail"] == (
        "this session has ended (it was signed out); sign in again at /api/v1/auth/token"
    )
    refresh = api.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert refresh.status_code == 401
    assert _me(api, laptop["access_token"])[0] == 200
    assert sorted(str(s.revoked_reason) for s in _sessions(warehouse, acme.user_id)) == [
        "None",
        "logout",
    ]


# --- forged and stale access tokens on a real session ------------------------------------


def _session_token(api: TestClient, **changes: object) -> tuple[str, dict[str, object]]:
    token = sign_in(api, EMAIL).json()["access_token"]
    claims = jwt.decode(token, DEFAULT_JWT_SECRET, algorithms=["HS256"])
    return token, {**claims, **changes}


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_an_expired_access_token_of_a_live_session_is_refused(api: TestClient, acme: Acme) -> None:
    _, claims = _session_token(api)
    an_hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=61)
    stale = encode_access_token(
        DEFAULT_JWT_SECRET,
        user_id=acme.user_id,
        tenant_id=acme.brokerage.tenant_id,
        role=Role.ANALYST,
        session_id=int(str(claims["sid"])),
        now=an_hour_ago,
        lifetime=dt.timedelta(minutes=60),
    )

    status, body = _me(api, stale)

    assert status == 401
    assert body["detail"].startswith("the access token has expired")


def test_forged_access_tokens_are_refused(api: TestClient, acme: Acme) -> None:
    token, claims = _session_token(api)
    header, _, signature = token.split(".")
    forgeries = {
        "tampered": f"{header}.{_b64({**claims, 'role': 'admin'})}.{signature}",
        "alg_none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "wrong_key": jwt.encode(claims, "k" * 64, algorithm="HS256"),
        "refresh_typ": jwt.encode({**claims, "typ": "refresh"}, DEFAULT_JWT_SECRET, "HS256"),
    }
    assert _me(api, token)[0] == 200

    for forgery, forged in forgeries.items():
        status, body = _me(api, forged)

        assert (status, body["error"]) == (401, "not_authenticated"), forgery


def test_a_token_naming_another_users_session_is_refused(
    api: TestClient, acme: Acme, warehouse: Warehouse
) -> None:
    other = add_user(warehouse, acme.brokerage, "other@acme.example", Role.ADMIN)
    _, claims = _session_token(api, sub=str(other))  # right key, someone else's id

    status, body = _me(api, jwt.encode(claims, DEFAULT_JWT_SECRET, algorithm="HS256"))

    assert status == 401
    assert body["detail"].startswith("the access token's session does not exist")


def test_the_users_current_role_applies_not_the_tokens(
    api: TestClient, acme: Acme, warehouse: Warehouse
) -> None:
    headers = bearer_of(api, EMAIL)
    _set_user(warehouse, acme.user_id, role=Role.VIEWER.value)

    assert api.get("/api/v1/auth/me", headers=headers).json()["role"] == "viewer"


def _set_user(warehouse: Warehouse, user_id: int, **values: object) -> None:
    with warehouse.engine.begin() as conn:
        conn.execute(sa.update(users).where(users.c.id == user_id).values(**values))


# --- the dependency's contract with the rest of the app ------------------------------------


class RecordingLimiter:
    def __init__(self) -> None:
        self.checked: list[tuple[str, int | None]] = []

    def check(self, request: Request, principal: Principal) -> None:
        self.checked.append((principal.subject, request.state.principal.user_id))


def test_the_rate_limit_is_checked_after_authentication(api: TestClient, acme: Acme) -> None:
    limiter = RecordingLimiter()
    api.app.state.rate_limiter = limiter
    headers = bearer_of(api, EMAIL)

    assert api.get("/api/v1/auth/me").status_code == 401
    assert limiter.checked == []
    assert api.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert limiter.checked == [(f"user:{acme.user_id}", acme.user_id)]


def test_the_docs_offer_both_ways_to_sign_in(api: TestClient) -> None:
    openapi = api.get("/openapi.json").json()

    schemes = openapi["components"]["securitySchemes"]
    assert schemes["password"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert schemes["api_key"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": schemes["api_key"]["description"],
    }
    me = openapi["paths"]["/api/v1/auth/me"]["get"]
    assert {"password": []} in me["security"] and {"api_key": []} in me["security"]
    token = openapi["paths"]["/api/v1/auth/token"]["post"]
    assert "security" not in token
    assert {"400", "401", "423"} <= set(token["responses"])
