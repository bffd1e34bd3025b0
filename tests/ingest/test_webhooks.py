"""GHL webhooks end to end: signed deliveries of every supported type, in both shapes, into
the exact warehouse rows; duplicates and reorderings; bad signatures; malformed JSON; dead
letters and their replay; the data version; the workflow and generic webhooks."""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from webhook_kit import (
    GENERIC_SECRET,
    LOCATION,
    OTHER_ED25519_KEY,
    WORKFLOW_SECRET,
    body_of,
    make_tenant,
    sign,
    warehouse_state,
)

from dealscope.api.app import create_app
from dealscope.api.auth.api_keys import create_api_key
from dealscope.api.auth.schemas import ApiKeyCreate
from dealscope.config import Settings
from dealscope.ingest.ghl.webhook_auth import sign_generic
from dealscope.kit.crypto import PiiCipher, load_cipher
from dealscope.kit.roles import Role
from dealscope.warehouse import schema
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.unit_of_work import unit_of_work

T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def at(minutes: float) -> str:
    return (T0 + dt.timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


# --- the app ---------------------------------------------------------------------------


class Hooks:
    """A started app over `warehouse` with tenant "acme" set up for webhooks."""

    def __init__(self, warehouse: Warehouse, client: TestClient, cipher: PiiCipher) -> None:
        self.warehouse = warehouse
        self.client = client
        self.cipher = cipher
        self.tenant_id = make_tenant(warehouse, "acme", cipher)
        self.admin_headers = {"X-API-Key": self.api_key(Role.ADMIN)}

    def api_key(self, role: Role) -> str:
        with unit_of_work(self.warehouse) as uow:
            made = create_api_key(
                uow, self.tenant_id, ApiKeyCreate(name=f"t-{role}", role=role), None, T0
            )
        return made.key

    def post(
        self, payload: dict[str, Any], scheme: str = "ed25519", slug: str = "acme"
    ) -> httpx.Response:
        body = body_of(payload)
        return self.client.post(
            f"/api/v1/webhooks/ghl/{slug}", content=body, headers=sign(body, scheme)
        )

    def settle(self) -> None:
        assert self.client.app.state.webhook_ingest.worker.wait_idle(30)  # type: ignore[attr-defined]

    def state(self) -> dict[str, Any]:
        return warehouse_state(self.warehouse, self.tenant_id, self.cipher)

    def raw(self) -> list[sa.Row[Any]]:
        with self.warehouse.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(schema.raw_events)
                    .where(schema.raw_events.c.tenant_id == self.tenant_id)
                    .order_by(schema.raw_events.c.id)
                )
            )

    def data_version(self) -> int:
        with self.warehouse.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(schema.tenants.c.data_version).where(
                        schema.tenants.c.id == self.tenant_id
                    )
                ).scalar_one()
            )


@pytest.fixture
def settings(warehouse: Warehouse, tmp_path: Any) -> Settings:
    return Settings(
        _env_file=None,
        environment="test",
        data_dir=tmp_path,
        database_url=warehouse.url,
        webhook_rate_limit_per_minute=100_000,
    )


@pytest.fixture
def hooks(warehouse: Warehouse, settings: Settings) -> Iterator[Hooks]:
    with TestClient(create_app(settings)) as client:
        yield Hooks(warehouse, client, load_cipher(settings))


# --- a realistic stream of events --------------------------------------------------------


def contact(kind: str, minutes: float, webhook: str, **fields: Any) -> dict[str, Any]:
    base = {
        "type": kind,
        "timestamp": at(minutes),
        "webhookId": webhook,
        "locationId": LOCATION,
        "id": "CON_1",
        "firstName": "Dana",
        "lastName": "Ruiz",
        "email": "dana@example.org",
        "phone": "+15125550142",
        "postalCode": "78704",
        "source": "Zillow Premier Agent",
        "tags": ["buyer"],
        "assignedTo": "USR_17",
        "dateAdded": at(0),
    }
    return base | fields


