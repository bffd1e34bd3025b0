"""The audit log: what the middleware records for each kind of request, on both backends,
and what admins read back from GET /api/v1/audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
import structlog
from accounts import PASSWORD, Brokerage, add_brokerage, add_user, bearer_of, sign_in
from fastapi import APIRouter
from fastapi.testclient import TestClient

from dealscope.api.app import create_app
from dealscope.config import Settings
from dealscope.kit.roles import Role
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import audit_log

AUDIT = "/api/v1/audit"
ME = "/api/v1/auth/me"


@dataclass
class World:
    acme: Brokerage
    zenith: Brokerage
    ann: int  # acme's admin
    vic: int  # acme's viewer
    zed: int  # zenith's admin


@pytest.fixture
def world(warehouse: Warehouse) -> World:
    acme, zenith = add_brokerage(warehouse, "acme"), add_brokerage(warehouse, "zenith")
    return World(
        acme,
        zenith,
        ann=add_user(warehouse, acme, "ann@acme.example", Role.ADMIN),
        vic=add_user(warehouse, acme, "vic@acme.example", Role.VIEWER),
        zed=add_user(warehouse, zenith, "zed@zenith.example", Role.ADMIN),
    )


@pytest.fixture
def make_client(
    warehouse: Warehouse, settings_for: Callable[..., Settings]
) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(client: tuple[str, int] = ("testclient", 50000), **overrides: Any) -> TestClient:
        settings = settings_for(warehouse, rate_limit_per_minute=10_000, **overrides)
        started = TestClient(create_app(settings), client=client).__enter__()
        clients.append(started)
        return started

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def _rows(warehouse: Warehouse, **where: Any) -> list[dict[str, Any]]:
    stmt = sa.select(audit_log).order_by(audit_log.c.occurred_at, audit_log.c.id)
    for column, value in where.items():
        stmt = stmt.where(audit_log.c[column] == value)
    with warehouse.engine.connect() as connection:
        return [dict(row) for row in connection.execute(stmt).mappings()]


def _one(warehouse: Warehouse, **where: Any) -> dict[str, Any]:
    rows = _rows(warehouse, **where)
    assert len(rows) == 1, rows
    return rows[0]


# --- what is recorded --------------------------------------------------------------------


def test_a_read_is_recorded_with_who_what_and_where(
    warehouse: Warehouse, world: World, client: TestClient
) -> None:
    ann = bearer_of(client, "ann@acme.example")
    before = dt.datetime.now(dt.UTC)
    response = client.get(
        f"/api/v1/users/{world.vic}?access_token=s3cr3t",
        headers={**ann, "X-Request-ID": "req-audit-1", "User-Agent": "pytest-agent/1"},
    )
    after = dt.datetime.now(dt.UTC)

    assert response.status_code == 200
    row = _one(warehouse, request_id="req-audit-1")
    occurred_at = row.pop("occurred_at")
    assert before <= occurred_at <= after
    assert isinstance(row.pop("id"), int)
    assert row == {
        "tenant_id": world.acme.tenant_id,
        "user_id": world.ann,
        "actor": "ann@acme.example",
        "action": "read",
        "resource": "/api/v1/users/{user_id}",
        "resource_id": str(world.vic),
        "method": "GET",
        "path": f"/api/v1/users/{world.vic}",  # never the query string
        "status_code": 200,
        "outcome": "success",
        "ip": "testclient",
        "user_agent": "pytest-agent/1",
        "request_id": "req-audit-1",
        "detail": None,
    }


def test_changes_are_recorded_by_their_method(
    warehouse: Warehouse, world: World, client: TestClient
) -> None:
    ann = bearer_of(client, "ann@acme.example")
    created = client.post("/api/v1/users", headers=ann, json={
        "email": "new@acme.example", "full_name": "New Person", "role": "viewer",
        "password": "a long enough password",
    })  # fmt: skip
    assert created.status_code == 201, created.text
    new_id = created.json()["id"]
    updated = client.patch(f"/api/v1/users/{new_id}", headers=ann, json={"full_name": "Renamed"})
    assert updated.status_code == 200, updated.text

    rows = _rows(warehouse, user_id=world.ann)
    assert [(r["action"], r["method"], r["resource"], r["resource_id"]) for r in rows] == [
        ("login", "POST", "/api/v1/auth/token", None),
        ("create", "POST", "/api/v1/users", None),
        ("update", "PATCH", "/api/v1/users/{user_id}", str(new_id)),
    ]
    assert {r["outcome"] for r in rows} == {"success"}


def test_sign_ins_are_recorded_under_the_username_and_never_the_password(
    warehouse: Warehouse, world: World, make_client: Callable[..., TestClient]
) -> None:
    client = make_client(max_failed_logins=2)
    assert sign_in(client, "ann@acme.example").status_code == 200
    assert sign_in(client, "vic@acme.example", "wrong password 1").status_code == 401
    assert sign_in(client, "vic@acme.example", "wrong password 2").status_code == 423
    assert sign_in(client, "vic@acme.example", PASSWORD).status_code == 423  # still locked
    assert sign_in(client, "Nobody@Else.example", "guess").status_code == 401

    rows = _rows(warehouse, action="login")
    assert [
        (r["tenant_id"], r["user_id"], r["actor"], r["status_code"], r["outcome"]) for r in rows
    ] == [
        (world.acme.tenant_id, world.ann, "ann@acme.example", 200, "success"),
        (world.acme.tenant_id, world.vic, "vic@acme.example", 401, "denied"),
        (world.acme.tenant_id, world.vic, "vic@acme.example", 423, "denied"),
        (world.acme.tenant_id, world.vic, "vic@acme.example", 423, "denied"),
        (None, None, "Nobody@Else.example", 401, "denied"),
    ]
    everything = " ".join(str(value) for row in _rows(warehouse) for value in row.values())
    for secret in (PASSWORD, "wrong password", "guess"):
        assert secret not in everything


def test_a_sign_in_names_the_tenant_it_asked_for(
    warehouse: Warehouse, world: World, client: TestClient
) -> None:
    add_user(warehouse, world.zenith, "ann@acme.example", Role.VIEWER)  # same email, 2 tenants

    ambiguous = sign_in(client, "ann@acme.example")
    chosen = sign_in(client, "ann@acme.example", tenant="zenith")

    assert (ambiguous.status_code, chosen.status_code) == (400, 200)
    rows = _rows(warehouse, action="login")
    assert [(r["tenant_id"], r["outcome"]) for r in rows] == [
        (None, "error"),  # which account was meant is unknown
        (world.zenith.tenant_id, "success"),
    ]


def test_refusals_are_denied_and_failures_are_errors(
    warehouse: Warehouse, world: World, client: TestClient
) -> None:
    vic = bearer_of(client, "vic@acme.example")
    client.get(AUDIT, headers={"X-Request-ID": "no-token"})
    client.get(AUDIT, headers={**vic, "X-Request-ID": "viewer"})
    client.get("/api/v1/no/such/thing", headers={**vic, "X-Request-ID": "missing"})
    ann = bearer_of(client, "ann@acme.example")
    client.put(
        "/api/v1/config/dashboard",
        headers={**ann, "X-Request-ID": "bad-body"},
        json={"version": "x"},
    )

    def seen(request_id: str) -> tuple[Any, ...]:
        row = _one(warehouse, request_id=request_id)
        return row["actor"], row["resource"], row["status_code"], row["outcome"]

    assert seen("no-token") == (None, AUDIT, 401, "denied")
    assert seen("viewer") == ("vic@acme.example", AUDIT, 403, "denied")
    # No route matched: named by its path, and no caller was established.
    assert seen("missing") == (None, "/api/v1/no/such/thing", 404, "error")
    assert seen("bad-body") == ("ann@acme.example", "/api/v1/config/dashboard", 422, "error")


def test_secrets_in_paths_are_not_recorded_and_crashes_are_errors(
    warehouse: Warehouse, settings_for: Callable[..., Settings]
) -> None:
    app = create_app(settings_for(warehouse))
    hooks = APIRouter(prefix="/hooks")

    @hooks.post("/{tenant_slug}/{webhook_token}")
    def receive_hook(tenant_slug: str, webhook_token: str) -> dict[str, str]:
        return {"tenant": tenant_slug}

    @hooks.get("/crash")
    def crash() -> None:
        raise RuntimeError("a bug")

    app.include_router(hooks, prefix="/api/v1")
    with TestClient(app, raise_server_exceptions=False) as client:
        client.post("/api/v1/hooks/acme/s3cr3t-t0ken", headers={"X-Request-ID": "hook"})
        assert client.get("/api/v1/hooks/crash", headers={"X-Request-ID": "bug"}).status_code == 500

    hook = _one(warehouse, request_id="hook")
    assert (hook["resource"], hook["resource_id"], hook["path"], hook["status_code"]) == (
        "/api/v1/hooks/{tenant_slug}/{webhook_token}",
        "acme/***",
        "/api/v1/hooks/acme/***",
        200,
    )
    bug = _one(warehouse, request_id="bug")
    assert (bug["resource"], bug["status_code"], bug["outcome"]) == (
        "/api/v1/hooks/crash",
        500,
        "error",
    )


def test_health_docs_and_preflights_are_not_audited(
    warehouse: Warehouse, world: World, client: TestClient
) -> None:
    for path in ("/health", "/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 200
    client.options(
        ME, headers={"Origin": "https://x.example", "Access-Control-Request-Method": "GET"}
    )

    assert _rows(warehouse) == []


def test_api_key_callers_are_named_by_the_key(
    warehouse: Warehouse, world: World, client: TestClient
) -> None:
    ann = bearer_of(client, "ann@acme.example")
    created = client.post("/api/v1/api-keys", headers=ann, json={"name": "nightly export"})
    assert created.status_code == 201, created.text
    key, key_id = created.json()["key"], created.json()["id"]

    response = client.get(ME, headers={"X-API-Key": key, "X-Request-ID": "by-key"})

    assert response.status_code == 200
    row = _one(warehouse, request_id="by-key")
    assert (row["tenant_id"], row["user_id"], row["actor"]) == (
        world.acme.tenant_id,
        None,
        "API key nightly export",
    )
    assert row["detail"] == {"api_key_id": key_id}
    everything = " ".join(str(value) for row in _rows(warehouse) for value in row.values())
    assert key not in everything


def test_a_forwarded_address_is_believed_only_from_a_trusted_proxy(
    warehouse: Warehouse, world: World, make_client: Callable[..., TestClient]
) -> None:
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    behind_proxy = make_client(client=("10.0.0.2", 50000), trusted_proxies=["10.0.0.0/8"])
    direct = make_client(client=("10.0.0.2", 50000))

    behind_proxy.get(ME, headers={**forwarded, "X-Request-ID": "via-proxy"})
    direct.get(ME, headers={**forwarded, "X-Request-ID": "direct"})

    assert _one(warehouse, request_id="via-proxy")["ip"] == "203.0.113.9"
    assert _one(warehouse, request_id="direct")["ip"] == "10.0.0.2"


def test_a_failed_write_is_logged_with_the_request_id_and_the_response_is_unharmed(
    warehouse: Warehouse, world: World, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("dealscope.api.audit.middleware.insert_audit_record", broken)
    ann = bearer_of(client, "ann@acme.example")

    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        response = client.get(ME, headers={**ann, "X-Request-ID": "lost-entry"})

    assert response.status_code == 200
    assert response.json()["email"] == "ann@acme.example"
    failures = [entry for entry in logs if entry["event"] == "audit.write_failed"]
    assert len(failures) == 1
    assert failures[0] | {"log_level": "error"} == {
        "event": "audit.write_failed",
        "log_level": "error",
        "error": "RuntimeError: disk full",
        "action": "read",
        "resource": ME,
        "status": 200,
        "request_id": "lost-entry",
        "method": "GET",
        "path": ME,
    }
    assert _rows(warehouse) == []


# --- reading it back ---------------------------------------------------------------------


@pytest.fixture
def history(warehouse: Warehouse, world: World, client: TestClient) -> dict[str, str]:
    """A small history in both tenants; returns the admins' headers."""
    headers = {
        "ann": bearer_of(client, "ann@acme.example"),
        "vic": bearer_of(client, "vic@acme.example"),
        "zed": bearer_of(client, "zed@zenith.example"),
    }
    sign_in(client, "vic@acme.example", "not it")
    client.get(ME, headers=headers["vic"])
    client.get(f"/api/v1/users/{world.vic}", headers=headers["ann"])
    client.get(ME, headers=headers["zed"])
    client.get(AUDIT, headers=headers["vic"])  # refused
    return {name: value["Authorization"] for name, value in headers.items()}


