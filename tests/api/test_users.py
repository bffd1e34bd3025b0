"""/api/v1/users: admins manage their own tenant's users, and no other tenant's."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from accounts import PASSWORD, Brokerage, add_brokerage, add_user, bearer_of, sign_in, user_row
from fastapi.testclient import TestClient

from dealscope.kit.roles import Role
from dealscope.warehouse.engine import Warehouse

USERS = "/api/v1/users"
NEW_PASSWORD = "twelve chars!"


@dataclass(frozen=True)
class World:
    acme: Brokerage
    rival: Brokerage
    admin_id: int
    analyst_id: int
    rival_user_id: int
    admin: dict[str, str]  # Authorization headers of acme's admin


@pytest.fixture
def world(api: TestClient, warehouse: Warehouse) -> World:
    acme, rival = add_brokerage(warehouse, "acme"), add_brokerage(warehouse, "rival")
    admin_id = add_user(warehouse, acme, "admin@acme.example", Role.ADMIN)
    analyst_id = add_user(warehouse, acme, "analyst@acme.example", Role.ANALYST)
    rival_user_id = add_user(warehouse, rival, "admin@rival.example", Role.ADMIN)
    return World(
        acme, rival, admin_id, analyst_id, rival_user_id, bearer_of(api, "admin@acme.example")
    )


def _new_user(**changes: object) -> dict[str, object]:
    return {
        "email": "New.Agent@Acme.example",
        "full_name": "Nia Newcomer",
        "password": NEW_PASSWORD,
        "role": "analyst",
    } | changes


def test_admins_list_their_tenants_users_without_secrets(api: TestClient, world: World) -> None:
    response = api.get(USERS, headers=world.admin)

    assert response.status_code == 200
    listed = response.json()
    assert [u["email"] for u in listed] == ["admin@acme.example", "analyst@acme.example"]
    assert listed[1] == {
        "id": world.analyst_id,
        "email": "analyst@acme.example",
        "full_name": "Analyst",
        "role": "analyst",
        "agent_id": None,
        "team_id": None,
        "is_active": True,
        "failed_logins": 0,
        "locked_until": None,
        "last_login_at": None,
        "created_at": "2025-01-06T09:00:00Z",
    }
    assert "argon2" not in response.text and "password" not in response.text


def test_only_admins_manage_users(api: TestClient, world: World) -> None:
    analyst = bearer_of(api, "analyst@acme.example")
    denied = {
        "error": "permission_denied",
        "detail": "this needs the users:manage permission, which the analyst role does not "
        "have (roles that do: admin)",
    }
    target = f"{USERS}/{world.admin_id}"
    for method, path in [
        ("GET", USERS),
        ("POST", USERS),
        ("GET", target),
        ("PATCH", target),
        ("POST", f"{target}/disable"),
        ("POST", f"{target}/unlock"),
    ]:
        response = api.request(method, path, headers=analyst, json=_new_user())

        assert (response.status_code, response.json()) == (403, denied), f"{method} {path}"


def test_create_a_user_who_can_then_sign_in(api: TestClient, world: World) -> None:
    response = api.post(USERS, headers=world.admin, json=_new_user())

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["email"] == "new.agent@acme.example"
    assert created["role"] == "analyst" and created["is_active"] is True
    me = api.get("/api/v1/auth/me", headers=bearer_of(api, "new.agent@acme.example", NEW_PASSWORD))
    assert me.json()["user_id"] == created["id"]
    assert me.json()["tenant"]["slug"] == "acme"


def test_agent_and_manager_users_are_linked_to_their_agent_and_team(
    api: TestClient, world: World
) -> None:
    agent = api.post(
        USERS,
        headers=world.admin,
        json=_new_user(email="ada@acme.example", role="agent", agent_id=world.acme.agent_id),
    )
    manager = api.post(
        USERS,
        headers=world.admin,
        json=_new_user(email="max@acme.example", role="manager", team_id=world.acme.team_id),
    )

    assert agent.status_code == manager.status_code == 201
    assert agent.json()["agent_id"] == world.acme.agent_id
    assert manager.json()["team_id"] == world.acme.team_id


def test_links_are_required_and_must_be_of_the_same_tenant(api: TestClient, world: World) -> None:
    rival_agent, rival_team = world.rival.agent_id, world.rival.team_id
    cases: list[tuple[dict[str, object], str]] = [
        (
            {"role": "agent"},
            "a user with role agent needs an agent_id: an agent sees only that agent's rows",
        ),
        (
            {"role": "manager"},
            "a user with role manager needs a team_id: a manager sees that team's agents",
        ),
        (
            {"role": "agent", "agent_id": rival_agent},
            f"agent_id {rival_agent} is not an agent of this tenant",
        ),
        (
            {"role": "manager", "team_id": rival_team},
            f"team_id {rival_team} is not a team of this tenant",
        ),
    ]
    for changes, detail in cases:
        response = api.post(USERS, headers=world.admin, json=_new_user(**changes))

        assert response.status_code == 400, changes
        assert response.json() == {"error": "validation_failed", "detail": detail}


def test_an_email_is_unique_within_a_tenant_only(api: TestClient, world: World) -> None:
    taken = api.post(USERS, headers=world.admin, json=_new_user(email="ANALYST@acme.example"))
    other_tenants = api.post(
        USERS, headers=world.admin, json=_new_user(email="admin@rival.example")
    )

    assert taken.status_code == 409
    assert taken.json() == {
        "error": "already_exists",
        "detail": "this tenant already has a user with the email 'analyst@acme.example'",
    }
    assert other_tenants.status_code == 201


def test_bad_payloads_are_422(api: TestClient, world: World) -> None:
    cases: list[tuple[dict[str, object], str]] = [
        ({"password": "eleven char"}, "body.password: String should have at least 12 characters"),
        ({"email": "not-an-email"}, "body.email: Value error, 'not-an-email' is not an email"),
        ({"role": "owner"}, "body.role: Input should be 'admin', 'manager', 'analyst'"),
    ]
    for changes, problem in cases:
        response = api.post(USERS, headers=world.admin, json=_new_user(**changes))

        assert response.status_code == 422, changes
        assert response.json()["detail"].startswith(problem)


def test_another_tenants_user_is_never_found(api: TestClient, world: World) -> None:
    target = f"{USERS}/{world.rival_user_id}"

    answers = [
        api.get(target, headers=world.admin),
        api.patch(target, headers=world.admin, json={"full_name": "Hijacked"}),
        api.post(f"{target}/disable", headers=world.admin),
        api.post(f"{target}/unlock", headers=world.admin),
    ]

    for answer in answers:
        assert answer.status_code == 404
        assert answer.json()["detail"] == f"no user with id {world.rival_user_id} in this tenant"
    assert sign_in(api, "admin@rival.example").status_code == 200


def test_patch_changes_only_the_fields_sent(api: TestClient, world: World) -> None:
    target = f"{USERS}/{world.analyst_id}"
    api.patch(target, headers=world.admin, json={"team_id": world.acme.team_id})

    renamed = api.patch(target, headers=world.admin, json={"full_name": "Ana Lyst"})
    cleared = api.patch(target, headers=world.admin, json={"team_id": None})

    assert renamed.status_code == 200
    assert renamed.json()["full_name"] == "Ana Lyst"
    assert renamed.json()["team_id"] == world.acme.team_id
    assert renamed.json()["role"] == "analyst"
    assert cleared.json()["team_id"] is None
    assert cleared.json()["full_name"] == "Ana Lyst"


def test_a_new_role_applies_to_sessions_already_open(api: TestClient, world: World) -> None:
    analyst = bearer_of(api, "analyst@acme.example")
    assert api.get(USERS, headers=analyst).status_code == 403

    api.patch(f"{USERS}/{world.analyst_id}", headers=world.admin, json={"role": "admin"})

    assert api.get(USERS, headers=analyst).status_code == 200


def test_disable_ends_sessions_and_sign_in_until_enabled_again(
    api: TestClient, world: World, warehouse: Warehouse
) -> None:
    analyst = bearer_of(api, "analyst@acme.example")

    disabled = api.post(f"{USERS}/{world.analyst_id}/disable", headers=world.admin)

    assert disabled.status_code == 200
    assert disabled.json()["is_active"] is False
    assert api.get("/api/v1/auth/me", headers=analyst).json()["detail"] == (
        "this session has ended (the account was disabled); sign in again at /api/v1/auth/token"
    )
    assert sign_in(api, "analyst@acme.example").status_code == 401
    enabled = api.patch(
        f"{USERS}/{world.analyst_id}", headers=world.admin, json={"is_active": True}
    )
    assert enabled.json()["is_active"] is True
    assert sign_in(api, "analyst@acme.example").status_code == 200
    assert user_row(warehouse, world.analyst_id).is_active is True


def test_the_last_active_admin_cannot_be_disabled_or_demoted(api: TestClient, world: World) -> None:
    target = f"{USERS}/{world.admin_id}"
    detail = (
        "admin@acme.example is the tenant's only active admin; make another user an admin first"
    )

    assert api.post(f"{target}/disable", headers=world.admin).json()["detail"] == detail
    demoted = api.patch(target, headers=world.admin, json={"role": "viewer"})
    assert (demoted.status_code, demoted.json()["detail"]) == (400, detail)

    api.patch(f"{USERS}/{world.analyst_id}", headers=world.admin, json={"role": "admin"})
    assert api.patch(target, headers=world.admin, json={"role": "viewer"}).status_code == 200


def test_unlock_lifts_a_lockout_at_once(
    api: TestClient, world: World, warehouse: Warehouse
) -> None:
    for _ in range(5):
        sign_in(api, "analyst@acme.example", "a wrong password")
    assert sign_in(api, "analyst@acme.example").status_code == 423
    assert api.get(f"{USERS}/{world.analyst_id}", headers=world.admin).json()["locked_until"]

    unlocked = api.post(f"{USERS}/{world.analyst_id}/unlock", headers=world.admin)

    assert unlocked.status_code == 200
    assert (unlocked.json()["failed_logins"], unlocked.json()["locked_until"]) == (0, None)
    assert sign_in(api, "analyst@acme.example", PASSWORD).status_code == 200
