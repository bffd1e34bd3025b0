"""The step funnel on hand-built deals, on DuckDB and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pipeline_scenarios import Scenario, at
from scipy import stats

from dealscope.analytics.funnel import FunnelBreakdown, FunnelQuery, compute_funnel
from dealscope.analytics.funnel_walk import FunnelOrder
from dealscope.analytics.periods import Period
from dealscope.warehouse.engine import Warehouse

STEPS = ("contacted", "qualified", "appointment")


def _deals(s: Scenario) -> None:
    # Steps contacted -> qualified -> appointment, all entered within March except S.
    s.deal(at(3, 1), [("contacted", at(3, 2)), ("qualified", at(3, 4)),
                      ("appointment", at(3, 6))])  # fmt: skip  # P: in order, 4 days
    s.deal(at(3, 1), [("contacted", at(3, 2)), ("appointment", at(3, 3)),
                      ("qualified", at(3, 5))], source="referral")  # fmt: skip  # Q: out of order
    s.deal(at(3, 1), [("contacted", at(3, 3)), ("qualified", at(3, 5)),
                      ("appointment", at(3, 20))], agent=2)  # fmt: skip  # R: 17 days
    s.deal(at(2, 1), [("contacted", at(2, 20)), ("qualified", at(3, 2))])  # S: entered in Feb
    s.deal(at(3, 10))  # T: never contacted, not in the funnel


def _counts(s: Scenario, **query: Any) -> list[int]:
    report = compute_funnel(s.sources(), s.observation(), FunnelQuery(steps=STEPS, **query))
    return [step.leads for step in report.steps]


def test_strict_order_any_order_and_the_window(warehouse: Warehouse) -> None:
    s = Scenario(warehouse)
    _deals(s)

    # Cohort P Q R (S first entered "contacted" in February). Window 10 days:
    # strict: qualified P Q R; appointment P only (Q's came before its qualified, R's after
    # 17 days) -> [3, 3, 1]. Any order: Q counts too -> [3, 3, 2].
    assert _counts(s, window_days=10) == [3, 3, 1]
    assert _counts(s, window_days=10, order=FunnelOrder.ANY) == [3, 3, 2]
    # A 20-day window reaches R's appointment (17 days after it was contacted).
    assert _counts(s, window_days=20) == [3, 3, 2]
    assert _counts(s, window_days=17) == [3, 3, 2]  # the window's end is included
    assert _counts(s, window_days=16) == [3, 3, 1]


def test_time_to_convert_and_breakdown(warehouse: Warehouse) -> None:
    s = Scenario(warehouse)
    _deals(s)
    query = FunnelQuery(
        steps=STEPS, window_days=10, order=FunnelOrder.ANY, breakdown=FunnelBreakdown.SOURCE
    )

    report = compute_funnel(s.sources(), s.observation(), query)

    # Converted: P in 4 days (2 -> 6 Mar), Q in 3 (contacted 2 Mar, last step 5 Mar).
    # Quantiles of [3, 4]: median 3.5, p25 3.25, p75 3.75, p90 3.9.
    ttc = report.time_to_convert
    assert ttc.converted == 2
    assert (ttc.median_days, ttc.p25_days, ttc.p75_days, ttc.p90_days) == pytest.approx(
        (3.5, 3.25, 3.75, 3.9)
    )
    assert [(b.low_days, b.high_days, b.leads) for b in ttc.histogram] == [
        (0, 1, 0), (1, 3, 0), (3, 7, 2), (7, 10, 0)
    ]  # fmt: skip
    segments = {seg.key: [st.leads for st in seg.steps] for seg in report.breakdown}
    assert segments == {"zillow": [2, 2, 1], "referral": [1, 1, 1]}  # P R | Q

    by_agent = compute_funnel(
        s.sources(), s.observation(), FunnelQuery(steps=STEPS, breakdown=FunnelBreakdown.AGENT)
    )
    assert {seg.agent_id: seg.leads for seg in by_agent.breakdown} == {1: 2, 2: 1}


def test_bottleneck_compares_each_step_with_the_previous_periods(warehouse: Warehouse) -> None:
    s = Scenario(warehouse)
    march = Period(dt.date(2025, 3, 1), dt.date(2025, 4, 1))  # 31 days
    # The period before: 29 Jan - 28 Feb, seen on 28 Feb. Four leads, all contacted, two
    # qualified: contacted -> qualified 50%.
    for i in range(4):
        moves = [("contacted", at(2, 11))] + ([("qualified", at(2, 12))] if i < 2 else [])
        s.deal(at(2, 10), moves)
    # March: four leads, all contacted, one qualified: 25%, a fall of 25 points.
    for i in range(4):
        moves = [("contacted", at(3, 11))] + ([("qualified", at(3, 12))] if i < 1 else [])
        s.deal(at(3, 10), moves)

    query = FunnelQuery(steps=("new", "contacted", "qualified"))
    bottleneck = compute_funnel(s.sources(), s.observation(march), query).bottleneck

    assert (bottleneck.from_step, bottleneck.step) == ("contacted", "qualified")
    assert bottleneck.change == pytest.approx(-0.25)
    trends = {t.step: (t.conversion, t.baseline) for t in bottleneck.trends}
    assert trends == {"contacted": (1.0, 1.0), "qualified": (0.25, 0.5)}
    assert "contacted to qualified" in bottleneck.finding
    assert "25.0%" in bottleneck.finding and "50.0%" in bottleneck.finding
    assert "-25.0 points" in bottleneck.finding


def test_ab_comparison_matches_a_chi_square_test(warehouse: Warehouse) -> None:
    s = Scenario(warehouse)
    # zillow: 6 leads, 3 reach appointment; paid_social: 8 leads, 1 does.
    for i in range(6):
        s.deal(at(3, 2), [("contacted", at(3, 3))] + ([("appointment", at(3, 5))] if i < 3 else []))
    for i in range(8):
        moves = [("contacted", at(3, 3))] + ([("appointment", at(3, 5))] if i < 1 else [])
        s.deal(at(3, 2), moves, source="paid_social", agent=2)
    query = FunnelQuery(
        steps=("new", "contacted", "appointment"),
        segment_a="source:zillow",
        segment_b="source:paid_social",
    )

    comparison = compute_funnel(s.sources(), s.observation(), query).comparison

    assert comparison is not None
    assert (comparison.a.leads, comparison.a.converted) == (6, 3)
    assert (comparison.b.leads, comparison.b.converted) == (8, 1)
    assert comparison.difference == pytest.approx(0.5 - 0.125)
    # The pooled z-test is the chi-square test of the 2x2 table without continuity
    # correction: z^2 = chi2 and the same p-value.
    chi2, p_value, _, _ = stats.chi2_contingency([[3, 3], [1, 7]], correction=False)
    assert comparison.z == pytest.approx(chi2**0.5)
    assert comparison.p_value == pytest.approx(p_value)
    # 95% CI: 0.375 -/+ 1.95996 * sqrt(0.5 * 0.5 / 6 + 0.125 * 0.875 / 8)
    half = 1.959964 * (0.25 / 6 + 0.109375 / 8) ** 0.5
    assert (comparison.ci_low, comparison.ci_high) == pytest.approx((0.375 - half, 0.375 + half))

    by_agent = FunnelQuery(
        steps=("new", "contacted", "appointment"), segment_a="agent:1", segment_b="agent:2"
    )
    agents = compute_funnel(s.sources(), s.observation(), by_agent).comparison
    assert agents is not None and (agents.a.leads, agents.b.leads) == (6, 8)
