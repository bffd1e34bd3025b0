"""When scheduled reports run: cron expressions in the schedule's time zone, and claiming due
runs exactly once.

The schedule's state lives in `report_schedules.next_run_at`, in our own schema; APScheduler's
`CronTrigger` computes fire times (time zones and daylight saving included) and its
BackgroundScheduler only wakes us up (`scheduler`). We do not use APScheduler's
SQLAlchemyJobStore: it pickles callables into a table our migrations do not know, and with
several API processes on PostgreSQL each would run the same job. Instead a due run is
claimed by inserting its `report_deliveries` row, unique on (tenant, schedule,
scheduled_for), and moving `next_run_at` on in the same transaction, conditional on the
value read: whichever process commits first owns the run, a restart finds it recorded, and
a schedule that missed several runs while the server was down runs once (the latest missed
time), then carries on from now.

Cron: five fields, minute hour day-of-month month day-of-week, with cron's numbering of
weekdays (0 or 7 is Sunday, 1 Monday; names mon..sun work too). APScheduler numbers weekdays
from Monday, so numbers are translated here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
import structlog
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.dialects.postgresql import insert as pg_insert

from dealscope.errors import ValidationFailed
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import report_deliveries, report_schedules, tenants
from dealscope.warehouse.tenancy import TenantScope, scope_select
from dealscope.warehouse.unit_of_work import unit_of_work

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MAX_CATCH_UP = 100_000  # fire times walked to find the latest missed one

_s = report_schedules.c
_d = report_deliveries.c

log = structlog.get_logger(__name__)


def _weekday(token: str) -> int:
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token) % 7
    if token.lower()[:3] in _DAYS:
        return _DAYS.index(token.lower()[:3])
    raise ValidationFailed(f"day of week {token!r} is not 0-7 or a day name (mon..sun)")


def _weekdays(field: str) -> str:
    """Cron's day-of-week field as APScheduler reads it (names, explicit lists)."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ValidationFailed(f"day of week step {step_text!r} is not a positive number")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            low, high = span.split("-", 1)
            first, last = _weekday(low), _weekday(high)
            if high.strip() == "7":
                last = 7
            if last < first:
                raise ValidationFailed(f"day of week range {span!r} runs backwards")
        else:
            first = last = _weekday(span)
        days.update(d % 7 for d in range(first, last + 1, step or 1))
    return ",".join(_DAYS[d] for d in sorted(days))


