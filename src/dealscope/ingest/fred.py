"""FRED series: the observations endpoint into `market_series`.

`GET {base}/series/observations?series_id=...&api_key=...&file_type=json` pages with
`limit`/`offset` (up to 100,000 a page) and sends every value as a string, "." for a missing
observation, which is stored as NULL. The base URL is configurable (tests and mirrors).
Weekly MORTGAGE30US is the series the market page overlays; any series id works.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from dealscope.ingest.files.readers import RawTable
from dealscope.ingest.files.series import SeriesWriter
from dealscope.ingest.files.service import ImportResult, Progress, import_table
from dealscope.ingest.files.spec import ImportKind
from dealscope.ingest.reso import FeedFailed, get_json
from dealscope.kit.crypto import PiiCipher
from dealscope.warehouse.engine import Warehouse

DEFAULT_BASE_URL = "https://api.stlouisfed.org/fred"
DEFAULT_SERIES = ("MORTGAGE30US",)
_PAGE_LIMIT = 100_000


def fetch_observations(
    client: httpx.Client,
    series_id: str,
    api_key: str,
    *,
    base_url: str = DEFAULT_BASE_URL,
    start: dt.date | None = None,
    end: dt.date | None = None,
    page_limit: int = _PAGE_LIMIT,
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict[str, Any]]:
    """Every observation of `series_id` (oldest first): dicts with `date` and `value` as
    FRED sends them (strings)."""
    url = f"{base_url.rstrip('/')}/series/observations"
    observations: list[dict[str, Any]] = []
    offset = 0
    while True:
        params: dict[str, Any] = {
            "series_id": series_id, "api_key": api_key, "file_type": "json",
            "sort_order": "asc", "limit": page_limit, "offset": offset,
        }  # fmt: skip
        if start is not None:
            params["observation_start"] = start.isoformat()
        if end is not None:
            params["observation_end"] = end.isoformat()
        page = get_json(client, url, params, sleep)
        if not isinstance(page, dict) or not isinstance(page.get("observations"), list):
            raise FeedFailed(f"{url}: no 'observations' list in FRED's answer for {series_id}")
        batch = page["observations"]
        observations.extend(batch)
        count = int(page.get("count", len(observations)))
        offset += len(batch)
        if not batch or offset >= count:
            return observations


def import_fred_series(
    warehouse: Warehouse,
    tenant_id: int,
    series_id: str,
    api_key: str,
    cipher: PiiCipher,
    *,
    client: httpx.Client,
    base_url: str = DEFAULT_BASE_URL,
    start: dt.date | None = None,
    end: dt.date | None = None,
    actor: str | None = None,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ImportResult:
    """Fetch `series_id` from FRED and store its observations (re-runs update, never
    duplicate; a value FRED revised is updated)."""
    series = series_id.strip().upper()
    observations = fetch_observations(
        client, series, api_key, base_url=base_url, start=start, end=end, sleep=sleep
    )
    table = RawTable(
        ["series_id", "date", "value"],
        [(i + 1, [series, o.get("date"), o.get("value")]) for i, o in enumerate(observations)],
    )
    digest = hashlib.sha256(json.dumps(observations, sort_keys=True).encode()).hexdigest()
    return import_table(
        warehouse, tenant_id, ImportKind.SERIES, f"FRED {series}", table, cipher,
        content_sha256=digest, source="fred", actor=actor, progress=progress,
        writer=SeriesWriter(source="fred"),
    )  # fmt: skip
