"""The ingest worker applies stored deliveries in batches (per tenant, one statement per table
where it can): whatever the batch size, the warehouse ends as if each event had been applied
alone; a batch with a bad event falls back to one event at a time."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from test_webhooks import EXPECTED_EVERY_TYPE, T0, _deal_stream, at, contact, deal, every_type
from webhook_kit import make_tenant, warehouse_state

from dealscope.config import Settings
from dealscope.ingest.ghl.events import parse_envelope
from dealscope.ingest.raw_store import IncomingEvent, store_events
from dealscope.ingest.worker import IngestWorker
from dealscope.kit.crypto import PiiCipher, load_cipher
from dealscope.warehouse import schema
from dealscope.warehouse.engine import Warehouse

NOW = T0 + dt.timedelta(days=30)


@pytest.fixture
def cipher(tmp_path: Path) -> PiiCipher:
    return load_cipher(Settings(_env_file=None, environment="test", data_dir=tmp_path))  # type: ignore[call-arg]


def _store(warehouse: Warehouse, tenant_id: int, payloads: list[dict[str, Any]]) -> None:
    events = []
    for payload in payloads:
        body = json.dumps(payload)
        envelope = parse_envelope(body.encode())
        events.append(
            IncomingEvent(
                tenant_id,
                "ghl",
                envelope.dedupe_key,
                body,
                NOW,
                event_type=envelope.event_type,
                occurred_at=envelope.occurred_at,
            )
        )
    store_events(warehouse, events)


def _drain(worker: IngestWorker) -> int:
    batches = 0
    while worker.process_batch():
        batches += 1
    return batches


def _statuses(warehouse: Warehouse, tenant_id: int) -> dict[str, tuple[str, str | None]]:
    with warehouse.engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                schema.raw_events.c.dedupe_key,
                schema.raw_events.c.status,
                schema.raw_events.c.error,
            ).where(schema.raw_events.c.tenant_id == tenant_id)
        )
        return {r.dedupe_key: (r.status, r.error) for r in rows}


def _data_version(warehouse: Warehouse, tenant_id: int) -> int:
    with warehouse.engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(schema.tenants.c.data_version).where(schema.tenants.c.id == tenant_id)
            ).scalar_one()
        )


def test_batches_of_any_size_end_as_events_applied_alone(
    warehouse: Warehouse, cipher: PiiCipher
) -> None:
    streams = {"every": every_type(), "deal": _deal_stream()}
    states: dict[tuple[str, str], dict[str, Any]] = {}
    # One event per transaction: the reference.
    for name, stream in streams.items():
        tenant = make_tenant(warehouse, f"single-{name}", cipher)
        _store(warehouse, tenant, stream)
        assert _drain(IngestWorker(warehouse, cipher, batch_size=1)) == len(stream)
        states[name, "single"] = warehouse_state(warehouse, tenant, cipher)
    # Batches of three.
    for name, stream in streams.items():
        tenant = make_tenant(warehouse, f"threes-{name}", cipher)
        _store(warehouse, tenant, stream)
        assert _drain(IngestWorker(warehouse, cipher, batch_size=3)) == -(-len(stream) // 3)
        states[name, "threes"] = warehouse_state(warehouse, tenant, cipher)
    # Both streams, two tenants, in one batch: one new data version each.
    tenants = {name: make_tenant(warehouse, f"whole-{name}", cipher) for name in streams}
    versions = {name: _data_version(warehouse, t) for name, t in tenants.items()}
    for name, stream in streams.items():
        _store(warehouse, tenants[name], stream)
    assert _drain(IngestWorker(warehouse, cipher, batch_size=500)) == 1
    for name, tenant in tenants.items():
        states[name, "whole"] = warehouse_state(warehouse, tenant, cipher)
        assert _data_version(warehouse, tenant) == versions[name] + 1
        statuses = {s for s, _ in _statuses(warehouse, tenant).values()}
        assert statuses == ({"processed", "ignored"} if name == "every" else {"processed"})

    # Out of order across batches: the later half first, then the earlier half and the
    # whole stream again as redeliveries under new webhook ids (duplicate observations).
    for name, stream in streams.items():
        tenant = make_tenant(warehouse, f"late-{name}", cipher)
        half = len(stream) // 2
        _store(warehouse, tenant, stream[half:])
        assert _drain(IngestWorker(warehouse, cipher, batch_size=500)) == 1
        again = [e | {"webhookId": f"again-{e['webhookId']}"} for e in stream]
        _store(warehouse, tenant, stream[:half] + again)
        assert _drain(IngestWorker(warehouse, cipher, batch_size=500)) == 1
        states[name, "late"] = warehouse_state(warehouse, tenant, cipher)

    assert states["every", "single"] == EXPECTED_EVERY_TYPE  # by hand, in test_webhooks
    for mode in ("threes", "whole", "late"):
        assert states["every", mode] == EXPECTED_EVERY_TYPE, mode
        assert states["deal", mode] == states["deal", "single"], mode
    history = [(r[1], r[2], r[5][11:16]) for r in states["deal", "whole"]["stage_history"]]
    assert sorted(history, key=lambda h: h[2]) == [
        (None, "new", "09:01"),
        ("new", "qualified", "09:03"),
        ("qualified", "showing", "09:04"),
        ("showing", "lost", "09:05"),
        ("lost", "showing", "09:06"),
        ("showing", "offer", "09:08"),
        (None, "new", "09:10"),
    ]


def test_a_batch_writes_each_table_with_few_statements(
    warehouse: Warehouse, cipher: PiiCipher
) -> None:
    """Forty new contacts, each with a message, in one batch: the contacts, messages and
    activities are not written row by row."""
    tenant = make_tenant(warehouse, "many", cipher)
    stream = []
    for i in range(40):
        stream.append(contact("ContactCreate", i, f"c-{i}", id=f"CON_{i}", email=f"p{i}@x.org"))
        stream.append(
            {"type": "InboundMessage", "timestamp": at(i + 0.5), "webhookId": f"m-{i}",
             "contactId": f"CON_{i}", "messageId": f"MSG_{i}", "messageType": "SMS",
             "direction": "inbound", "body": "hello", "dateAdded": at(i + 0.5)}
        )  # fmt: skip
    _store(warehouse, tenant, stream)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    sa.event.listen(warehouse.engine, "before_cursor_execute", count)
    try:
        assert _drain(IngestWorker(warehouse, cipher, batch_size=500)) == 1
    finally:
        sa.event.remove(warehouse.engine, "before_cursor_execute", count)
    # One by one it took over 300; ids are reserved with two statements per table.
    assert len(statements) < 30, "\n".join(s.split("(")[0][:60] for s in statements)
    state = warehouse_state(warehouse, tenant, cipher)
    assert len(state["contacts"]) == len(state["messages"]) == len(state["activities"]) == 40
    assert {c[3] for c in state["contacts"]} == {f"p{i}@x.org" for i in range(40)}
    assert {(a[0], a[1], a[4]) for a in state["activities"]} == {
        (f"message:MSG_{i}", f"CON_{i}", "sms") for i in range(40)
    }


def test_one_bad_event_does_not_sink_its_batch(warehouse: Warehouse, cipher: PiiCipher) -> None:
    tenant = make_tenant(warehouse, "bad", cipher)
    stream = [
        contact("ContactCreate", 0, "b-c1"),
        deal("OpportunityCreate", 1, "b-o1", "S_new"),
        deal("OpportunityCreate", 2, "b-o2", "S_never_synced", id="OPP_2"),
        contact("ContactUpdate", 3, "b-c2", firstName="Danielle"),
    ]
    _store(warehouse, tenant, stream)
    assert IngestWorker(warehouse, cipher, batch_size=500).process_batch() == 4
    statuses = _statuses(warehouse, tenant)
    assert statuses["wh:b-o2"][0] == "dead_letter"
    assert "pipeline stage 'S_never_synced' is not known" in (statuses["wh:b-o2"][1] or "")
    assert {k: s for k, (s, _) in statuses.items() if k != "wh:b-o2"} == dict.fromkeys(
        ["wh:b-c1", "wh:b-o1", "wh:b-c2"], "processed"
    )
    state = warehouse_state(warehouse, tenant, cipher)
    assert [(c[0], c[1]) for c in state["contacts"]] == [("CON_1", "Danielle")]
    assert [(o[0], o[3]) for o in state["opportunities"]] == [("OPP_1", "new")]
