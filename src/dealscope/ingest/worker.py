"""The ingest worker: applies stored deliveries to the warehouse, in the background.

It drains `raw_events` rows in status `received` (oldest event time first), in batches of one
transaction each, applied per tenant with one statement per table where it can
(`batch_apply.apply_batch`); the batch's tenants get a new data version at commit, so cached
responses refresh on the next request. Each event ends `processed`, `ignored` (a type we do not
process) or `dead_letter` (with its error), and records its attempts, when it was processed
and its latency from receipt. A batch that fails is rolled back and its events applied one
by one, so one bad payload does not hold up the others.

Nothing is lost by a crash: an event is acknowledged only once stored, and whatever was not
processed is still `received` when the worker starts again. On PostgreSQL several API
processes may run workers: each claims its rows with `FOR UPDATE SKIP LOCKED`.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa
import structlog

from dealscope.errors import DealScopeError
from dealscope.ingest.batch_apply import StoredEvent, apply_batch, apply_stored
from dealscope.ingest.ghl.records import GhlRecords, Outcome
from dealscope.ingest.raw_store import DEAD_LETTER, IGNORED, PROCESSED, RECEIVED
from dealscope.kit.crypto import PiiCipher
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import raw_events
from dealscope.warehouse.unit_of_work import unit_of_work

log = structlog.get_logger(__name__)

_MAX_ERROR = 2000


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class IngestWorker:
    """Background thread around `process_batch`; `wake()` after new events are stored."""

    def __init__(
        self,
        warehouse: Warehouse,
        cipher: PiiCipher,
        batch_size: int = 200,
        poll_seconds: float = 1.0,
        busy: Callable[[], bool] | None = None,
        batch_seconds: float = 0.25,
    ) -> None:
        self.warehouse = warehouse
        self.cipher = cipher
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        # A batch costs some 35 statements whatever its size (about 60 ms of CPU) besides a
        # fraction of a millisecond per event: with a backlog and no deliveries arriving, the
        # thread takes batches of up to ten times `batch_size` while one takes under
        # `batch_seconds` (an event applied in a batch of 200 cost 440 us, of 500: 270 us),
        # and comes back down when slower. While deliveries arrive it keeps to `batch_size`:
        # a deal's delay to visible is then about two batches (larger ones, tried during a
        # flood in `bench ingest`, made it longer and accepted no more).
        self.batch_seconds = batch_seconds
        self._limit = batch_size
        # While deliveries pour in, storing them (the 2xx) comes first: the worker then
        # pauses after each batch for a quarter of the time the batch took (a pause as long
        # as the batch accepted no more deliveries in `bench ingest` and kept deals from
        # showing for longer: p50 1.9-2.3 s against 1.4-1.8 s during a flood).
        self._busy = busy or (lambda: False)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ingest-worker", daemon=True)

    # --- running -----------------------------------------------------------------------

    def start(self) -> IngestWorker:
        self._thread.start()
        return self

    def wake(self) -> None:
        self._idle.clear()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        if not self._thread.is_alive():
            return
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until nothing is left to process (tests, the bench, replays)."""
        deadline = time.monotonic() + timeout
        self.wake()
        while time.monotonic() < deadline:
            if self._idle.wait(min(0.05, max(0.0, deadline - time.monotonic()))):
                if self.pending() == 0:
                    return True
                self.wake()
        return False

    def pending(self) -> int:
        with self.warehouse.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(raw_events)
                    .where(raw_events.c.status == RECEIVED)
                ).scalar_one()
            )

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            started = time.monotonic()
            try:
                done = self.process_batch(self._limit)
            except Exception as exc:  # task boundary: log, wait, try again
                log.error("ingest.batch_failed", error=f"{type(exc).__name__}: {exc}")
                done = 0
                self._stop.wait(self.poll_seconds)
            if done:
                self._resize(done, time.monotonic() - started)
                if self._busy():
                    self._stop.wait((time.monotonic() - started) * 0.25)
                continue
            self._idle.set()
            self._wake.wait(self.poll_seconds)

    def _resize(self, done: int, seconds: float) -> None:
        """The next batch's size from how long this one took (see `batch_seconds`)."""
        target, limit = self.batch_seconds, self._limit
        if self._busy():
            limit = self.batch_size
        elif seconds > target:
            limit = int(limit * target / seconds)
        elif done >= limit:  # a full batch, fast enough: there is more to take at once
            limit = int(limit * min(2.0, target / max(seconds, 1e-3)))
        self._limit = max(self.batch_size, min(10 * self.batch_size, limit))

    # --- one batch ---------------------------------------------------------------------

    def _claim(self, conn: sa.Connection, limit: int | None = None) -> list[StoredEvent]:
        query = (
            sa.select(
                raw_events.c.id,
                raw_events.c.tenant_id,
                raw_events.c.source,
                raw_events.c.body,
                raw_events.c.received_at,
            )
            .where(raw_events.c.status == RECEIVED)
            .order_by(
                sa.func.coalesce(raw_events.c.occurred_at, raw_events.c.received_at),
                raw_events.c.id,
            )
            .limit(limit or self.batch_size)
        )
        if self.warehouse.backend == "postgres":
            query = query.with_for_update(skip_locked=True)
        return [
            StoredEvent(int(r.id), int(r.tenant_id), r.source, r.body, _aware(r.received_at))
            for r in conn.execute(query)
        ]

    def process_batch(self, limit: int | None = None) -> int:
        """Apply up to `limit` (default `batch_size`) received events; returns how many were
        handled."""
        try:
            with unit_of_work(self.warehouse) as uow:
                events = self._claim(uow.connection, limit)
                if not events:
                    return 0
                by_tenant: dict[int, list[StoredEvent]] = {}
                for event in events:
                    by_tenant.setdefault(event.tenant_id, []).append(event)
                outcomes: dict[int, Outcome | None] = {}
                for tenant_id, batch in by_tenant.items():
                    outcomes.update(apply_batch(uow, tenant_id, self.cipher, batch))
                self._finish(uow.connection, outcomes, None)
            return len(events)
        except Exception as exc:  # one bad event: apply them one at a time
            log.info("ingest.batch_retry_singly", error=f"{type(exc).__name__}: {exc}")
        return self._process_singly(limit)

    def _process_singly(self, limit: int | None = None) -> int:
        with self.warehouse.engine.connect() as conn:
            ids = [event.id for event in self._claim(conn, limit)]
        for event_id in ids:
            try:
                with unit_of_work(self.warehouse) as uow:
                    event = self._claim_one(uow.connection, event_id)
                    if event is None:
                        continue
                    outcome = apply_stored(GhlRecords(uow, event.tenant_id, self.cipher), event)
                    self._finish(uow.connection, {event_id: outcome}, None)
            except (sa.exc.OperationalError, sa.exc.InterfaceError):
                raise  # the database, not the event: the run loop waits and tries again
            except Exception as exc:  # recorded as a dead letter with its error
                error = (
                    str(exc) if isinstance(exc, DealScopeError) else f"{type(exc).__name__}: {exc}"
                )
                with self.warehouse.engine.begin() as conn:
                    self._finish(conn, {event_id: None}, error[:_MAX_ERROR])
                log.warning("ingest.dead_letter", event_id=event_id, error=error)
        return len(ids)

    def _claim_one(self, conn: sa.Connection, event_id: int) -> StoredEvent | None:
        query = sa.select(
            raw_events.c.id,
            raw_events.c.tenant_id,
            raw_events.c.source,
            raw_events.c.body,
            raw_events.c.received_at,
        ).where(raw_events.c.id == event_id, raw_events.c.status == RECEIVED)
        if self.warehouse.backend == "postgres":
            query = query.with_for_update(skip_locked=True)
        row = conn.execute(query).first()
        if row is None:
            return None
        return StoredEvent(int(row.id), int(row.tenant_id), row.source, row.body, row.received_at)

    @staticmethod
    def _finish(
        conn: sa.Connection, outcomes: dict[int, Outcome | None], error: str | None
    ) -> None:
        now = dt.datetime.now(dt.UTC)
        latency = (
            sa.extract(
                "epoch", sa.literal(now, raw_events.c.received_at.type) - raw_events.c.received_at
            )
            * 1000
        )
        by_status: dict[str, list[int]] = {}
        for event_id, outcome in outcomes.items():
            status = (
                DEAD_LETTER if error is not None else (IGNORED if outcome is None else PROCESSED)
            )
            by_status.setdefault(status, []).append(event_id)
        for status, ids in by_status.items():
            # `= ANY(array)`: DuckDB plans an IN list of a batch's ids at 2.5 times the cost
            listed = sa.bindparam("ids", ids, type_=sa.ARRAY(sa.BigInteger))
            conn.execute(
                sa.update(raw_events)
                .where(raw_events.c.id == sa.any_(listed))
                .values(
                    status=status,
                    attempts=raw_events.c.attempts + 1,
                    processed_at=now,
                    latency_ms=latency,
                    error=error,
                )
            )