def deal(kind: str, minutes: float, webhook: str, stage: str, **fields: Any) -> dict[str, Any]:
    base = {
        "type": kind,
        "timestamp": at(minutes),
        "webhookId": webhook,
        "locationId": LOCATION,
        "id": "OPP_1",
        "contactId": "CON_1",
        "name": "12 Elm St - buyer",
        "pipelineId": "PIPE_buyers",
        "pipelineStageId": stage,
        "status": "open",
        "monetaryValue": 450000,
        "assignedTo": "USR_17",
        "source": "Zillow Premier Agent",
        "dateAdded": at(1),
    }
    return base | fields


def every_type() -> list[dict[str, Any]]:
    """One of each supported event (the appointment in the `data`-wrapped shape), and one
    type we do not process."""
    return [
        {"type": "UserCreate", "webhookId": "w-user", "locationId": LOCATION, "id": "USR_17",
         "firstName": "Sam", "lastName": "Lee", "email": "sam@acme.example",
         "timestamp": at(-10)},
        contact("ContactCreate", 0, "w-c1"),
        deal("OpportunityCreate", 1, "w-o1", "S_new"),
        {"type": "InboundMessage", "timestamp": at(2), "webhookId": "w-m1",
         "locationId": LOCATION, "contactId": "CON_1", "conversationId": "CNV_1",
         "messageId": "MSG_1", "messageType": "SMS", "direction": "inbound",
         "body": "Can we see the house Saturday?", "status": "delivered",
         "dateAdded": at(2)},
        {"type": "OutboundMessage", "timestamp": at(4), "webhookId": "w-m2",
         "locationId": LOCATION, "contactId": "CON_1", "conversationId": "CNV_1",
         "messageId": "MSG_2", "messageType": "CALL", "direction": "outbound",
         "userId": "USR_17", "source": "app", "callDuration": 125, "callStatus": "completed",
         "status": "completed", "dateAdded": at(4)},
        deal("OpportunityStageUpdate", 5, "w-o2", "S_contacted"),
        {"type": "AppointmentCreate", "webhookId": "w-a1", "timestamp": at(6),
         "data": {"locationId": LOCATION, "appointment": {
             "id": "APT_1", "calendarId": "CAL_1", "contactId": "CON_1",
             "title": "Showing at 12 Elm St", "appointmentStatus": "confirmed",
             "assignedUserId": "USR_17", "startTime": at(60 * 24),
             "endTime": at(60 * 24 + 30), "dateAdded": at(6)}}},
        {"type": "TaskCreate", "timestamp": at(7), "webhookId": "w-t1", "locationId": LOCATION,
         "id": "TASK_1", "contactId": "CON_1", "assignedTo": "USR_17",
         "title": "Send comps", "dateAdded": at(7)},
        {"type": "TaskComplete", "timestamp": at(8), "webhookId": "w-t2",
         "locationId": LOCATION, "id": "TASK_1", "contactId": "CON_1",
         "assignedTo": "USR_17", "title": "Send comps", "dateAdded": at(7)},
        {"type": "NoteCreate", "timestamp": at(9), "webhookId": "w-n1", "locationId": LOCATION,
         "id": "NOTE_1", "contactId": "CON_1", "body": "Pre-approved", "dateAdded": at(9)},
        contact("ContactTagUpdate", 10, "w-c2", tags=["buyer", "hot"]),
        deal("OpportunityStatusUpdate", 11, "w-o3", "S_closed", status="won",
             monetaryValue=455000),
        {"type": "InvoiceCreate", "timestamp": at(12), "webhookId": "w-inv",
         "locationId": LOCATION, "id": "INV_1"},
    ]  # fmt: skip


