"""Test data for alerts and deliveries: a tenant, leads on given local days, webhook events,
rules stored as the API stores them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from dealscope.alerts.repository import RuleRecord, insert_rule
from dealscope.alerts.rules import AlertRuleSpec, check_rule
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import contacts, raw_events, tenants
from dealscope.warehouse.unit_of_work import unit_of_work

CHICAGO = "America/Chicago"
CREATED = dt.datetime(2024, 12, 1, tzinfo=dt.UTC)


def add_tenant(warehouse: Warehouse, slug: str = "acme", timezone: str = CHICAGO) -> int:
    with unit_of_work(warehouse) as uow:
        tenant_id = uow.next_id(tenants)
        uow.connection.execute(
            tenants.insert().values(
                id=tenant_id,
                slug=slug,
                name=f"{slug.title()} Realty",
                timezone=timezone,
                created_at=CREATED,
            )
        )
    return tenant_id


def local(day: dt.date, hour: int = 12, timezone: str = CHICAGO) -> dt.datetime:
    """`hour` o'clock on `day` in `timezone`, as an aware UTC datetime."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=ZoneInfo(timezone)).astimezone(dt.UTC)


def add_leads(
    warehouse: Warehouse, tenant_id: int, day: dt.date, count: int, source: str = "zillow"
) -> list[int]:
    """`count` new leads created at local noon of `day`."""
    ids = []
    with unit_of_work(warehouse) as uow:
        for _ in range(count):
            lead_id = uow.next_id(contacts)
            uow.connection.execute(
                contacts.insert().values(
                    id=lead_id,
                    tenant_id=tenant_id,
                    source=source,
                    created_at=local(day),
                )
            )
            ids.append(lead_id)
        uow.touch(tenant_id)
    return ids


def delete_leads(warehouse: Warehouse, ids: Iterable[int], at: dt.datetime) -> None:
    with unit_of_work(warehouse) as uow:
        uow.connection.execute(
            sa.update(contacts).where(contacts.c.id.in_(list(ids))).values(deleted_at=at)
        )


def add_events(
    warehouse: Warehouse,
    tenant_id: int,
    at: dt.datetime,
    count: int,
    status: str = "processed",
    source: str = "ghl",
    error: str | None = None,
    latency_ms: float = 12.0,
) -> None:
    """`count` webhook events received at `at` (one second apart)."""
    with unit_of_work(warehouse) as uow:
        for i in range(count):
            event_id = uow.next_id(raw_events)
            uow.connection.execute(
                raw_events.insert().values(
                    id=event_id,
                    tenant_id=tenant_id,
                    source=source,
                    event_type="ContactCreate",
                    dedupe_key=f"evt-{event_id}",
                    received_at=at + dt.timedelta(seconds=i),
                    body="{}",
                    status=status,
                    latency_ms=latency_ms,
                    error=error,
                )
            )


def add_rule(
    warehouse: Warehouse, tenant_id: int, spec: dict[str, object], now: dt.datetime = CREATED
) -> RuleRecord:
    """Store a rule (channels default to none, cooldown to 60 minutes)."""
    parsed = AlertRuleSpec.model_validate({"channels": [], "cooldown_minutes": 60, **spec})
    check_rule(parsed)
    with unit_of_work(warehouse) as uow:
        return insert_rule(uow, tenant_id, parsed, None, now)