def _audit(client: TestClient, token: str, **params: Any) -> Any:
    response = client.get(AUDIT, headers={"Authorization": token}, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_admins_read_their_tenants_entries_newest_first(
    warehouse: Warehouse, world: World, client: TestClient, history: dict[str, str]
) -> None:
    page = _audit(client, history["ann"])

    expected = [
        ("vic@acme.example", "read", AUDIT, "denied"),
        ("ann@acme.example", "read", "/api/v1/users/{user_id}", "success"),
        ("vic@acme.example", "read", ME, "success"),
        ("vic@acme.example", "login", "/api/v1/auth/token", "denied"),
        ("vic@acme.example", "login", "/api/v1/auth/token", "success"),
        ("ann@acme.example", "login", "/api/v1/auth/token", "success"),
    ]
    assert [(e["actor"], e["action"], e["resource"], e["outcome"]) for e in page["items"]] == (
        expected
    )
    assert (page["limit"], page["offset"], page["next_offset"]) == (100, 0, None)
    stored = _rows(warehouse, tenant_id=world.acme.tenant_id)[:-1]  # the last is this read
    assert sorted(e["id"] for e in page["items"]) == sorted(r["id"] for r in stored)
    assert "tenant_id" not in page["items"][0]
    zenith = _audit(client, history["zed"])
    assert {e["actor"] for e in zenith["items"]} == {"zed@zenith.example"}


def test_filters_combine(
    warehouse: Warehouse, world: World, client: TestClient, history: dict[str, str]
) -> None:
    def actions(**params: Any) -> list[tuple[str, str]]:
        page = _audit(client, history["ann"], **params)
        return [(e["action"], e["outcome"]) for e in page["items"]]

    assert actions(user_id=world.vic) == [
        ("read", "denied"), ("read", "success"), ("login", "denied"), ("login", "success"),
    ]  # fmt: skip
    assert actions(actor="vic@acme.example", action="login") == [
        ("login", "denied"),
        ("login", "success"),
    ]
    assert actions(outcome="denied") == [("read", "denied"), ("login", "denied")]
    assert actions(resource="/api/v1/users") == [("read", "success")]
    assert actions(resource="/api/v1/auth/m") == [("read", "success")]
    assert actions(resource="/api/v1/auth_") == []  # a prefix, not a LIKE pattern

    stored = _rows(warehouse, tenant_id=world.acme.tenant_id)
    middle = stored[2]["occurred_at"]
    since = actions(since=middle.isoformat())
    until = actions(until=middle.isoformat())
    assert len(since) == len(stored) - 2  # the reads above are in it too
    assert until == [("login", "success"), ("login", "success")]


def test_pages_over_a_fixed_span(
    warehouse: Warehouse, world: World, client: TestClient, history: dict[str, str]
) -> None:
    # The log grows with every request, reads of it included: pin `until` for stable pages.
    until = dt.datetime.now(dt.UTC).isoformat()
    first = _audit(client, history["ann"], limit=2, until=until)
    second = _audit(client, history["ann"], limit=2, offset=first["next_offset"], until=until)
    everything = _audit(client, history["ann"], limit=500, until=until)

    assert (first["next_offset"], second["offset"], second["next_offset"]) == (2, 2, 4)
    assert len(everything["items"]) == 6
    assert everything["next_offset"] is None
    ids = [e["id"] for e in everything["items"]]
    assert [e["id"] for e in first["items"] + second["items"]] == ids[:4]


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"limit": 501}, "query.limit: Input should be less than or equal to 500"),
        ({"limit": 0}, "query.limit: Input should be greater than or equal to 1"),
        ({"outcome": "maybe"}, "query.outcome: Input should be 'success', 'denied' or 'error'"),
        (
            {"since": "2025-02-01T00:00:00Z", "until": "2025-01-01T00:00:00Z"},
            "query: Value error, until must be after since",
        ),
        ({"tenant_id": 2}, "query.tenant_id: Extra inputs are not permitted"),
    ],
)
def test_bad_filters_are_422(
    world: World, client: TestClient, params: dict[str, Any], problem: str
) -> None:
    ann = bearer_of(client, "ann@acme.example")

    response = client.get(AUDIT, headers=ann, params=params)

    assert response.status_code == 422
    assert response.json() == {"error": "invalid_request", "detail": problem}


def test_only_admins_read_the_audit_log(world: World, client: TestClient) -> None:
    vic = bearer_of(client, "vic@acme.example")

    response = client.get(AUDIT, headers=vic)

    assert response.status_code == 403
    assert response.json()["error"] == "permission_denied"
    assert "audit:read" in response.json()["detail"]


@pytest.mark.parametrize("warehouse", ["duckdb"], indirect=True)
def test_the_endpoint_is_described_with_an_example(client: TestClient) -> None:
    openapi = client.get("/openapi.json").json()

    operation = openapi["paths"][AUDIT]["get"]
    assert {p["name"] for p in operation["parameters"]} == {
        "user_id", "actor", "action", "resource", "outcome", "since", "until", "limit", "offset",
    }  # fmt: skip
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/AuditPage"}
    entry = openapi["components"]["schemas"]["AuditEntryRead"]
    assert entry["examples"][0]["resource"] == "/api/v1/config/dashboard"