EXPECTED_EVERY_TYPE: dict[str, Any] = {
    "agents": [("USR_17", "Sam", "Lee", "sam@acme.example", True, at(-10)[:-1] + "+00:00")],
    "contacts": [
        ("CON_1", "Dana", "Ruiz", "dana@example.org", "+15125550142", "zillow",
         "Zillow Premier Agent", "USR_17", "buyer", "78704", ["buyer", "hot"],
         "2025-03-01T09:00:00+00:00", "2025-03-01T09:10:00+00:00", None),
    ],
    "opportunities": [
        ("OPP_1", "CON_1", "12 Elm St - buyer", "closed_won", "won", "455000.00", "zillow",
         "USR_17", "buyer", "2025-03-01T09:01:00+00:00", "2025-03-01T09:11:00+00:00",
         "2025-03-01T09:11:00+00:00", "2025-03-01T09:11:00+00:00", None),
    ],
    "stage_history": sorted(
        [
            ("OPP_1", None, "new", "open", "USR_17", "2025-03-01T09:01:00+00:00", "webhook"),
            ("OPP_1", "new", "contacted", "open", "USR_17", "2025-03-01T09:05:00+00:00",
             "webhook"),
            ("OPP_1", "contacted", "closed_won", "won", "USR_17",
             "2025-03-01T09:11:00+00:00", "webhook"),
        ],
        key=repr,
    ),
    "messages": sorted(
        [
            ("MSG_1", "CNV_1", "CON_1", None, "sms", "inbound",
             "Can we see the house Saturday?", "2025-03-01T09:02:00+00:00"),
            ("MSG_2", "CNV_1", "CON_1", "USR_17", "call", "outbound", None,
             "2025-03-01T09:04:00+00:00"),
        ],
        key=repr,
    ),
    "activities": sorted(
        [
            ("message:MSG_1", "CON_1", "OPP_1", None, "sms", "inbound", "delivered", None,
             "2025-03-01T09:02:00+00:00", None),
            ("message:MSG_2", "CON_1", "OPP_1", "USR_17", "call", "outbound", "completed", 125,
             "2025-03-01T09:04:00+00:00", None),
            ("task:TASK_1", "CON_1", "OPP_1", "USR_17", "task", None, "completed", None,
             "2025-03-01T09:07:00+00:00", None),
            ("note:NOTE_1", "CON_1", "OPP_1", None, "note", None, None, None,
             "2025-03-01T09:09:00+00:00", None),
        ],
        key=repr,
    ),
    "appointments": [
        ("APT_1", "CON_1", "OPP_1", "USR_17", "Showing at 12 Elm St", "showing", "confirmed",
         "2025-03-02T09:00:00+00:00", "2025-03-02T09:30:00+00:00"),
    ],
}  # fmt: skip


def test_every_supported_type_lands_in_the_warehouse(hooks: Hooks) -> None:
    version = hooks.data_version()
    for payload in every_type():
        response = hooks.post(payload)
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "accepted", "dedupe_key": f"wh:{payload['webhookId']}"}
    hooks.settle()
    assert hooks.state() == EXPECTED_EVERY_TYPE
    raw = hooks.raw()
    assert [r.status for r in raw] == ["processed"] * 12 + ["ignored"]
    assert all(r.attempts == 1 and r.latency_ms is not None and r.latency_ms >= 0 for r in raw)
    assert raw[6].event_type == "AppointmentCreate" and raw[6].headers["verified_by"] == (
        "x-ghl-signature"
    )
    assert hooks.data_version() > version  # caches refresh on the next request


