"""GET /dashboard/revenue on a small generated brokerage, as an admin and as an agent."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from test_metrics_api import END, Demo, _query, demo

__all__ = ["demo"]


def _revenue(api: TestClient, headers: dict[str, str], **params: str) -> dict:  # type: ignore[type-arg]
    response = api.get(
        "/api/v1/dashboard/revenue", headers=headers, params={"as_of": END.isoformat(), **params}
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_revenue_for_the_broker_and_for_an_agent(api: TestClient, demo: Demo) -> None:
    got = _revenue(api, demo.admin, range="qtd")
    totals = got["totals"]
    metrics = _query(api, demo.admin, metrics=["gci", "closings"], range="qtd")
    same = {s["slug"]: s["rows"][0]["value"] for s in metrics["metrics"]}
    assert totals["gci"] == pytest.approx(same["gci"]) and totals["closings"] == same["closings"]
    assert sum(r["gci"] for r in got["by_agent"]) == pytest.approx(totals["gci"])
    assert sum(r["gci"] for r in got["by_source"]) == pytest.approx(totals["gci"])
    assert [m["month_start"] for m in got["monthly"]] == ["2025-01-01", "2025-02-01", "2025-03-01"]
    assert got["pacing"]["target"] and got["pacing"]["elapsed_share"] == 1.0
    assert 0 < got["concentration"]["agent_hhi"] <= 1
    assert got["concentration"]["level"] in {"ok", "elevated", "high"}

    mine = _revenue(api, demo.agent, range="qtd")
    assert {r["key"] for r in mine["by_agent"]} <= {str(demo.agent_id)}
    assert mine["pacing"]["target"] is None
    by_agent = {r["key"]: r["gci"] for r in got["by_agent"]}
    assert mine["totals"]["gci"] == pytest.approx(by_agent.get(str(demo.agent_id), 0.0))


def test_the_hhi_levels_are_documented(api: TestClient) -> None:
    schemas = api.get("/openapi.json").json()["components"]["schemas"]
    assert "elevated" in schemas["ConcentrationRead"]["properties"]["level"]["description"]
