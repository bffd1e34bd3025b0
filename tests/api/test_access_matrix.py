"""Every endpoint, as every kind of caller, against two tenants: nothing leaks, and what a
role may not do is refused with 403.

The matrix is generated from the app's routes and OpenAPI schema, so an endpoint added later
is covered without touching this file. Tenant B's ids are placed far above tenant A's (a gap
reserved in every id counter), and both far above any count or code, so any of one tenant's
ids found in a response to the other is a leak, whatever table it came from.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from dealscope.api.app import create_app
from dealscope.config import Settings
from dealscope.demo.generator import BrokerageSpec, generate_brokerage
from dealscope.demo.loader import load_brokerage
from dealscope.kit.crypto import PiiCipher
from dealscope.kit.passwords import hash_password
from dealscope.kit.roles import Permission, Role, allows
from dealscope.warehouse import schema
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.unit_of_work import unit_of_work

END = dt.date(2025, 3, 31)
GAP = 1_000_000  # ids of A start above this, of B above twice this, in every table
PASSWORD = "correct horse battery staple"
CIPHER = PiiCipher([Fernet.generate_key()], b"matrix-hash-key")

# The documented permission matrix (kit/roles.py), written out again on purpose: the code's
# table must match it, so a change to who may do what is a deliberate edit in both places.
EVERYONE = {"data:read", "config:read"}
EXPECTED_PERMISSIONS: dict[Role, set[str]] = {
    Role.ADMIN: {p.value for p in Permission},
    Role.MANAGER: EVERYONE | {"reports:build"},
    Role.ANALYST: EVERYONE | {"reports:build"},
    Role.AGENT: EVERYONE,
    Role.VIEWER: EVERYONE,
}


def _allowed(role: Role, permission: Permission | None) -> bool:
    return permission is None or permission.value in EXPECTED_PERMISSIONS[role]


def test_the_permission_matrix_is_the_documented_one() -> None:
    for role in Role:
        assert {p.value for p in Permission if allows(role, p)} == EXPECTED_PERMISSIONS[role]


@dataclass
class Caller:
    tenant: str
    role: Role
    email: str
    user_id: int
    agent_id: int | None = None
    team_id: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Tenant:
    slug: str
    tenant_id: int
    ids: set[int]  # every id of every row of this tenant
    agent_ids: set[int]
    team_of_agent: dict[int, int]
    callers: list[Caller] = field(default_factory=list)


def _all_ids(conn: sa.Connection, tenant_id: int) -> set[int]:
    ids: set[int] = set()
    for table in schema.metadata.tables.values():
        if "tenant_id" in table.c and "id" in table.c:
            ids |= set(
                conn.execute(sa.select(table.c.id).where(table.c.tenant_id == tenant_id)).scalars()
            )
    return ids


def _make_tenant(warehouse: Warehouse, slug: str, seed: int) -> Tenant:
    spec = BrokerageSpec(leads=500, seed=seed, end=END, years=1, agents=6, name=f"{slug} realty")
    tenant_id = load_brokerage(warehouse, generate_brokerage(spec), slug, cipher=CIPHER).tenant_id
    with unit_of_work(warehouse) as uow:
        conn = uow.connection
        rows = conn.execute(
            sa.select(schema.agents.c.id, schema.agents.c.team_id)
            .where(schema.agents.c.tenant_id == tenant_id)
            .order_by(schema.agents.c.id)
        ).all()
        team_of_agent = {int(r.id): int(r.team_id) for r in rows}
        # Two agents and two managers, on different teams, so that a leak between agents or
        # teams shows as well as one between tenants.
        first = next(iter(team_of_agent))
        second = next(a for a, t in team_of_agent.items() if t != team_of_agent[first])
        people: list[tuple[Role, int | None, int | None]] = [
            (Role.ADMIN, None, None),
            (Role.ANALYST, None, None),
            (Role.VIEWER, None, None),
            (Role.MANAGER, None, team_of_agent[first]),
            (Role.MANAGER, None, team_of_agent[second]),
            (Role.AGENT, first, team_of_agent[first]),
            (Role.AGENT, second, team_of_agent[second]),
        ]
        callers = []
        for number, (role, agent, team) in enumerate(people):
            email = f"{role.value}{number}@{slug}.example"
            user_id = warehouse.ids.reserve("users", 1)  # no cached block: honours the gap
            conn.execute(
                schema.users.insert().values(
                    id=user_id,
                    tenant_id=tenant_id,
                    email=email,
                    full_name=f"{role} of {slug}",
                    password_hash=hash_password(PASSWORD),
                    role=role.value,
                    agent_id=agent,
                    team_id=team,
                    created_at=dt.datetime.now(dt.UTC),
                )
            )
            callers.append(Caller(slug, role, email, user_id, agent, team))
        ids = _all_ids(conn, tenant_id)
    return Tenant(slug, tenant_id, ids, set(team_of_agent), team_of_agent, callers)


def _reserve_gap(warehouse: Warehouse) -> None:
    for table in schema.metadata.tables.values():
        if "id" in table.c and "tenant_id" in table.c:
            warehouse.ids.reserve(table.name, GAP)


@pytest.fixture
def world(warehouse: Warehouse) -> tuple[Tenant, Tenant]:
    _reserve_gap(warehouse)  # every id of the test is far above counts, codes and versions
    alpha = _make_tenant(warehouse, "alpha", seed=21)
    _reserve_gap(warehouse)  # tenant B's ids above every id of A
    beta = _make_tenant(warehouse, "beta", seed=22)
    assert min(alpha.ids) > GAP and max(alpha.ids) < 2 * GAP < min(beta.ids)
    _reserve_gap(warehouse)  # rows the calls create (audit, sessions) land above both
    return alpha, beta


@pytest.fixture
def client(warehouse: Warehouse, tmp_path: Any) -> Iterator[TestClient]:
    settings = Settings(
        _env_file=None,
        environment="test",
        data_dir=tmp_path,
        database_url=warehouse.url,
        rate_limit_per_minute=100_000,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _login(client: TestClient, caller: Caller) -> None:
    response = client.post(
        "/api/v1/auth/token", data={"username": caller.email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    caller.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}


# --- what the routes say about themselves ----------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    permission: Permission | None  # None: any signed-in caller
    public: bool


def _api_routes(routes: list[Any]) -> Iterator[Any]:
    """Every endpoint with its full path, methods and dependant. FastAPI 0.120+ keeps included
    routers as wrappers whose `effective_route_contexts` carry the prefixed paths."""
    for route in routes:
        if hasattr(route, "effective_route_contexts"):
            yield from (c for c in route.effective_route_contexts() if hasattr(c, "dependant"))
        elif isinstance(route, APIRoute):
            yield route


def _required_permission(route: Any) -> tuple[Permission | None, bool]:
    """The permission a route's dependencies demand, and whether it needs a caller at all."""
    permission: Permission | None = None
    authenticated = False
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        call = dep.call
        found = getattr(call, "required_permission", None)
        if isinstance(found, Permission):
            permission = found
        if getattr(call, "authenticates", False):
            authenticated = True
        stack.extend(dep.dependencies)
    return permission, not (authenticated or permission is not None)


