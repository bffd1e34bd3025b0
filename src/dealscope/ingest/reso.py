"""MLS listings from a RESO Web API (OData v4): replication by ModificationTimestamp.

A run asks for `ModificationTimestamp gt <cursor>` in ascending order, follows
`@odata.nextLink` verbatim until it is absent (servers may return shorter pages than asked),
stores every record through the listings import (status normalised, price per square foot
derived, older states never overwrite newer ones) in one transaction, then records the
highest ModificationTimestamp stored as the next run's cursor in `import_runs`. Bad records
are skipped and written to a reject file: a feed cannot be asked to fix them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from dealscope.errors import DealScopeError
from dealscope.ingest.files.readers import RawTable
from dealscope.ingest.files.service import ImportResult, Progress, import_table
from dealscope.ingest.files.spec import ImportKind
from dealscope.ingest.files.store import Counts
from dealscope.ingest.files.values import BadValue, timestamp
from dealscope.kit.crypto import PiiCipher
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import import_runs

DEFAULT_PAGE_SIZE = 200
_MAX_RETRIES = 5
_MAX_PAGES = 100_000


class FeedFailed(DealScopeError):
    """An outside feed (RESO, FRED) answered with an error or not at all."""


def get_json(
    client: httpx.Client,
    url: str,
    params: dict[str, Any] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """GET `url` as JSON; waits out 429/503 (Retry-After, else a growing pause), a few times."""
    for attempt in range(_MAX_RETRIES + 1):
        try:
            response = client.get(url, params=params)
        except httpx.HTTPError as exc:
            raise FeedFailed(f"{_safe(url)}: {exc or type(exc).__name__}") from exc
        if response.status_code in (429, 503) and attempt < _MAX_RETRIES:
            retry_after = response.headers.get("Retry-After", "")
            sleep(float(retry_after) if retry_after.isdigit() else min(2.0**attempt, 30.0))
            continue
        if response.status_code >= 400:
            raise FeedFailed(
                f"{_safe(url)} answered {response.status_code}: {_error_text(response)}"
            )
        try:
            return response.json()
        except json.JSONDecodeError as exc:
            raise FeedFailed(f"{_safe(url)} did not answer with JSON") from exc
    raise FeedFailed(f"{_safe(url)}: still rate-limited after {_MAX_RETRIES} retries")


def _safe(url: str) -> str:
    """A URL without its query (which may carry an API key)."""
    return url.split("?", 1)[0]


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return " ".join(response.text.split())[:200]
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):  # OData: {"error": {"code", "message"}}
            return str(error.get("message") or error)
        return str(body.get("error_message") or error or body)[:300]
    return str(body)[:300]


def odata_timestamp(moment: dt.datetime) -> str:
    """An OData DateTimeOffset literal in UTC, to the millisecond."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def listing_pages(
    client: httpx.Client,
    url: str,
    since: dt.datetime | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    extra_filter: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[list[dict[str, Any]]]:
    """Pages of Property records changed after `since`, oldest change first."""
    filters = [f for f in (extra_filter,) if f]
    if since is not None:
        filters.append(f"ModificationTimestamp gt {odata_timestamp(since)}")
    params: dict[str, Any] | None = {"$orderby": "ModificationTimestamp asc", "$top": page_size}
    if filters:
        assert params is not None
        params["$filter"] = " and ".join(filters)
    next_url: str | None = url
    for _ in range(_MAX_PAGES):
        if next_url is None:
            return
        page = get_json(client, next_url, params, sleep)
        if not isinstance(page, dict) or not isinstance(page.get("value"), list):
            raise FeedFailed(f"{_safe(next_url)}: not an OData collection (no 'value' list)")
        yield [record for record in page["value"] if isinstance(record, dict)]
        link = page.get("@odata.nextLink")
        next_url = str(link) if link else None
        params = None  # the next link carries its own query
    raise FeedFailed(f"{_safe(url)}: more than {_MAX_PAGES} pages; stopping")


def last_cursor(warehouse: Warehouse, tenant_id: int, url: str) -> dt.datetime | None:
    """The ModificationTimestamp the last committed run from `url` stopped at."""
    query = (
        sa.select(import_runs.c.cursor)
        .where(
            import_runs.c.tenant_id == tenant_id,
            import_runs.c.kind == ImportKind.LISTINGS.value,
            import_runs.c.source == "reso",
            import_runs.c.source_name == _safe(url)[:500],
            import_runs.c.status == "imported",
            import_runs.c.cursor.is_not(None),
        )
        .order_by(import_runs.c.id.desc())
        .limit(1)
    )
    with warehouse.engine.connect() as connection:
        cursor = connection.execute(query).scalar_one_or_none()
    return None if cursor is None else dt.datetime.fromisoformat(cursor)


def _max_timestamp(records: list[dict[str, Any]]) -> dt.datetime | None:
    latest: dt.datetime | None = None
    for record in records:
        raw = record.get("ModificationTimestamp")
        if raw in (None, ""):
            continue
        try:
            moment = timestamp(raw)
        except BadValue:
            continue
        latest = moment if latest is None or moment > latest else latest
    return latest


def replicate_listings(
    warehouse: Warehouse,
    tenant_id: int,
    url: str,
    cipher: PiiCipher,
    *,
    client: httpx.Client,
    full: bool = False,
    page_size: int = DEFAULT_PAGE_SIZE,
    extra_filter: str | None = None,
    reject_dir: Path | None = None,
    actor: str | None = None,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ImportResult:
    """Fetch what changed at the RESO `url` (its Property resource) since the last run (all
    of it with `full`) and store it; returns the run's counts."""
    since = None if full else last_cursor(warehouse, tenant_id, url)
    records: list[dict[str, Any]] = []
    for page in listing_pages(client, url, since, page_size, extra_filter, sleep):
        records.extend(page)
        if progress is not None:
            progress("fetching", len(records), 0)
    source_name = _safe(url)[:500]
    started = dt.datetime.now(dt.UTC)
    if not records:
        with warehouse.engine.begin() as connection:
            run_id = warehouse.ids.next_id(import_runs.name)
            connection.execute(
                import_runs.insert().values(
                    id=run_id,
                    tenant_id=tenant_id,
                    kind=ImportKind.LISTINGS.value,
                    source="reso",
                    source_name=source_name,
                    status="imported",
                    actor=actor,
                    cursor=None if since is None else since.isoformat(),
                    started_at=started,
                    finished_at=dt.datetime.now(dt.UTC),
                )
            )
        return ImportResult(run_id, ImportKind.LISTINGS, source_name, 0, Counts())
    headers: list[str] = []
    for record in records:
        headers.extend(k for k in record if k not in headers and not k.startswith("@"))
    table = RawTable(headers, [(i + 1, [r.get(h) for h in headers]) for i, r in enumerate(records)])
    digest = hashlib.sha256(json.dumps(records, sort_keys=True, default=str).encode()).hexdigest()
    result = import_table(
        warehouse, tenant_id, ImportKind.LISTINGS, source_name, table, cipher,
        content_sha256=digest, skip_bad_rows=True, reject_dir=reject_dir, source="reso",
        actor=actor, progress=progress, now=started,
    )  # fmt: skip
    bad_lines = {b.line for b in result.bad_rows}
    good = [r for i, r in enumerate(records, start=1) if i not in bad_lines]
    latest = _max_timestamp(good)
    if since is not None and (latest is None or latest < since):
        latest = since
    if latest is not None:
        with warehouse.engine.begin() as connection:
            connection.execute(
                sa.update(import_runs)
                .where(import_runs.c.id == result.run_id)
                .values(cursor=latest.isoformat())
            )
    return result
