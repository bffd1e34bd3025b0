"""The revenue dashboard on a hand-built brokerage, on DuckDB and PostgreSQL. Expected values
are worked out by hand in the comments.

Office 10 (Main); team 20 (Apex) has agent 100, team 21 (Zilker) agents 101 and 102.
Closings (sale price / GCI / referral fee / agent split; company dollar = GCI - fee - split):
  t1 100, 10 Feb 2024, 400k / 12,000 / 2,000 / 6,000, zillow,  single_family, 78701
  t2 100, 12 Feb 2024, 200k /  6,000 /     0 / 3,000, website, condo,         78702
  t3 101,  5 Feb 2024, 100k /  3,000 /     0 / 1,500, zillow,  condo,         78701
  t4 102, 31 Jan 2024, 500k / 15,000 /     0 / 7,500, website, single_family, 78702
Company GCI plans: January 31,000, February 29,000, and 999,999 for Q1, which counts only
for March (no monthly plan): the finest plan of each month wins.
Opportunities: o1 open, 300k, agent 101, created 1 Feb; o2 won 10 Feb (closed);
o3 open, 50k, agent 100, created 20 Feb (after as_of 14 Feb: not yet there).
Another tenant closes a deal on 3 Feb: never counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from metrics_scenario import _opp, _tx, at

from dealscope.analytics.observation import Observation
from dealscope.analytics.periods import Period
from dealscope.analytics.revenue import Revenue, compute_revenue
from dealscope.analytics.sources import Sources
from dealscope.warehouse import schema
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.tenancy import TenantScope

TENANT, OTHER = 1, 2
D = dt.date
FEBRUARY = Period(D(2024, 2, 1), D(2024, 3, 1))
MID_FEB = D(2024, 2, 14)


def _load(warehouse: Warehouse) -> None:
    def agent(aid: int, team: int, first: str) -> dict[str, object]:
        return {
            "id": aid,
            "office_id": 10,
            "team_id": team,
            "first_name": first,
            "last_name": "Agent",
            "created_at": at(1, 1),
        }

    def plan(tid: int, month: int, value: int, grain: str = "month") -> dict[str, object]:
        return {
            "id": tid,
            "scope": "company",
            "scope_id": None,
            "metric": "gci",
            "grain": grain,
            "period_start": D(2024, month, 1),
            "value": value,
        }

    rows: list[tuple[sa.Table, dict[str, object]]] = [
        (schema.offices, {"id": 10, "name": "Main"}),
        (schema.teams, {"id": 20, "office_id": 10, "name": "Apex"}),
        (schema.teams, {"id": 21, "office_id": 10, "name": "Zilker"}),
        (schema.agents, agent(100, 20, "Ada")),
        (schema.agents, agent(101, 21, "Bob")),
        (schema.agents, agent(102, 21, "Cy")),
        (
            schema.transactions,
            _tx(
                1,
                100,
                None,
                None,
                D(2024, 2, 10),
                400_000,
                12_000,
                2_000,
                6_000,
                "zillow",
                "single_family",
                "78701",
            ),
        ),
        (
            schema.transactions,
            _tx(
                2,
                100,
                None,
                None,
                D(2024, 2, 12),
                200_000,
                6_000,
                0,
                3_000,
                "website",
                "condo",
                "78702",
            ),
        ),
        (
            schema.transactions,
            _tx(
                3,
                101,
                None,
                None,
                D(2024, 2, 5),
                100_000,
                3_000,
                0,
                1_500,
                "zillow",
                "condo",
                "78701",
            ),
        ),
        (
            schema.transactions,
            _tx(
                4,
                102,
                None,
                None,
                D(2024, 1, 31),
                500_000,
                15_000,
                0,
                7_500,
                "website",
                "single_family",
                "78702",
            ),
        ),
        (schema.targets, plan(1, 1, 31_000)),
        (schema.targets, plan(2, 2, 29_000)),
        (schema.targets, plan(3, 1, 999_999, "quarter")),
        (
            schema.opportunities,
            _opp(1, 1, 101, at(2, 1), 300_000, "open", "showing", "zillow", "condo", "78701"),
        ),
        (
            schema.opportunities,
            _opp(
                2,
                1,
                100,
                at(1, 20),
                400_000,
                "won",
                "closed_won",
                "zillow",
                "condo",
                "78701",
                closed=at(2, 10),
            ),
        ),
        (
            schema.opportunities,
            _opp(3, 1, 100, at(2, 20), 50_000, "open", "new", "zillow", "condo", "78701"),
        ),
    ]
    with warehouse.engine.begin() as conn:
        for tenant_id, slug in ((TENANT, "scenario"), (OTHER, "other")):
            conn.execute(
                schema.tenants.insert().values(
                    id=tenant_id, slug=slug, name=slug, timezone="UTC", created_at=at(1, 1)
                )
            )
        for table, row in rows:
            conn.execute(table.insert().values(tenant_id=TENANT, **row))
        other = _tx(9, 100, None, None, D(2024, 2, 3), 1, 1, 0, 0, "zillow", "land", "1")
        conn.execute(schema.transactions.insert().values(tenant_id=OTHER, **other))


@pytest.fixture
def scenario(warehouse: Warehouse) -> Iterator[Warehouse]:
    _load(warehouse)
    yield warehouse


def revenue(
    warehouse: Warehouse, period: Period, as_of: dt.date, agents: list[int] | None = None
) -> Revenue:
    scope = TenantScope(TENANT) if agents is None else TenantScope.for_agents(TENANT, agents)
    return compute_revenue(Sources(warehouse, scope), Observation(period, as_of, "UTC"))


def test_february_seen_mid_month(scenario: Warehouse) -> None:
    got = revenue(scenario, FEBRUARY, MID_FEB)
    t = got.totals
    # t1 + t2 + t3 (t4 is January's, tenant 2's closing is not ours)
    assert t.closings == 3
    assert t.sales_volume == pytest.approx(700_000)
    assert t.gci == pytest.approx(21_000)
    assert t.referral_fees == pytest.approx(2_000)
    assert t.agent_commission == pytest.approx(10_500)
    assert t.company_dollar == pytest.approx(21_000 - 2_000 - 10_500)  # 8,500
    assert t.average_deal_size == pytest.approx(700_000 / 3)

    # by agent: Ada 12,000 + 6,000 = 18,000 (6/7); Bob 3,000 (1/7); Cy nothing in February
    agents = [(r.key, r.name, r.gci, r.closings, r.gci_share) for r in got.by_agent]
    assert agents == [
        ("100", "Ada Agent", pytest.approx(18_000), 2, pytest.approx(6 / 7)),
        ("101", "Bob Agent", pytest.approx(3_000), 1, pytest.approx(1 / 7)),
    ]
    assert [(r.name, r.gci) for r in got.by_team] == [("Apex", 18_000), ("Zilker", 3_000)]
    assert [(r.key, r.gci) for r in got.by_source] == [("zillow", 15_000), ("website", 6_000)]
    assert {r.key: r.closings for r in got.by_zip} == {"78701": 2, "78702": 1}
    assert [(r.name, r.closings) for r in got.by_office] == [("Main", 3)]

    # HHI = (6/7)² + (1/7)² = 37/49 ≈ 0.755: high; top agent 6/7; top source zillow 15/21
    c = got.concentration
    assert c.agent_hhi == pytest.approx(37 / 49)
    assert c.level == "high"
    assert c.top_1_agents_share == pytest.approx(6 / 7)
    assert c.top_5_agents_share == pytest.approx(1.0)
    assert c.top_1_sources_share == pytest.approx(15 / 21)

    # plan 29,000 for February; 14 of its 29 days elapsed: expected 14,000, pace 1.5
    p = got.pacing
    assert p.target == pytest.approx(29_000)
    assert p.attainment == pytest.approx(21_000 / 29_000)
    assert p.elapsed_share == pytest.approx(14 / 29)
    assert p.expected_by_now == pytest.approx(14_000)
    assert p.pace_ratio == pytest.approx(1.5)

    # open at the end of 14 Feb: o1 only (o2 won, o3 created later)
    assert got.closed_vs_pipeline.pipeline_value == pytest.approx(300_000)
    assert got.closed_vs_pipeline.open_deals == 1
    assert [m.month_start for m in got.monthly] == [D(2024, 2, 1)]


def test_every_month_is_present_and_the_plan_is_prorated(scenario: Warehouse) -> None:
    # 16 Jan - 31 Mar: January's plan for 16 of 31 days, all of February's; March has no
    # monthly plan, so it takes its 31 of the quarter plan's 91 days
    got = revenue(scenario, Period(D(2024, 1, 16), D(2024, 4, 1)), D(2024, 3, 31))
    assert [(m.month_start, m.gci, m.closings) for m in got.monthly] == [
        (D(2024, 1, 1), 15_000, 1),
        (D(2024, 2, 1), 21_000, 3),
        (D(2024, 3, 1), 0, 0),
    ]
    assert got.pacing.target == pytest.approx(31_000 * 16 / 31 + 29_000 + 999_999 * 31 / 91)
    assert got.pacing.elapsed_share == 1.0


def test_an_agent_sees_only_their_own_closings_and_no_plan(scenario: Warehouse) -> None:
    got = revenue(scenario, FEBRUARY, MID_FEB, agents=[100])
    assert got.totals.gci == pytest.approx(18_000) and got.totals.closings == 2
    assert [r.key for r in got.by_agent] == ["100"]
    assert got.pacing.target is None and got.pacing.pace_ratio is None
    assert got.concentration.agent_hhi == pytest.approx(1.0)
    assert got.closed_vs_pipeline.open_deals == 0  # o1 is Bob's


def test_an_empty_period_is_zeros_and_nulls(scenario: Warehouse) -> None:
    got = revenue(scenario, Period(D(2023, 6, 1), D(2023, 7, 1)), D(2023, 6, 30))
    assert got.totals.gci == 0 and got.totals.closings == 0
    assert got.totals.average_deal_size is None
    assert got.by_agent == [] and got.by_source == []
    assert got.concentration.agent_hhi is None and got.concentration.level is None
    assert got.pacing.target is None and got.pacing.attainment is None
    assert [(m.month_start, m.gci) for m in got.monthly] == [(D(2023, 6, 1), 0)]