def _deal_stream() -> list[dict[str, Any]]:
    """A deal walked forward with repeats, lost, reopened; a second deal; messages before
    the deal and the contact they belong to exist."""
    return [
        {"type": "InboundMessage", "timestamp": at(0.5), "webhookId": "r-m0",
         "locationId": LOCATION, "contactId": "CON_1", "conversationId": "CNV_1",
         "messageId": "MSG_0", "messageType": "Live Chat", "direction": "inbound",
         "body": "hi", "dateAdded": at(0.5)},
        contact("ContactCreate", 0, "r-c1"),
        deal("OpportunityCreate", 1, "r-o1", "S_new"),
        deal("OpportunityUpdate", 2, "r-o2", "S_new", monetaryValue=460000),
        deal("OpportunityStageUpdate", 3, "r-o3", "S_qualified"),
        {"type": "OutboundMessage", "timestamp": at(3.5), "webhookId": "r-m1",
         "locationId": LOCATION, "contactId": "CON_1", "conversationId": "CNV_1",
         "messageId": "MSG_1", "messageType": "SMS", "direction": "outbound",
         "source": "workflow", "userId": "USR_17", "body": "Thanks!",
         "dateAdded": at(3.5)},
        deal("OpportunityStageUpdate", 4, "r-o4", "S_showing"),
        deal("OpportunityStatusUpdate", 5, "r-o5", "S_showing", status="lost",
             lostReasonId="LR_price"),
        deal("OpportunityStatusUpdate", 6, "r-o6", "S_showing", status="open"),
        deal("OpportunityAssignedToUpdate", 7, "r-o7", "S_showing", assignedTo="USR_20"),
        deal("OpportunityStageUpdate", 8, "r-o8", "S_offer", assignedTo="USR_20"),
        contact("ContactUpdate", 9, "r-c2", email="dana.ruiz@example.org"),
        deal("OpportunityCreate", 10, "r-p1", "S_new", id="OPP_2", dateAdded=at(10)),
        {"type": "TaskCreate", "timestamp": at(11), "webhookId": "r-t1",
         "locationId": LOCATION, "id": "TASK_1", "contactId": "CON_1",
         "assignedTo": "USR_20", "dateAdded": at(11)},
        {"type": "TaskDelete", "timestamp": at(12), "webhookId": "r-t2",
         "locationId": LOCATION, "id": "TASK_1", "contactId": "CON_1",
         "assignedTo": "USR_20", "dateAdded": at(11)},
        deal("OpportunityDelete", 13, "r-p2", "S_new", id="OPP_2", dateAdded=at(10)),
    ]  # fmt: skip


def test_duplicates_and_reorderings_end_in_the_in_order_state(
    warehouse: Warehouse, settings: Settings
) -> None:
    """Each delivery is applied before the next arrives, so the worker sees them in the
    order sent: in order once, reversed with every event twice, and three shuffles."""
    events = _deal_stream()
    orders = {
        "inorder": events,
        "reversed": [e for e in reversed(events) for _ in range(2)],
        **{f"shuffle{seed}": random.Random(seed).sample(events, len(events)) for seed in range(3)},
    }
    cipher = load_cipher(settings)
    states = {}
    with TestClient(create_app(settings)) as client:
        worker = client.app.state.webhook_ingest.worker  # type: ignore[attr-defined]
        for slug, order in orders.items():
            tenant_id = make_tenant(warehouse, slug, cipher)
            for payload in order:
                body = body_of(payload)
                response = client.post(
                    f"/api/v1/webhooks/ghl/{slug}", content=body, headers=sign(body, "rsa")
                )
                assert response.status_code == 200, response.text
                assert worker.wait_idle(30)
            states[slug] = warehouse_state(warehouse, tenant_id, cipher)
    expected = states.pop("inorder")
    for slug, state in states.items():
        assert state == expected, slug
    # The in-order state itself, by hand: the deal's walk with the loss and the reopening.
    history = [(r[1], r[2], r[3], r[4], r[5][11:16]) for r in expected["stage_history"]]
    assert sorted(history, key=lambda h: h[4]) == [
        (None, "new", "open", "USR_17", "09:01"),
        ("new", "qualified", "open", "USR_17", "09:03"),
        ("qualified", "showing", "open", "USR_17", "09:04"),
        ("showing", "lost", "lost", "USR_17", "09:05"),
        ("lost", "showing", "open", "USR_17", "09:06"),
        ("showing", "offer", "open", "USR_20", "09:08"),
        (None, "new", "open", "USR_17", "09:10"),
    ]
    deals = {d[0]: d for d in expected["opportunities"]}
    # The latest state of OPP_1 (its value came back to 450,000 with the later events).
    assert deals["OPP_1"][3:8] == ("offer", "open", "450000.00", "zillow", "USR_20")
    assert deals["OPP_1"][12] is None  # reopened: not closed
    assert deals["OPP_2"][13] == "2025-03-01T09:13:00+00:00"  # deleted
    (person,) = expected["contacts"]
    assert person[3] == "dana.ruiz@example.org" and person[12] == "2025-03-01T09:09:00+00:00"
    acts = {a[0]: a for a in expected["activities"]}
    assert set(acts) == {"message:MSG_1", "task:TASK_1"}  # live chat is no call/sms/email
    assert acts["message:MSG_1"][3] is None  # a workflow's text is not an agent's outreach
    assert acts["message:MSG_1"][2] == "OPP_1"  # the deal that existed when it was sent
    assert acts["task:TASK_1"][2] == "OPP_2" and acts["task:TASK_1"][9] is not None


