"""/api/v1/api-keys: keys shown once, stored as hashes, usable until revoked, per tenant."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from accounts import Brokerage, add_brokerage, add_user, bearer_of
from fastapi.testclient import TestClient

from dealscope.kit.roles import Role
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import api_keys

KEYS = "/api/v1/api-keys"
KEY_FORMAT = re.compile(r"dsk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class World:
    acme: Brokerage
    rival: Brokerage
    admin_id: int
    admin: dict[str, str]
    rival_admin: dict[str, str]


@pytest.fixture
def world(api: TestClient, warehouse: Warehouse) -> World:
    acme, rival = add_brokerage(warehouse, "acme"), add_brokerage(warehouse, "rival")
    admin_id = add_user(warehouse, acme, "admin@acme.example")
    add_user(warehouse, acme, "analyst@acme.example", Role.ANALYST)
    add_user(warehouse, rival, "admin@rival.example")
    return World(
        acme,
        rival,
        admin_id,
        bearer_of(api, "admin@acme.example"),
        bearer_of(api, "admin@rival.example"),
    )


def _create(api: TestClient, world: World, name: str = "BI export", role: str = "viewer") -> str:
    response = api.post(KEYS, headers=world.admin, json={"name": name, "role": role})
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


def _stored(warehouse: Warehouse) -> list[sa.Row[tuple[object, ...]]]:
    with warehouse.engine.connect() as conn:
        return list(conn.execute(sa.select(api_keys).order_by(api_keys.c.id)).all())


def test_a_new_key_is_shown_once_and_stored_as_a_hash(
    api: TestClient, world: World, warehouse: Warehouse
) -> None:
    response = api.post(KEYS, headers=world.admin, json={"name": "BI export", "role": "analyst"})

    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    match = KEY_FORMAT.fullmatch(created["key"])
    assert match is not None, created["key"]
    prefix, secret = match.groups()
    assert created["prefix"] == prefix
    assert (created["name"], created["role"], created["created_by"]) == (
        "BI export",
        "analyst",
        world.admin_id,
    )
    assert created["last_used_at"] is None and created["revoked_at"] is None
    [row] = _stored(warehouse)
    assert row.prefix == prefix
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in "".join(str(v) for v in row)
    listed = api.get(KEYS, headers=world.admin)
    assert listed.status_code == 200
    assert [k["id"] for k in listed.json()] == [created["id"]]
    assert "key" not in listed.json()[0] and "key_hash" not in listed.json()[0]
    assert secret not in listed.text and row.key_hash not in listed.text


def test_a_key_authenticates_as_its_role_in_its_tenant(
    api: TestClient, world: World, warehouse: Warehouse
) -> None:
    viewer_key = _create(api, world, "dashboard wall", "viewer")
    admin_key = _create(api, world, "provisioning", "admin")

    me = api.get("/api/v1/auth/me", headers={"X-API-Key": viewer_key})
    as_bearer = api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {viewer_key}"})

    assert me.status_code == 200
    body = me.json()
    assert (body["kind"], body["full_name"], body["role"]) == (
        "api_key",
        "dashboard wall",
        "viewer",
    )
    assert (body["user_id"], body["email"]) == (None, None)
    assert body["tenant"]["id"] == world.acme.tenant_id
    assert body["permissions"] == ["config:read", "data:read"]
    assert as_bearer.json() == body
    assert api.get("/api/v1/users", headers={"X-API-Key": viewer_key}).status_code == 403
    assert api.get("/api/v1/users", headers={"X-API-Key": admin_key}).status_code == 200
    assert all(row.last_used_at is not None for row in _stored(warehouse))


def test_last_used_is_recorded_at_most_once_a_minute(
    api: TestClient, world: World, warehouse: Warehouse
) -> None:
    key = _create(api, world)
    api.get("/api/v1/auth/me", headers={"X-API-Key": key})
    first = _stored(warehouse)[0].last_used_at

    api.get("/api/v1/auth/me", headers={"X-API-Key": key})
    assert _stored(warehouse)[0].last_used_at == first

    with warehouse.engine.begin() as conn:
        conn.execute(sa.update(api_keys).values(last_used_at=first - dt.timedelta(minutes=2)))
    api.get("/api/v1/auth/me", headers={"X-API-Key": key})
    assert _stored(warehouse)[0].last_used_at > first


def test_a_revoked_key_is_refused_and_stays_listed(
    api: TestClient, world: World, warehouse: Warehouse
) -> None:
    key = _create(api, world)
    key_id = _stored(warehouse)[0].id

    revoked = api.delete(f"{KEYS}/{key_id}", headers=world.admin)

    assert revoked.status_code == 204
    response = api.get("/api/v1/auth/me", headers={"X-API-Key": key})
    assert response.status_code == 401
    assert response.json() == {
        "error": "not_authenticated",
        "detail": "this API key has been revoked; ask an admin for a new one",
    }
    assert api.get(KEYS, headers=world.admin).json()[0]["revoked_at"] is not None
    assert api.delete(f"{KEYS}/{key_id}", headers=world.admin).status_code == 204


def test_wrong_and_malformed_keys_are_refused(api: TestClient, world: World) -> None:
    key = _create(api, world)
    match = KEY_FORMAT.fullmatch(key)
    assert match is not None
    prefix = match.group(1)
    cases = {
        f"dsk_{prefix}_{'A' * 43}": "the API key is not valid",
        f"dsk_{'0' * 12}_{'A' * 43}": "the API key is not valid",
        "dsk_short": "the API key is malformed; it reads dsk_<prefix>_<secret>",
    }

    for candidate, detail in cases.items():
        response = api.get("/api/v1/auth/me", headers={"X-API-Key": candidate})

        assert (response.status_code, response.json()["detail"]) == (401, detail), candidate


def test_a_key_and_a_token_together_are_refused(api: TestClient, world: World) -> None:
    key = _create(api, world)

    response = api.get("/api/v1/auth/me", headers={**world.admin, "X-API-Key": key})

    assert response.status_code == 401
    assert response.json()["detail"].startswith("send one credential")


def test_a_key_has_no_session_to_sign_out_of(api: TestClient, world: World) -> None:
    response = api.post("/api/v1/auth/logout", headers={"X-API-Key": _create(api, world)})

    assert response.status_code == 400
    assert response.json()["detail"].startswith("an API key has no session to sign out of")


def test_keys_act_for_the_whole_tenant_so_roles_are_tenant_wide(
    api: TestClient, world: World
) -> None:
    response = api.post(KEYS, headers=world.admin, json={"name": "x", "role": "manager"})

    assert response.status_code == 400
    assert response.json()["detail"] == (
        "an API key acts for the whole tenant, so its role must be one of admin, analyst, "
        "viewer (not manager)"
    )


def test_only_admins_manage_keys(api: TestClient, world: World) -> None:
    analyst = bearer_of(api, "analyst@acme.example")

    for method, path in [("GET", KEYS), ("POST", KEYS), ("DELETE", f"{KEYS}/1")]:
        response = api.request(method, path, headers=analyst, json={"name": "x"})

        assert response.status_code == 403, f"{method} {path}"
        assert response.json()["error"] == "permission_denied"


def test_another_tenants_keys_are_invisible(
    api: TestClient, world: World, warehouse: Warehouse
) -> None:
    key = _create(api, world)
    key_id = _stored(warehouse)[0].id

    assert api.get(KEYS, headers=world.rival_admin).json() == []
    deleted = api.delete(f"{KEYS}/{key_id}", headers=world.rival_admin)
    assert deleted.status_code == 404
    assert deleted.json()["detail"] == f"no API key with id {key_id} in this tenant"
    assert api.get("/api/v1/auth/me", headers={"X-API-Key": key}).status_code == 200
