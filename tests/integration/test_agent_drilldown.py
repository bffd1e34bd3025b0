"""The agent drill-down and the team roll-up over the hand-built brokerage of
metrics_scenario (February 2024, seen on 31 March), on DuckDB and PostgreSQL.

Worked out by hand (see metrics_scenario and test_metrics for the rows):

  Ada (100, team 20 Apex): leads c1, c2 (c6 deleted): 2; both reached (1.0); c1's deal won:
    conversion 1/2; first outreach 10 and 60 min: median 35, p90 10 + 0.9 × 50 = 55; c1 got
    3 touches in 7 days, c2 one: compliance 1/2; appointments booked 3 and 12 Feb (2), held
    6 Feb (1); o1 won 20 Feb after 19 days, o2 lost: win rate 1/2; closing t1 400k, GCI
    12,000, company dollar 12,000 - 4,000 - 5,600 = 2,400; nothing open on 1 March; calls 3
    (c1 on 1 and 20 Feb, c2's inbound), emails 2, sms 1, meeting 1, showing 1.
  Bob (101, team 21 Zilker): lead c3, never reached; closing t2 250k / GCI 7,500 / company
    dollar 2,250; open on 1 March: o3 (new, 500k) and o4 (showing, 200k): 700k, weighted
    500k × 2% + 200k × 25% = 60,000.
  Brokerage per agent (2 agents): leads 3/2, GCI 19,500/2, pipeline 700k/2; pooled conversion
    1/3, contact rate 2/3, median speed 35.
  Plans: Ada 12,000 and Bob 10,000 in February (monthly agent plans), none in March; Bob
    also has a yearly plan for 2024 (see test_the_finest_plan_of_each_month_wins).
    Quarter to date on 31 March: Ada GCI 9,000 (t4, 31 Jan) + 12,000 = 21,000 against
    12,000; Bob 7,500 + 29,970 (t3, 1 Mar) = 37,470 against 10,000. Year 2024: the same
    plans; 91 of 366 days gone.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from metrics_scenario import A100, A101, TENANT, load_scenario

from dealscope.analytics.agents import compute_agent_detail, compute_team_detail, compute_teams
from dealscope.analytics.leaderboard import compute_leaderboard
from dealscope.analytics.periods import Grain, Period, RangeName
from dealscope.analytics.service import AnalyticsService
from dealscope.analytics.sources import Sources
from dealscope.analytics.specs import MetricQuery
from dealscope.errors import NotFound
from dealscope.warehouse import schema
from dealscope.warehouse.engine import Warehouse, open_warehouse
from dealscope.warehouse.migrate import upgrade
from dealscope.warehouse.tenancy import TenantScope

FEBRUARY = Period(dt.date(2024, 2, 1), dt.date(2024, 3, 1))
AS_OF = dt.date(2024, 3, 31)


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def scenario(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Warehouse]:
    """The scenario loaded once per backend for the module (the tests only read)."""
    if request.param == "duckdb":
        path = tmp_path_factory.mktemp("drilldown") / "warehouse.duckdb"
        shutil.copyfile(request.getfixturevalue("_migrated_duckdb_file"), path)
        warehouse = open_warehouse(f"duckdb:///{path}")
    else:
        warehouse = open_warehouse(request.getfixturevalue("postgres_url"))
        with warehouse.engine.begin() as conn:  # as the `warehouse` fixture: a clean schema
            conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        upgrade(warehouse)
    load_scenario(warehouse)
    plans = [  # Apex's February plan; a yearly plan for Bob beside his February one
        (50, "team", 20, "month", dt.date(2024, 2, 1), 15_000),
        (51, "agent", A101, "year", dt.date(2024, 1, 1), 36_600),
    ]
    with warehouse.engine.begin() as conn:
        for pid, scope, scope_id, grain, start, value in plans:
            conn.execute(
                schema.targets.insert().values(
                    id=pid,
                    tenant_id=TENANT,
                    scope=scope,
                    scope_id=scope_id,
                    metric="gci",
                    grain=grain,
                    period_start=start,
                    value=value,
                )
            )
    try:
        yield warehouse
    finally:
        warehouse.close()


def service(warehouse: Warehouse, agents: list[int] | None = None) -> AnalyticsService:
    scope = TenantScope(TENANT) if agents is None else TenantScope.for_agents(TENANT, agents)
    return AnalyticsService(Sources(warehouse, scope), AS_OF)


def test_an_agents_scorecard_and_activities(scenario: Warehouse) -> None:
    got = compute_agent_detail(service(scenario), A100, FEBRUARY)
    assert (got.name, got.team_id, got.team_name, got.is_active) == (
        "Ada Lovelace",
        20,
        "Apex",
        True,
    )
    card = got.scorecard
    assert card.leads_handled == 2
    assert card.contact_rate == 1.0
    assert card.conversion == 0.5
    assert card.speed_to_lead_median_minutes == pytest.approx(35.0)
    assert card.speed_to_lead_p90_minutes == pytest.approx(55.0)
    assert card.follow_up_compliance == 0.5
    assert (card.appointments_set, card.appointments_held) == (2, 1)
    assert (card.deals_won, card.deals_lost, card.win_rate) == (1, 1, 0.5)
    assert card.average_days_to_close == pytest.approx(19.0)
    assert (card.closings, card.sales_volume, card.gci) == (1, 400_000, 12_000)
    assert card.company_dollar == 2_400
    assert card.average_deal_size == 400_000
    assert (card.open_deals, card.pipeline_value, card.weighted_pipeline_value) == (0, 0, 0)
    assert {a.activity_type: a.count for a in got.activities} == {
        "call": 3,
        "email": 2,
        "sms": 1,
        "meeting": 1,
        "showing": 1,
    }


def test_pipeline_contribution_and_empty_ratios(scenario: Warehouse) -> None:
    card = compute_agent_detail(service(scenario), A101, FEBRUARY).scorecard
    assert (card.leads_handled, card.contact_rate, card.conversion) == (1, 0.0, 0.0)
    assert card.speed_to_lead_median_minutes is None
    assert card.follow_up_compliance is None  # nobody reached: nothing to comply with
    assert card.win_rate is None and card.average_days_to_close is None
    assert (card.open_deals, card.pipeline_value) == (2, 700_000)
    assert card.weighted_pipeline_value == pytest.approx(60_000)
    assert (card.closings, card.gci, card.company_dollar) == (1, 7_500, 2_250)


def test_team_and_brokerage_averages(scenario: Warehouse) -> None:
    got = compute_agent_detail(service(scenario), A100, FEBRUARY)
    assert got.team_average is not None and got.brokerage_average is not None
    assert (got.team_average.label, got.team_average.agents) == ("Apex", 1)
    assert got.team_average.scorecard == got.scorecard  # Ada is Apex's only agent
    assert got.gci_share_of_team == 1.0
    assert got.pipeline_share_of_team is None  # Apex has no open pipeline
    firm = got.brokerage_average
    assert (firm.label, firm.agents) == ("Brokerage", 2)
    assert firm.scorecard.leads_handled == 1.5
    assert firm.scorecard.gci == 9_750
    assert firm.scorecard.pipeline_value == 350_000
    assert firm.scorecard.conversion == pytest.approx(1 / 3)  # pooled, not averaged
    assert firm.scorecard.contact_rate == pytest.approx(2 / 3)
    assert firm.scorecard.speed_to_lead_median_minutes == pytest.approx(35.0)
    assert {a.activity_type: a.count for a in firm.activities}["call"] == 1.5


def test_quota_and_pacing(scenario: Warehouse) -> None:
    got = compute_agent_detail(service(scenario), A100, FEBRUARY)
    assert (got.quota.target, got.quota.gci, got.quota.attainment) == (12_000, 12_000, 1.0)
    assert got.quota.elapsed_share == 1.0 and got.quota.pace_ratio == 1.0
    month, quarter, year = got.quota_to_date
    assert (month.period_start, month.target, month.gci) == (dt.date(2024, 3, 1), None, 0)
    assert month.attainment is None and month.pace_ratio is None
    assert (quarter.target, quarter.gci, quarter.elapsed_share) == (12_000, 21_000, 1.0)
    assert quarter.attainment == pytest.approx(1.75)
    assert (year.period_start, year.period_end) == (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert year.elapsed_share == pytest.approx(91 / 366)
    assert year.expected_by_now == pytest.approx(12_000 * 91 / 366)
    assert year.pace_ratio == pytest.approx(21_000 / (12_000 * 91 / 366))
    assert year.projected == pytest.approx(21_000 * 366 / 91)


def test_the_finest_plan_of_each_month_wins(scenario: Warehouse) -> None:
    # Bob: 36,600 for 2024 (100 a day over 366 days) and 10,000 for February. March has no
    # monthly plan: 31 days of the year's, 3,100. Q1: January 3,100 + February 10,000 (the
    # monthly plan, not the year's share) + March 3,100. 2024: 3,100 + 10,000 + 306 days of
    # March to December at 100.
    got = compute_agent_detail(service(scenario), A101, FEBRUARY)
    assert got.quota.target == 10_000
    month, quarter, year = got.quota_to_date
    assert month.target == pytest.approx(3_100)
    assert quarter.target == pytest.approx(16_200)
    assert year.target == pytest.approx(43_700)


def test_trend_by_month(scenario: Warehouse) -> None:
    trend = compute_agent_detail(service(scenario), A101, FEBRUARY).trend
    assert len(trend) == 12 and trend[0].month_start == dt.date(2023, 4, 1)
    assert [(p.month_start.month, p.gci, p.closings, p.new_leads) for p in trend[-3:]] == [
        (1, 0, 0, 1),  # c4 on 15 Jan
        (2, 7_500, 1, 1),
        (3, 29_970, 1, 0),
    ]


def test_numbers_match_the_leaderboard_and_metric_queries(scenario: Warehouse) -> None:
    svc = service(scenario)
    got = compute_agent_detail(svc, A100, FEBRUARY)
    row = next(r for r in compute_leaderboard(svc, FEBRUARY).agents if r.agent_id == A100)
    assert (row.gci, row.deals, row.new_leads, row.conversion) == (
        got.scorecard.gci,
        got.scorecard.closings,
        got.scorecard.leads_handled,
        got.scorecard.conversion,
    )
    assert row.speed_to_lead_minutes == got.scorecard.speed_to_lead_median_minutes
    result = svc.query(
        MetricQuery(
            metrics=["gci", "new_leads", "pipeline_value", "speed_to_lead_p90_minutes"],
            dimensions=["agent"],
            range=RangeName.CUSTOM,
            start=dt.date(2024, 2, 1),
            end=dt.date(2024, 2, 29),
            as_of=AS_OF,
        )
    )
    by = {s.slug: {r.dimensions["agent"]: r.value for r in s.rows} for s in result.metrics}
    assert by["gci"]["100"] == got.scorecard.gci
    assert by["new_leads"]["100"] == got.scorecard.leads_handled
    assert by["speed_to_lead_p90_minutes"]["100"] == got.scorecard.speed_to_lead_p90_minutes
    trend = svc.query(
        MetricQuery(
            metrics=["gci"],
            filters={"agent": ["101"]},
            range=RangeName.CUSTOM,
            start=dt.date(2023, 4, 1),
            end=AS_OF,
            grain=Grain.MONTH,
            as_of=AS_OF,
        )
    )
    b = compute_agent_detail(svc, A101, FEBRUARY).trend
    assert [r.value for r in trend.metrics[0].rows] == [p.gci for p in b]


def test_an_agent_sees_only_themselves_without_comparisons(scenario: Warehouse) -> None:
    mine = service(scenario, [A101])
    got = compute_agent_detail(mine, A101, FEBRUARY)
    assert got.scorecard.gci == 7_500
    assert got.team_average is None and got.brokerage_average is None
    assert got.quota.target == 10_000  # their own plan is theirs to see
    with pytest.raises(NotFound):
        compute_agent_detail(mine, A100, FEBRUARY)  # a colleague: as if there were none
    with pytest.raises(NotFound):
        compute_agent_detail(service(scenario), 999, FEBRUARY)


def test_a_manager_sees_their_team_but_not_the_brokerage(scenario: Warehouse) -> None:
    both = service(scenario, [A100, A101])  # a scope of several agents, as a manager's
    got = compute_agent_detail(both, A100, FEBRUARY)
    assert got.team_average is not None and got.brokerage_average is None


def test_teams_roll_up(scenario: Warehouse) -> None:
    got = compute_teams(service(scenario), FEBRUARY)
    assert [(t.team_id, t.name, t.agents) for t in got.teams] == [
        (20, "Apex", 1),
        (21, "Zilker", 1),
    ]
    apex, zilker = got.teams
    assert (apex.scorecard.gci, apex.gci_share) == (12_000, pytest.approx(12_000 / 19_500))
    assert (apex.quota.target, apex.quota.attainment) == (15_000, pytest.approx(0.8))
    assert zilker.quota.target is None  # no team plan for Zilker
    assert (zilker.scorecard.pipeline_value, zilker.per_agent.pipeline_value) == (
        700_000,
        700_000,
    )
    only = compute_teams(service(scenario, [A101]), FEBRUARY)
    assert [t.team_id for t in only.teams] == [21]


def test_team_detail(scenario: Warehouse) -> None:
    got = compute_team_detail(service(scenario), 20, FEBRUARY)
    assert (got.team.team_id, got.team.scorecard.gci) == (20, 12_000)
    assert [(m.rank, m.agent_id, m.gci) for m in got.members] == [(1, A100, 12_000)]
    assert got.trend[-2].gci == 12_000 and got.trend[-3].gci == 9_000
    quarter = got.quota_to_date[1]
    assert (quarter.target, quarter.gci) == (15_000, 21_000)
    assert {a.activity_type: a.count for a in got.activities}["call"] == 3
    with pytest.raises(NotFound):
        compute_team_detail(service(scenario, [A101]), 20, FEBRUARY)