def test_signatures_are_checked_over_the_raw_body(hooks: Hooks) -> None:
    payload = contact("ContactCreate", 0, "s-1")
    body = body_of(payload)
    url = "/api/v1/webhooks/ghl/acme"
    wrong_key = {"x-ghl-signature": base64.b64encode(OTHER_ED25519_KEY.sign(body)).decode()}
    tampered = body.replace(b"Dana", b"Dina")
    cases = {
        "missing": (body, {}),
        "wrong key": (body, wrong_key),
        "tampered body": (tampered, sign(body)),
        "tampered rsa": (tampered, sign(body, "rsa")),
        "not base64": (body, {"x-ghl-signature": "%%%"}),
        "re-serialised": (json.dumps(payload, indent=2).encode(), sign(body)),
    }
    for name, (content, headers) in cases.items():
        response = hooks.client.post(url, content=content, headers=headers)
        assert response.status_code == 401, name
        assert set(response.json()) == {"error", "detail"}, name
        assert response.json()["error"] == "not_authenticated"
    assert (
        "does not match"
        in hooks.client.post(url, content=tampered, headers=sign(body)).json()["detail"]
    )
    workflow = "/api/v1/webhooks/ghl/acme/workflow"
    for secret in (None, "x" * 40):
        headers = {} if secret is None else {"X-DealScope-Webhook-Secret": secret}
        assert hooks.client.post(workflow, content=body, headers=headers).status_code == 401
    generic = "/api/v1/webhooks/generic/acme"
    assert hooks.client.post(generic, content=body, headers={}).status_code == 401
    bad = {"X-DealScope-Signature": sign_generic(body, "another-secret-0123456789")}
    assert hooks.client.post(generic, content=body, headers=bad).status_code == 401
    assert hooks.raw() == []  # nothing unauthenticated is stored
    # Another location's event, correctly signed (GHL's key is the same for every app).
    elsewhere = body_of(contact("ContactCreate", 0, "s-2", locationId="LOC_other"))
    response = hooks.client.post(url, content=elsewhere, headers=sign(elsewhere))
    assert response.status_code == 403 and "LOC_other" in response.json()["detail"]
    assert (
        hooks.client.post(
            "/api/v1/webhooks/ghl/nobody", content=body, headers=sign(body)
        ).status_code
        == 404
    )
    # Both schemes accepted with the right keys; a redelivery is acknowledged, stored once.
    assert hooks.post(payload, "rsa").json()["status"] == "accepted"
    assert hooks.post(payload, "ed25519").json()["status"] == "duplicate"
    hooks.settle()
    assert [r.headers["verified_by"] for r in hooks.raw()] == ["x-wh-signature"]


