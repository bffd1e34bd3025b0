"""Cron in the schedule's time zone, runs claimed once, a missed run after downtime run once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa
from alerting_data import add_tenant

from dealscope.alerts.schedules import claim_due_runs, next_fire
from dealscope.errors import ValidationFailed
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import report_deliveries, report_schedules
from dealscope.warehouse.unit_of_work import unit_of_work

CHICAGO = "America/Chicago"
UTC = dt.UTC


def test_cron_numbers_weekdays_as_cron_does_in_the_local_zone() -> None:
    friday_evening = dt.datetime(2025, 3, 7, 20, 0, tzinfo=UTC)  # Fri 14:00 in Chicago
    # 1-5 is Monday to Friday: after Friday comes Monday 10 March, 07:00 CDT = 12:00 UTC
    # (daylight saving began on Sunday 9 March).
    assert next_fire("0 7 * * 1-5", CHICAGO, friday_evening) == dt.datetime(
        2025, 3, 10, 12, 0, tzinfo=UTC
    )
    # 0 and 7 are Sunday; Saturday 8 March 07:00 CST is 13:00 UTC.
    assert next_fire("0 7 * * 0,6", CHICAGO, friday_evening) == dt.datetime(
        2025, 3, 8, 13, 0, tzinfo=UTC
    )
    assert next_fire("0 7 * * 7", CHICAGO, friday_evening) == dt.datetime(
        2025, 3, 9, 12, 0, tzinfo=UTC
    )
    assert next_fire("30 8 1 * *", "Europe/London", friday_evening) == dt.datetime(
        2025, 4, 1, 7, 30, tzinfo=UTC
    )
    # Strictly after: a fire time is not its own successor.
    at = dt.datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    assert next_fire("0 7 * * 1-5", CHICAGO, at) == at + dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("cron", "timezone", "message"),
    [
        ("0 7 * *", CHICAGO, "must have 5 fields"),
        ("0 25 * * *", CHICAGO, "higher than the maximum value (23)"),
        ("0 7 1 * 1", CHICAGO, "restricts both the day of the month and the day of the week"),
        ("0 7 * * 9", CHICAGO, "day of week '9'"),
        ("0 7 * * *", "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_bad_cron_is_named(cron: str, timezone: str, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message.replace("(", r"\(").replace(")", r"\)")):
        next_fire(cron, timezone, dt.datetime(2025, 1, 1, tzinfo=UTC))


def _schedule(warehouse: Warehouse, tenant_id: int, next_run_at: dt.datetime | None) -> int:
    with unit_of_work(warehouse) as uow:
        schedule_id = uow.next_id(report_schedules)
        uow.connection.execute(
            report_schedules.insert().values(
                id=schedule_id,
                tenant_id=tenant_id,
                report_id=1,
                cron="0 7 * * *",
                timezone=CHICAGO,
                recipients=["a@b.example"],
                formats=["csv"],
                next_run_at=next_run_at,
                created_at=dt.datetime(2025, 3, 1, tzinfo=UTC),
            )
        )
    return schedule_id


def test_a_missed_run_after_downtime_runs_once_and_claims_are_exclusive(
    warehouse: Warehouse,
) -> None:
    tenant = add_tenant(warehouse)
    # Due on 25 March at 07:00 CDT; the server was down until 31 March 08:00 CDT.
    schedule = _schedule(warehouse, tenant, dt.datetime(2025, 3, 25, 12, 0, tzinfo=UTC))
    back = dt.datetime(2025, 3, 31, 13, 0, tzinfo=UTC)
    (run,) = claim_due_runs(warehouse, back)
    assert run.schedule_id == schedule
    assert run.scheduled_for == dt.datetime(2025, 3, 31, 12, 0, tzinfo=UTC)  # the latest
    assert run.skipped == 6  # 25..30 March folded into it
    # Claimed once: the same moment again, or a second process, finds nothing.
    assert claim_due_runs(warehouse, back) == []
    assert claim_due_runs(warehouse, back + dt.timedelta(minutes=5)) == []
    with warehouse.engine.connect() as conn:
        rows = conn.execute(sa.select(report_deliveries)).all()
        next_run = conn.execute(sa.select(report_schedules.c.next_run_at)).scalar_one()
    assert len(rows) == 1 and rows[0].status == "pending"
    assert rows[0].recipients["skipped_runs"] == 6
    next_run = next_run if next_run.tzinfo else next_run.replace(tzinfo=UTC)
    assert next_run == dt.datetime(2025, 4, 1, 12, 0, tzinfo=UTC)
    # The next day's run is the next claim.
    (following,) = claim_due_runs(warehouse, dt.datetime(2025, 4, 1, 12, 0, 30, tzinfo=UTC))
    assert following.skipped == 0


def test_a_schedule_without_next_run_gets_one_and_a_wrong_one_is_recomputed(
    warehouse: Warehouse,
) -> None:
    tenant = add_tenant(warehouse)
    _schedule(warehouse, tenant, None)
    # 2025-03-01 is the creation day; the first 07:00 CST after it is 13:00 UTC that day.
    assert claim_due_runs(warehouse, dt.datetime(2025, 3, 1, 12, 0, tzinfo=UTC)) == []
    with warehouse.engine.connect() as conn:
        stored = conn.execute(sa.select(report_schedules.c.next_run_at)).scalar_one()
    stored = stored if stored.tzinfo else stored.replace(tzinfo=UTC)
    assert stored == dt.datetime(2025, 3, 1, 13, 0, tzinfo=UTC)

    other = add_tenant(warehouse, "other")
    # 12:34 is no fire time of "0 7 * * *": recomputed from the creation time.
    _schedule(warehouse, other, dt.datetime(2025, 3, 1, 12, 34, tzinfo=UTC))
    runs = claim_due_runs(warehouse, dt.datetime(2025, 3, 1, 12, 40, tzinfo=UTC))
    assert runs == []
    runs = claim_due_runs(warehouse, dt.datetime(2025, 3, 1, 13, 0, 5, tzinfo=UTC))
    assert sorted(r.tenant_id for r in runs) == sorted([tenant, other])


def test_processes_racing_for_a_run_record_it_once(warehouse: Warehouse) -> None:
    """Several runners (threads here, API processes in production) claim at the same moment:
    one run is recorded. PostgreSQL makes the losers wait and find the schedule moved on;
    DuckDB refuses their conflicting write, which the runner logs and forgets."""
    tenant = add_tenant(warehouse)
    _schedule(warehouse, tenant, dt.datetime(2025, 3, 31, 12, 0, tzinfo=UTC))
    now = dt.datetime(2025, 3, 31, 12, 0, 5, tzinfo=UTC)
    barrier = threading.Barrier(4)
    claimed: list[object] = []
    refused: list[Exception] = []

    def race() -> None:
        barrier.wait()
        try:
            claimed.extend(claim_due_runs(warehouse, now))
        except sa.exc.DBAPIError as exc:  # DuckDB: a write-write conflict
            refused.append(exc)

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == 1, (claimed, refused)
    if warehouse.backend == "postgres":
        assert refused == []
    with warehouse.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(report_deliveries)).scalar() == 1


def test_a_broken_schedule_does_not_stop_the_others(warehouse: Warehouse) -> None:
    tenant = add_tenant(warehouse)
    due = dt.datetime(2025, 3, 31, 12, 0, tzinfo=UTC)
    broken = _schedule(warehouse, tenant, due)
    with unit_of_work(warehouse) as uow:  # edited by hand into something cron cannot read
        uow.connection.execute(
            sa.update(report_schedules)
            .where(report_schedules.c.id == broken)
            .values(cron="0 7 * * funday")
        )
    fine = _schedule(warehouse, tenant, due)
    (run,) = claim_due_runs(warehouse, due + dt.timedelta(seconds=5))
    assert run.schedule_id == fine
