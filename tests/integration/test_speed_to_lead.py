"""Speed to lead on hand-built leads, on DuckDB and PostgreSQL alike."""

from __future__ import annotations

import pytest
from pipeline_scenarios import Scenario, at, by

from dealscope.analytics.speed import compute_speed_to_lead
from dealscope.warehouse.engine import Warehouse


def _leads(s: Scenario) -> None:
    l1 = s.deal(at(3, 3, 10), [("contacted", at(3, 3, 10, 3)), ("closed_won", at(3, 25))])
    s.activity(l1, at(3, 3, 10, 1), kind="sms", direction="inbound")  # inbound: not a reply
    s.activity(l1, at(3, 3, 10, 3))  # call after 3 minutes
    l2 = s.deal(at(3, 3, 11))
    s.activity(l2, at(3, 3, 11, 1), kind="sms", agent=None)  # an automation: not a person
    s.activity(l2, at(3, 3, 11, 5), kind="meeting")  # not outreach
    s.activity(l2, at(3, 3, 11, 20), kind="email")  # 20 minutes
    l3 = s.deal(at(3, 4, 12), source="referral", agent=2)
    s.activity(l3, at(3, 4, 14), kind="sms", agent=2)  # 120 minutes
    s.deal(at(3, 4, 12, 30), source="referral", agent=2)  # L4: never contacted
    l5 = s.deal(at(3, 5, 9), agent=2)
    s.activity(l5, at(3, 6, 10), agent=2)  # 25 hours: 1500 minutes
    early = s.deal(at(2, 27, 9))  # created before the period: not in it
    s.activity(early, at(3, 1, 9))


def test_response_times_sla_and_win_rates(warehouse: Warehouse) -> None:
    s = Scenario(warehouse)
    _leads(s)

    report = compute_speed_to_lead(s.sources(), s.observation())

    # Response minutes: L1 3, L2 20, L3 120, L5 1500; L4 never. Median of the four: 70;
    # p90 at rank 2.7 -> 120 + 0.7 * (1500 - 120) = 1086.
    overall = report.overall
    assert (overall.leads, overall.contacted) == (5, 4)
    assert overall.median_minutes == pytest.approx(70.0)
    assert overall.p90_minutes == pytest.approx(1086.0)

    sources = by(report.by_source, "key")
    # zillow [3, 20, 1500]: median 20, p90 at rank 1.8 -> 20 + 0.8 * 1480 = 1204
    assert sources["zillow"].median_minutes == pytest.approx(20.0)
    assert sources["zillow"].p90_minutes == pytest.approx(1204.0)
    assert (sources["referral"].leads, sources["referral"].contacted) == (2, 1)
    agents = by(report.by_agent, "agent_id")
    assert agents[1].median_minutes == pytest.approx(11.5)  # 3, 20
    assert agents[2].median_minutes == pytest.approx(810.0)  # 120, 1500
    hours = by(report.by_hour, "hour")
    assert len(report.by_hour) == 24
    assert (hours[12].leads, hours[12].contacted) == (2, 1)  # L3 L4
    assert hours[9].median_minutes == pytest.approx(1500.0)
    assert hours[0].leads == 0 and hours[0].median_minutes is None

    sla = report.sla  # 5 minutes: L1 within; L2 L3 L5 late; L4 never
    assert (sla.leads, sla.within, sla.breached, sla.never_contacted) == (5, 1, 3, 1)
    assert (sla.within_share, sla.breached_share, sla.never_contacted_share) == pytest.approx(
        (0.2, 0.6, 0.2)
    )
    wider = compute_speed_to_lead(s.sources(), s.observation(), sla_minutes=20).sla
    assert (wider.within, wider.breached) == (2, 2)  # 20 minutes is within

    buckets = {b.bucket: (b.leads, b.won) for b in report.win_rate_by_response}
    assert buckets == {
        "<5m": (1, 1), "5-30m": (1, 0), "30m-4h": (1, 0), "4-24h": (0, 0), ">24h": (1, 0),
        "never": (1, 0),
    }  # fmt: skip
    assert by(report.win_rate_by_response, "bucket")["4-24h"].win_rate is None


def test_an_agent_sees_only_their_leads(warehouse: Warehouse) -> None:
    s = Scenario(warehouse)
    _leads(s)

    report = compute_speed_to_lead(s.sources(agents=[1]), s.observation())

    assert (report.overall.leads, report.overall.contacted) == (2, 2)  # L1 L2
    assert report.overall.median_minutes == pytest.approx(11.5)
    assert [a.agent_id for a in report.by_agent] == [1]
