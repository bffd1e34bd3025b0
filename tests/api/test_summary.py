"""GET /dashboard/summary on a small generated brokerage, as an admin and as an agent."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from test_metrics_api import END, Demo, demo

__all__ = ["demo"]


def _summary(api: TestClient, headers: dict[str, str], **params: str) -> dict:  # type: ignore[type-arg]
    response = api.get(
        "/api/v1/dashboard/summary", headers=headers, params={"as_of": END.isoformat(), **params}
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_summary_for_the_broker_and_for_an_agent(api: TestClient, demo: Demo) -> None:
    summary = _summary(api, demo.admin, range="qtd", compare="target")
    cards = {c["slug"]: c for c in summary["cards"]}
    assert len(cards) >= 8 and summary["alerts"] == []
    gci = cards["gci"]
    assert gci["target"] and gci["comparison"] == gci["target"]
    assert gci["attainment"] == pytest.approx(gci["value"] / gci["target"])
    assert [r["label"] for r in summary["revenue"]] == [
        "Month to date",
        "Quarter to date",
        "Year to date",
    ]
    assert summary["revenue"][1]["gci"] == pytest.approx(gci["value"])  # qtd both
    health = summary["pipeline_health"]
    assert 0 <= health["score"] <= 100 and len(health["components"]) == 4
    assert sum(c["weight"] for c in health["components"]) == pytest.approx(1.0)
    top = summary["top_agents"]
    assert 0 < len(top) <= 5 and [a["gci"] for a in top] == sorted(
        (a["gci"] for a in top), reverse=True
    )

    previous = _summary(api, demo.admin, range="90d")
    assert previous["comparison_period"] == {"start": "2024-10-03", "end": "2024-12-31"}

    mine = _summary(api, demo.agent, range="qtd")
    assert {a["agent_id"] for a in mine["top_agents"]} <= {demo.agent_id}
    my_cards = {c["slug"]: c for c in mine["cards"]}
    assert all(c["target"] is None for c in mine["cards"])  # no plans for agents
    by_agent = {a["agent_id"]: a["gci"] for a in top}
    if demo.agent_id in by_agent:
        assert my_cards["gci"]["value"] == pytest.approx(by_agent[demo.agent_id])
    assert my_cards["new_leads"]["value"] < cards["new_leads"]["value"]


def test_the_health_formula_is_documented(api: TestClient) -> None:
    schemas = api.get("/openapi.json").json()["components"]["schemas"]
    assert "coverage" in schemas["PipelineHealth"]["properties"]["score"]["description"]
