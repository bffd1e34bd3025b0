"""`dealscope bench ingest`: webhooks accepted per second, and the delay from a webhook's 2xx
to its effect being visible through the API.

Runs `dealscope serve` in a subprocess over a temporary DuckDB file (or the given warehouse)
with one tenant set up for signed GHL webhooks, then, over real HTTP from this process:
1. flood: `events` signed deliveries (a mix of contact, deal and message events) from
   `concurrency` connections; accepted/s = 2xx answers / wall time from first send to last
   answer. Then the time the worker needs to apply the backlog.
2. visibility: `samples` deliveries one at a time, each a new deal; after its 2xx the
   metrics API (`POST /api/v1/metrics/query`, `leads`) is polled until the deal counts. The
   delay is 2xx to the first answer that shows it (p50/p95). The same is measured during
   the flood, one deal after another (dated 2024, apart from the flood's events), for as
   long as the flood lasts.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

TARGET_ACCEPTED_PER_SECOND = 1500
TARGET_VISIBLE_P95_MS = 1000.0
SLUG = "bench-ingest"
LOCATION = "LOC_bench"
STAGES = ("S_new", "S_contacted", "S_qualified", "S_appointment", "S_showing", "S_offer")
_PERIOD = {"range": "custom", "start": "2025-01-01", "end": "2025-12-31", "as_of": "2025-12-31"}


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _setup(url: str, data_dir: Path, key: ed25519.Ed25519PrivateKey) -> str:
    """Migrate, add the tenant (pipeline, webhook key) and an admin API key; returns it."""
    from dealscope.api.auth.api_keys import create_api_key
    from dealscope.api.auth.schemas import ApiKeyCreate
    from dealscope.config import Environment, Settings
    from dealscope.ingest.ghl.records import GhlRecords
    from dealscope.ingest.webhook_settings import write_settings
    from dealscope.kit.crypto import load_cipher
    from dealscope.kit.roles import Role
    from dealscope.warehouse.engine import open_warehouse
    from dealscope.warehouse.migrate import upgrade
    from dealscope.warehouse.schema import tenants
    from dealscope.warehouse.unit_of_work import unit_of_work

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment=Environment.TEST,
        data_dir=data_dir,
        database_url=url,
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = dt.datetime.now(dt.UTC)
    with open_warehouse(url) as warehouse:
        upgrade(warehouse)
        with warehouse.engine.begin() as conn:
            if conn.execute(sa.select(tenants.c.id).where(tenants.c.slug == SLUG)).first():
                raise RuntimeError(f"tenant {SLUG!r} exists already in {url}: use another one")
        tenant_id = warehouse.ids.next_id("tenants")
        with unit_of_work(warehouse) as uow:
            uow.connection.execute(
                sa.insert(tenants).values(
                    id=tenant_id, slug=SLUG, name="Bench Realty", timezone="UTC", created_at=now
                )
            )
            stages = [{"id": s, "name": s[2:], "position": i} for i, s in enumerate(STAGES)]
            GhlRecords(uow, tenant_id, load_cipher(settings), "sync").upsert_pipeline(
                {"id": "PIPE_bench", "name": "Buyers", "stages": stages}
            )
            write_settings(
                uow,
                tenant_id,
                {"ghl_ed25519_public_key": public.decode(), "location_ids": [LOCATION]},
                None,
            )
            made = create_api_key(
                uow, tenant_id, ApiKeyCreate(name="bench", role=Role.ADMIN), None, now
            )
    return made.key


def _events(count: int, seed: int) -> list[dict[str, Any]]:
    """A mix like a brokerage's feed: new contacts, deals moving, texts and calls."""
    rng = random.Random(seed)
    base = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    events: list[dict[str, Any]] = []
    for i in range(count):
        when = (base + dt.timedelta(seconds=i)).isoformat().replace("+00:00", "Z")
        contact = f"CON_{i // 3}"
        common = {"timestamp": when, "webhookId": f"bench-{seed}-{i}", "locationId": LOCATION}
        kind = rng.random()
        if kind < 0.4:
            events.append(
                common
                | {"type": "ContactCreate", "id": contact, "firstName": "Lee", "lastName": str(i),
                   "email": f"lee{i}@example.org", "phone": "+15125550100",
                   "source": rng.choice(["Zillow", "Website", "Referral", "Facebook ad"]),
                   "tags": ["buyer"], "assignedTo": f"USR_{i % 12}", "dateAdded": when}
            )  # fmt: skip
        elif kind < 0.7:
            events.append(
                common
                | {"type": "OpportunityStageUpdate", "id": f"OPP_{i // 3}", "contactId": contact,
                   "pipelineId": "PIPE_bench", "pipelineStageId": rng.choice(STAGES),
                   "status": "open", "monetaryValue": rng.randrange(200_000, 900_000),
                   "assignedTo": f"USR_{i % 12}", "dateAdded": when}
            )  # fmt: skip
        else:
            events.append(
                common
                | {"type": rng.choice(["InboundMessage", "OutboundMessage"]), "contactId": contact,
                   "conversationId": f"CNV_{i // 3}", "messageId": f"MSG_{seed}_{i}",
                   "messageType": rng.choice(["SMS", "Email", "CALL"]),
                   "direction": rng.choice(["inbound", "outbound"]), "body": "Saturday works",
                   "userId": f"USR_{i % 12}", "dateAdded": when}
            )  # fmt: skip
    return events