def test_malformed_json_is_refused_and_kept_as_a_dead_letter(hooks: Hooks) -> None:
    for body in (b'{"type": "ContactCreate", "id": ', b"[1, 2]", b"\xff\xfe"):
        response = hooks.client.post("/api/v1/webhooks/ghl/acme", content=body, headers=sign(body))
        assert response.status_code == 400, body
        assert response.json()["error"] == "validation_failed"
    hooks.settle()
    raw = hooks.raw()
    assert [r.status for r in raw] == ["dead_letter"] * 3
    assert "not valid JSON" in raw[0].error and "JSON object" in raw[1].error
    state = hooks.state()
    assert all(rows == [] for rows in state.values()), state


def test_a_payload_that_fails_is_a_dead_letter_until_replayed(
    hooks: Hooks, warehouse: Warehouse
) -> None:
    bad_stage = deal("OpportunityCreate", 1, "d-1", "S_unknown")
    no_id = {"type": "ContactCreate", "timestamp": at(1), "webhookId": "d-2",
             "locationId": LOCATION, "firstName": "Nobody"}  # fmt: skip
    good = contact("ContactCreate", 0, "d-3")
    for payload in (bad_stage, no_id, good):
        assert hooks.post(payload).status_code == 200
    hooks.settle()
    by_key = {r.dedupe_key: r for r in hooks.raw()}
    assert by_key["wh:d-3"].status == "processed"
    assert by_key["wh:d-1"].status == "dead_letter"
    assert "pipeline stage 'S_unknown' is not known" in by_key["wh:d-1"].error
    assert by_key["wh:d-2"].status == "dead_letter" and "'id' is missing" in by_key["wh:d-2"].error
    assert [c[0] for c in hooks.state()["contacts"]] == ["CON_1"]
    assert hooks.state()["opportunities"] == []
    listed = hooks.client.get(
        "/api/v1/webhooks/events", params={"status": "dead_letter"}, headers=hooks.admin_headers
    )
    assert listed.status_code == 200
    assert {e["dedupe_key"] for e in listed.json()} == {"wh:d-1", "wh:d-2"}
    health = hooks.client.get("/api/v1/webhooks/health", headers=hooks.admin_headers).json()
    assert health["by_status"] == {"received": 0, "processed": 1, "ignored": 0, "dead_letter": 2}
    assert health["dead_letters"] == 2 and health["latency_p50_ms"] is not None
    viewer = {"X-API-Key": hooks.api_key(Role.VIEWER)}
    assert hooks.client.get("/api/v1/webhooks/events", headers=viewer).status_code == 403
    # The stage gets synced; the admin replays the dead letters.
    from dealscope.ingest.ghl.records import GhlRecords

    with unit_of_work(warehouse) as uow:
        stage = {"id": "S_unknown", "name": "Offer", "position": 9}
        GhlRecords(uow, hooks.tenant_id, hooks.cipher, "sync").upsert_pipeline(
            {"id": "PIPE_buyers", "name": "Buyers", "stages": [stage]}
        )
    replay = hooks.client.post(
        "/api/v1/webhooks/dead-letters/replay", json={}, headers=hooks.admin_headers
    )
    assert replay.status_code == 200 and replay.json() == {"requeued": 2}
    hooks.settle()
    by_key = {r.dedupe_key: r for r in hooks.raw()}
    assert by_key["wh:d-1"].status == "processed" and by_key["wh:d-1"].attempts == 2
    assert by_key["wh:d-2"].status == "dead_letter" and by_key["wh:d-2"].attempts == 2
    (opportunity,) = hooks.state()["opportunities"]
    assert opportunity[0] == "OPP_1" and opportunity[3] == "offer"


