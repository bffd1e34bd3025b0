"""Alert rules driven by the data: rows go in, `now` moves on, alerts fire, repeat, hold back
for the cooldown and resolve themselves, on DuckDB and PostgreSQL.

The figures are counted by hand from the rows each test inserts.
"""

from __future__ import annotations

import datetime as dt

import pytest
from alerting_data import add_events, add_leads, add_rule, add_tenant, delete_leads, local

from dealscope.alerts.conditions import format_value
from dealscope.alerts.evaluate import evaluate_tenant
from dealscope.alerts.repository import list_alerts
from dealscope.alerts.rules import AlertRuleSpec, check_rule
from dealscope.analytics.specs import Unit
from dealscope.errors import ValidationFailed
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import contacts, tenants
from dealscope.warehouse.tenancy import TenantScope

MONDAYS = [dt.date(2025, 1, 6), dt.date(2025, 1, 13), dt.date(2025, 1, 20), dt.date(2025, 1, 27)]
MONDAY = dt.date(2025, 2, 3)


def _version(warehouse: Warehouse, tenant_id: int) -> int:
    with warehouse.engine.connect() as conn:
        return int(
            conn.execute(
                tenants.select()
                .with_only_columns(tenants.c.data_version)
                .where(tenants.c.id == tenant_id)
            ).scalar_one()
        )


def test_same_weekday_drop_fires_once_resolves_and_respects_the_cooldown(
    warehouse: Warehouse,
) -> None:
    tenant = add_tenant(warehouse)
    for day, count in zip(MONDAYS, [10, 12, 8, 10], strict=True):  # mean 10
        add_leads(warehouse, tenant, day, count)
    monday = add_leads(warehouse, tenant, MONDAY, 4)
    rule = add_rule(
        warehouse,
        tenant,
        {
            "name": "Monday leads",
            "severity": "critical",
            "condition": {
                "kind": "change",
                "metric": "new_leads",
                "baseline": "same_weekday_average",
                "weeks": 4,
                "direction": "drop",
                "percent": 40,
                "min_change": 5,
            },
        },
    )
    # The same drop with a floor of 7 leads: 6 fewer is not enough.
    floored = add_rule(
        warehouse,
        tenant,
        {
            "name": "big drops only",
            "condition": {
                "kind": "change",
                "metric": "new_leads",
                "baseline": "same_weekday_average",
                "percent": 40,
                "min_change": 7,
            },
        },
    )
    now = local(dt.date(2025, 2, 4), 9)  # Tuesday morning in Chicago: Monday is complete
    version = _version(warehouse, tenant)
    report = evaluate_tenant(warehouse, tenant, now)
    assert list(report.fired) == [rule.id] and floored.id in report.quiet
    assert _version(warehouse, tenant) == version + 1  # summaries are computed afresh

    scope = TenantScope(tenant)
    with warehouse.engine.connect() as conn:
        (alert,) = list_alerts(conn, scope)
    assert alert.status == "open" and alert.severity == "critical"
    assert alert.value == 4 and alert.detail["baseline"] == 10
    assert alert.detail["change"] == -6 and alert.detail["change_pct"] == pytest.approx(-60)
    assert alert.detail["day"] == "2025-02-03"
    assert "fell 60%" in alert.title and "Monday" in alert.title

    # Still true ten minutes later: the same alert, nothing new.
    report = evaluate_tenant(warehouse, tenant, now + dt.timedelta(minutes=10))
    assert report.updated == [rule.id] and not report.fired

    # Three late leads for Monday: 7 against 10 is a 30% drop, below 40%: resolved.
    late = add_leads(warehouse, tenant, MONDAY, 3)
    report = evaluate_tenant(warehouse, tenant, now + dt.timedelta(minutes=20))
    assert report.resolved == {rule.id: alert.id}
    with warehouse.engine.connect() as conn:
        (resolved,) = list_alerts(conn, scope)
    assert resolved.status == "resolved" and resolved.value == 7
    assert resolved.resolved_at == now + dt.timedelta(minutes=20)
    assert resolved.detail["resolution"].startswith("auto")

    # They were duplicates after all: deleted, the drop is back within the hour: held back.
    delete_leads(warehouse, late, now + dt.timedelta(minutes=25))
    report = evaluate_tenant(warehouse, tenant, now + dt.timedelta(minutes=30))
    assert report.suppressed == [rule.id] and not report.fired
    # An hour after the first firing, it may fire again.
    report = evaluate_tenant(warehouse, tenant, now + dt.timedelta(minutes=61))
    assert list(report.fired) == [rule.id]
    with warehouse.engine.connect() as conn:
        assert [a.status for a in list_alerts(conn, scope)] == ["open", "resolved"]
    assert len(monday) == 4


