"""The webhook feed's health, read from `raw_events`: counts by outcome, latency, and the
events themselves (dead letters with their errors)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from dealscope.errors import ValidationFailed
from dealscope.ingest.raw_store import PROCESSED, STATUSES
from dealscope.warehouse.schema import raw_events

EVENT_COLUMNS = (
    raw_events.c.id,
    raw_events.c.source,
    raw_events.c.event_type,
    raw_events.c.dedupe_key,
    raw_events.c.received_at,
    raw_events.c.occurred_at,
    raw_events.c.status,
    raw_events.c.attempts,
    raw_events.c.processed_at,
    raw_events.c.latency_ms,
    raw_events.c.error,
)


def list_events(
    conn: sa.Connection,
    tenant_id: int,
    status: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[dict[str, Any]]:
    """The tenant's stored deliveries, newest first (bodies are not included: they hold
    contact details)."""
    if status is not None and status not in STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    query = (
        sa.select(*EVENT_COLUMNS)
        .where(raw_events.c.tenant_id == tenant_id)
        .order_by(raw_events.c.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(raw_events.c.status == status)
    if before_id is not None:
        query = query.where(raw_events.c.id < before_id)
    return [dict(r._mapping) for r in conn.execute(query)]


@dataclass(frozen=True)
class FeedHealth:
    since: dt.datetime
    received: int  # deliveries stored since `since`
    by_status: dict[str, int]  # of those, per status (all four keys)
    last_received_at: dt.datetime | None  # newest delivery ever
    latency_p50_ms: float | None  # receipt to applied, of those processed since `since`
    latency_p95_ms: float | None
    latency_max_ms: float | None
    dead_letters: int  # dead letters waiting, whenever received


def _quantile(values: list[float], q: float) -> float | None:
    """Linear-interpolated quantile (numpy's default), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def compute_feed_health(conn: sa.Connection, tenant_id: int, since: dt.datetime) -> FeedHealth:
    mine = raw_events.c.tenant_id == tenant_id
    counts: dict[str, int] = dict(
        conn.execute(
            sa.select(raw_events.c.status, sa.func.count())
            .where(mine, raw_events.c.received_at >= since)
            .group_by(raw_events.c.status)
        ).all()
    )
    latencies = [
        float(v)
        for v in conn.execute(
            sa.select(raw_events.c.latency_ms).where(
                mine,
                raw_events.c.received_at >= since,
                raw_events.c.status == PROCESSED,
                raw_events.c.latency_ms.is_not(None),
            )
        ).scalars()
    ]
    last = conn.execute(sa.select(sa.func.max(raw_events.c.received_at)).where(mine)).scalar()
    dead = conn.execute(
        sa.select(sa.func.count()).where(mine, raw_events.c.status == "dead_letter")
    ).scalar_one()
    return FeedHealth(
        since=since,
        received=int(sum(counts.values())),
        by_status={s: int(counts.get(s, 0)) for s in STATUSES},
        last_received_at=last,
        latency_p50_ms=_quantile(latencies, 0.5),
        latency_p95_ms=_quantile(latencies, 0.95),
        latency_max_ms=max(latencies) if latencies else None,
        dead_letters=int(dead),
    )
