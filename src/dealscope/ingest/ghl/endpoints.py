"""The GHL REST v2 endpoints the sync reads, each walked in its own paging style.

- contacts: `POST /contacts/search`, by `dateUpdated` ascending, keyset `searchAfter`;
- opportunities: `POST /opportunities/search`, by `date_updated` ascending, keyset
  `searchAfter`;
- pipelines (`GET /opportunities/pipelines`) and users (`GET /users/`): one answer each;
- messages: `GET /conversations/messages/export`, by `createdAt` ascending, the opaque
  `nextCursor` while there is one; `startDate` picks up an incremental run (one request per
  100 messages, where walking conversations would cost one or more per conversation).

The searches are walked by keyset (`searchAfter`, the sort values of the last row) from the
second page on, never by page number: a record updated while a run pages through moves to
the end of the sort order, and offset paging would then skip the record that slid into its
place. Keyset paging also has no 10,000-row ceiling. Every page carries the cursor to store
once its rows are written, so a run that stops continues where it stopped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dealscope.ingest.ghl.client import VERSION_CONVERSATIONS, GhlApiError, GhlClient
from dealscope.ingest.ghl.values import parse_time

SEARCH_PAGE_LIMIT = 100
MESSAGE_PAGE_LIMIT = 100


@dataclass(frozen=True)
class Page:
    """One page of records, how many the server says match in all (None: not said), and the
    cursor to store once these records are written."""

    rows: list[dict[str, Any]]
    total: int | None
    cursor: dict[str, Any] | None


def _rows(body: dict[str, Any], key: str, what: str) -> list[dict[str, Any]]:
    rows = body.get(key)
    if rows is None:
        return []
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise GhlApiError(f"{what}: expected `{key}` to be a list of objects")
    return rows


def _total(body: dict[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def epoch_ms(value: dt.datetime) -> int:
    return int(value.timestamp() * 1000)


def iso_ms(ms: int) -> str:
    """Epoch milliseconds as GHL's ISO form (`2025-03-01T09:00:01.100Z`)."""
    moment = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _keyset(row: dict[str, Any], time_field: str, what: str) -> list[Any]:
    """The row's sort values: its own `searchAfter` when the server sends one, else
    [epoch ms of `time_field`, id] (the sort of the search)."""
    given = row.get("searchAfter")
    if isinstance(given, list) and given:
        return given
    moment = parse_time(row.get(time_field), f"{what}.{time_field}")
    if moment is None or not row.get("id"):
        raise GhlApiError(
            f"{what}: a record has no {time_field} or id to page after: {row!r}"[:300]
        )
    return [epoch_ms(moment), row["id"]]


def _walk_search(
    client: GhlClient,
    path: str,
    key: str,
    body: dict[str, Any],
    time_field: str,
    after: list[Any] | None,
    page_limit: int,
) -> Iterator[Page]:
    what = f"POST {path}"
    search_after, seen = after, 0
    while True:
        request = dict(body)
        if search_after is None:
            request["page"] = 1
        else:
            request["searchAfter"] = search_after
        answer = client.request("POST", path, json=request)
        rows = _rows(answer, key, what)
        total = _total(answer, "total", "count")
        if not rows:
            return
        seen += len(rows)
        top = answer.get("searchAfter")
        search_after = top if isinstance(top, list) and top else _keyset(rows[-1], time_field, what)
        cursor = {"search_after": search_after, time_field: rows[-1].get(time_field)}
        yield Page(rows=rows, total=total, cursor=cursor)
        if len(rows) < page_limit and (total is None or seen >= total):
            return


def search_contacts(
    client: GhlClient, after: list[Any] | None = None, page_limit: int = SEARCH_PAGE_LIMIT
) -> Iterator[Page]:
    """Contacts in `dateUpdated` order, from just after the keyset `after` (all when None)."""
    body: dict[str, Any] = {
        "locationId": client.location_id,
        "pageLimit": page_limit,
        "sort": [{"field": "dateUpdated", "direction": "asc"}],
    }
    if after:
        # Narrows the server's count to what changed (the keyset does the exact skipping).
        body["filters"] = [
            {"field": "dateUpdated", "operator": "range", "value": {"gte": iso_ms(int(after[0]))}}
        ]
    return _walk_search(
        client, "/contacts/search", "contacts", body, "dateUpdated", after, page_limit
    )


def search_opportunities(
    client: GhlClient, after: list[Any] | None = None, page_limit: int = SEARCH_PAGE_LIMIT
) -> Iterator[Page]:
    """Opportunities in `date_updated` order, from just after the keyset `after`."""
    body: dict[str, Any] = {
        "locationId": client.location_id,
        "limit": page_limit,
        "sort": [{"field": "date_updated", "direction": "asc"}],
    }
    if after:
        body["filters"] = [
            {"field": "date_updated", "operator": "range", "value": {"gte": iso_ms(int(after[0]))}}
        ]
    return _walk_search(
        client, "/opportunities/search", "opportunities", body, "updatedAt", after, page_limit
    )


def list_pipelines(client: GhlClient) -> list[dict[str, Any]]:
    answer = client.request(
        "GET", "/opportunities/pipelines", params={"locationId": client.location_id}
    )
    return _rows(answer, "pipelines", "GET /opportunities/pipelines")


def list_users(client: GhlClient) -> list[dict[str, Any]]:
    answer = client.request("GET", "/users/", params={"locationId": client.location_id})
    return _rows(answer, "users", "GET /users/")


def export_messages(
    client: GhlClient, after: list[Any] | None = None, page_limit: int = MESSAGE_PAGE_LIMIT
) -> Iterator[Page]:
    """Every message of the location, oldest first, from just after the keyset `after`
    ([epoch ms of `dateAdded`, id]); all when None. `startDate` narrows the export to the
    cursor's millisecond (inclusive, so a message sent in that same millisecond after the
    last run is not lost); the ones already stored there are skipped here."""
    what = "GET /conversations/messages/export"
    params: dict[str, Any] = {
        "locationId": client.location_id,
        "limit": page_limit,
        "sortBy": "createdAt",
        "sortOrder": "asc",
    }
    if after:
        params["startDate"] = iso_ms(int(after[0]))
    boundary = tuple(after) if after else None
    while True:
        answer = client.request(
            "GET", "/conversations/messages/export", version=VERSION_CONVERSATIONS, params=params
        )
        rows = _rows(answer, "messages", what)
        total = _total(answer, "total")
        keys = [_keyset(r, "dateAdded", what) for r in rows]
        if boundary is not None:
            fresh = [(k, r) for k, r in zip(keys, rows, strict=True) if tuple(k) > boundary]
            keys, rows = [k for k, _ in fresh], [r for _, r in fresh]
        if rows:
            yield Page(rows=rows, total=total, cursor={"search_after": keys[-1]})
        next_cursor = answer.get("nextCursor")
        if not next_cursor:
            return
        if next_cursor == params.get("cursor"):
            raise GhlApiError(f"{what}: the server sent the same nextCursor twice")
        params["cursor"] = next_cursor