def test_workflow_and_generic_webhooks(hooks: Hooks) -> None:
    workflow = {"contact_id": "CON_W", "first_name": "Lee", "last_name": "Park",
                "email": "lee@example.org", "tags": "seller, valuation",
                "contact_source": "Open house sign-in", "location": {"id": LOCATION}}  # fmt: skip
    response = hooks.client.post(
        "/api/v1/webhooks/ghl/acme/workflow",
        content=body_of(workflow),
        headers={"X-DealScope-Webhook-Secret": WORKFLOW_SECRET},
    )
    assert response.status_code == 200 and response.json()["dedupe_key"].startswith("sha256:")
    record = {"id": "OPP_G", "contactId": "CON_W", "pipelineStageId": "S_offer",
              "status": "open", "monetaryValue": "300000", "dateAdded": at(20)}  # fmt: skip
    event = {"id": "evt_1", "type": "deal.updated", "occurred_at": at(30), "data": record}
    body = body_of(event)
    response = hooks.client.post(
        "/api/v1/webhooks/generic/acme",
        content=body,
        headers={"X-DealScope-Signature": sign_generic(body, GENERIC_SECRET)},
    )
    assert response.json() == {"status": "accepted", "dedupe_key": "id:evt_1"}
    hooks.settle()
    state = hooks.state()
    (person,) = state["contacts"]
    assert person[:7] == ("CON_W", "Lee", "Park", "lee@example.org", None, "open_house",
                          "Open house sign-in")  # fmt: skip
    assert person[8] == "seller" and person[10] == ["seller", "valuation"]
    (opportunity,) = state["opportunities"]
    assert opportunity[:6] == ("OPP_G", "CON_W", None, "offer", "open", "300000.00")


def test_over_real_http(
    warehouse: Warehouse, settings: Settings, serve_api: Callable[[Settings], str]
) -> None:
    url = serve_api(settings)
    cipher = load_cipher(settings)
    tenant_id = make_tenant(warehouse, "acme", cipher)
    with httpx.Client(base_url=url) as http:
        for payload in every_type():
            body = body_of(payload)
            response = http.post("/api/v1/webhooks/ghl/acme", content=body, headers=sign(body))
            assert response.status_code == 200, response.text
        deadline = dt.datetime.now() + dt.timedelta(seconds=30)
        while warehouse_state(warehouse, tenant_id, cipher) != EXPECTED_EVERY_TYPE:
            assert dt.datetime.now() < deadline, "not applied within 30 s"


def test_oversized_and_over_the_limit_deliveries_are_refused(
    warehouse: Warehouse, settings: Settings
) -> None:
    limited = settings.model_copy(update={"webhook_rate_limit_per_minute": 2})
    with TestClient(create_app(limited)) as client:
        make_tenant(warehouse, "acme", load_cipher(limited))
        huge = b'{"type":"ContactCreate","pad":"' + b"x" * 1_000_001 + b'"}'
        response = client.post("/api/v1/webhooks/ghl/acme", content=huge, headers=sign(huge))
        assert response.status_code == 413 and response.json()["error"] == "payload_too_large"
        body = body_of(contact("ContactCreate", 0, "limit-1"))
        answers = [
            client.post("/api/v1/webhooks/ghl/acme", content=body, headers=sign(body))
            for _ in range(3)
        ]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[1].json()["status"] == "duplicate"
        assert answers[2].json()["error"] == "rate_limited"
        assert int(answers[2].headers["retry-after"]) >= 1


def test_without_encryption_keys_deliveries_are_refused_not_stored(
    warehouse: Warehouse, settings: Settings
) -> None:
    production = settings.model_copy(
        update={"environment": "production", "jwt_secret": "j" * 40, "webhook_secret": "w" * 40}
    )
    with TestClient(create_app(production)) as client:
        make_tenant(warehouse, "acme", PiiCipher([Fernet.generate_key()], b"k"))
        body = body_of(contact("ContactCreate", 0, "nokeys"))
        response = client.post("/api/v1/webhooks/ghl/acme", content=body, headers=sign(body))
    assert response.status_code == 503
    assert "DEALSCOPE_PII_KEYS" in response.json()["detail"]
    with warehouse.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.raw_events)).scalar() == 0
