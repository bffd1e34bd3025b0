"""The generic signed JSON webhook, for CRMs other than GHL.

A delivery is one JSON object:

    {"id": "evt_123",                       # unique per event: redeliveries are dropped
     "type": "contact.updated",             # <record>.<updated|deleted>, see RECORDS
     "occurred_at": "2025-03-04T15:02:11Z", # when the record was in this state
     "data": {...}}                         # the record, with GHL's field names

signed with `X-DealScope-Signature: sha256=<hex HMAC-SHA256 of the raw body>` under the
tenant's generic secret. Records use GHL's camelCase fields (`id`, `contactId`,
`pipelineStageId`, `status`, `monetaryValue`, `assignedTo`, `dateAdded`, ...), so the same
upserts apply and the same ordering rules hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from dealscope.errors import ValidationFailed
from dealscope.ingest.ghl.events import parse_body
from dealscope.ingest.ghl.records import GhlRecords, Outcome
from dealscope.ingest.ghl.values import parse_time

RECORDS = ("contact", "deal", "message", "appointment", "task", "note", "user")


def dedupe_key(document: Mapping[str, Any]) -> str:
    event_id = document.get("id")
    if not isinstance(event_id, str) or not event_id.strip():
        raise ValidationFailed("'id' (the event's unique id) is missing or not a string")
    return f"id:{event_id.strip()}"[:128]


def event_time(document: Mapping[str, Any]) -> dt.datetime | None:
    return parse_time(document.get("occurred_at"), "occurred_at")


def apply_generic(
    records: GhlRecords, body: str | bytes, received_at: dt.datetime
) -> Outcome | None:
    """Apply one generic event; None for a type we do not process."""
    document = parse_body(body.encode() if isinstance(body, str) else body)
    kind, _, action = str(document.get("type") or "").partition(".")
    if kind not in RECORDS or action not in ("created", "updated", "deleted", "completed"):
        return None
    data = document.get("data")
    if not isinstance(data, Mapping):
        raise ValidationFailed("'data' (the record) is missing or not an object")
    at = event_time(document) or received_at
    deleted = action == "deleted"
    if kind == "contact":
        return records.upsert_contact(data, observed_at=at, deleted=deleted)
    if kind == "deal":
        return records.upsert_opportunity(data, observed_at=at, deleted=deleted)
    if kind == "message":
        return records.upsert_message(data, observed_at=at)
    if kind == "appointment":
        return records.upsert_appointment(data, observed_at=at, deleted=deleted)
    if kind == "task":
        completed = True if action == "completed" else None
        return records.upsert_task(data, observed_at=at, completed=completed, deleted=deleted)
    if kind == "note":
        return records.upsert_note(data, observed_at=at, deleted=deleted)
    return records.upsert_user(data, observed_at=at, deleted=deleted)
