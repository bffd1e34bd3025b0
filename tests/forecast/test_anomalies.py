"""Anomaly detection: injected spikes and drops in a seasonal series are found (and nothing
else), a day unusual only in combination is found by the IsolationForest, and webhook
failures are counted from raw_events by local day on both backends, through the API."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from accounts import add_brokerage, add_user, bearer_of
from fastapi.testclient import TestClient

from dealscope.analytics.anomaly_service import AnomalyMetric, anomaly_signal, detect_anomalies
from dealscope.analytics.models.anomalies import (
    AnomalyConfig,
    MultiSeriesAnomalyDetector,
    SeasonalAnomalyDetector,
    Transform,
)
from dealscope.analytics.sources import Sources
from dealscope.errors import ValidationFailed
from dealscope.kit.roles import Role
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import raw_events
from dealscope.warehouse.tenancy import TenantScope
from dealscope.warehouse.unit_of_work import unit_of_work

DAYS = pd.date_range("2025-01-01", periods=120, freq="D")
WEEKLY = np.array([1.3, 1.2, 1.1, 1.0, 0.9, 0.5, 0.4])  # Monday .. Sunday


def leads_series(seed: int = 1) -> pd.Series:
    rng = np.random.default_rng(seed)
    mean = 30.0 * WEEKLY[DAYS.day_of_week.to_numpy()]
    return pd.Series(rng.poisson(mean).astype(float), index=DAYS)


def test_injected_spike_and_drop_are_found_and_nothing_else() -> None:
    series = leads_series()
    series.iloc[60] = series.iloc[60] + 45  # a Wednesday-ish surge
    series.iloc[90] = 0.0  # a weekday with no leads: a broken form
    config = AnomalyConfig(threshold=3.5, transform=Transform.SQRT, min_scale=0.5)
    model = SeasonalAnomalyDetector(config).fit(series)
    flagged = list(model.is_anomaly_.index[model.is_anomaly_.to_numpy()])
    assert flagged == [DAYS[60], DAYS[90]]
    assert model.score_.iloc[60] > 3.5 and model.score_.iloc[90] < -3.5
    normal = model.is_anomaly_.to_numpy() == 0
    inside = (series >= model.lower_) & (series <= model.upper_)
    assert inside[normal].all()
    # The expected value follows the weekday pattern: Mondays well above Sundays.
    monday, sunday = model.expected_[DAYS.day_of_week == 0], model.expected_[DAYS.day_of_week == 6]
    assert monday.mean() > 2.5 * sunday.mean()
    with pytest.raises(ValidationFailed, match="at least 7 days"):
        SeasonalAnomalyDetector().fit(series.iloc[:5])


def test_isolation_forest_finds_a_day_unusual_only_in_combination() -> None:
    rng = np.random.default_rng(5)
    a = rng.normal(0, 1, 200)
    b = a * 0.9 + rng.normal(0, 0.3, 200)  # two series that move together
    a[150], b[150] = 2.8, -2.8  # each inside 3.5 alone, but they never part like this
    frame = pd.DataFrame({"a": a, "b": b}, index=pd.date_range("2025-01-01", periods=200))
    model = MultiSeriesAnomalyDetector(contamination=0.01).fit(frame)
    assert model.score_.idxmax() == frame.index[150]
    assert bool(model.is_anomaly_.iloc[150])


def _add_failures(warehouse: Warehouse, tenant_id: int, per_day: dict[dt.datetime, int]) -> None:
    with unit_of_work(warehouse) as uow:
        for when, count in per_day.items():
            for k in range(count):
                uow.connection.execute(
                    raw_events.insert().values(
                        id=uow.next_id(raw_events),
                        tenant_id=tenant_id,
                        source="ghl",
                        dedupe_key=f"{when.isoformat()}-{k}",
                        received_at=when,
                        body="{}",
                        status="dead_letter" if k % 2 else "processed",
                        error="bad signature" if k % 2 == 0 else None,
                    )
                )


def test_webhook_failures_by_local_day_and_the_api(api: TestClient, warehouse: Warehouse) -> None:
    firm = add_brokerage(warehouse, "acme")  # America/New_York
    add_user(warehouse, firm, "admin@acme.example", Role.ADMIN)
    add_user(warehouse, firm, "agent@acme.example", Role.AGENT, agent_id=firm.agent_id)
    as_of = dt.date(2025, 3, 31)
    failures = {
        dt.datetime(2025, 1, 1, 15, tzinfo=dt.UTC) + dt.timedelta(days=d): 1 + d % 2
        for d in range(89)
    }
    # 01:30 UTC on March 21 is still March 20 in New York: 30 failures that evening.
    failures[dt.datetime(2025, 3, 21, 1, 30, tzinfo=dt.UTC)] = 30
    _add_failures(warehouse, firm.tenant_id, failures)
    sources = Sources(warehouse, TenantScope(firm.tenant_id))
    report = detect_anomalies(
        sources, "America/New_York", as_of, [AnomalyMetric.WEBHOOK_FAILURES], 30, 90
    )
    [found] = report.anomalies
    assert found.day == dt.date(2025, 3, 20) and found.direction == "spike"
    assert found.value == 30 + 1 + 78 % 2  # the evening burst and that day's usual failures
    assert found.lower <= found.expected <= found.upper < found.value
    signal = anomaly_signal(
        sources, "America/New_York", dt.date(2025, 3, 20), AnomalyMetric.WEBHOOK_FAILURES, 3.5, 60
    )
    assert signal.is_anomaly and signal.value == found.value
    quiet = anomaly_signal(
        sources, "America/New_York", dt.date(2025, 3, 19), AnomalyMetric.WEBHOOK_FAILURES, 3.5, 60
    )
    assert not quiet.is_anomaly

    admin = bearer_of(api, "admin@acme.example")
    params = {"metrics": ["webhook_failures"], "as_of": as_of.isoformat(), "lookback_days": 90}
    got = api.get("/api/v1/analytics/anomalies", headers=admin, params=params)
    assert got.status_code == 200, got.text
    assert [(a["day"], a["value"]) for a in got.json()["anomalies"]] == [
        ("2025-03-20", found.value)
    ]
    agent = bearer_of(api, "agent@acme.example")
    mine = api.get("/api/v1/analytics/anomalies", headers=agent, params=params).json()
    assert mine["anomalies"] == [] and "webhook_failures" in mine["skipped"]
