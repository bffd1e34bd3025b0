"""The extension point for model-driven alert signals (anomalies; churn risk and negative
sentiment later).

An anomaly detector takes a metric's daily series (a pandas Series indexed by day, the
metric's values in its own units, oldest first, ending on the last complete day) and says
whether the last point is anomalous. The forecasting models (`analytics/models/anomalies.py`)
register one here under a name when they land:

    ANOMALY_DETECTORS["default"] = MyDetector()

Nothing is registered yet, so `rules.check_rule` refuses anomaly rules with a message that
says so, rather than pretending to detect anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pandas as pd


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

    def check_last(self, series: pd.Series) -> AnomalyVerdict: ...


ANOMALY_DETECTORS: dict[str, AnomalyDetector] = {}
