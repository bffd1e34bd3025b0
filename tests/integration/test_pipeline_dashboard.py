"""The pipeline dashboard on hand-built deals, on DuckDB and PostgreSQL alike.

Expected values are worked out by hand in the comments next to the data."""

from __future__ import annotations

import datetime as dt

import pytest
from pipeline_scenarios import Scenario, at, by

from dealscope.analytics.periods import Grain
from dealscope.analytics.pipeline import compute_pipeline
from dealscope.analytics.registry import get_metric
from dealscope.analytics.service import AnalyticsService
from dealscope.warehouse.engine import Warehouse


def _march_cohort(s: Scenario) -> None:
    # Four deals created in March (the cohort) and one from February that moves in March.
    s.deal(  # A: zillow, agent 1; reaches appointment, then lost
        at(3, 3),
        [("contacted", at(3, 4)), ("qualified", at(3, 6)), ("appointment", at(3, 10)),
         ("lost", at(3, 20))],
    )  # fmt: skip
    s.deal(  # B: referral, agent 2; won
        at(3, 5),
        [("contacted", at(3, 5, 10)), ("qualified", at(3, 7, 10)), ("appointment", at(3, 12)),
         ("showing", at(3, 14)), ("offer", at(3, 18)), ("under_contract", at(3, 20)),
         ("closed_won", at(3, 28))],
        source="referral",
        agent=2,
    )  # fmt: skip
    s.deal(at(3, 10), [("lost", at(3, 15))])  # C: zillow, agent 1; lost while new
    s.deal(at(3, 12), [("contacted", at(3, 13))], agent=2)  # D: zillow, agent 2; open
    s.deal(at(2, 20), [("contacted", at(3, 2)), ("lost", at(3, 8))])  # E: February's


def test_stage_funnel_conversion_drop_off_and_flows(warehouse: Warehouse) -> None:
    s = Scenario(warehouse)
    _march_cohort(s)

    report = compute_pipeline(s.sources(), s.observation())

    assert report.cohort_leads == 4  # A, B, C, D (E was created in February)
    # the cohort is the registry's new_opportunities (deals), not new_leads (people)
    observation = s.observation()
    service = AnalyticsService(s.sources(), observation.as_of, observation.timezone)
    frame = service.frame(observation.period)
    assert service.compute(get_metric("new_opportunities"), frame) == {(): 4.0}
    funnel = by(report.funnel, "stage")
    # reached: new 4; contacted A B D = 3; qualified A B = 2; appointment A B = 2; then B only
    assert [f.leads for f in report.funnel] == [4, 3, 2, 2, 1, 1, 1, 1]
    assert funnel["contacted"].step_conversion == pytest.approx(0.75)  # 3 / 4
    assert funnel["qualified"].step_conversion == pytest.approx(2 / 3)
    assert funnel["showing"].step_conversion == pytest.approx(0.5)  # 1 / 2
    assert funnel["closed_won"].overall_conversion == pytest.approx(0.25)  # 1 / 4
    assert funnel["new"].step_conversion is None

    drop = by(report.drop_off, "stage")
    assert (drop["new"].reached, drop["new"].lost, drop["new"].loss_rate) == (4, 1, 0.25)  # C
    assert (drop["appointment"].lost, drop["appointment"].loss_rate) == (1, 0.5)  # A of A, B
    assert drop["contacted"].lost == 0 and "closed_won" not in drop

    flows = {(f.from_stage, f.to_stage): f.deals for f in report.flows}
    assert flows == {
        ("new", "contacted"): 3,  # A B D
        ("new", "lost"): 1,  # C
        ("contacted", "qualified"): 2,
        ("qualified", "appointment"): 2,
        ("appointment", "lost"): 1,  # A
        ("appointment", "showing"): 1,
        ("showing", "offer"): 1,
        ("offer", "under_contract"): 1,
        ("under_contract", "closed_won"): 1,
    }

    sources = by(report.conversion_by_source, "key")
    assert (sources["zillow"].leads, sources["zillow"].won) == (3, 0)  # A C D
    assert (sources["referral"].leads, sources["referral"].conversion) == (1, 1.0)  # B
    agents = by(report.conversion_by_agent, "agent_id")
    assert (agents[1].leads, agents[1].won) == (2, 0)  # A C
    assert (agents[2].leads, agents[2].won, agents[2].conversion) == (2, 1, 0.5)  # B D
    assert [(m.key, m.leads, m.won) for m in report.conversion_by_month] == [("2025-03", 4, 1)]


