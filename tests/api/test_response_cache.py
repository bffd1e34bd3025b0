"""The analytics response cache: miss then hit, keyed on the tenant's data version and the
caller's scope, shared through Redis, and never an outage when Redis is down. Both backends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import httpx
import redis
import sqlalchemy as sa
from accounts import Brokerage, add_user, bearer_of
from fastapi.testclient import TestClient
from test_metrics_api import END, Demo, demo, load_demo

from dealscope.api.app import create_app
from dealscope.config import Settings
from dealscope.kit.roles import Role
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import agents, contacts, tenants
from dealscope.warehouse.unit_of_work import unit_of_work

__all__ = ["demo"]

AS_OF = END.isoformat()
NEW_LEADS = {"metrics": ["new_leads"], "range": "30d", "as_of": AS_OF}

# (method, path, query parameters or JSON body) of every cached analytics endpoint
ENDPOINTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/api/v1/dashboard/summary", {"as_of": AS_OF}),
    ("GET", "/api/v1/dashboard/pipeline", {"as_of": AS_OF, "range": "90d"}),
    ("GET", "/api/v1/dashboard/funnel", {"as_of": AS_OF, "range": "90d"}),
    ("GET", "/api/v1/dashboard/speed-to-lead", {"as_of": AS_OF}),
    ("POST", "/api/v1/metrics/query", NEW_LEADS),
]


def _call(
    client: TestClient, headers: dict[str, str], method: str, path: str, data: dict[str, Any]
) -> httpx.Response:
    if method == "POST":
        response = client.post(path, headers=headers, json=data)
    else:
        response = client.get(path, headers=headers, params=data)
    assert response.status_code == 200, response.text
    return response


def _new_leads(client: TestClient, headers: dict[str, str]) -> tuple[str, float]:
    response = _call(client, headers, "POST", "/api/v1/metrics/query", NEW_LEADS)
    return response.headers["X-Cache"], response.json()["metrics"][0]["rows"][0]["value"]


def _data_version(warehouse: Warehouse, tenant_id: int) -> int:
    with warehouse.engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(tenants.c.data_version).where(tenants.c.id == tenant_id)
            ).scalar_one()
        )


def _tenant_id(warehouse: Warehouse) -> int:
    with warehouse.engine.connect() as conn:
        return int(
            conn.execute(sa.select(tenants.c.id).where(tenants.c.slug == "demo")).scalar_one()
        )


def _add_lead(warehouse: Warehouse, tenant_id: int) -> None:
    """One new lead on END, written as any ingest would: in a unit of work that touches."""
    with unit_of_work(warehouse) as uow:
        uow.connection.execute(
            contacts.insert().values(
                id=uow.next_id(contacts),
                tenant_id=tenant_id,
                source="website",
                created_at=dt.datetime.combine(END, dt.time(12), tzinfo=dt.UTC),
            )
        )
        uow.touch(tenant_id)


def test_every_analytics_endpoint_misses_then_hits(api: TestClient, demo: Demo) -> None:
    for method, path, data in ENDPOINTS:
        first = _call(api, demo.admin, method, path, data)
        second = _call(api, demo.admin, method, path, data)
        assert first.headers["X-Cache"] == "miss", path
        assert second.headers["X-Cache"] == "hit", path
        assert second.content == first.content, path
        assert second.headers["X-Data-Version"] == first.headers["X-Data-Version"], path
        assert int(first.headers["X-Data-Version"]) >= 1  # the loader's write bumped it
    other_day = _call(api, demo.admin, "POST", path, {**NEW_LEADS, "as_of": "2025-03-30"})
    assert other_day.headers["X-Cache"] == "miss"


def test_a_write_that_bumps_the_data_version_is_seen_on_the_next_request(
    api: TestClient, demo: Demo, warehouse: Warehouse
) -> None:
    tenant_id = _tenant_id(warehouse)
    assert _new_leads(api, demo.admin)[0] == "miss"
    status, before = _new_leads(api, demo.admin)
    assert status == "hit"
    version = _data_version(warehouse, tenant_id)

    _add_lead(warehouse, tenant_id)

    assert _data_version(warehouse, tenant_id) == version + 1
    response = _call(api, demo.admin, "POST", "/api/v1/metrics/query", NEW_LEADS)
    assert response.headers["X-Cache"] == "miss"
    assert response.headers["X-Data-Version"] == str(version + 1)
    assert response.json()["metrics"][0]["rows"][0]["value"] == before + 1
    assert _new_leads(api, demo.admin) == ("hit", before + 1)


def test_two_agents_of_one_tenant_never_share_an_entry(
    api: TestClient, demo: Demo, warehouse: Warehouse
) -> None:
    tenant_id = _tenant_id(warehouse)
    with warehouse.engine.connect() as conn:
        other_agent, team_id = conn.execute(
            sa.select(agents.c.id, agents.c.team_id)
            .where(agents.c.tenant_id == tenant_id, agents.c.id != demo.agent_id)
            .order_by(agents.c.id)
        ).first()  # type: ignore[misc]
    brokerage = Brokerage(tenant_id, "demo", int(team_id), int(other_agent))
    add_user(warehouse, brokerage, "other@demo.example", Role.AGENT, agent_id=int(other_agent))
    other = bearer_of(api, "other@demo.example")

    path, params = "/api/v1/dashboard/summary", {"as_of": AS_OF, "range": "90d"}
    mine = _call(api, demo.agent, "GET", path, params)
    theirs = _call(api, other, "GET", path, params)
    broker = _call(api, demo.admin, "GET", path, params)
    assert [r.headers["X-Cache"] for r in (mine, theirs, broker)] == ["miss"] * 3
    assert len({mine.content, theirs.content, broker.content}) == 3
    again = _call(api, demo.agent, "GET", path, params)
    assert again.headers["X-Cache"] == "hit" and again.content == mine.content


def test_redis_shares_entries_between_processes(
    warehouse: Warehouse,
    settings_for: Callable[..., Settings],
    redis_url: str,
    redis_prefix: str,
) -> None:
    load_demo(warehouse)
    prefix = f"{redis_prefix}{warehouse.backend}"
    settings = settings_for(warehouse, redis_url=redis_url, redis_key_prefix=prefix)
    with TestClient(create_app(settings)) as first:
        assert _new_leads(first, bearer_of(first, "admin@demo.example"))[0] == "miss"
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=f"{prefix}:cache:*"))
        assert len(keys) == 1 and 0 < client.ttl(keys[0]) <= 3600
    with TestClient(create_app(settings)) as second:  # a new process: an empty L1
        assert _new_leads(second, bearer_of(second, "admin@demo.example"))[0] == "hit"


def test_an_unreachable_redis_only_costs_the_cache(
    warehouse: Warehouse,
    settings_for: Callable[..., Settings],
    free_port: Callable[[], int],
) -> None:
    load_demo(warehouse)
    settings = settings_for(warehouse, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    with TestClient(create_app(settings)) as client:
        headers = bearer_of(client, "admin@demo.example")
        status, value = _new_leads(client, headers)
        assert status == "miss" and value > 0
        assert _new_leads(client, headers) == ("hit", value)  # from the in-process level


def test_errors_are_not_cached(api: TestClient, demo: Demo) -> None:
    bad = {"as_of": AS_OF, "range": "custom"}  # custom without start and end
    for _ in range(2):
        response = api.get("/api/v1/dashboard/summary", headers=demo.admin, params=bad)
        assert response.status_code == 400 and "X-Cache" not in response.headers
