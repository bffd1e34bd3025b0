"""What survives: a server killed with SIGKILL during a webhook flood loses no delivery it
acknowledged; `dealscope ingest replay` applies dead letters again when no server runs."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from webhook_kit import LOCATION, body_of, make_tenant, sign

from dealscope.api.app import create_app
from dealscope.cli import app
from dealscope.config import Settings
from dealscope.ingest.ghl.records import GhlRecords
from dealscope.ingest.raw_store import IncomingEvent, store_events
from dealscope.ingest.worker import IngestWorker
from dealscope.kit.crypto import load_cipher
from dealscope.warehouse import schema
from dealscope.warehouse.engine import open_warehouse
from dealscope.warehouse.migrate import upgrade
from dealscope.warehouse.unit_of_work import unit_of_work

NOW = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def _contact_event(number: int) -> dict[str, object]:
    return {
        "type": "ContactCreate",
        "timestamp": f"2025-03-01T09:{number // 600 % 60:02d}:{number // 10 % 60:02d}Z",
        "webhookId": f"flood-{number}",
        "locationId": LOCATION,
        "id": f"CON_{number}",
        "firstName": "Flood",
        "lastName": str(number),
        "source": "Website",
        "dateAdded": "2025-03-01T09:00:00Z",
    }


def _start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "dealscope", "serve", "--port", str(port)],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise AssertionError("the server did not start: " + log.read_text()[-3000:])


def test_sigkill_during_a_flood_loses_no_acknowledged_event(
    tmp_path: Path, free_port: Callable[[], int]
) -> None:
    database = tmp_path / "warehouse.duckdb"
    url = f"duckdb:///{database}"
    settings = Settings(_env_file=None, environment="test", data_dir=tmp_path, database_url=url)
    with open_warehouse(url) as warehouse:
        upgrade(warehouse)
        tenant_id = make_tenant(warehouse, "acme", load_cipher(settings))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DEALSCOPE_")},
        "DEALSCOPE_ENVIRONMENT": "test",
        "DEALSCOPE_DATA_DIR": str(tmp_path),
        "DEALSCOPE_DATABASE_URL": url,
        "DEALSCOPE_WEBHOOK_RATE_LIMIT_PER_MINUTE": "1000000",
    }
    port = free_port()
    log = tmp_path / "server.log"
    server = _start_server(env, port, log)
    acknowledged: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def flood(worker: int) -> None:
        number = worker
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            while not stop.is_set():
                payload = _contact_event(number)
                body = body_of(payload)
                try:
                    response = http.post(
                        "/api/v1/webhooks/ghl/acme", content=body, headers=sign(body)
                    )
                except httpx.HTTPError:
                    return  # the server is gone: this one was never acknowledged
                if response.status_code == 200:
                    with lock:
                        acknowledged.add(str(payload["webhookId"]))
                number += 8

    threads = [threading.Thread(target=flood, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 400 and time.monotonic() < deadline:
        time.sleep(0.02)
    server.send_signal(signal.SIGKILL)
    server.wait(10)
    stop.set()
    for thread in threads:
        thread.join(10)
    assert len(acknowledged) >= 400, log.read_text()[-3000:]

    with open_warehouse(url) as warehouse, warehouse.engine.connect() as conn:
        stored = dict(
            conn.execute(
                sa.select(schema.raw_events.c.dedupe_key, schema.raw_events.c.status).where(
                    schema.raw_events.c.tenant_id == tenant_id
                )
            ).all()
        )
    assert {f"wh:{w}" for w in acknowledged} <= set(stored)  # every 2xx was durable
    assert "received" in stored.values()  # some were not applied yet when it died
    # Restarted (in process: the same app `dealscope serve` runs), the server applies
    # whatever the killed one had not.
    with TestClient(create_app(settings)) as client:
        assert client.app.state.webhook_ingest.worker.wait_idle(60)  # type: ignore[attr-defined]
        warehouse = client.app.state.warehouse  # type: ignore[attr-defined]
        with warehouse.engine.connect() as conn:
            statuses = dict(
                conn.execute(
                    sa.select(schema.raw_events.c.dedupe_key, schema.raw_events.c.status).where(
                        schema.raw_events.c.tenant_id == tenant_id
                    )
                ).all()
            )
            contacts = set(
                conn.execute(
                    sa.select(schema.contacts.c.external_id).where(
                        schema.contacts.c.tenant_id == tenant_id
                    )
                ).scalars()
            )
    assert set(statuses.values()) == {"processed"}
    assert {f"CON_{w.split('-')[1]}" for w in acknowledged} <= contacts
    assert len(contacts) == len(statuses)


def test_ingest_replay_applies_dead_letters_when_no_server_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    monkeypatch.setenv("DEALSCOPE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DEALSCOPE_DATABASE_URL", url)
    monkeypatch.setenv("DEALSCOPE_ENVIRONMENT", "test")
    settings = Settings(_env_file=None, environment="test", data_dir=tmp_path, database_url=url)
    cipher = load_cipher(settings)
    deal = {"type": "OpportunityCreate", "timestamp": "2025-03-01T09:00:00Z",
            "webhookId": "late-stage", "locationId": LOCATION, "id": "OPP_9",
            "contactId": "CON_9", "pipelineStageId": "S_new_stage", "status": "open",
            "dateAdded": "2025-03-01T09:00:00Z"}  # fmt: skip
    with open_warehouse(url) as warehouse:
        upgrade(warehouse)
        tenant_id = make_tenant(warehouse, "acme", cipher)
        store_events(
            warehouse,
            [IncomingEvent(tenant_id, "ghl", "wh:late-stage", json.dumps(deal), NOW)],
        )
        IngestWorker(warehouse, cipher).process_batch()
    runner = CliRunner()
    first = runner.invoke(app, ["ingest", "replay", "--tenant", "acme"])
    assert first.exit_code == 0, first.output
    assert "Replayed 1 dead letters: 0 applied." in first.output
    assert "pipeline stage 'S_new_stage' is not known" in first.output
    with open_warehouse(url) as warehouse, unit_of_work(warehouse) as uow:  # the stage is synced
        GhlRecords(uow, tenant_id, cipher, "sync").upsert_pipeline(
            {"id": "PIPE_buyers", "stages": [{"id": "S_new_stage", "name": "Under contract"}]}
        )
    second = runner.invoke(app, ["ingest", "replay"])
    assert second.exit_code == 0, second.output
    assert "Replayed 1 dead letters: 1 applied." in second.output
    with open_warehouse(url) as warehouse, warehouse.engine.connect() as conn:
        event = conn.execute(sa.select(schema.raw_events)).one()
        deal_row = conn.execute(sa.select(schema.opportunities)).one()
    assert (event.status, event.attempts, event.error) == ("processed", 3, None)
    assert (deal_row.external_id, deal_row.stage_key) == ("OPP_9", "under_contract")
