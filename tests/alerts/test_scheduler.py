"""The runner judges new data soon after it lands: a tenant whose data version moved is
evaluated on the next tick (at most once a minute), one whose data did not is left alone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from alerting_data import add_events, add_rule, add_tenant

from dealscope.alerts.delivery import AudienceReport, DeliveryPolicy, ScheduleRow
from dealscope.alerts.repository import list_alerts
from dealscope.alerts.scheduler import Runner, Scheduler
from dealscope.alerts.settings import Outbox, default_settings
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.tenancy import TenantScope
from dealscope.warehouse.unit_of_work import unit_of_work

T0 = dt.datetime(2025, 2, 4, 15, 0, tzinfo=dt.UTC)


class _NoReports:
    def produce(
        self, warehouse: Warehouse, schedule: ScheduleRow, as_of: dt.date, at: dt.datetime
    ) -> list[AudienceReport]:
        raise AssertionError("no report is scheduled in this test")


def test_new_data_is_evaluated_on_the_next_tick(
    duckdb_warehouse: Warehouse, tmp_path: Path
) -> None:
    warehouse = duckdb_warehouse
    tenant = add_tenant(warehouse)
    quiet = add_tenant(warehouse, "quiet")
    add_rule(
        warehouse,
        tenant,
        {"name": "feed", "condition": {"kind": "feed_health", "min_events": 4}},
    )
    clock = [T0]
    runner = Runner(
        warehouse,
        Outbox(None, "x <x@y.example>"),
        DeliveryPolicy(tmp_path),
        _NoReports(),
        default_settings,
    )
    scheduler = Scheduler(runner, tick_seconds=30, alert_minutes=5, clock=lambda: clock[0])
    scheduler.remember_versions()  # what start() does first; the jobs are driven by hand

    scheduler._reports()  # nothing changed: nothing evaluated
    assert scheduler._evaluated_at == {}

    add_events(warehouse, tenant, T0 - dt.timedelta(minutes=5), 5, status="dead_letter")
    with unit_of_work(warehouse) as uow:  # an ingest moves the data version on
        uow.touch(tenant)
    clock[0] = T0 + dt.timedelta(seconds=30)
    scheduler._reports()
    assert set(scheduler._evaluated_at) == {tenant}  # the quiet tenant was not evaluated
    with warehouse.engine.connect() as conn:
        (alert,) = list_alerts(conn, TenantScope(tenant))
    assert alert.status == "open" and alert.fired_at == clock[0]
    assert quiet not in scheduler._evaluated_at
    # The alert it fired moved the version too; that is not new data to judge.
    clock[0] = T0 + dt.timedelta(minutes=3)
    scheduler._reports()
    assert scheduler._evaluated_at[tenant] == T0 + dt.timedelta(seconds=30)