def test_threshold_on_a_filtered_metric_and_previous_period(warehouse: Warehouse) -> None:
    tenant = add_tenant(warehouse)
    # Week of Jan 29 - Feb 4 (7d on Feb 4): 6 zillow, 2 other; the week before: 10 zillow.
    add_leads(warehouse, tenant, dt.date(2025, 1, 30), 6, source="zillow")
    add_leads(warehouse, tenant, dt.date(2025, 2, 1), 2, source="referral")
    add_leads(warehouse, tenant, dt.date(2025, 1, 24), 10, source="zillow")
    below = add_rule(
        warehouse,
        tenant,
        {
            "name": "few zillow leads",
            "condition": {
                "kind": "threshold",
                "metric": "new_leads",
                "range": "7d",
                "filters": {"source": ["zillow"]},
                "operator": "below",
                "value": 7,
            },
        },
    )
    rise = add_rule(
        warehouse,
        tenant,
        {
            "name": "zillow rising",
            "condition": {
                "kind": "change",
                "metric": "new_leads",
                "range": "7d",
                "filters": {"source": ["zillow"]},
                "direction": "rise",
                "percent": 10,
            },
        },
    )
    drop = add_rule(
        warehouse,
        tenant,
        {
            "name": "zillow falling",
            "condition": {
                "kind": "change",
                "metric": "new_leads",
                "range": "7d",
                "filters": {"source": ["zillow"]},
                "percent": 30,
                "min_change": 4,
            },
        },
    )
    report = evaluate_tenant(warehouse, tenant, local(dt.date(2025, 2, 4), 15))
    assert set(report.fired) == {below.id, drop.id} and rise.id in report.quiet
    with warehouse.engine.connect() as conn:
        by_rule = {a.rule_id: a for a in list_alerts(conn, TenantScope(tenant))}
    assert by_rule[below.id].value == 6
    assert "below 7" in by_rule[below.id].title and "source=zillow" in by_rule[below.id].title
    assert by_rule[drop.id].detail["baseline"] == 10
    assert by_rule[drop.id].detail["change_pct"] == pytest.approx(-40)

    # Two more zillow leads on Feb 4: 8 is no longer below 7, and -20% is no drop of 30%.
    add_leads(warehouse, tenant, dt.date(2025, 2, 4), 2, source="zillow")
    report = evaluate_tenant(warehouse, tenant, local(dt.date(2025, 2, 4), 16))
    assert set(report.resolved) == {below.id, drop.id}


def test_feed_health_failure_rate_and_staleness(warehouse: Warehouse) -> None:
    tenant = add_tenant(warehouse)
    t0 = dt.datetime(2025, 2, 4, 15, 0, tzinfo=dt.UTC)
    add_events(warehouse, tenant, t0, 15)
    add_events(warehouse, tenant, t0 + dt.timedelta(minutes=1), 5, status="dead_letter")
    add_events(warehouse, tenant, t0 + dt.timedelta(minutes=2), 4, source="generic", error="x")
    failing = add_rule(
        warehouse,
        tenant,
        {
            "name": "GHL webhooks failing",
            "condition": {
                "kind": "feed_health",
                "source": "ghl",
                "window_minutes": 60,
                "max_failure_rate": 0.2,
                "min_events": 10,
            },
        },
    )
    stale = add_rule(
        warehouse,
        tenant,
        {
            "name": "no webhooks",
            "condition": {
                "kind": "feed_health",
                "max_failure_rate": None,
                "stale_after_minutes": 90,
            },
        },
    )
    slow = add_rule(
        warehouse,
        tenant,
        {
            "name": "generic webhooks slow",
            "condition": {
                "kind": "feed_health",
                "source": "generic",
                "max_failure_rate": None,
                "max_p95_latency_ms": 1000,
                "min_events": 5,
            },
        },
    )
    # 5 of 20 GHL events failed (25% > 20%); the generic feed's errors are not counted.
    # The generic feed's 4 timed events are fewer than 5: its latency is not judged yet.
    report = evaluate_tenant(warehouse, tenant, t0 + dt.timedelta(minutes=30))
    assert list(report.fired) == [failing.id] and {stale.id, slow.id} <= set(report.quiet)
    # 6 generic events: 12, 12, 12, 12, 4000, 4000 ms: p95 = 4000 (interpolated: 0.95 of
    # the way over 5 gaps lands past the 5th value).
    add_events(
        warehouse, tenant, t0 + dt.timedelta(minutes=3), 2, source="generic", latency_ms=4000
    )
    report = evaluate_tenant(warehouse, tenant, t0 + dt.timedelta(minutes=31))
    assert list(report.fired) == [slow.id]
    with warehouse.engine.connect() as conn:
        alert, latency = list_alerts(conn, TenantScope(tenant), rule_id=None)[::-1]
    assert latency.title == "generic webhooks: p95 latency 4,000 ms > 1,000 ms"
    assert latency.detail["p95_latency_ms"] == 4000
    assert alert.value == pytest.approx(0.25)
    assert alert.detail["events"] == 20 and alert.detail["failed"] == 5
    assert "5 of 20 events failed" in alert.title

    # An hour later the failed ones are out of the window and 12 good ones came in.
    add_events(warehouse, tenant, t0 + dt.timedelta(minutes=70), 12)
    report = evaluate_tenant(warehouse, tenant, t0 + dt.timedelta(minutes=100))
    assert report.resolved == {failing.id: alert.id, slow.id: latency.id}

    # Nothing more arrives: 90 minutes after the last event (t0 + 70 min + 11 s) it is stale.
    report = evaluate_tenant(warehouse, tenant, t0 + dt.timedelta(minutes=159))
    assert stale.id in report.quiet
    report = evaluate_tenant(warehouse, tenant, t0 + dt.timedelta(minutes=161))
    assert list(report.fired) == [stale.id]
    with warehouse.engine.connect() as conn:
        newest = list_alerts(conn, TenantScope(tenant))[0]
    assert newest.rule_id == stale.id
    assert "nothing received for 91 min (limit 90 min)" in newest.title


