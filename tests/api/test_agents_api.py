"""GET /dashboard/agents/{id}, /dashboard/teams and /dashboard/teams/{id} on a small generated
brokerage, as the broker, a manager and an agent: who may open what, and that the figures are
the leaderboard's."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from accounts import Brokerage, add_brokerage, add_user, bearer_of
from fastapi.testclient import TestClient
from test_metrics_api import END, Demo, demo

from dealscope.kit.roles import Role
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import agents

__all__ = ["demo"]


def _get(api: TestClient, headers: dict[str, str], path: str, status: int = 200) -> Any:
    response = api.get(
        f"/api/v1/dashboard/{path}",
        headers=headers,
        params={"as_of": END.isoformat(), "range": "qtd"},
    )
    assert response.status_code == status, response.text
    return response.json()


def _org(warehouse: Warehouse, tenant_id: int) -> dict[int, int]:
    with warehouse.engine.connect() as conn:
        rows = conn.execute(
            sa.select(agents.c.id, agents.c.team_id).where(agents.c.tenant_id == tenant_id)
        ).all()
    return {int(r.id): int(r.team_id) for r in rows}


def _tenant_of(warehouse: Warehouse, agent_id: int) -> int:
    with warehouse.engine.connect() as conn:
        return int(
            conn.execute(sa.select(agents.c.tenant_id).where(agents.c.id == agent_id)).scalar_one()
        )


def test_the_broker_opens_any_agent_and_the_figures_match_the_leaderboard(
    api: TestClient, demo: Demo
) -> None:
    board = {r["agent_id"]: r for r in _get(api, demo.admin, "agents")["agents"]}
    ranked = list(board)
    for agent_id in (ranked[0], ranked[-1]):  # the best and the worst by GCI
        row = board[agent_id]
        got = _get(api, demo.admin, f"agents/{agent_id}")
        card = got["scorecard"]
        assert got["agent_id"] == agent_id and got["name"] == row["name"]
        assert card["gci"] == pytest.approx(row["gci"])
        assert card["closings"] == row["deals"]
        assert card["leads_handled"] == row["new_leads"]
        assert card["conversion"] == pytest.approx(row["conversion"])
        assert card["speed_to_lead_median_minutes"] == pytest.approx(row["speed_to_lead_minutes"])
        assert got["brokerage_average"]["agents"] == len(board)
        assert got["brokerage_average"]["scorecard"]["gci"] == pytest.approx(
            sum(r["gci"] for r in board.values()) / len(board)
        )
        assert got["team_average"]["label"]
        assert len(got["trend"]) == 12 and len(got["quota_to_date"]) == 3
    teams = _get(api, demo.admin, "teams")["teams"]
    assert sum(t["scorecard"]["gci"] for t in teams) == pytest.approx(
        sum(r["gci"] for r in board.values())
    )
    assert sum(t["agents"] for t in teams) == len(board)
    assert [t["scorecard"]["gci"] for t in teams] == sorted(
        (t["scorecard"]["gci"] for t in teams), reverse=True
    )


def test_the_drilldown_is_cached_per_agent(api: TestClient, demo: Demo) -> None:
    path = f"/api/v1/dashboard/agents/{demo.agent_id}"
    params = {"as_of": END.isoformat()}
    first = api.get(path, headers=demo.admin, params=params)
    again = api.get(path, headers=demo.admin, params=params)
    assert (first.headers["X-Cache"], again.headers["X-Cache"]) == ("miss", "hit")
    assert first.json() == again.json()


def test_an_agent_opens_only_their_own_page(
    api: TestClient, demo: Demo, warehouse: Warehouse
) -> None:
    tenant_id = _tenant_of(warehouse, demo.agent_id)
    org = _org(warehouse, tenant_id)
    mine = _get(api, demo.agent, f"agents/{demo.agent_id}")
    admin_view = _get(api, demo.admin, f"agents/{demo.agent_id}")
    assert mine["scorecard"] == admin_view["scorecard"]
    assert mine["team_average"] is None and mine["brokerage_average"] is None
    mates = [a for a in org if a != demo.agent_id and org[a] == org[demo.agent_id]]
    stranger = next(a for a in org if org[a] != org[demo.agent_id])
    for other in [*mates[:1], stranger]:
        body = _get(api, demo.agent, f"agents/{other}", 404)
        assert body["error"] == "not_found"
    elsewhere = add_brokerage(warehouse, "elsewhere")
    assert _get(api, demo.admin, f"agents/{elsewhere.agent_id}", 404)["error"] == "not_found"
    assert [t["team_id"] for t in _get(api, demo.agent, "teams")["teams"]] == [org[demo.agent_id]]


def test_a_manager_opens_their_teams_agents_only(
    api: TestClient, demo: Demo, warehouse: Warehouse
) -> None:
    tenant_id = _tenant_of(warehouse, demo.agent_id)
    org = _org(warehouse, tenant_id)
    team = org[demo.agent_id]
    demo_brokerage = Brokerage(tenant_id, "demo", team, demo.agent_id)
    add_user(warehouse, demo_brokerage, "manager@demo.example", Role.MANAGER, team_id=team)
    headers = bearer_of(api, "manager@demo.example")
    got = _get(api, headers, f"agents/{demo.agent_id}")
    assert got["brokerage_average"] is None
    size = sum(t == team for t in org.values())
    if size > 1:  # a team of one: its average would be the agent's own figures
        assert got["team_average"]["agents"] == size
    stranger = next(a for a in org if org[a] != team)
    _get(api, headers, f"agents/{stranger}", 404)
    teams = _get(api, headers, "teams")["teams"]
    assert [t["team_id"] for t in teams] == [team]
    detail = _get(api, headers, f"teams/{team}")
    assert {m["agent_id"] for m in detail["members"]} <= {a for a, t in org.items() if t == team}
    assert detail["team"]["scorecard"] == teams[0]["scorecard"]
    for other_team in set(org.values()) - {team}:
        _get(api, headers, f"teams/{other_team}", 404)