def _signed(
    key: ed25519.Ed25519PrivateKey, payload: dict[str, Any]
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return body, {
        "x-ghl-signature": base64.b64encode(key.sign(body)).decode(),
        "content-type": "application/json",
    }


async def _connection(
    host: str, port: int, requests: list[bytes], statuses: dict[int, int], next_index: list[int]
) -> None:
    """One keep-alive HTTP/1.1 connection sending requests one after another (a minimal
    client: httpx spends more CPU per request than the server does, on the same cores)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while next_index[0] < len(requests):
            request = requests[next_index[0]]
            next_index[0] += 1
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


def _raw_request(host: str, port: int, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [
        f"POST /api/v1/webhooks/ghl/{SLUG} HTTP/1.1",
        f"Host: {host}:{port}",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _flood(
    host: str, port: int, requests: list[tuple[bytes, dict[str, str]]], concurrency: int
) -> dict[str, Any]:
    raw = [_raw_request(host, port, body, headers) for body, headers in requests]
    statuses: dict[int, int] = {}
    next_index = [0]
    started = time.perf_counter()
    await asyncio.gather(
        *(_connection(host, port, raw, statuses, next_index) for _ in range(concurrency))
    )
    elapsed = time.perf_counter() - started
    accepted = statuses.get(200, 0)
    return {
        "sent": len(requests),
        "accepted": accepted,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "seconds": round(elapsed, 3),
        "accepted_per_second": round(accepted / elapsed, 1),
    }


def _leads(client: httpx.Client, api_key: str, period: dict[str, str] = _PERIOD) -> float:
    response = client.post(
        "/api/v1/metrics/query",
        json={"metrics": ["leads"], **period},
        headers={"X-API-Key": api_key},
    )
    response.raise_for_status()
    return float(response.json()["metrics"][0]["rows"][0]["value"] or 0)


def _wait_drained(client: httpx.Client, api_key: str, timeout: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        health = client.get("/api/v1/webhooks/health", headers={"X-API-Key": api_key}).json()
        if health["by_status"]["received"] == 0:
            return time.perf_counter() - started
        time.sleep(0.2)
    raise RuntimeError(f"the worker did not apply the backlog within {timeout:.0f} s")


def _visibility(
    client: httpx.Client,
    key: ed25519.Ed25519PrivateKey,
    api_key: str,
    samples: int,
    during: threading.Event | None = None,
) -> list[float]:
    """2xx-to-visible delays of `samples` new deals, one at a time. With `during` (set while
    the flood runs): deals of 2024, which no flood event is, counted in a 2024 period, sent
    until the event is cleared."""
    delays: list[float] = []
    year, name = (2024, "during") if during is not None else (2025, "visible")
    period = _PERIOD | {"start": f"{year}-01-01", "end": f"{year}-12-31", "as_of": f"{year}-12-31"}
    count = _leads(client, api_key, period)
    for i in range(samples):
        if during is not None and not during.is_set():
            break
        when = dt.datetime(year, 7, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=i)
        stamp = when.isoformat().replace("+00:00", "Z")
        body, headers = _signed(
            key,
            {"type": "OpportunityCreate", "timestamp": stamp, "webhookId": f"{name}-{i}",
             "locationId": LOCATION, "id": f"OPP_{name}_{i}", "contactId": f"CON_{name}_{i}",
             "pipelineId": "PIPE_bench", "pipelineStageId": "S_new", "status": "open",
             "monetaryValue": 400000, "dateAdded": stamp},
        )  # fmt: skip
        response = client.post(f"/api/v1/webhooks/ghl/{SLUG}", content=body, headers=headers)
        acknowledged = time.perf_counter()
        response.raise_for_status()
        while _leads(client, api_key, period) < count + 1:
            if time.perf_counter() - acknowledged > 120:
                raise RuntimeError("a webhook's deal was not visible through the API in 120 s")
        delays.append((time.perf_counter() - acknowledged) * 1000)
        count += 1
    return delays


def _start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "dealscope", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server stopped: " + log.read_text()[-2000:])
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start in 120 s: " + log.read_text()[-2000:])


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_ingest(
    events: int = 20_000,
    concurrency: int = 64,
    samples: int = 100,
    seed: int = 42,
    database_url: str | None = None,
) -> dict[str, Any]:
    """Run both phases (see the module doc) and return the figures."""
    key = ed25519.Ed25519PrivateKey.generate()
    with tempfile.TemporaryDirectory(prefix="dealscope-bench-ingest-") as tmp:
        data_dir = Path(tmp)
        url = database_url or f"duckdb:///{data_dir / 'warehouse.duckdb'}"
        api_key = _setup(url, data_dir, key)
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEALSCOPE_")}
        env |= {
            "DEALSCOPE_ENVIRONMENT": "test",
            "DEALSCOPE_DATA_DIR": str(data_dir),
            "DEALSCOPE_DATABASE_URL": url,
            "DEALSCOPE_WEBHOOK_RATE_LIMIT_PER_MINUTE": str(max(events * 10, 100_000)),
            "DEALSCOPE_RATE_LIMIT_PER_MINUTE": "1000000",
        }
        requests = [_signed(key, e) for e in _events(events, seed)]
        server = _start_server(env, port, data_dir / "server.log")
        base = f"http://127.0.0.1:{port}"
        try:
            flooding, during = threading.Event(), []

            def sample_during() -> None:
                with httpx.Client(base_url=base, timeout=60) as client:
                    during.extend(_visibility(client, key, api_key, 10_000, flooding))

            flooding.set()
            sampler = threading.Thread(target=sample_during, name="bench-during")
            sampler.start()
            try:
                flood = asyncio.run(_flood("127.0.0.1", port, requests, concurrency))
            finally:
                flooding.clear()
                sampler.join()
            with httpx.Client(base_url=base, timeout=60) as client:
                drain_seconds = _wait_drained(client, api_key, timeout=max(600.0, events / 20))
                delays = _visibility(client, key, api_key, samples)
        finally:
            server.terminate()
            server.wait(60)
    p50, p95 = _quantile(delays, 0.5), _quantile(delays, 0.95)
    return {
        "events": events,
        "concurrency": concurrency,
        "backend": "postgres" if url.startswith("postgresql") else "duckdb",
        "flood": flood,
        "backlog_applied_seconds": round(drain_seconds, 2),
        "applied_per_second_after_flood": round(events / (flood["seconds"] + drain_seconds), 1),
        "visibility_during_flood": {
            "samples": len(during),
            "p50_ms": round(_quantile(during, 0.5), 1) if during else None,
            "p95_ms": round(_quantile(during, 0.95), 1) if during else None,
            "max_ms": round(max(during), 1) if during else None,
        },
        "visibility": {
            "samples": samples,
            "p50_ms": round(p50, 1),
            "p95_ms": round(p95, 1),
            "max_ms": round(max(delays), 1),
        },
        "targets": {
            "accepted_per_second": TARGET_ACCEPTED_PER_SECOND,
            "visible_p95_ms": TARGET_VISIBLE_P95_MS,
        },
        "accepted_target_met": flood["accepted_per_second"] >= TARGET_ACCEPTED_PER_SECOND,
        "visible_target_met": p95 < TARGET_VISIBLE_P95_MS,
    }