def test_rules_name_what_is_wrong() -> None:
    def check(condition: dict[str, object]) -> str:
        spec = AlertRuleSpec.model_validate({"name": "r", "condition": condition})
        with pytest.raises(ValidationFailed) as caught:
            check_rule(spec)
        return str(caught.value)

    assert "unknown metric 'gross_vibes'" in check(
        {"kind": "threshold", "metric": "gross_vibes", "operator": "above", "value": 1}
    )
    message = check(
        {
            "kind": "threshold",
            "metric": "new_leads",
            "filters": {"stage": ["won"]},
            "operator": "above",
            "value": 1,
        }
    )
    assert "'new_leads' cannot be split or filtered by stage" in message
    assert "anomaly detector 'crystal_ball' is not available (default)" in check(
        {"kind": "anomaly", "metric": "new_leads", "detector": "crystal_ball"}
    )


def test_values_read_as_people_write_them() -> None:
    assert format_value(1234567.8, Unit.MONEY) == "$1,234,568"
    assert format_value(-2500, Unit.MONEY, "EUR") == "-€2,500"
    assert format_value(900, Unit.MONEY, "CHF") == "900 CHF"
    assert format_value(0.4567, Unit.RATIO) == "45.7%"
    assert format_value(12.0, Unit.COUNT) == "12" and format_value(2.5, Unit.COUNT) == "2.5"
    assert format_value(7.25, Unit.DURATION_MINUTES) == "7.2 min"
    assert format_value(None, Unit.MONEY) == "no data"


def _quiet_quarter(warehouse: Warehouse, tenant: int, last: dt.date, last_count: int) -> None:
    """13 weeks of leads ending on `last`: 10 on weekdays, 4 on weekends, then `last_count`
    on `last` itself; written in one statement."""
    rows, next_id = [], 10_000
    for back in range(91):
        day = last - dt.timedelta(days=back)
        count = last_count if back == 0 else (10 if day.weekday() < 5 else 4)
        for _ in range(count):
            next_id += 1
            rows.append({"id": next_id, "tenant_id": tenant, "source": "zillow",
                         "created_at": local(day)})  # fmt: skip
    with warehouse.engine.begin() as conn:
        conn.execute(contacts.insert(), rows)


@pytest.mark.parametrize(("last_count", "fires"), [(40, True), (10, False)])
def test_anomaly_rule_fires_on_a_spike_against_the_weekly_pattern(
    warehouse: Warehouse, last_count: int, fires: bool
) -> None:
    """On the square-root scale a flat weekly pattern has no residual, so the residual
    scale is its floor, 0.5: a Monday of 40 against the usual 10 is (sqrt 40 - sqrt 10) / 0.5
    = 6.3 robust z, beyond 3.5; a usual Monday is 0."""
    tenant = add_tenant(warehouse)
    _quiet_quarter(warehouse, tenant, MONDAY, last_count)
    add_rule(
        warehouse,
        tenant,
        {
            "name": "lead spike",
            "severity": "warning",
            "condition": {"kind": "anomaly", "metric": "new_leads", "direction": "rise"},
        },
    )
    evaluate_tenant(warehouse, tenant, local(MONDAY + dt.timedelta(days=1), 9))
    with warehouse.engine.connect() as conn:
        alerts = list_alerts(conn, TenantScope(tenant_id=tenant))
    assert len(alerts) == int(fires)
    if fires:
        assert alerts[0].title == ("New leads on 2025-02-03 is unusual: 40, expected 10")
        assert alerts[0].value == pytest.approx(40)
