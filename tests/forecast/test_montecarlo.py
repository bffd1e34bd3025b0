"""The Monte Carlo forecaster against closed forms and against a known synthetic process."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from synthetic import make_world

from dealscope.analytics.models.mc_summary import BucketGrain, summarize
from dealscope.analytics.models.montecarlo import (
    ForecastHistory,
    MonteCarloConfig,
    MonteCarloForecaster,
    Scenario,
)
from dealscope.errors import ValidationFailed

AS_OF = dt.date(2025, 3, 31)
# No recency weighting: every past deal counts the same, so the rate is exactly wins / deals.
FLAT = MonteCarloConfig(horizon_days=30, half_life_days=None)


def bernoulli_history(
    n_open: int = 40, rate: float = 0.4, amount: float = 1000.0
) -> ForecastHistory:
    """1,000 past offers, `rate` of them won exactly 5.5 days after entering the stage (day 6
    of a window), the rest lost after 10 days; `n_open` offers entered half a day ago; no
    lead arrived in the last year (so no new business). Each won deal brings its amount."""
    past = 1000
    entered = np.linspace(-400.0, -200.0, past)
    wins = np.arange(past) < int(rate * past)
    won = np.where(wins, entered + 5.5, np.nan)
    closed = np.where(wins, entered + 5.5, entered + 10.0)
    deals = pd.DataFrame(
        {
            "deal_id": np.arange(past + n_open),
            "created": np.concatenate([entered, np.full(n_open, -500.0)]),
            "won": np.concatenate([won, np.full(n_open, np.nan)]),
            "closed": np.concatenate([closed, np.full(n_open, np.nan)]),
            "amount": amount,
            "revenue": np.concatenate([np.where(wins, amount, np.nan), np.full(n_open, np.nan)]),
            "source": "web",
            "property_type": "condo",
        }
    )
    entries = pd.DataFrame(
        {
            "deal_id": np.arange(past + n_open),
            "stage": "offer",
            "entered": np.concatenate([entered, np.full(n_open, -0.5)]),
            "exited": np.concatenate([closed, np.full(n_open, np.nan)]),
        }
    )
    return ForecastHistory(as_of=AS_OF, deals=deals, entries=entries)


def test_bernoulli_deals_with_fixed_values_give_binomial_quantiles() -> None:
    model = MonteCarloForecaster(FLAT).fit(bernoulli_history())
    simulation = model.simulate(200_000, random_state=11, daily_iterations=20_000)
    assert simulation.new_business.sum() == 0.0
    got = summarize(simulation, BucketGrain.DAY)
    truth = stats.binom(40, 0.4)
    for level, value in zip(
        (0.1, 0.5, 0.9), (got.total.p10, got.total.p50, got.total.p90), strict=True
    ):
        q = truth.ppf(level)
        # The true CDF is not within 0.01 of the level, so 200,000 draws pin the quantile.
        assert abs(truth.cdf(q) - level) > 0.01 and abs(truth.cdf(q - 1) - level) > 0.01
        assert value == 1000.0 * q
    assert got.total.mean == pytest.approx(16_000.0, abs=3 * 1000 * truth.std() / np.sqrt(2e5))
    # Every closing lands on day 6; the other days are empty.
    assert got.buckets[5].amount.p50 == got.total.p50 and got.buckets[5].start == dt.date(
        2025, 4, 6
    )
    assert all(b.amount.p90 == 0.0 for i, b in enumerate(got.buckets) if i != 5)
    assert got.buckets[-1].cumulative.p50 == got.total.p50
    assert got.probability_of_target is None
    chance = summarize(simulation, target=25_000.0).probability_of_target
    assert chance == pytest.approx(truth.sf(24), abs=0.005)  # P(at least 25 closings)


def test_scenarios_scale_conversion_size_and_cycle_time() -> None:
    model = MonteCarloForecaster(FLAT).fit(bernoulli_history())
    half = model.simulate(50_000, 3, Scenario("x", conversion=0.5, deal_size=2.0))
    assert np.mean(half.totals) == pytest.approx(40 * 0.2 * 2000.0, rel=0.02)
    # Twice as slow: the day-6 closings move to day 12.
    slow = model.simulate(2_000, 3, Scenario("x", cycle_time=2.0), daily_iterations=2_000)
    assert slow.daily[:, 11].sum() == pytest.approx(slow.totals.sum())
    # Four times as slow: day 6 becomes day 24, still inside the 30 days.
    slower = model.simulate(2_000, 3, Scenario("x", cycle_time=4.0), daily_iterations=2_000)
    assert slower.daily[:, 23].sum() == pytest.approx(slower.totals.sum())
    assert slower.totals.sum() > 0
    # Faster: day 6 x 0.5 = day 3.
    fast = model.simulate(2_000, 3, Scenario("x", cycle_time=0.5), daily_iterations=2_000)
    assert fast.daily[:, 2].sum() == pytest.approx(fast.totals.sum())
    assert fast.totals.sum() > 0
    with pytest.raises(ValidationFailed, match="cycle_time"):
        Scenario("x", cycle_time=9.0)


def test_same_seed_same_forecast_and_input_checks() -> None:
    model = MonteCarloForecaster(FLAT).fit(bernoulli_history())
    a, b = model.simulate(5_000, 42), model.simulate(5_000, 42)
    assert np.array_equal(a.totals, b.totals) and np.array_equal(a.daily, b.daily)
    assert not np.array_equal(a.totals, model.simulate(5_000, 43).totals)
    with pytest.raises(ValidationFailed, match="iterations"):
        model.simulate(2_000_000, 1)
    with pytest.raises(ValidationFailed, match="horizon_days"):
        MonteCarloConfig(horizon_days=0)
    broken = bernoulli_history().deals.drop(columns=["won"])
    with pytest.raises(ValidationFailed, match="won"):
        ForecastHistory(AS_OF, broken, bernoulli_history().entries)


@pytest.mark.slow
def test_interval_covers_the_truth_of_a_known_process() -> None:
    """12 independent synthetic brokerages, 10 forecasts each at as-of dates 30 days apart
    (their 30-day windows do not overlap): 120 forecasts.

    Tolerance: with 120 independent forecasts a calibrated 80% interval covers 80% +- 3.7%
    (one standard deviation); we accept 0.70..0.90. The median must be unbiased: the truth
    falls below P50 in 0.5 +- 0.13 (three standard deviations) of forecasts, and the mean
    relative error of the expected figure is within +-5%."""
    started = time.perf_counter()
    covered, below, errors = [], [], []
    config = MonteCarloConfig(horizon_days=30, lookback_days=400)
    for world_seed in range(12):
        world = make_world(np.random.default_rng(world_seed), days=760, leads_per_day=6.0)
        for k in range(10):
            as_of = 460.0 + 30 * k
            model = MonteCarloForecaster(config).fit(world.history(as_of))
            totals = model.simulate(2_000, random_state=k).totals
            truth = world.actual(as_of, 30)
            p10, p50, p90 = np.quantile(totals, [0.1, 0.5, 0.9])
            covered.append(p10 <= truth <= p90)
            below.append(truth < p50)
            errors.append((truth - totals.mean()) / totals.mean())
    coverage = float(np.mean(covered))
    print(
        f"coverage {coverage:.3f}, below median {np.mean(below):.3f}, "
        f"mean relative error {np.mean(errors):+.3f} in {time.perf_counter() - started:.1f}s"
    )
    assert 0.70 <= coverage <= 0.90
    assert 0.37 <= float(np.mean(below)) <= 0.63
    assert abs(float(np.mean(errors))) <= 0.05
