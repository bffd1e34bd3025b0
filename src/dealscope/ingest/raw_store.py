"""The raw event store: every delivery is written durably before it is acknowledged.

Requests hand their event to `RawEventWriter.submit` (or `submit_async` on an event loop)
and wait for the returned future; one writer thread takes whatever is queued (up to
`max_batch`), inserts it in one transaction (`INSERT ... ON CONFLICT DO NOTHING` on tenant,
source and dedupe key, so a redelivery is stored once), commits, and only then resolves the
futures: the 2xx goes out after the commit. An event loop's futures of a batch are resolved
with one call into that loop, not one each. This group commit is what lets one DuckDB
connection take thousands of deliveries a second. After each commit it calls `on_commit`
(the worker's wake-up).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
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


_BLOCK = 1024  # raw event ids reserved at once by a writer
_DUCKDB_INSERT = (
    "INSERT INTO raw_events (id, tenant_id, source, event_type, dedupe_key, received_at, "
    "occurred_at, headers, body, status, attempts, processed_at, latency_ms, error) "
    "SELECT id, tenant_id, source, event_type, dedupe_key, received_at, occurred_at, "
    "headers::JSON, body, status, attempts, processed_at, latency_ms, error FROM _incoming"
)
_DUCKDB_INSERT_NEW = (
    _DUCKDB_INSERT + " ON CONFLICT DO NOTHING RETURNING tenant_id, source, dedupe_key"
)
_ARROW_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("tenant_id", pa.int64()),
        ("source", pa.string()),
        ("event_type", pa.string()),
        ("dedupe_key", pa.string()),
        ("received_at", pa.timestamp("us", tz="UTC")),
        ("occurred_at", pa.timestamp("us", tz="UTC")),
        ("headers", pa.string()),
        ("body", pa.string()),
        ("status", pa.string()),
        ("attempts", pa.int32()),
        ("processed_at", pa.timestamp("us", tz="UTC")),
        ("latency_ms", pa.float64()),
        ("error", pa.string()),
    ]
)


class _Ids:
    """Raw event ids from blocks reserved in `id_allocator` (one writer thread uses it)."""

    def __init__(self, warehouse: Warehouse) -> None:
        self._warehouse = warehouse
        self._next = self._end = 0

    def take(self, count: int) -> int:
        if self._end - self._next < count:
            size = max(_BLOCK, count)
            self._next = self._warehouse.ids.reserve(raw_events.name, size)
            self._end = self._next + size
        first = self._next
        self._next += count
        return first


def store_events(
    warehouse: Warehouse, events: list[IncomingEvent], ids: _Ids | None = None
) -> set[tuple[int, str, str]]:
    """Insert `events` in one transaction; returns the (tenant, source, dedupe key) of those
    that were new (the others had been stored before)."""
    unique: dict[tuple[int, str, str], IncomingEvent] = {}
    for event in events:
        unique.setdefault((event.tenant_id, event.source, event.dedupe_key), event)
    first = (ids or _Ids(warehouse)).take(len(unique))
    rows = [event.row(first + i) for i, event in enumerate(unique.values())]
    if warehouse.backend == "duckdb":
        return _store_duckdb(warehouse, rows)
    statement = (
        pg_insert(raw_events)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["tenant_id", "source", "dedupe_key"])
        .returning(raw_events.c.tenant_id, raw_events.c.source, raw_events.c.dedupe_key)
    )
    with warehouse.engine.begin() as conn:
        inserted = conn.execute(statement).all()
    return {(int(r.tenant_id), str(r.source), str(r.dedupe_key)) for r in inserted}


def _store_duckdb(warehouse: Warehouse, rows: list[dict[str, Any]]) -> set[tuple[int, str, str]]:
    """One INSERT ... SELECT from an Arrow batch: binding thousands of parameters through
    SQLAlchemy costs more CPU than the whole insert. A plain INSERT first: DuckDB's
    `ON CONFLICT DO NOTHING RETURNING` costs four times as much (70 us an event, an eighth
    of a core in a flood). When an event of the batch was stored before (a redelivery), the
    unique key refuses the whole transaction, and the batch is stored again skipping those."""
    for row in rows:
        row["headers"] = json.dumps(row["headers"])
    batch = pa.Table.from_pylist(rows, schema=_ARROW_SCHEMA)
    try:
        _insert_duckdb(warehouse, batch, _DUCKDB_INSERT)
    except sa.exc.IntegrityError:
        inserted = _insert_duckdb(warehouse, batch, _DUCKDB_INSERT_NEW)
        return {(int(r[0]), str(r[1]), str(r[2])) for r in inserted}
    return {(int(r["tenant_id"]), str(r["source"]), str(r["dedupe_key"])) for r in rows}


def _insert_duckdb(warehouse: Warehouse, batch: pa.Table, sql: str) -> list[Any]:
    with warehouse.engine.begin() as conn:
        cursor = conn.connection.driver_connection  # this transaction's DuckDB cursor
        cursor.register("_incoming", batch)  # type: ignore[union-attr]
        # A failed insert aborts the transaction and the view goes with its rollback
        # (unregistering it then would fail and hide the error): only success unregisters.
        result = conn.exec_driver_sql(sql)
        try:
            return list(result.all()) if result.returns_rows else []
        finally:
            cursor.unregister("_incoming")  # type: ignore[union-attr]


_Waiter = Future[bool] | asyncio.Future[bool]


def _settle(outcomes: list[tuple[asyncio.Future[bool], bool | BaseException]]) -> None:
    """Resolve a loop's futures of one batch (run in that loop)."""
    for future, outcome in outcomes:
        if future.done():  # cancelled: its request is gone
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


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
        self.on_commit = on_commit or (lambda: None)
        self._queue: queue.SimpleQueue[tuple[IncomingEvent, _Waiter] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="raw-event-writer", daemon=True)
        self._stopping = False
        self._refusal = "the server is shutting down; retry shortly"
        self._ids = _Ids(warehouse)
        self.last_commit = 0.0  # time.monotonic() of the last batch stored

    def busy(self, within: float = 0.1) -> bool:
        """Whether deliveries are arriving (a batch was stored in the last `within` s)."""
        return time.monotonic() - self.last_commit < within

    def start(self) -> RawEventWriter:
        self._thread.start()
        return self

    def submit(self, event: IncomingEvent) -> Future[bool]:
        """Queue `event`; the future is True once it is committed as new, False if it had
        been stored before, and raises if it could not be stored."""
        future: Future[bool] = Future()
        if self._stopping:
            future.set_exception(IngestStopped(self._refusal))
            return future
        self._queue.put((event, future))
        return future

    def submit_async(self, event: IncomingEvent) -> asyncio.Future[bool]:
        """`submit` for a coroutine on the running event loop: the same answers, resolved in
        that loop with the rest of its batch."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if self._stopping:
            future.set_exception(IngestStopped(self._refusal))
            return future
        self._queue.put((event, future))
        return future

    def refuse(self, reason: str) -> None:
        """Take no deliveries (never started): each is refused with `reason`."""
        self._stopping, self._refusal = True, reason

    def stop(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then end the writer thread."""
        if not self._thread.is_alive():
            return
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

    def _commit(self, batch: list[tuple[IncomingEvent, _Waiter]]) -> None:
        outcomes: list[bool | BaseException]
        try:
            new = store_events(self._warehouse, [event for event, _ in batch], self._ids)
        except Exception as exc:  # task boundary: every waiting request gets the error
            log.error("raw_events.store_failed", error=f"{type(exc).__name__}: {exc}")
            outcomes = [exc] * len(batch)
        else:
            self.last_commit = time.monotonic()
            claimed: set[tuple[int, str, str]] = set()
            outcomes = []
            for event, _ in batch:
                key = (event.tenant_id, event.source, event.dedupe_key)
                outcomes.append(key in new and key not in claimed)
                claimed.add(key)
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bool], Any]]] = {}
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if isinstance(future, asyncio.Future):
                by_loop.setdefault(future.get_loop(), []).append((future, outcome))
            elif isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
        for loop, settled in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_settle, settled)
        if not isinstance(outcomes[0], BaseException):
            self.on_commit()


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
