"""The agent leaderboard over the hand-built brokerage of metrics_scenario (February 2024),
on DuckDB and PostgreSQL. Values worked out by hand:

  agent 100 (Ada, team 20): closing t1 on 20 Feb, 400k / GCI 12,000; leads c1 and c2, c1's
    deal won (1/2); first outreach 10 min (c1) and 60 min (c2) after creation: median 35.
  agent 101 (Bob, team 21): closing t2 on 29 Feb, 250k / GCI 7,500; lead c3, no outreach,
    not won (0/1); no speed to lead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from metrics_scenario import A100, A101, TENANT, load_scenario

from dealscope.analytics.leaderboard import Leaderboard, SortBy, compute_leaderboard
from dealscope.analytics.periods import Period
from dealscope.analytics.service import AnalyticsService
from dealscope.analytics.sources import Sources
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.tenancy import TenantScope

FEBRUARY = Period(dt.date(2024, 2, 1), dt.date(2024, 3, 1))


@pytest.fixture
def scenario(warehouse: Warehouse) -> Iterator[Warehouse]:
    load_scenario(warehouse)
    yield warehouse


def board(
    warehouse: Warehouse, sort_by: SortBy = SortBy.GCI, agents: list[int] | None = None
) -> Leaderboard:
    scope = TenantScope(TENANT) if agents is None else TenantScope.for_agents(TENANT, agents)
    service = AnalyticsService(Sources(warehouse, scope), dt.date(2024, 3, 31))
    return compute_leaderboard(service, FEBRUARY, sort_by)


def test_february_by_gci(scenario: Warehouse) -> None:
    got = board(scenario)
    rows = [
        (
            r.rank,
            r.agent_id,
            r.name,
            r.team_id,
            r.gci,
            r.sales_volume,
            r.deals,
            r.new_leads,
            r.conversion,
            r.speed_to_lead_minutes,
        )
        for r in got.agents
    ]
    assert rows == [
        (1, A100, "Ada Lovelace", 20, 12_000, 400_000, 1, 2, 0.5, 35.0),
        (2, A101, "Bob Builder", 21, 7_500, 250_000, 1, 1, 0.0, None),
    ]


def test_speed_ranks_the_fastest_first_and_missing_values_last(scenario: Warehouse) -> None:
    got = board(scenario, SortBy.SPEED_TO_LEAD)
    assert [(r.rank, r.agent_id) for r in got.agents] == [(1, A100), (2, A101)]
    assert got.sort_by == SortBy.SPEED_TO_LEAD


def test_an_agent_sees_only_their_own_row(scenario: Warehouse) -> None:
    got = board(scenario, agents=[A101])
    assert [(r.rank, r.agent_id, r.gci) for r in got.agents] == [(1, A101, 7_500)]
