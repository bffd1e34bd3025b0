"""GET /metrics and POST /metrics/query on a small generated brokerage, on both backends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from accounts import Brokerage, add_user, bearer_of
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from dealscope.demo.generator import BrokerageSpec, generate_brokerage
from dealscope.demo.loader import load_brokerage
from dealscope.kit.crypto import PiiCipher
from dealscope.kit.roles import Role
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import agents

END = dt.date(2025, 3, 31)
CIPHER = PiiCipher([Fernet.generate_key()], b"k")


@dataclass
class Demo:
    admin: dict[str, str]
    agent: dict[str, str]
    agent_id: int


def load_demo(warehouse: Warehouse) -> Demo:
    spec = BrokerageSpec(leads=400, seed=5, end=END, years=1, agents=5)
    tenant_id = load_brokerage(warehouse, generate_brokerage(spec), "demo", cipher=CIPHER).tenant_id
    with warehouse.engine.connect() as conn:
        agent_id, team_id = conn.execute(
            sa.select(agents.c.id, agents.c.team_id)
            .where(agents.c.tenant_id == tenant_id)
            .order_by(agents.c.id)
        ).first()  # type: ignore[misc]
    brokerage = Brokerage(tenant_id, "demo", int(team_id), int(agent_id))
    add_user(warehouse, brokerage, "admin@demo.example", Role.ADMIN)
    add_user(warehouse, brokerage, "agent@demo.example", Role.AGENT, agent_id=int(agent_id))
    return Demo({}, {}, int(agent_id))


@pytest.fixture
def demo(api: TestClient, warehouse: Warehouse) -> Iterator[Demo]:
    world = load_demo(warehouse)
    world.admin = bearer_of(api, "admin@demo.example")
    world.agent = bearer_of(api, "agent@demo.example")
    yield world


def _query(api: TestClient, headers: dict[str, str], **body: object) -> dict:  # type: ignore[type-arg]
    response = api.post(
        "/api/v1/metrics/query", headers=headers, json={"as_of": END.isoformat(), **body}
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_catalog_queries_scope_and_errors(api: TestClient, demo: Demo) -> None:
    catalog = api.get("/api/v1/metrics", headers=demo.agent)
    assert catalog.status_code == 200
    metrics = {m["slug"]: m for m in catalog.json()["metrics"]}
    assert len(metrics) >= 30
    assert metrics["gci"]["unit"] == "money" and "agent" in metrics["gci"]["dimensions"]
    assert "agent" not in metrics["marketing_spend"]["dimensions"]

    slugs = ["new_leads", "gci", "deals_won", "win_rate"]
    by_agent = _query(api, demo.admin, metrics=slugs, dimensions=["agent"], range="90d")
    assert by_agent["period"] == {"start": "2025-01-01", "end": "2025-03-31"}
    assert str(demo.agent_id) in by_agent["labels"]["agent"]
    mine = _query(api, demo.agent, metrics=slugs, range="90d")
    for admin_series, agent_series in zip(by_agent["metrics"], mine["metrics"], strict=True):
        rows = {r["dimensions"]["agent"]: r["value"] for r in admin_series["rows"]}
        expected = rows.get(str(demo.agent_id), 0.0 if admin_series["unit"] != "ratio" else None)
        assert agent_series["rows"][0]["value"] == pytest.approx(expected), admin_series["slug"]
    total = _query(api, demo.admin, metrics=["new_leads"], range="90d")
    leads_total = total["metrics"][0]["rows"][0]["value"]
    assert leads_total == sum(r["value"] for r in by_agent["metrics"][0]["rows"])
    assert leads_total > mine["metrics"][0]["rows"][0]["value"] > 0

    compared = _query(
        api, demo.admin, metrics=["gci"], range="qtd", grain="month", compare="target"
    )
    rows = compared["metrics"][0]["rows"]
    assert [r["bucket"] for r in rows] == ["2025-01-01", "2025-02-01", "2025-03-01"]
    assert all(r["comparison"] and r["comparison"] > 0 for r in rows)  # the demo's plans

    refused = api.post(
        "/api/v1/metrics/query", headers=demo.agent, json={"metrics": ["marketing_spend"]}
    )
    assert refused.status_code == 403 and refused.json()["error"] == "scope_violation"
    unknown = api.post("/api/v1/metrics/query", headers=demo.admin, json={"metrics": ["nope"]})
    assert unknown.status_code == 400 and "'nope'" in unknown.json()["detail"]
    split = api.post(
        "/api/v1/metrics/query",
        headers=demo.admin,
        json={"metrics": ["marketing_spend"], "dimensions": ["zip"]},
    )
    assert split.status_code == 400 and "zip" in split.json()["detail"]
    malformed = api.post("/api/v1/metrics/query", headers=demo.admin, json={"metrics": "gci"})
    assert malformed.status_code == 422
    today = api.post("/api/v1/metrics/query", headers=demo.admin, json={"metrics": ["gci"]})
    assert today.status_code == 200  # as_of: today in the tenant's time zone