def _endpoints(client: TestClient) -> list[Endpoint]:
    found = []
    for route in _api_routes(client.app.routes):  # type: ignore[attr-defined]
        if not route.path.startswith("/api/v1"):
            continue
        permission, public = _required_permission(route)
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            found.append(Endpoint(method, route.path, permission, public))
    return found


def _example(schema_: dict[str, Any], components: dict[str, Any]) -> Any:
    """A small instance of a JSON schema: its example if it has one, else built from types."""
    if "$ref" in schema_:
        return _example(components[schema_["$ref"].rsplit("/", 1)[1]], components)
    if schema_.get("examples"):
        examples = schema_["examples"]
        return examples[0] if isinstance(examples, list) else next(iter(examples.values()))
    if "example" in schema_:
        return schema_["example"]
    if "default" in schema_:
        return schema_["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema_:
            return _example(schema_[key][0], components)
    if "enum" in schema_:
        return schema_["enum"][0]
    kind = schema_.get("type")
    if kind == "object":
        required = schema_.get("required", [])
        return {
            k: _example(v, components)
            for k, v in schema_.get("properties", {}).items()
            if k in required
        }
    if kind == "array":
        return []
    return {"integer": 1, "number": 1.0, "boolean": False}.get(str(kind), "example")


def _body(openapi: dict[str, Any], endpoint: Endpoint) -> dict[str, Any]:
    operation = openapi["paths"][endpoint.path][endpoint.method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    components = openapi.get("components", {}).get("schemas", {})
    if "application/json" in content:
        return {"json": _example(content["application/json"]["schema"], components)}
    if "application/x-www-form-urlencoded" in content:
        return {
            "data": _example(content["application/x-www-form-urlencoded"]["schema"], components)
        }
    return {}


def _fill(openapi: dict[str, Any], endpoint: Endpoint, target: int) -> str:
    """The path with id parameters set to `target` and named ones (an enum) to a real name."""
    operation = openapi["paths"][endpoint.path][endpoint.method.lower()]
    kinds = {
        p["name"]: p.get("schema", {})
        for p in operation.get("parameters", [])
        if p.get("in") == "path"
    }

    def value(match: re.Match[str]) -> str:
        schema_ = kinds.get(match.group(1), {})
        if "$ref" in schema_:
            ref = schema_["$ref"].rsplit("/", 1)[1]
            schema_ = openapi["components"]["schemas"][ref]
        if "enum" in schema_:
            return str(schema_["enum"][0])
        return str(target)

    return re.sub(r"\{([^}]+)\}", value, endpoint.path)


def _takes_id(path: str) -> bool:
    return bool(re.search(r"\{[a-z_]*id\}", path))


# --- what a response may contain -------------------------------------------------------


def _walk(value: Any, key: str | None = None) -> Iterator[tuple[str | None, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, k)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, key)
    else:
        yield key, value


def _assert_no_leak(body: Any, caller: Caller, own: Tenant, other: Tenant, where: str) -> None:
    for key, value in _walk(body):
        if isinstance(value, int) and not isinstance(value, bool):
            assert value not in other.ids, f"{where}: {other.slug}'s id {value} ({key})"
            if key == "tenant_id":
                assert value == own.tenant_id, f"{where}: tenant_id {value}"
            if caller.role == Role.AGENT and key in ("agent_id", "assigned_agent_id"):
                assert value == caller.agent_id, f"{where}: another agent's row ({value})"
            if caller.role == Role.MANAGER and key in ("agent_id", "assigned_agent_id"):
                assert own.team_of_agent.get(value) == caller.team_id, f"{where}: other team"
        if isinstance(value, str):
            assert f"@{other.slug}.example" not in value, f"{where}: {other.slug}'s email"
            assert f"{other.slug} realty" not in value.lower(), f"{where}: {other.slug}'s name"


def test_every_endpoint_as_every_caller(client: TestClient, world: tuple[Tenant, Tenant]) -> None:
    alpha, beta = world
    for tenant in world:
        for caller in tenant.callers:
            _login(client, caller)
        admin = tenant.callers[0]
        created = client.post(
            "/api/v1/api-keys", headers=admin.headers, json={"name": "matrix", "role": "analyst"}
        )
        assert created.status_code == 201, created.text
        machine = Caller(
            tenant.slug,
            Role.ANALYST,
            "api key",
            user_id=0,
            headers={"X-API-Key": created.json()["key"]},
        )
        tenant.callers.append(machine)
    openapi = client.get("/openapi.json").json()
    endpoints = _endpoints(client)
    assert len(endpoints) >= 10, [f"{e.method} {e.path}" for e in endpoints]
    calls = served = 0
    # Reads first, then changes, so that no change made early hides what a later read shows;
    # signing out last, as it ends the caller's session.
    order = {"GET": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}
    for endpoint in sorted(endpoints, key=lambda e: ("logout" in e.path, order[e.method], e.path)):
        for own, other in ((alpha, beta), (beta, alpha)):
            if endpoint.public:
                continue
            unauthenticated = client.request(
                endpoint.method, _fill(openapi, endpoint, min(own.ids)), **_body(openapi, endpoint)
            )
            where = f"{endpoint.method} {endpoint.path} without a token"
            assert unauthenticated.status_code == 401, where
            for caller in own.callers:
                allowed = _allowed(caller.role, endpoint.permission)
                targets = [max(other.ids)] if _takes_id(endpoint.path) else [0]
                if endpoint.method == "GET" and _takes_id(endpoint.path):
                    targets.append(caller.user_id)
                for target in targets:
                    path = _fill(openapi, endpoint, target)
                    response = client.request(
                        endpoint.method, path, headers=caller.headers, **_body(openapi, endpoint)
                    )
                    calls += 1
                    where = f"{endpoint.method} {path} as {caller.role} of {own.slug}"
                    assert response.status_code < 500, f"{where}: {response.text}"
                    if not allowed:
                        assert response.status_code == 403, f"{where}: {response.status_code}"
                        continue
                    assert response.status_code != 403 or "scope" in response.text, where
                    if endpoint.method == "GET" and not _takes_id(endpoint.path):
                        assert response.status_code == 200, f"{where}: {response.text}"
                        served += 1
                    if target in other.ids:  # another tenant's id is never found
                        assert response.status_code in (404, 422, 400), f"{where}: reached it"
                    json_body = response.headers.get("content-type", "").startswith(
                        "application/json"
                    )
                    if response.content and json_body:
                        _assert_no_leak(response.json(), caller, own, other, where)
    assert calls > 100 and served > 20
