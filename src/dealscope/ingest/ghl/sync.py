"""`dealscope sync ghl`: a tenant's GHL location pulled into the warehouse over REST v2.

Resources run in dependency order: pipelines (opportunities name their stages), users
(agents), contacts, opportunities, then the conversations' messages. Each page is
written through `GhlRecords` (the same upserts as the webhooks) in one unit of work together
with the resource's cursor, so the data version moves on with every page and a run that
stops anywhere resumes where it stopped.

- `full`: every record, whatever the cursors say (repairs anything missed); cursors end at
  the newest record seen.
- `incremental`: only records changed after the stored cursor (a resource without one runs
  in full). Pipelines and users are small lists and are read whole every time.

A record HighLevel sends that we cannot store (no id, a stage never heard of, ...) does not
stop the sync: its page is written record by record, the bad ones are left out, and the run
ends `failed` for that resource with every rejected record named, so nothing is dropped
silently. A full run picks them up again once the cause is fixed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from dealscope.errors import DealScopeError, ValidationFailed
from dealscope.ingest.ghl import endpoints
from dealscope.ingest.ghl.batch import ContactPage, MessagePage, OpportunityPage
from dealscope.ingest.ghl.client import GhlAuthFailed, GhlClient, GhlDailyLimitReached
from dealscope.ingest.ghl.cursors import CursorKey, advance, find_cursor, finish_run, start_run
from dealscope.ingest.ghl.records import GhlRecords, Outcome
from dealscope.kit.crypto import PiiCipher
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.unit_of_work import unit_of_work

SOURCE = "ghl"
RESOURCES: tuple[str, ...] = ("pipelines", "users", "contacts", "opportunities", "messages")
Mode = Literal["full", "incremental"]

Writer = Callable[[GhlRecords, dict[str, Any]], Outcome]
# A page to write: (writer, record) pairs, the server's count of all matches, the cursor after.
PageOf = tuple[list[tuple[Writer, dict[str, Any]]], int | None, dict[str, Any] | None]


class SyncProgress(Protocol):
    """Told what the sync is doing, e.g. to draw progress bars."""

    def begin(self, resource: str, total: int | None) -> None: ...

    def advance(self, resource: str, rows: int, total: int | None) -> None: ...

    def end(self, resource: str, result: ResourceResult) -> None: ...


class _Silent:
    def begin(self, resource: str, total: int | None) -> None:
        pass

    def advance(self, resource: str, rows: int, total: int | None) -> None:
        pass

    def end(self, resource: str, result: ResourceResult) -> None:
        pass


@dataclass(frozen=True)
class Rejected:
    resource: str
    external_id: str | None
    reason: str


@dataclass
class ResourceResult:
    resource: str
    mode: Mode
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # older than or the same as what is stored
    pages: int = 0
    seconds: float = 0.0
    cursor: dict[str, Any] | None = None
    rejected: list[Rejected] = field(default_factory=list)
    error: str | None = None
    fatal: bool = False  # the error stops the whole run (token refused, quota spent)

    def count(self, outcome: Outcome) -> None:
        if outcome == "created":
            self.created += 1
        elif outcome == "updated":
            self.updated += 1
        else:
            self.unchanged += 1


@dataclass
class SyncReport:
    tenant_id: int
    location_id: str
    mode: Mode
    results: list[ResourceResult]
    requests: int
    retries: int
    throttled_seconds: float
    seconds: float

    @property
    def ok(self) -> bool:
        return all(r.error is None for r in self.results)


@dataclass
class GhlSync:
    """One sync run of one tenant's GHL location."""

    warehouse: Warehouse
    tenant_id: int
    client: GhlClient
    cipher: PiiCipher
    progress: SyncProgress = field(default_factory=_Silent)
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    page_limit: int = endpoints.SEARCH_PAGE_LIMIT  # records asked for per request

    def run(self, mode: Mode = "incremental", resources: Iterable[str] = RESOURCES) -> SyncReport:
        wanted = list(resources)
        unknown = [r for r in wanted if r not in RESOURCES]
        if unknown:
            raise ValidationFailed(
                f"unknown GHL resource(s) {', '.join(unknown)}; choose from {', '.join(RESOURCES)}"
            )
        started = time.perf_counter()
        results: list[ResourceResult] = []
        for resource in (r for r in RESOURCES if r in wanted):
            result = self._run_resource(resource, mode)
            results.append(result)
            if result.fatal:
                break  # a refused token or a spent quota stops every later resource too
        stats = self.client.stats
        return SyncReport(
            tenant_id=self.tenant_id,
            location_id=self.client.location_id,
            mode=mode,
            results=results,
            requests=stats.requests,
            retries=stats.retries,
            throttled_seconds=stats.throttled_seconds,
            seconds=time.perf_counter() - started,
        )

    # --- one resource ------------------------------------------------------------------

    def _key(self, resource: str) -> CursorKey:
        return CursorKey(self.tenant_id, SOURCE, self.client.location_id, resource)

    def _run_resource(self, resource: str, mode: Mode) -> ResourceResult:
        key = self._key(resource)
        with self.warehouse.engine.connect() as conn:
            stored = find_cursor(conn, key)
        previous = stored.cursor if stored is not None and mode == "incremental" else None
        effective: Mode = "incremental" if previous else "full"
        result = ResourceResult(resource=resource, mode=effective, cursor=previous)
        with unit_of_work(self.warehouse) as uow:
            start_run(uow, key, effective, self.now())
        started = time.perf_counter()
        try:
            pages = getattr(self, f"_pages_{resource}")(previous)
            first = True
            for rows, total, cursor in pages:
                if first:
                    self.progress.begin(resource, total)
                    first = False
                self._write_page(key, resource, rows, cursor, result)
                self.progress.advance(resource, len(rows), total)
            if first:
                self.progress.begin(resource, 0)
        except DealScopeError as exc:
            result.error = str(exc)
            result.fatal = isinstance(exc, GhlAuthFailed | GhlDailyLimitReached)
        except Exception as exc:  # the job's boundary: record why it stopped, then re-raise
            with unit_of_work(self.warehouse) as uow:
                finish_run(uow, key, self.now(), f"stopped by {type(exc).__name__}: {exc}"[:2000])
            raise
        result.seconds = time.perf_counter() - started
        if result.error is None and result.rejected:
            shown = "; ".join(f"{r.external_id or '?'}: {r.reason}" for r in result.rejected[:20])
            more = len(result.rejected) - 20
            result.error = f"{len(result.rejected)} record(s) rejected: {shown}" + (
                f" (and {more} more)" if more > 0 else ""
            )
        with unit_of_work(self.warehouse) as uow:
            finish_run(uow, key, self.now(), result.error)
        self.progress.end(resource, result)
        return result

    def _write_page(
        self,
        key: CursorKey,
        resource: str,
        rows: list[tuple[Writer, dict[str, Any]]],
        cursor: dict[str, Any] | None,
        result: ResourceResult,
    ) -> None:
        """All rows and the cursor in one transaction; if any row is refused, again one row
        per transaction so the good ones are kept and the bad ones named."""
        try:
            with unit_of_work(self.warehouse) as uow:
                if resource == "contacts":
                    page = ContactPage(uow, self.tenant_id, self.cipher)
                    page.prefetch(str(row.get("id") or "") for _, row in rows)
                    outcomes = [write(page, row) for write, row in rows]
                    page.flush()
                elif resource == "opportunities":
                    deals = OpportunityPage(uow, self.tenant_id, self.cipher)
                    deals.prefetch(row for _, row in rows)
                    outcomes = [write(deals, row) for write, row in rows]
                elif resource == "messages":
                    batch = MessagePage(uow, self.tenant_id, self.cipher)
                    batch.prefetch(row for _, row in rows)
                    outcomes = [write(batch, row) for write, row in rows]
                    batch.flush()
                else:
                    records = GhlRecords(uow, self.tenant_id, self.cipher, recorded_from="sync")
                    outcomes = [write(records, row) for write, row in rows]
                advance(uow, key, cursor, len(rows))
        except ValidationFailed:
            outcomes = []
            for write, row in rows:
                try:
                    with unit_of_work(self.warehouse) as uow:
                        records = GhlRecords(uow, self.tenant_id, self.cipher, "sync")
                        outcomes.append(write(records, row))
                except ValidationFailed as exc:
                    result.rejected.append(Rejected(resource, _external_id(row), str(exc)))
            with unit_of_work(self.warehouse) as uow:
                advance(uow, key, cursor, len(rows))
        for outcome in outcomes:
            result.count(outcome)
        result.fetched += len(rows)
        result.pages += 1
        if cursor is not None:
            result.cursor = cursor

    # --- pages per resource ---------------------------------------------------------------

    def _pages_pipelines(self, previous: dict[str, Any] | None) -> Iterator[PageOf]:
        yield from _whole_list(endpoints.list_pipelines(self.client), _write_pipeline, previous)

    def _pages_users(self, previous: dict[str, Any] | None) -> Iterator[PageOf]:
        yield from _whole_list(endpoints.list_users(self.client), _write_user, previous)

    def _pages_contacts(self, previous: dict[str, Any] | None) -> Iterator[PageOf]:
        after = (previous or {}).get("search_after")
        for page in endpoints.search_contacts(self.client, after, self.page_limit):
            yield [(_write_contact, r) for r in page.rows], page.total, page.cursor

    def _pages_opportunities(self, previous: dict[str, Any] | None) -> Iterator[PageOf]:
        after = (previous or {}).get("search_after")
        for page in endpoints.search_opportunities(self.client, after, self.page_limit):
            yield [(_write_opportunity, r) for r in page.rows], page.total, page.cursor

    def _pages_messages(self, previous: dict[str, Any] | None) -> Iterator[PageOf]:
        after = (previous or {}).get("search_after")
        for page in endpoints.export_messages(self.client, after, self.page_limit):
            yield [(_write_message, r) for r in page.rows], page.total, page.cursor


