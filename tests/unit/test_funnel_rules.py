"""Pure parts of the funnel: the walk through steps, the z-test, quantiles, the stages."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dealscope.analytics.funnel import FunnelQuery, compute_bottleneck, compute_steps
from dealscope.analytics.funnel_walk import FunnelOrder, walk
from dealscope.analytics.stats import quantile, two_proportion_z_test
from dealscope.errors import ValidationFailed

DAY = dt.timedelta(days=1)
T0 = pd.Timestamp("2025-03-01", tz="UTC")
FAR = pd.Timestamp("2030-01-01", tz="UTC")


def test_z_test_against_hand_computed_values() -> None:
    # 40/200 vs 25/200: p = 0.2 and 0.125, pooled 65/400 = 0.1625;
    # se = sqrt(0.1625 * 0.8375 * (1/200 + 1/200)) = 0.0368909...;
    # z = 0.075 / 0.0368909 = 2.03302; p = 2 * (1 - Phi(2.03302)) = 0.042054.
    test = two_proportion_z_test(40, 200, 25, 200)
    assert test is not None
    assert test.z == pytest.approx(2.03302, abs=1e-5)
    assert test.p_value == pytest.approx(0.042054, abs=1e-5)
    # Wald interval: 0.075 -/+ 1.959964 * sqrt(0.2 * 0.8 / 200 + 0.125 * 0.875 / 200)
    # = 0.075 -/+ 1.959964 * sqrt(0.001346875) = 0.075 -/+ 0.0719303 = (0.003070, 0.146930)
    assert (test.ci_low, test.ci_high) == pytest.approx((0.003070, 0.146930), abs=1e-5)


def test_z_test_edge_cases() -> None:
    assert two_proportion_z_test(0, 0, 1, 10) is None
    flat = two_proportion_z_test(0, 10, 0, 12)
    assert flat is not None and flat.z is None and flat.p_value is None


def test_quantiles_interpolate_linearly() -> None:
    assert quantile([1, 2, 3, 4], 0.9) == pytest.approx(3.7)
    assert quantile([], 0.5) is None


def test_strict_walk_needs_each_step_after_the_one_before() -> None:
    entries = {"a": [T0], "c": [T0 + DAY], "b": [T0 + 2 * DAY]}
    steps = ("a", "b", "c")
    assert walk(entries, steps, 30 * DAY, FunnelOrder.STRICT, FAR) == (2, None)
    assert walk(entries, steps, 30 * DAY, FunnelOrder.ANY, FAR) == (3, 2.0)
    # A later re-entry into "c" completes the strict funnel.
    entries["c"].append(T0 + 5 * DAY)
    assert walk(entries, steps, 30 * DAY, FunnelOrder.STRICT, FAR) == (3, 5.0)
    assert walk(entries, steps, 4 * DAY, FunnelOrder.STRICT, FAR) == (2, None)  # window
    assert walk(entries, steps, 30 * DAY, FunnelOrder.STRICT, T0 + 3 * DAY) == (2, None)


def test_steps_and_bottleneck_without_history() -> None:
    steps = compute_steps(pd.Series([3, 1, 2, 3]), ("a", "b", "c"))
    assert [s.leads for s in steps] == [4, 3, 2]
    bottleneck = compute_bottleneck(steps, [compute_steps(pd.Series([], dtype=int), "abc")], 3)
    assert bottleneck.step is None and "Not enough data" in bottleneck.finding


@pytest.mark.parametrize(
    "query",
    [
        {"steps": ("new",)},
        {"steps": ("new", "new")},
        {"steps": ("new", "moon")},
        {"steps": ("new", "offer"), "window_days": 0},
        {"steps": ("new", "offer"), "segment_a": "agent:x", "segment_b": "agent:1"},
    ],
)
def test_bad_queries_are_refused(query: dict[str, object]) -> None:
    with pytest.raises(ValidationFailed):
        FunnelQuery(**query)  # type: ignore[arg-type]