def test_velocity_counts_stage_exits_in_the_period(warehouse: Warehouse) -> None:
    s = Scenario(warehouse)
    _march_cohort(s)

    velocity = by(compute_pipeline(s.sources(), s.observation()).velocity, "stage")

    # Days in "new" before the exits made in March: A 1, B 1/24 (one hour), C 5, D 1,
    # E 10 (20 Feb -> 2 Mar). Sorted [1/24, 1, 1, 5, 10]: median 1; p90 at rank
    # 0.9 * 4 = 3.6 -> 5 + 0.6 * (10 - 5) = 8.
    assert velocity["new"].exits == 5
    assert velocity["new"].median_days == pytest.approx(1.0)
    assert velocity["new"].p90_days == pytest.approx(8.0)
    # "contacted": A 2 (4 -> 6 Mar), B 2 (5 -> 7 Mar, 10:00), E 6 (2 -> 8 Mar).
    # median 2; p90 at rank 1.8 -> 2 + 0.8 * (6 - 2) = 5.2.
    assert velocity["contacted"].exits == 3
    assert velocity["contacted"].median_days == pytest.approx(2.0)
    assert velocity["contacted"].p90_days == pytest.approx(5.2)
    assert velocity["under_contract"].median_days == pytest.approx(8.0)  # B: 20 -> 28 Mar
    assert "closed_won" not in velocity


def test_aging_and_temperature_of_open_deals_as_of(warehouse: Warehouse) -> None:
    s = Scenario(warehouse)
    # As of 31 March (UTC). Days since the last stage change, and the last touch:
    s.deal(at(11, 1, year=2024), [("contacted", at(12, 1, year=2024))])  # G: 120 d; cold
    h = s.deal(at(3, 1), [("contacted", at(3, 2)), ("qualified", at(3, 5)),
                          ("appointment", at(3, 25))])  # fmt: skip
    s.activity(h, at(3, 28))  # H: 6 days; appointment, touched 3 days ago: hot
    s.deal(at(3, 1), [("qualified", at(3, 1, 12))])  # I: 30 days; qualified: warm
    j = s.deal(at(1, 15))  # J: 75 days in "new"
    s.activity(j, at(3, 20), kind="sms", direction="inbound")  # touched 11 days ago: warm
    k = s.deal(at(3, 1), [("appointment", at(3, 24))])  # K: 7 days
    s.activity(k, at(3, 24, 23))  # touched 7 days ago: not hot, warm (appointment)
    s.deal(at(3, 1), [("lost", at(3, 10))])  # lost before as_of: not open
    s.deal(at(3, 1), [("contacted", at(3, 2)), ("closed_won", at(3, 30))])  # won: not open
    # N: lost on 5 April, after as_of: open on 31 March, 30 days in "new", untouched: cold
    s.deal(at(3, 1), [("lost", at(4, 5))])
    s.activity(j, at(4, 2))  # after as_of: not seen

    report = compute_pipeline(s.sources(), s.observation())

    aging = {a.name: a.leads for a in report.aging}
    assert aging == {"0-7": 2, "8-30": 2, "31-90": 1, "90+": 1}  # H K | I N | J | G
    assert sum(a.share or 0 for a in report.aging) == pytest.approx(1.0)
    temperature = {t.name: t.leads for t in report.temperature}
    assert temperature == {"hot": 1, "warm": 3, "cold": 2}  # H | I J K | G N
    assert by(report.temperature, "name")["hot"].share == pytest.approx(1 / 6)


