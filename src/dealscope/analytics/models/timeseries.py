"""`TimeSeriesForecaster`: a second opinion beside the Monte Carlo, from the metric's own past.

Two methods, both giving sample paths (so the interval of a sum of periods is honest, not a
sum of intervals):

- `ets` (default): statsmodels' ETS state-space model, additive errors and a damped additive
  trend, with additive yearly seasonality when there are two full years of history (12
  months; 52 weeks needs two years of weeks too). Paths are simulated from the fitted model.
- `prophet`: Meta's Prophet (its compiled Stan model ships in the wheel and fits offline),
  linear trend with yearly seasonality under the same two-year rule; paths are its
  predictive samples.

Chosen by backtest on the demo brokerage (`dealscope forecast backtest`: 20,000 leads over
3.5 years, GCI as of the 12 month-ends 2024-04-30..2025-03-31, 1-3 months ahead):

    method    horizon  MAPE   bias    P10-P90 coverage
    ets       1 month  12.4%  +2.6%   83%
    ets       2 months  8.7%  +4.0%   83%
    ets       3 months  8.4%  +3.9%   83%
    prophet   1 month  48.2%  +28.2%   8%
    prophet   2 months 27.3%  +19.7%  25%
    prophet   3 months 23.9%  +15.9%   8%

ETS is the default: far more accurate, honestly calibrated, and it fits in tens of
milliseconds where Prophet takes a few hundred (Prophet's yearly seasonality overfits two or
three years of months, and its interval covers only trend and noise). statsforecast was not a
candidate: it pins pandas below 3.
Values are clipped at 0 (counts and money cannot be negative).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from dealscope.errors import ValidationFailed

MIN_POINTS = 6


class TimeSeriesMethod(StrEnum):
    ETS = "ets"
    PROPHET = "prophet"


class SeriesGrain(StrEnum):
    MONTH = "month"
    WEEK = "week"

    @property
    def season(self) -> int:
        return 12 if self == SeriesGrain.MONTH else 52

    @property
    def offset(self) -> pd.DateOffset:
        return pd.DateOffset(months=1) if self == SeriesGrain.MONTH else pd.DateOffset(weeks=1)


@dataclass(frozen=True)
class TimeSeriesConfig:
    method: TimeSeriesMethod = TimeSeriesMethod.ETS
    grain: SeriesGrain = SeriesGrain.MONTH
    periods: int = 3  # how many periods ahead
    samples: int = 2000  # sample paths
    interval: float = 0.8  # P10-P90

    def __post_init__(self) -> None:
        if not 1 <= self.periods <= 52:
            raise ValidationFailed(f"periods must be between 1 and 52, got {self.periods}")
        if not 100 <= self.samples <= 20_000:
            raise ValidationFailed(f"samples must be between 100 and 20000, got {self.samples}")


class TimeSeriesForecaster:
    """`fit(series)` on a regular series (index: period starts), then `paths_` holds
    `samples x periods` simulated futures and `predict()` their P10/P50/P90 and mean."""

    def __init__(self, config: TimeSeriesConfig | None = None, random_state: int = 0) -> None:
        self.config = config or TimeSeriesConfig()
        self.random_state = random_state

    def fit(self, series: pd.Series) -> TimeSeriesForecaster:
        values = pd.to_numeric(series, errors="coerce").astype(float)
        if values.isna().any():
            raise ValidationFailed("the series has missing values; fill empty periods with 0")
        if len(values) < MIN_POINTS:
            raise ValidationFailed(
                f"a time-series forecast needs at least {MIN_POINTS} periods of history, "
                f"got {len(values)}"
            )
        index = pd.DatetimeIndex(series.index)
        self.index_ = pd.DatetimeIndex(
            [index[-1] + self.config.grain.offset * (k + 1) for k in range(self.config.periods)]
        )
        self.seasonal_ = len(values) >= 2 * self.config.grain.season
        y = values.to_numpy()
        if self.config.method == TimeSeriesMethod.ETS:
            paths = self._ets(y)
        else:
            paths = self._prophet(index, y)
        self.paths_ = np.clip(paths, 0.0, None)
        return self

    def _ets(self, y: np.ndarray) -> np.ndarray:
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        season = self.config.grain.season
        flat = np.ptp(y) == 0
        model = ETSModel(
            y,
            error="add",
            trend=None if flat else "add",
            damped_trend=not flat,
            seasonal="add" if self.seasonal_ and not flat else None,
            seasonal_periods=season if self.seasonal_ and not flat else None,
            # Heuristic initial states (from the first seasons) instead of estimating them:
            # 20x faster and as accurate on our backtest.
            initialization_method="heuristic" if len(y) >= 10 else "estimated",
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter on short series
            fitted = model.fit(disp=False, maxiter=200)
            sims = fitted.simulate(
                nsimulations=self.config.periods,
                repetitions=self.config.samples,
                anchor="end",
                rng=np.random.default_rng(self.random_state),
            )
        return np.asarray(sims, dtype=float).reshape(self.config.periods, -1).T

    def _prophet(self, index: pd.DatetimeIndex, y: np.ndarray) -> np.ndarray:
        from prophet import Prophet

        for name in ("cmdstanpy", "prophet"):  # after the import: it sets its own levels
            logging.getLogger(name).setLevel(logging.WARNING)

        model = Prophet(
            yearly_seasonality=self.seasonal_,
            weekly_seasonality=False,
            daily_seasonality=False,
            interval_width=self.config.interval,
            uncertainty_samples=self.config.samples,
        )
        np.random.seed(self.random_state)  # Prophet draws its samples from NumPy's global RNG
        model.fit(pd.DataFrame({"ds": index.tz_localize(None), "y": y}))
        future = pd.DataFrame({"ds": self.index_.tz_localize(None)})
        samples = model.predictive_samples(future)["yhat"]
        return np.asarray(samples, dtype=float).T

    def predict(self) -> pd.DataFrame:
        """Per future period: start, mean, p10, p50, p90 (the metric's unit)."""
        q = np.quantile(self.paths_, [0.1, 0.5, 0.9], axis=0)
        return pd.DataFrame(
            {
                "start": self.index_,
                "mean": self.paths_.mean(axis=0),
                "p10": q[0],
                "p50": q[1],
                "p90": q[2],
            }
        )

    def cumulative(self, periods: int) -> np.ndarray:
        """Simulated totals of the first `periods` future periods."""
        return np.asarray(self.paths_[:, :periods].sum(axis=1))