def _whole_list(
    rows: list[dict[str, Any]], write: Writer, previous: dict[str, Any] | None
) -> Iterator[PageOf]:
    """A list read whole: written unless an incremental run finds it exactly as last time
    (then nothing is written and the data version stays)."""
    digest = hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()
    if previous is not None and previous.get("sha256") == digest:
        return
    yield [(write, r) for r in rows], len(rows), {"count": len(rows), "sha256": digest}


def _write_pipeline(records: GhlRecords, row: dict[str, Any]) -> Outcome:
    return records.upsert_pipeline(row)


def _write_user(records: GhlRecords, row: dict[str, Any]) -> Outcome:
    return records.upsert_user(row)


def _write_contact(records: GhlRecords, row: dict[str, Any]) -> Outcome:
    return records.upsert_contact(row)


def _write_opportunity(records: GhlRecords, row: dict[str, Any]) -> Outcome:
    return records.upsert_opportunity(row)


def _write_message(records: GhlRecords, row: dict[str, Any]) -> Outcome:
    return records.upsert_message(
        row, contact_id=row.get("contactId"), conversation_id=row.get("conversationId")
    )


def _external_id(row: dict[str, Any]) -> str | None:
    value = row.get("id") or row.get("messageId")
    return None if value is None else str(value)
