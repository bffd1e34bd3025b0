"""The pipeline, funnel and speed-to-lead endpoints on a small generated brokerage: shapes,
invariants that hold whatever the data, the caller's scope, and bad parameters."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from accounts import Brokerage, add_brokerage, add_user, bearer_of
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from dealscope.api.app import create_app
from dealscope.config import Settings
from dealscope.demo.generator import BrokerageSpec, generate_brokerage
from dealscope.demo.loader import load_brokerage
from dealscope.kit.crypto import PiiCipher
from dealscope.kit.roles import Role
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import agents, opportunities, tenants

END = dt.date(2025, 3, 31)
PERIOD = {"range": "90d", "as_of": END.isoformat()}


@pytest.fixture
def brokerage(warehouse: Warehouse) -> Brokerage:
    spec = BrokerageSpec(leads=600, seed=7, end=END, years=1, agents=6)
    cipher = PiiCipher([Fernet.generate_key()], b"k")
    tenant_id = load_brokerage(warehouse, generate_brokerage(spec), "gen", cipher=cipher).tenant_id
    with warehouse.engine.connect() as conn:
        agent_id, team_id = conn.execute(
            sa.select(agents.c.id, agents.c.team_id)
            .where(agents.c.tenant_id == tenant_id)
            .order_by(agents.c.id)
        ).first()  # type: ignore[misc]
    return Brokerage(tenant_id, "gen", int(team_id), int(agent_id))


@pytest.fixture
def client(
    warehouse: Warehouse, settings_for: Callable[..., Settings], brokerage: Brokerage
) -> TestClient:
    add_user(warehouse, brokerage, "boss@gen.example", Role.ADMIN)
    add_user(warehouse, brokerage, "agent@gen.example", Role.AGENT, agent_id=brokerage.agent_id)
    with TestClient(create_app(settings_for(warehouse))) as test_client:
        yield test_client  # type: ignore[misc]


def _get(client: TestClient, email: str, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(
        f"/api/v1/dashboard/{path}", headers=bearer_of(client, email), params=params
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _non_increasing(counts: list[int]) -> bool:
    return all(a >= b for a, b in itertools.pairwise(counts))


def test_pipeline_shape_and_invariants(client: TestClient) -> None:
    body = _get(client, "boss@gen.example", "pipeline", **PERIOD)

    assert (body["period_start"], body["period_end"], body["grain"]) == (
        "2025-01-01", "2025-03-31", "week"
    )  # fmt: skip
    cohort = body["cohort_leads"]
    assert cohort > 50
    funnel = [s["leads"] for s in body["funnel"]]
    assert funnel[0] == cohort and _non_increasing(funnel)
    for group in ("aging", "temperature"):
        assert sum(s["share"] for s in body[group]) == pytest.approx(1.0)
    assert sum(v["total"] for v in body["volume_by_source"]) == cohort
    assert len({len(v["points"]) for v in body["volume_by_source"]}) == 1  # same buckets
    for heatmap in ("arrivals_heatmap", "outbound_heatmap"):
        counts = body[heatmap]["counts"]
        assert len(counts) == 7 and all(len(row) == 24 for row in counts)
        assert sum(map(sum, counts)) == body[heatmap]["total"]
    assert body["arrivals_heatmap"]["total"] == cohort
    assert sum(c["leads"] for c in body["conversion_by_source"]) == cohort
    assert sum(f["deals"] for f in body["flows"] if f["from_stage"] == "new") <= cohort
    monthly = _get(client, "boss@gen.example", "pipeline", range="ytd", as_of="2025-03-31")
    assert monthly["grain"] == "week" and len(monthly["conversion_by_month"]) == 3


def test_funnel_shape_and_invariants(client: TestClient) -> None:
    steps = "contacted,appointment,offer,closed_won"
    common = {**PERIOD, "steps": steps, "breakdown": "source"}
    strict = _get(client, "boss@gen.example", "funnel", **common)
    unordered = _get(client, "boss@gen.example", "funnel", **common, order="any")

    counts = [s["leads"] for s in strict["steps"]]
    assert [s["step"] for s in strict["steps"]] == steps.split(",")
    assert _non_increasing(counts) and counts[0] > 0
    assert all(
        a >= s for a, s in zip([s["leads"] for s in unordered["steps"]], counts, strict=True)
    )
    assert sum(seg["leads"] for seg in strict["breakdown"]) == counts[0]
    assert strict["time_to_convert"]["converted"] == counts[-1]
    assert isinstance(strict["bottleneck"]["finding"], str) and strict["bottleneck"]["finding"]
    assert strict["comparison"] is None

    compared = _get(
        client, "boss@gen.example", "funnel", **PERIOD,
        segment_a="source:zillow", segment_b="source:paid_social",
    )  # fmt: skip
    comparison = compared["comparison"]
    assert comparison["a"]["segment"] == "source:zillow" and comparison["a"]["leads"] > 0
    assert comparison["p_value"] is None or 0 <= comparison["p_value"] <= 1


def test_speed_to_lead_shape_and_invariants(client: TestClient) -> None:
    body = _get(client, "boss@gen.example", "speed-to-lead", **PERIOD, sla_minutes=15)

    leads = body["overall"]["leads"]
    sla = body["sla"]
    assert sla["threshold_minutes"] == 15
    assert sla["within"] + sla["breached"] + sla["never_contacted"] == sla["leads"] == leads
    assert sla["within_share"] + sla["breached_share"] + sla["never_contacted_share"] == (
        pytest.approx(1.0)
    )
    assert [h["hour"] for h in body["by_hour"]] == list(range(24))
    assert sum(h["leads"] for h in body["by_hour"]) == leads
    assert sum(s["leads"] for s in body["by_source"]) == leads
    assert sum(b["leads"] for b in body["win_rate_by_response"]) == leads


def test_an_agent_counts_only_their_own_leads(
    client: TestClient, warehouse: Warehouse, brokerage: Brokerage
) -> None:
    start = dt.datetime(2025, 1, 1, 6, tzinfo=dt.UTC)  # America/Chicago midnight
    end = dt.datetime(2025, 4, 1, 5, tzinfo=dt.UTC)  # CDT from 9 March
    with warehouse.engine.connect() as conn:
        timezone = conn.execute(
            sa.select(tenants.c.timezone).where(tenants.c.id == brokerage.tenant_id)
        ).scalar()
        own = conn.execute(
            sa.select(sa.func.count()).where(
                opportunities.c.tenant_id == brokerage.tenant_id,
                opportunities.c.assigned_agent_id == brokerage.agent_id,
                opportunities.c.created_at >= start,
                opportunities.c.created_at < end,
            )
        ).scalar()
    assert timezone == "America/Chicago"

    pipeline = _get(client, "agent@gen.example", "pipeline", **PERIOD)
    speed = _get(client, "agent@gen.example", "speed-to-lead", **PERIOD)
    funnel = _get(client, "agent@gen.example", "funnel", **PERIOD, breakdown="agent")
    everyone = _get(client, "boss@gen.example", "pipeline", **PERIOD)

    assert 0 < pipeline["cohort_leads"] == own < everyone["cohort_leads"]
    assert speed["overall"]["leads"] == own
    assert funnel["steps"][0]["leads"] == own
    assert {c["agent_id"] for c in pipeline["conversion_by_agent"]} == {brokerage.agent_id}
    assert {s["agent_id"] for s in funnel["breakdown"]} == {brokerage.agent_id}


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("funnel", {"steps": "contacted,nowhere"}, 400),
        ("funnel", {"steps": "contacted"}, 400),
        ("funnel", {"segment_a": "source:zillow"}, 400),
        ("funnel", {"segment_a": "city:austin", "segment_b": "source:zillow"}, 400),
        ("funnel", {"window_days": 0}, 422),
        ("pipeline", {"range": "custom", "start": "2025-01-01"}, 400),
        ("pipeline", {"range": "custom", "start": "2025-03-01", "end": "2025-02-01"}, 400),
        ("speed-to-lead", {"sla_minutes": 0}, 422),
    ],
)
def test_bad_parameters_are_refused(
    api: TestClient, warehouse: Warehouse, path: str, params: dict[str, Any], status: int
) -> None:
    add_user(warehouse, add_brokerage(warehouse, "empty"), "boss@empty.example", Role.ADMIN)
    response = api.get(
        f"/api/v1/dashboard/{path}", headers=bearer_of(api, "boss@empty.example"), params=params
    )
    assert response.status_code == status, response.text
    assert "error" in response.json()


def test_an_empty_tenant_gets_zeros(api: TestClient, warehouse: Warehouse) -> None:
    add_user(warehouse, add_brokerage(warehouse, "empty"), "boss@empty.example", Role.ADMIN)
    headers = bearer_of(api, "boss@empty.example")
    for path in ("pipeline", "funnel", "speed-to-lead"):  # as_of: today, the tenant's
        response = api.get(f"/api/v1/dashboard/{path}", headers=headers)
        assert response.status_code == 200, response.text
    assert response.json()["sla"]["leads"] == 0
