"""`dealscope bench ghl-sync`: records per second a GHL REST sync stores.

A loopback server speaking GHL REST v2 (`bench.ghl_server`) serves a generated location
(`bench.ghl_data`: N contacts, N/4 deals, about 0.3 N messages); `GhlSync` reads it over
real HTTP into a fresh warehouse, in full, then incrementally after 1% of the contacts
changed. The figures are per resource: records stored and records per second.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet

from dealscope.bench import ghl_data
from dealscope.bench.ghl_server import FakeGhlServer, iso
from dealscope.ingest.ghl.client import GhlClient, GhlCredentials
from dealscope.ingest.ghl.sync import GhlSync, SyncReport
from dealscope.kit.crypto import PiiCipher
from dealscope.warehouse.engine import open_warehouse
from dealscope.warehouse.migrate import ensure_current, upgrade
from dealscope.warehouse.schema import tenants


def _figures(report: SyncReport) -> dict[str, Any]:
    return {
        "seconds": round(report.seconds, 3),
        "requests": report.requests,
        "retries": report.retries,
        "resources": {
            r.resource: {
                "records": r.fetched,
                "created": r.created,
                "updated": r.updated,
                "seconds": round(r.seconds, 3),
                "records_per_second": (
                    round(r.fetched / r.seconds, 1) if r.seconds and r.fetched else None
                ),
                "error": r.error,
            }
            for r in report.results
        },
    }


def bench_ghl_sync(contacts: int, database_url: str | None = None) -> dict[str, Any]:
    """Full then incremental sync of a generated location with `contacts` contacts."""
    fake = ghl_data.build(
        contacts=contacts,
        opportunities=contacts // 4,
        conversations=max(2, contacts // 10),
        big_conversation=100,
    )
    with tempfile.TemporaryDirectory(prefix="dealscope-bench-ghl-") as scratch:
        url = database_url or f"duckdb:///{Path(scratch) / 'warehouse.duckdb'}"
        warehouse = open_warehouse(url)
        try:
            if database_url is None:
                upgrade(warehouse)
            else:
                ensure_current(warehouse)
            slug = f"bench-ghl-{secrets.token_hex(3)}"
            with warehouse.engine.begin() as conn:
                tenant_id = warehouse.ids.next_id(tenants.name)
                conn.execute(
                    sa.insert(tenants).values(
                        id=tenant_id, slug=slug, name=slug, created_at=dt.datetime.now(dt.UTC)
                    )
                )
            cipher = PiiCipher([Fernet.generate_key()], os.urandom(32))
            with FakeGhlServer(fake) as server:
                credentials = GhlCredentials(fake.location_id, fake.token, server.url)
                with GhlClient(credentials) as client:
                    full = GhlSync(warehouse, tenant_id, client, cipher).run("full")
                changed = max(1, contacts // 100)
                later = ghl_data.BASE + dt.timedelta(days=400)
                for i in range(changed):
                    record = fake.contacts[f"C{i:04d}"]
                    record["dateUpdated"] = iso(later + dt.timedelta(seconds=i))
                    record["lastName"] = "Changed"
                started = time.perf_counter()
                with GhlClient(credentials) as client:
                    incremental = GhlSync(warehouse, tenant_id, client, cipher).run()
                incremental_seconds = time.perf_counter() - started
        finally:
            warehouse.close()
    return {
        "contacts": contacts,
        "backend": warehouse.backend,
        "tenant": slug,
        "full": _figures(full),
        "incremental": {
            **_figures(incremental),
            "contacts_changed": changed,
            "wall_seconds": round(incremental_seconds, 3),
        },
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
