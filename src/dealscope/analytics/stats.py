"""Small statistics shared by the dashboards: quantiles and the two-proportion z-test.

Quantiles interpolate linearly between order statistics (NumPy's default, "type 7"), so
the 90th percentile of [1, 2, 3, 4] is 3.7.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

Z_95 = float(stats.norm.ppf(0.975))  # 1.959964...


def quantile(values: Iterable[float], q: float) -> float | None:
    """The `q`-quantile (0..1) of `values`, linear interpolation; None when there are none."""
    array = np.asarray(
        values if isinstance(values, np.ndarray | pd.Series) else list(values), dtype=float
    )
    array = array[~np.isnan(array)]
    if array.size == 0:
        return None
    return float(np.quantile(array, q))


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when the denominator is 0 (no basis for a rate)."""
    return None if denominator == 0 else numerator / denominator


@dataclass(frozen=True)
class TwoProportionTest:
    """A two-sided z-test of p_a = p_b, and a Wald 95% interval for p_a - p_b."""

    rate_a: float
    rate_b: float
    difference: float  # rate_a - rate_b, as a fraction
    ci_low: float
    ci_high: float
    z: float | None  # None when both rates are 0 or 1 (no variance)
    p_value: float | None


def two_proportion_z_test(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int
) -> TwoProportionTest | None:
    """Compare two conversion rates. The test statistic uses the pooled rate,
    z = (p_a - p_b) / sqrt(p (1 - p) (1/n_a + 1/n_b)); the interval uses the unpooled
    standard error sqrt(p_a (1 - p_a) / n_a + p_b (1 - p_b) / n_b). None when a segment
    has no trials."""
    if trials_a <= 0 or trials_b <= 0:
        return None
    rate_a, rate_b = successes_a / trials_a, successes_b / trials_b
    difference = rate_a - rate_b
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    pooled_se = math.sqrt(pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b))
    se = math.sqrt(rate_a * (1 - rate_a) / trials_a + rate_b * (1 - rate_b) / trials_b)
    z = difference / pooled_se if pooled_se > 0 else None
    p_value = float(2 * stats.norm.sf(abs(z))) if z is not None else None
    return TwoProportionTest(
        rate_a=rate_a,
        rate_b=rate_b,
        difference=difference,
        ci_low=difference - Z_95 * se,
        ci_high=difference + Z_95 * se,
        z=z,
        p_value=p_value,
    )