def test_volume_by_source_has_every_bucket(warehouse: Warehouse) -> None:
    s = Scenario(warehouse)
    s.deal(at(3, 3))  # week of 3 March
    s.deal(at(3, 4), source="referral")
    s.deal(at(3, 19))  # week of 17 March

    report = compute_pipeline(s.sources(), s.observation(), Grain.WEEK)

    zillow = by(report.volume_by_source, "source")["zillow"]
    # March 2025 overlaps the weeks starting 24 Feb, 3, 10, 17, 24 and 31 March.
    assert [(p.bucket_start.day, p.leads) for p in zillow.points] == [
        (24, 0), (3, 1), (10, 0), (17, 1), (24, 0), (31, 0)
    ]  # fmt: skip
    assert zillow.total == 2
    assert compute_pipeline(s.sources(), s.observation()).grain == Grain.WEEK  # 31 days


def test_heatmaps_use_the_tenant_time_zone(warehouse: Warehouse) -> None:
    s = Scenario(warehouse, timezone="America/Chicago")
    # 3 March 15:30 UTC is Monday 09:30 in Chicago (CST, UTC-6).
    first = s.deal(at(3, 3, 15, 30))
    # 10 March 03:00 UTC is Sunday 9 March 22:00 (CDT, UTC-5: DST began that morning).
    s.deal(at(3, 10, 3))
    s.activity(first, at(3, 4, 0, 30))  # Monday 3 March 18:30 local
    s.activity(first, at(3, 4, 1, 30), direction="inbound")  # inbound: not counted

    report = compute_pipeline(s.sources(), s.observation())

    arrivals = report.arrivals_heatmap
    assert arrivals.total == 2
    assert arrivals.counts[0][9] == 1 and arrivals.counts[6][22] == 1
    assert report.outbound_heatmap.total == 1 and report.outbound_heatmap.counts[0][18] == 1


def test_an_agent_sees_only_their_own_deals(warehouse: Warehouse) -> None:
    s = Scenario(warehouse)
    _march_cohort(s)

    report = compute_pipeline(s.sources(agents=[2]), s.observation())

    assert report.cohort_leads == 2  # B and D
    assert [c.agent_id for c in report.conversion_by_agent] == [2]
    assert report.funnel[-1].leads == 1  # B


def test_days_and_months_are_the_tenant_calendars(warehouse: Warehouse) -> None:
    s = Scenario(warehouse, timezone="America/Chicago")
    # 1 March 05:30 UTC is 23:30 on 28 February in Chicago (CST): before the period.
    s.deal(at(3, 1, 5, 30))
    # 3 March 05:30 UTC is Sunday 2 March 23:30 CST: the week of 24 February.
    s.deal(at(3, 3, 5, 30), source="referral")
    # 10 March 04:30 UTC is Sunday 9 March 23:30 CDT (DST began that morning): week of 3 March.
    s.deal(at(3, 10, 4, 30), source="referral")
    # 1 April 04:00 UTC is 31 March 23:00 CDT: in March, week of 31 March.
    s.deal(at(4, 1, 4), [("contacted", at(4, 1, 4, 30))], source="referral")

    report = compute_pipeline(s.sources(), s.observation(as_of=dt.date(2025, 4, 2)), Grain.WEEK)

    assert report.cohort_leads == 3
    referral = by(report.volume_by_source, "source")["referral"]
    assert [(p.bucket_start.day, p.leads) for p in referral.points] == [
        (24, 1), (3, 1), (10, 0), (17, 0), (24, 0), (31, 1)
    ]  # fmt: skip
    assert [(m.key, m.leads) for m in report.conversion_by_month] == [("2025-03", 3)]
    heatmap = report.arrivals_heatmap
    assert (heatmap.counts[6][23], heatmap.counts[0][23], heatmap.total) == (2, 1, 3)
