"""GET /dashboard/agents on a small generated brokerage, as an admin and as an agent."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from test_metrics_api import END, Demo, demo

__all__ = ["demo"]


def _agents(api: TestClient, headers: dict[str, str], **params: str) -> dict:  # type: ignore[type-arg]
    response = api.get(
        "/api/v1/dashboard/agents", headers=headers, params={"as_of": END.isoformat(), **params}
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_the_leaderboard_for_the_broker_and_for_an_agent(api: TestClient, demo: Demo) -> None:
    by_gci = _agents(api, demo.admin, range="qtd")["agents"]
    assert len(by_gci) >= 5
    assert [r["rank"] for r in by_gci] == list(range(1, len(by_gci) + 1))
    assert [r["gci"] for r in by_gci] == sorted((r["gci"] for r in by_gci), reverse=True)

    by_deals = _agents(api, demo.admin, range="qtd", sort_by="deals")["agents"]
    assert [r["deals"] for r in by_deals] == sorted((r["deals"] for r in by_deals), reverse=True)
    fast = [
        r["speed_to_lead_minutes"]
        for r in _agents(api, demo.admin, sort_by="speed_to_lead")["agents"]
    ]
    known = [m for m in fast if m is not None]
    assert known == sorted(known) and fast[: len(known)] == known

    mine = _agents(api, demo.agent, range="qtd")["agents"]
    assert [r["agent_id"] for r in mine] == [demo.agent_id]
    theirs = {r["agent_id"]: r["gci"] for r in by_gci}
    assert mine[0]["gci"] == pytest.approx(theirs[demo.agent_id])
