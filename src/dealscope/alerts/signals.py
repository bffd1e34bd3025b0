"""The extension point for model-driven alert signals (anomalies; churn risk and negative
sentiment later).

An anomaly detector takes a metric's daily series (a pandas Series indexed by day, the
metric's values in its own units, oldest first, ending on the last complete day) and the
metric's unit, and says whether the last point is anomalous. Rules name a detector;
`default` is the forecasting work's robust seasonal detector
(`analytics/models/anomalies.py`: weekly STL on a variance-stabilising scale, residuals
scaled by their MAD), the same model behind `GET /analytics/anomalies`. Another detector
is registered under its own name:

    ANOMALY_DETECTORS["mine"] = MyDetector()
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from dealscope.analytics.models.anomalies import (
    AnomalyConfig,
    SeasonalAnomalyDetector,
    Transform,
)
from dealscope.analytics.specs import Unit


@dataclass(frozen=True)
class AnomalyVerdict:
    """The detector's answer about the last point of a series."""

    is_anomaly: bool
    value: float
    expected: float  # what the detector expected the last point to be
    score: float  # how unusual (the detector's own scale, e.g. a z-score)
    lower: float | None = None  # the band of normal values, where the detector has one
    upper: float | None = None


class AnomalyDetector(Protocol):
    history_days: int  # how many days of history the detector wants

    def check_last(self, series: pd.Series, unit: Unit) -> AnomalyVerdict: ...


class RobustSeasonalDetector:
    """`SeasonalAnomalyDetector` with the scale chosen by the metric's unit, as the
    anomalies API does: counts on the square root (noise no finer than Poisson's), money
    and durations on log(1 + x) (no finer than 25%), shares as they are (no finer than one
    percentage point)."""

    history_days = 91  # 13 weeks: enough for a weekly STL to settle

    def __init__(self, threshold: float = 3.5) -> None:
        self.threshold = threshold

    def _config(self, unit: Unit) -> AnomalyConfig:
        if unit == Unit.COUNT:
            return AnomalyConfig(self.threshold, Transform.SQRT, min_scale=0.5)
        if unit == Unit.RATIO:
            return AnomalyConfig(self.threshold, Transform.NONE, min_scale=0.01)
        return AnomalyConfig(self.threshold, Transform.LOG, min_scale=0.25)

    def check_last(self, series: pd.Series, unit: Unit) -> AnomalyVerdict:
        """The last day against what the days before it lead one to expect.

        The model is fitted on the history without the last day: a decomposition fitted
        with it bends its trend to meet the last point (a loess has only one side there)
        and would call no spike unusual. The expectation for the last day is the fitted
        level of the same weekday a week earlier, on the model's scale."""
        daily = series.copy()
        daily.index = pd.DatetimeIndex(daily.index)
        # A day with no rows is a day of nothing for counts and money, unknown for the rest.
        days = pd.date_range(daily.index.min(), daily.index.max(), freq="D")
        empty = 0.0 if unit in (Unit.COUNT, Unit.MONEY) else np.nan
        daily = daily.reindex(days, fill_value=empty)
        config = self._config(unit)
        model = SeasonalAnomalyDetector(config).fit(daily.iloc[:-1])
        last = daily.index[-1]
        value = float(daily.iloc[-1])
        forward, back = config.transform.forward, config.transform.inverse
        centre = float(forward(np.array([model.expected_[last - pd.Timedelta(days=7)]]))[0])
        band = config.threshold * model.scale_
        lower, upper = back(np.array([centre - band, centre + band]))
        score = 0.0 if np.isnan(value) else (float(forward(np.array([value]))[0]) - centre)
        score /= model.scale_
        return AnomalyVerdict(
            is_anomaly=not np.isnan(value) and abs(score) > config.threshold,
            value=0.0 if np.isnan(value) else value,
            # rounded: the scale's round trip leaves float dust (10.000000000000043)
            expected=round(float(back(np.array([centre]))[0]), 6),
            score=score,
            lower=max(float(lower), 0.0) if config.nonnegative else float(lower),
            upper=float(upper),
        )


ANOMALY_DETECTORS: dict[str, AnomalyDetector] = {"default": RobustSeasonalDetector()}
