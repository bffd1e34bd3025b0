"""Anomalies in daily metric series.

- `SeasonalAnomalyDetector` (one series): on a variance-stabilising scale (`Transform`),
  a robust STL decomposition with a weekly season
  (statsmodels, `robust=True`, so the outliers it looks for do not bend the fit) gives the
  expected value of each day; the residuals are scaled by their median absolute deviation
  (x 1.4826, the normal-consistent MAD) and a day whose robust z-score exceeds `threshold`
  is an anomaly. Series shorter than four weeks use a rolling median instead of STL. The
  expected range is expected +- threshold x scale on that scale, mapped back (so it is
  asymmetric for money), cut at 0 for counts and money.
- `MultiSeriesAnomalyDetector` (several series): scikit-learn's IsolationForest on the
  days' robust z-scores across the series finds days whose combination is unusual even if
  no single series is, and names the series that stood out most.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from dealscope.errors import ValidationFailed

MAD_TO_SD = 1.4826
WEEK = 7


class Transform(StrEnum):
    """Scale the series is judged on: counts on the square root (Poisson noise has a
    standard deviation near 0.5 there), money and durations on log(1 + x) (their noise is
    proportional), anything else as is."""

    NONE = "none"
    SQRT = "sqrt"
    LOG = "log"

    def forward(self, y: np.ndarray) -> np.ndarray:
        if self == Transform.SQRT:
            return np.sqrt(np.maximum(y, 0.0))
        if self == Transform.LOG:
            return np.log1p(np.maximum(y, 0.0))
        return y

    def inverse(self, y: np.ndarray) -> np.ndarray:
        if self == Transform.SQRT:
            return np.square(np.maximum(y, 0.0))
        if self == Transform.LOG:
            return np.expm1(y)
        return y


@dataclass(frozen=True)
class AnomalyConfig:
    threshold: float = 3.5  # robust z-score beyond which a day is anomalous
    transform: Transform = Transform.NONE
    min_scale: float = 0.5  # floor of the residual scale, on the transformed scale
    nonnegative: bool = True

    def __post_init__(self) -> None:
        if self.threshold <= 0:
            raise ValidationFailed(f"threshold must be positive, got {self.threshold}")


class SeasonalAnomalyDetector:
    """`fit(series)` on a daily series (DatetimeIndex, no gaps); then `expected_`,
    `lower_`, `upper_`, `score_` (robust z) and `is_anomaly_` per day."""

    def __init__(self, config: AnomalyConfig | None = None) -> None:
        self.config = config or AnomalyConfig()

    def fit(self, series: pd.Series) -> SeasonalAnomalyDetector:
        values = pd.to_numeric(series, errors="coerce").astype(float)
        if len(values) < WEEK:
            raise ValidationFailed(
                f"anomaly detection needs at least {WEEK} days, got {len(values)}"
            )
        if values.isna().all():
            raise ValidationFailed("the series has no values")
        filled = values.fillna(values.rolling(WEEK, min_periods=1, center=True).median())
        filled = filled.fillna(float(values.median()))
        y = self.config.transform.forward(filled.to_numpy())
        if len(y) >= 4 * WEEK and np.ptp(y) > 0:
            from statsmodels.tsa.seasonal import STL

            fit = STL(y, period=WEEK, robust=True).fit()
            expected = np.asarray(fit.trend) + np.asarray(fit.seasonal)
        else:
            expected = filled.rolling(WEEK, min_periods=1, center=True).median().to_numpy()
        residual = y - expected
        mad = float(np.median(np.abs(residual - np.median(residual))))
        scale = max(MAD_TO_SD * mad, self.config.min_scale)
        threshold = self.config.threshold
        back = self.config.transform.inverse
        lower, upper = back(expected - threshold * scale), back(expected + threshold * scale)
        expected = back(expected)
        if self.config.nonnegative:
            expected, lower = np.maximum(expected, 0.0), np.maximum(lower, 0.0)
        index = pd.DatetimeIndex(series.index)
        self.scale_ = scale
        self.expected_ = pd.Series(expected, index=index)
        self.lower_ = pd.Series(lower, index=index)
        self.upper_ = pd.Series(upper, index=index)
        self.score_ = pd.Series(residual / scale, index=index)
        observed = values.notna().to_numpy()
        self.is_anomaly_ = pd.Series(observed & (np.abs(residual / scale) > threshold), index=index)
        self.values_ = values
        return self


class MultiSeriesAnomalyDetector:
    """`fit(scores)` on a frame of robust z-scores (one column per series, one row per
    day); then `score_` (higher: more unusual, 0..1) and `is_anomaly_` per day, and
    `drivers_` (the series with the largest |z| that day)."""

    def __init__(self, contamination: float = 0.02, random_state: int = 0) -> None:
        if not 0.0 < contamination < 0.5:
            raise ValidationFailed(f"contamination must be in (0, 0.5), got {contamination}")
        self.contamination = contamination
        self.random_state = random_state

    def fit(self, scores: pd.DataFrame) -> MultiSeriesAnomalyDetector:
        from sklearn.ensemble import IsolationForest

        if scores.shape[1] < 2:
            raise ValidationFailed("IsolationForest across series needs at least two series")
        if len(scores) < 14:
            raise ValidationFailed(f"needs at least 14 days, got {len(scores)}")
        x = scores.fillna(0.0).to_numpy(dtype=float)
        forest = IsolationForest(
            n_estimators=100, contamination=self.contamination, random_state=self.random_state
        ).fit(x)
        raw = -forest.score_samples(x)  # sklearn: lower is more abnormal
        self.score_ = pd.Series(raw, index=scores.index)
        self.is_anomaly_ = pd.Series(forest.predict(x) == -1, index=scores.index)
        strongest = np.abs(x).argmax(axis=1)
        self.drivers_ = pd.Series(np.asarray(scores.columns)[strongest], index=scores.index)
        return self
