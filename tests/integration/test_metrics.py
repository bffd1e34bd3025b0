"""Every metric of the registry on a hand-built brokerage (metrics_scenario), on DuckDB and
PostgreSQL. Expected values are worked out by hand in the comments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from metrics_scenario import A100, A101, TENANT, load_scenario

from dealscope.analytics.periods import Compare, Grain, RangeName
from dealscope.analytics.registry import METRICS
from dealscope.analytics.service import AnalyticsService
from dealscope.analytics.sources import Sources
from dealscope.analytics.specs import MetricQuery, MetricResult
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.tenancy import ScopeViolation, TenantScope

AS_OF = dt.date(2024, 3, 31)
FEB = {"range": RangeName.CUSTOM, "start": dt.date(2024, 2, 1), "end": dt.date(2024, 2, 29)}

# February 2024, tenant in UTC. Leads c1 (1 Feb), c2 (10 Feb), c3 (29 Feb 23:00); c4 is
# January's, c5 is 1 March's, c6 is deleted.
FEBRUARY: dict[str, float | None] = {
    "new_leads": 3,
    # c1 and c2 got outreach (c2's inbound call does not count), c3 none: 2/3
    "contact_rate": 2 / 3,
    # c1: call 10 min after creation; c2: email 60 min after: median 35, p90 10 + .9*50
    "speed_to_lead_median_minutes": 35.0,
    "speed_to_lead_p90_minutes": 55.0,
    # c1: call, email, sms within 7 days (3: compliant); c2: 1 email: 1/2
    "follow_up_compliance": 0.5,
    # c1's deal was won on 20 Feb: 1 of 3
    "lead_to_close_rate": 1 / 3,
    "calls": 3,  # c1 on 1 and 20 Feb, c2's inbound call
    "emails": 2,
    "sms": 1,
    "meetings": 1,
    "showings_held": 1,
    "appointments_set": 2,  # booked 3 and 12 Feb (the 2nd starts in March)
    "appointments_held": 1,  # 6 Feb showed; 8 Feb was a no-show
    "new_opportunities": 3,  # o1, o2 and o3 (o4 and o5 are January's)
    "showings": 2,  # o1 on 10 Feb, o4 on 15 Feb
    "offers": 1,
    "deals_won": 1,
    "deals_lost": 1,  # o2 (o5 was lost in January)
    "win_rate": 0.5,
    "average_days_to_close": 19.0,  # o1: 1 Feb 10:00 -> 20 Feb 10:00
    # days in the stage left, moves in Feb: o1 1,2,2,4,4,2,4; o2 1,2,12; o4 21 -> median 2
    "stage_velocity_days": 2.0,
    # open at 1 Mar 00:00: o3 (new, 500k, created 29 Feb 23:30), o4 (showing, 200k)
    "open_deals": 2,
    "leads": 1,  # o3 only is in a lead stage
    "lead_aging_days": 0.5 / 24,  # o3 is half an hour old
    "pipeline_value": 700_000,
    "weighted_pipeline_value": 500_000 * 0.02 + 200_000 * 0.25,
    "closings": 2,  # 20 Feb and 29 Feb (leap day); 1 Mar and 31 Jan are outside
    "sales_volume": 650_000,
    "gci": 19_500,
    "company_dollar": (12_000 - 4_000 - 5_600) + (7_500 - 5_250),
    "referral_fees": 4_000,
    "agent_commission": 10_850,
    "average_deal_size": 325_000,
    "quota_attainment": 19_500 / 26_000,  # the monthly company plan, not the quarter's
    "marketing_spend": 4_350,
    "cost_per_lead": 4_350 / 3,
    "cost_per_closing": 4_350 / 2,
    "marketing_roi": (19_500 - 4_350) / 4_350,  # both closings come from paid sources
    "revenue_per_lead": 19_500 / 3,
}


@pytest.fixture
def scenario(warehouse: Warehouse) -> Iterator[Warehouse]:
    load_scenario(warehouse)
    yield warehouse


def service(
    warehouse: Warehouse, agents: list[int] | None = None, tz: str = "UTC"
) -> AnalyticsService:
    scope = TenantScope(TENANT) if agents is None else TenantScope.for_agents(TENANT, agents)
    return AnalyticsService(Sources(warehouse, scope), AS_OF, tz)


def values(result: MetricResult, slug: str) -> dict[tuple[object, ...], float | None]:
    series = next(s for s in result.metrics if s.slug == slug)
    return {(r.bucket, *r.dimensions.values()): r.value for r in series.rows}


def test_every_metric_has_a_hand_computed_value() -> None:
    assert set(FEBRUARY) == set(METRICS)


def test_every_metric_over_february(scenario: Warehouse) -> None:
    result = service(scenario).query(MetricQuery(metrics=list(FEBRUARY)[:20], **FEB))
    result2 = service(scenario).query(MetricQuery(metrics=list(FEBRUARY)[20:], **FEB))
    got = {s.slug: s.rows[0].value for s in [*result.metrics, *result2.metrics]}
    wrong = {
        slug: (got[slug], want)
        for slug, want in FEBRUARY.items()
        if got[slug] != pytest.approx(want, rel=1e-9)
    }
    assert not wrong, wrong
    assert result.period.start == dt.date(2024, 2, 1) and result.period.end == dt.date(2024, 2, 29)


def test_an_empty_period_gives_zero_for_counts_and_money_and_null_otherwise(
    scenario: Warehouse,
) -> None:
    june = {"range": RangeName.CUSTOM, "start": dt.date(2023, 6, 1), "end": dt.date(2023, 6, 30)}
    slugs = list(METRICS)
    result = service(scenario).query(MetricQuery(metrics=slugs[:20], **june))
    result2 = service(scenario).query(MetricQuery(metrics=slugs[20:], **june))
    for series in [*result.metrics, *result2.metrics]:
        metric = METRICS[series.slug]
        assert len(series.rows) == 1, series.slug
        expected = 0.0 if metric.additive else None
        assert series.rows[0].value == expected, series.slug


def test_split_by_team_and_filter_by_source(scenario: Warehouse) -> None:
    query = MetricQuery(metrics=["new_leads", "gci"], dimensions=["team"], **FEB)
    result = service(scenario).query(query)
    # c1, c2 are agent 100's (team 20); c3 agent 101's (team 21). GCI 12 000 / 7 500.
    assert values(result, "new_leads") == {(None, "20"): 2, (None, "21"): 1}
    assert values(result, "gci") == {(None, "20"): 12_000, (None, "21"): 7_500}
    assert result.labels == {"team": {"20": "Apex", "21": "Zilker"}}
    zillow = MetricQuery(
        metrics=["new_leads", "cost_per_lead"], filters={"source": ["zillow"]}, **FEB
    )
    result = service(scenario).query(zillow)
    assert values(result, "new_leads") == {(None,): 2}
    assert values(result, "cost_per_lead") == {(None,): 1_450.0}  # 2 900 / 2


def test_month_buckets_and_previous_period(scenario: Warehouse) -> None:
    query = MetricQuery(
        metrics=["new_leads", "gci", "open_deals", "marketing_spend"],
        range=RangeName.CUSTOM,
        start=dt.date(2024, 1, 1),
        end=dt.date(2024, 2, 29),
        grain=Grain.MONTH,
    )
    result = service(scenario).query(query)
    jan, feb = dt.date(2024, 1, 1), dt.date(2024, 2, 1)
    assert values(result, "new_leads") == {(jan,): 1, (feb,): 3}
    assert values(result, "gci") == {(jan,): 9_000, (feb,): 19_500}
    # open at 1 Feb: o4 only (o5 lost on 20 Jan); at 1 Mar: o3, o4
    assert values(result, "open_deals") == {(jan,): 1, (feb,): 2}
    assert values(result, "marketing_spend") == {(jan,): 3_100, (feb,): 4_350}


def test_compare_with_the_previous_period_of_a_leap_february(scenario: Warehouse) -> None:
    query = MetricQuery(
        metrics=["new_leads", "marketing_spend", "open_deals", "win_rate"],
        compare=Compare.PREVIOUS_PERIOD,
        **FEB,
    )
    result = service(scenario).query(query)
    # 29 days before 1 Feb: 3-31 Jan
    assert result.comparison_period is not None
    assert (result.comparison_period.start, result.comparison_period.end) == (
        dt.date(2024, 1, 3),
        dt.date(2024, 1, 31),
    )
    rows = {s.slug: s.rows[0] for s in result.metrics}
    assert (rows["new_leads"].value, rows["new_leads"].comparison) == (3, 1)  # c4 on 15 Jan
    assert rows["new_leads"].change == 2 and rows["new_leads"].change_pct == 2.0
    # January's 3 100 prorated over 29 of its 31 days
    assert rows["marketing_spend"].comparison == pytest.approx(2_900)
    assert rows["open_deals"].comparison == 1  # o4 at 1 Feb
    # January closed only o5 (lost): 0 / 1
    assert rows["win_rate"].comparison == 0.0 and rows["win_rate"].change_pct is None


def test_compare_with_targets_company_agent_and_prorated(scenario: Warehouse) -> None:
    svc = service(scenario)
    result = svc.query(MetricQuery(metrics=["gci", "deals_won"], compare=Compare.TARGET, **FEB))
    rows = {s.slug: s.rows[0] for s in result.metrics}
    assert rows["gci"].comparison == 26_000 and rows["gci"].change_pct == pytest.approx(-0.25)
    assert rows["deals_won"].comparison == 2 and rows["deals_won"].change_pct == -0.5
    by_agent = svc.query(
        MetricQuery(metrics=["gci"], dimensions=["agent"], compare=Compare.TARGET, **FEB)
    )
    comparisons = {r.dimensions["agent"]: r.comparison for r in by_agent.metrics[0].rows}
    assert comparisons == {str(A100): 12_000, str(A101): 10_000}
    # 22 Jan - 10 Feb: 10/31 of January's 31 000 plus 10/29 of February's 26 000
    edge = MetricQuery(
        metrics=["gci"],
        range=RangeName.CUSTOM,
        start=dt.date(2024, 1, 22),
        end=dt.date(2024, 2, 10),
        compare=Compare.TARGET,
    )
    row = svc.query(edge).metrics[0].rows[0]
    assert row.comparison == pytest.approx(10_000 + 26_000 * 10 / 29)
    assert row.value == 9_000  # the closing of 31 Jan


def test_days_follow_the_tenant_time_zone(scenario: Warehouse) -> None:
    # c5, created 1 Mar 00:00 UTC, is 29 Feb 18:00 in Chicago: a February lead there.
    result = service(scenario, tz="America/Chicago").query(
        MetricQuery(metrics=["new_leads"], **FEB)
    )
    assert result.metrics[0].rows[0].value == 4


def test_an_agent_counts_only_their_rows_and_cannot_read_spend(scenario: Warehouse) -> None:
    svc = service(scenario, agents=[A100])
    result = svc.query(MetricQuery(metrics=["new_leads", "gci", "calls"], **FEB))
    got = {s.slug: s.rows[0].value for s in result.metrics}
    assert got == {"new_leads": 2, "gci": 12_000, "calls": 3}
    with pytest.raises(ScopeViolation):
        svc.query(MetricQuery(metrics=["marketing_spend"], **FEB))


def test_dimensions_of_every_metric_compile(scenario: Warehouse) -> None:
    """Each metric split by each of its dimensions runs and sums to the total (additive)."""
    svc = service(scenario)
    for slug, metric in METRICS.items():
        for dim in sorted(metric.dimensions):
            result = svc.query(MetricQuery(metrics=[slug], dimensions=[dim], **FEB))
            if metric.additive and slug != "quota_attainment":
                total = sum(r.value or 0.0 for r in result.metrics[0].rows)
                assert total == pytest.approx(FEBRUARY[slug] or 0.0), (slug, dim)


def test_nothing_after_as_of_is_counted(scenario: Warehouse) -> None:
    # February and March seen on 29 February: t3's closing on 1 March is not known yet, nor
    # c5 (created 1 March); o3 and o4 are open at the end of 29 February (the cut-off).
    feb_and_march = MetricQuery(
        metrics=["gci", "closings", "new_leads", "open_deals"],
        range=RangeName.CUSTOM,
        start=dt.date(2024, 2, 1),
        end=dt.date(2024, 3, 31),
    )
    seen = AnalyticsService(Sources(scenario, TenantScope(TENANT)), dt.date(2024, 2, 29))
    got = {s.slug: s.rows[0].value for s in seen.query(feb_and_march).metrics}
    assert got == {"gci": 19_500, "closings": 2, "new_leads": 3, "open_deals": 2}
    later = {s.slug: s.rows[0].value for s in service(scenario).query(feb_and_march).metrics}
    assert later["gci"] == 19_500 + 29_970 and later["new_leads"] == 4