def cron_trigger(cron: str, timezone: str) -> CronTrigger:
    """The trigger of a five-field cron expression in `timezone`; ValidationFailed naming
    what is wrong."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        message = f"unknown time zone {timezone!r} (use e.g. America/Chicago)"
        raise ValidationFailed(message) from exc
    fields = cron.split()
    if len(fields) != 5:
        raise ValidationFailed(
            f"cron {cron!r} must have 5 fields (minute hour day-of-month month day-of-week), "
            f"got {len(fields)}"
        )
    minute, hour, day, month, weekday = fields
    if day != "*" and weekday != "*":
        raise ValidationFailed(
            f"cron {cron!r} restricts both the day of the month and the day of the week; "
            "restrict one of them (cron would fire on either, which is rarely what is meant)"
        )
    try:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_weekdays(weekday),
            timezone=zone,
        )
    except ValueError as exc:
        raise ValidationFailed(f"cron {cron!r}: {exc}") from exc


def next_fire(cron: str, timezone: str, after: dt.datetime) -> dt.datetime:
    """The first fire time strictly after `after`, in UTC."""
    start = after.astimezone(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=1)
    fire = cron_trigger(cron, timezone).get_next_fire_time(None, start)
    if fire is None:
        raise ValidationFailed(f"cron {cron!r} never fires again")
    return fire.astimezone(dt.UTC)


def latest_due(
    cron: str, timezone: str, first_due: dt.datetime, now: dt.datetime
) -> tuple[dt.datetime, int]:
    """The latest fire time at or before `now`, walking on from `first_due` (itself due),
    and how many earlier due times it stands for (runs missed while nobody was running)."""
    trigger = cron_trigger(cron, timezone)
    latest, skipped = first_due, 0
    for _ in range(_MAX_CATCH_UP):
        following = trigger.get_next_fire_time(latest, latest + dt.timedelta(seconds=1))
        if following is None or following > now:
            break
        latest, skipped = following.astimezone(dt.UTC), skipped + 1
    return latest, skipped


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


@dataclass(frozen=True)
class ClaimedRun:
    delivery_id: int
    tenant_id: int
    schedule_id: int
    scheduled_for: dt.datetime
    skipped: int  # earlier due times folded into this run


def _active_tenants(warehouse: Warehouse) -> list[int]:
    with warehouse.engine.connect() as connection:
        stmt = sa.select(tenants.c.id).where(tenants.c.is_active.is_(True)).order_by(tenants.c.id)
        return [int(t) for t in connection.execute(stmt).scalars()]


def _claim(warehouse: Warehouse, row: Any, now: dt.datetime) -> ClaimedRun | None:
    """Record the run that `row` (a schedule) owes at `now` and move it on, or do nothing when
    another process got there first."""
    old_next = _utc(row.next_run_at)
    base = _utc(row.last_run_at) or _utc(row.created_at) or now
    one_second = dt.timedelta(seconds=1)
    # A stored time that is not a fire time of the cron (written by code reading weekdays
    # differently, or before the cron changed) is recomputed rather than trusted.
    cron, zone = row.cron, row.timezone
    if old_next is not None and next_fire(cron, zone, old_next - one_second) == old_next:
        due = old_next
    else:
        due = next_fire(row.cron, row.timezone, base - one_second)
    condition = _s.next_run_at.is_(None) if old_next is None else _s.next_run_at == old_next
    mine = sa.and_(_s.id == row.id, _s.tenant_id == row.tenant_id, condition)
    with unit_of_work(warehouse) as uow:
        if due > now:  # not due yet: only remember when it will be
            if due != old_next:
                uow.connection.execute(
                    sa.update(report_schedules).where(mine).values(next_run_at=due)
                )
            return None
        scheduled_for, skipped = latest_due(row.cron, row.timezone, due, now)
        moved = uow.connection.execute(
            sa.update(report_schedules)
            .where(mine)
            .values(next_run_at=next_fire(row.cron, row.timezone, now), last_run_at=now)
        )
        if moved.rowcount != 1:
            return None  # another process moved it on
        delivery_id = uow.next_id(report_deliveries)
        inserted = uow.connection.execute(
            pg_insert(report_deliveries)
            .values(
                id=delivery_id,
                tenant_id=row.tenant_id,
                schedule_id=row.id,
                report_id=row.report_id,
                scheduled_for=scheduled_for,
                status="pending",
                attempts=0,
                recipients={"skipped_runs": skipped, "targets": []},
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "schedule_id", "scheduled_for"])
            .returning(_d.id)
        ).first()
        if inserted is None:
            return None  # that run was recorded before (a restart in between)
        return ClaimedRun(delivery_id, int(row.tenant_id), int(row.id), scheduled_for, skipped)


def claim_due_runs(warehouse: Warehouse, now: dt.datetime) -> list[ClaimedRun]:
    """Record every run due at `now` across tenants; schedules without `next_run_at` get it."""
    now = now.astimezone(dt.UTC)
    claimed = []
    for tenant_id in _active_tenants(warehouse):
        scope = TenantScope(tenant_id)
        with warehouse.engine.connect() as connection:
            stmt = scope_select(sa.select(report_schedules), report_schedules, scope)
            stmt = stmt.where(
                _s.is_enabled.is_(True),
                sa.or_(_s.next_run_at.is_(None), _s.next_run_at <= now),
            ).order_by(_s.id)
            rows = connection.execute(stmt).all()
        for row in rows:
            try:
                run = _claim(warehouse, row, now)
            except Exception as exc:  # one bad schedule (a cron edited by hand) stops no other
                log.warning("reports.schedule_failed", schedule_id=row.id, error=str(exc))
                continue
            if run is not None:
                claimed.append(run)
    return claimed
