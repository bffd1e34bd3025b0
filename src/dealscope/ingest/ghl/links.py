"""Derived links and times that depend on several records, recomputed so that the order in
which records arrive does not matter.

- An activity or appointment belongs to its contact's newest deal created at or before it
  (ties broken by the deal's external id), or to none.
- A deal's `last_stage_change_at` is its latest stage-history row; `closed_at` is when it
  entered its final stage when it is won, lost or abandoned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa

from dealscope.warehouse.schema import activities, appointments, opportunities, stage_history
from dealscope.warehouse.unit_of_work import UnitOfWork


def _deals_of(
    uow: UnitOfWork, tenant_id: int, contact_id: int
) -> list[tuple[dt.datetime, str, int]]:
    rows = uow.connection.execute(
        sa.select(
            opportunities.c.created_at, opportunities.c.external_id, opportunities.c.id
        ).where(opportunities.c.tenant_id == tenant_id, opportunities.c.contact_id == contact_id)
    ).all()
    deals = [(_aware(r.created_at), r.external_id or "", int(r.id)) for r in rows]
    return sorted(deals)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _pick(deals: list[tuple[dt.datetime, str, int]], at: dt.datetime) -> int | None:
    chosen = None
    for created_at, _, deal_id in deals:
        if created_at <= at:
            chosen = deal_id
    return chosen


def deals_of_contacts(
    uow: UnitOfWork, tenant_id: int, contact_ids: Iterable[int]
) -> dict[int, list[tuple[dt.datetime, str, int]]]:
    """The deals of several contacts with one query (for `pick_deal`); every contact asked
    for is a key, with no deals too."""
    wanted = sorted(set(contact_ids))
    found: dict[int, list[tuple[dt.datetime, str, int]]] = {c: [] for c in wanted}
    if not wanted:
        return found
    rows = uow.connection.execute(
        sa.select(
            opportunities.c.contact_id,
            opportunities.c.created_at,
            opportunities.c.external_id,
            opportunities.c.id,
        ).where(opportunities.c.tenant_id == tenant_id, opportunities.c.contact_id.in_(wanted))
    ).all()
    for r in rows:
        found[int(r.contact_id)].append((_aware(r.created_at), r.external_id or "", int(r.id)))
    for deals in found.values():
        deals.sort()
    return found


def pick_deal(deals: list[tuple[dt.datetime, str, int]], at: dt.datetime) -> int | None:
    """The deal of `deals_of_contacts` an activity at `at` belongs to (see the module doc)."""
    return _pick(deals, at)


def deal_at(uow: UnitOfWork, tenant_id: int, contact_id: int, at: dt.datetime) -> int | None:
    """The deal an activity of `contact_id` at `at` belongs to (see the module doc)."""
    return _pick(_deals_of(uow, tenant_id, contact_id), at)


def relink_contact(uow: UnitOfWork, tenant_id: int, contact_id: int) -> None:
    """Recompute the deal of every activity and appointment of a contact whose deals changed."""
    deals = _deals_of(uow, tenant_id, contact_id)
    for table, time_column in ((activities, "occurred_at"), (appointments, "starts_at")):
        rows = uow.connection.execute(
            sa.select(table.c.id, table.c.opportunity_id, table.c[time_column]).where(
                table.c.tenant_id == tenant_id, table.c.contact_id == contact_id
            )
        ).all()
        for row in rows:
            wanted = _pick(deals, _aware(row[2]))
            if wanted != row.opportunity_id:
                uow.connection.execute(
                    sa.update(table).where(table.c.id == row.id).values(opportunity_id=wanted)
                )


def sync_deal_times(uow: UnitOfWork, tenant_id: int, opportunity_id: int, status: str) -> None:
    """Set the deal's last stage change and close time from its stage history (`status` is
    the deal's stored status)."""
    conn = uow.connection
    last = conn.execute(
        sa.select(stage_history.c.to_stage, stage_history.c.changed_at)
        .where(
            stage_history.c.tenant_id == tenant_id,
            stage_history.c.opportunity_id == opportunity_id,
        )
        .order_by(stage_history.c.changed_at.desc(), stage_history.c.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return
    closed = status in ("won", "lost", "abandoned") and last.to_stage in ("closed_won", "lost")
    conn.execute(
        sa.update(opportunities)
        .where(opportunities.c.id == opportunity_id)
        .values(last_stage_change_at=last.changed_at, closed_at=last.changed_at if closed else None)
    )


def relink_contacts(uow: UnitOfWork, tenant_id: int, contact_ids: Iterable[int]) -> None:
    """`relink_contact` for several contacts, reading with one query per table."""
    deals = deals_of_contacts(uow, tenant_id, contact_ids)
    if not deals:
        return
    for table, time_column in ((activities, "occurred_at"), (appointments, "starts_at")):
        rows = uow.connection.execute(
            sa.select(table.c.id, table.c.contact_id, table.c.opportunity_id, table.c[time_column])
            .where(table.c.tenant_id == tenant_id, table.c.contact_id.in_(sorted(deals)))
            .order_by(table.c.id)
        ).all()
        for row in rows:
            wanted = _pick(deals[int(row.contact_id)], _aware(row[3]))
            if wanted != row.opportunity_id:
                uow.connection.execute(
                    sa.update(table).where(table.c.id == row.id).values(opportunity_id=wanted)
                )


def deal_times(
    uow: UnitOfWork, tenant_id: int, opportunity_ids: Iterable[int]
) -> dict[int, dict[str, dt.datetime | None]]:
    """What `sync_deal_times` would set, for several deals at once (by their stored status),
    for those whose stored times differ: {deal id: {last_stage_change_at, closed_at}}."""
    wanted = sorted(set(opportunity_ids))
    if not wanted:
        return {}
    latest: dict[int, tuple[dt.datetime, int, str]] = {}
    history = uow.connection.execute(
        sa.select(
            stage_history.c.opportunity_id,
            stage_history.c.changed_at,
            stage_history.c.id,
            stage_history.c.to_stage,
        ).where(stage_history.c.tenant_id == tenant_id, stage_history.c.opportunity_id.in_(wanted))
    ).all()
    for h in history:
        key = (_aware(h.changed_at), int(h.id), str(h.to_stage))
        deal = int(h.opportunity_id)
        if deal not in latest or key[:2] > latest[deal][:2]:
            latest[deal] = key
    stored = uow.connection.execute(
        sa.select(
            opportunities.c.id,
            opportunities.c.status,
            opportunities.c.last_stage_change_at,
            opportunities.c.closed_at,
        ).where(opportunities.c.id.in_(sorted(latest)))
    ).all()
    changes: dict[int, dict[str, dt.datetime | None]] = {}
    for row in stored:
        changed_at, _, to_stage = latest[int(row.id)]
        closed = row.status in ("won", "lost", "abandoned") and to_stage in ("closed_won", "lost")
        values = {"last_stage_change_at": changed_at, "closed_at": changed_at if closed else None}
        now = {
            "last_stage_change_at": row.last_stage_change_at and _aware(row.last_stage_change_at),
            "closed_at": row.closed_at and _aware(row.closed_at),
        }
        if values != now:
            changes[int(row.id)] = values
    return changes
