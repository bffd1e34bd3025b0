"""The raw event store: every delivery is written durably before it is acknowledged.

Requests hand their event to `RawEventWriter.submit` and wait for the returned future; one
writer thread takes whatever is queued (up to `max_batch`), inserts it in one transaction
(`INSERT ... ON CONFLICT DO NOTHING` on tenant, source and dedupe key, so a redelivery is
stored once), commits, and only then resolves the futures: the 2xx goes out after the
commit. This group commit is what lets one DuckDB connection take thousands of deliveries a
second. After each commit it calls `on_commit` (the worker's wake-up).
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects.postgresql import insert as pg_insert

from dealscope.errors import WarehouseBusy
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import raw_events

log = structlog.get_logger(__name__)

RECEIVED = "received"
PROCESSED = "processed"
IGNORED = "ignored"
DEAD_LETTER = "dead_letter"
STATUSES = (RECEIVED, PROCESSED, IGNORED, DEAD_LETTER)


class IngestStopped(WarehouseBusy):
    """The server is shutting down and takes no more deliveries (503: send again later)."""


@dataclass
class IncomingEvent:
    tenant_id: int
    source: str  # ghl|ghl_workflow|generic
    dedupe_key: str
    body: str
    received_at: dt.datetime
    event_type: str | None = None
    occurred_at: dt.datetime | None = None
    headers: dict[str, str] = field(default_factory=dict)
    status: str = RECEIVED
    error: str | None = None

    def row(self, row_id: int) -> dict[str, Any]:
        finished = self.status != RECEIVED
        return {
            "id": row_id,
            "tenant_id": self.tenant_id,
            "source": self.source,
            "event_type": None if self.event_type is None else self.event_type[:64],
            "dedupe_key": self.dedupe_key,
            "received_at": self.received_at,
            "occurred_at": self.occurred_at,
            "headers": self.headers,
            "body": self.body,
            "status": self.status,
            "attempts": 1 if finished else 0,
            "processed_at": self.received_at if finished else None,
            "latency_ms": 0.0 if finished else None,
            "error": self.error,
        }


def store_events(warehouse: Warehouse, events: list[IncomingEvent]) -> set[tuple[int, str, str]]:
    """Insert `events` in one transaction; returns the (tenant, source, dedupe key) of those
    that were new (the others had been stored before)."""
    unique: dict[tuple[int, str, str], IncomingEvent] = {}
    for event in events:
        unique.setdefault((event.tenant_id, event.source, event.dedupe_key), event)
    first = warehouse.ids.reserve(raw_events.name, len(unique))
    rows = [event.row(first + i) for i, event in enumerate(unique.values())]
    statement = (
        pg_insert(raw_events)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["tenant_id", "source", "dedupe_key"])
        .returning(raw_events.c.tenant_id, raw_events.c.source, raw_events.c.dedupe_key)
    )
    with warehouse.engine.begin() as conn:
        inserted = conn.execute(statement).all()
    return {(int(r.tenant_id), str(r.source), str(r.dedupe_key)) for r in inserted}


class RawEventWriter:
    """Group commit of incoming events (see the module doc)."""

    def __init__(
        self,
        warehouse: Warehouse,
        max_batch: int = 500,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._warehouse = warehouse
        self._max_batch = max_batch
        self._on_commit = on_commit or (lambda: None)
        self._queue: queue.SimpleQueue[tuple[IncomingEvent, Future[bool]] | None] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._run, name="raw-event-writer", daemon=True)
        self._stopping = False

    def start(self) -> RawEventWriter:
        self._thread.start()
        return self

    def submit(self, event: IncomingEvent) -> Future[bool]:
        """Queue `event`; the future is True once it is committed as new, False if it had
        been stored before, and raises if it could not be stored."""
        future: Future[bool] = Future()
        if self._stopping:
            future.set_exception(IngestStopped("the server is shutting down; retry shortly"))
            return future
        self._queue.put((event, future))
        return future

    def stop(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then end the writer thread."""
        self._stopping = True
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            stop = False
            while len(batch) < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[tuple[IncomingEvent, Future[bool]]]) -> None:
        try:
            new = store_events(self._warehouse, [event for event, _ in batch])
        except Exception as exc:  # task boundary: every waiting request gets the error
            log.error("raw_events.store_failed", error=f"{type(exc).__name__}: {exc}")
            for _, future in batch:
                future.set_exception(exc)
            return
        claimed: set[tuple[int, str, str]] = set()
        for event, future in batch:
            key = (event.tenant_id, event.source, event.dedupe_key)
            future.set_result(key in new and key not in claimed)
            claimed.add(key)
        self._on_commit()


def requeue_dead_letters(
    warehouse: Warehouse, tenant_id: int | None = None, event_ids: list[int] | None = None
) -> int:
    """Put dead letters back in the queue (status `received`); returns how many. Limited to
    one tenant and/or to given event ids when named."""
    statement = sa.update(raw_events).where(raw_events.c.status == DEAD_LETTER)
    if tenant_id is not None:
        statement = statement.where(raw_events.c.tenant_id == tenant_id)
    if event_ids is not None:
        statement = statement.where(raw_events.c.id.in_(sorted(set(event_ids))))
    with warehouse.engine.begin() as conn:
        result = conn.execute(statement.values(status=RECEIVED))  # error kept until it succeeds
    return int(result.rowcount)
