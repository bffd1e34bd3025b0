"""GHL webhook events: reading a delivery (flat or `data`-wrapped) and applying it.

`parse_envelope` runs on the request path (cheap: JSON, type, ids, time) so the raw event can
be stored with its dedupe key and event time; `apply_event` runs in the ingest worker and
writes the warehouse through `records.GhlRecords`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dealscope.errors import ValidationFailed
from dealscope.ingest.ghl.records import GhlRecords, Outcome
from dealscope.ingest.ghl.values import parse_time

CONTACT_EVENTS = frozenset(
    {"ContactCreate", "ContactUpdate", "ContactDelete", "ContactTagUpdate", "ContactDndUpdate"}
)
OPPORTUNITY_EVENTS = frozenset(
    {
        "OpportunityCreate",
        "OpportunityUpdate",
        "OpportunityDelete",
        "OpportunityStageUpdate",
        "OpportunityStatusUpdate",
        "OpportunityMonetaryValueUpdate",
        "OpportunityAssignedToUpdate",
    }
)
MESSAGE_EVENTS = frozenset({"InboundMessage", "OutboundMessage"})
APPOINTMENT_EVENTS = frozenset({"AppointmentCreate", "AppointmentUpdate", "AppointmentDelete"})
TASK_EVENTS = frozenset({"TaskCreate", "TaskComplete", "TaskDelete"})
NOTE_EVENTS = frozenset({"NoteCreate", "NoteUpdate", "NoteDelete"})
USER_EVENTS = frozenset({"UserCreate"})
WORKFLOW_EVENT = "WorkflowContact"  # our name for a workflow webhook's contact dump
SUPPORTED_EVENTS = (
    CONTACT_EVENTS
    | OPPORTUNITY_EVENTS
    | MESSAGE_EVENTS
    | APPOINTMENT_EVENTS
    | TASK_EVENTS
    | NOTE_EVENTS
    | USER_EVENTS
    | {WORKFLOW_EVENT}
)


@dataclass(frozen=True)
class Envelope:
    """What the request path needs of a delivery."""

    event_type: str | None
    dedupe_key: str  # webhookId, else sha256 of the body
    occurred_at: dt.datetime | None  # the delivery's `timestamp`
    location_id: str | None
    payload: dict[str, Any]  # the event's fields, flat


def _flatten(document: Mapping[str, Any]) -> dict[str, Any]:
    """Flat fields; a `data` object (the integration guide's sample shape) is merged in."""
    flat = {k: v for k, v in document.items() if k != "data"}
    data = document.get("data")
    if isinstance(data, Mapping):
        for key, value in data.items():
            flat.setdefault(key, value)
    elif "data" in document:
        flat["data"] = data
    return flat


def parse_body(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationFailed(f"the body is not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise ValidationFailed("the body must be a JSON object")
    return document


def parse_envelope(body: bytes, workflow: bool = False) -> Envelope:
    """Read a delivery. A workflow webhook's body (a contact's "standard data", snake_case)
    becomes a `WorkflowContact` event unless it names a GHL `type` itself."""
    document = _flatten(parse_body(body))
    event_type = document.get("type")
    if workflow and not isinstance(event_type, str):
        event_type = WORKFLOW_EVENT
    if event_type is not None and not isinstance(event_type, str):
        raise ValidationFailed("'type' must be a string")
    webhook_id = document.get("webhookId")
    dedupe = (
        f"wh:{webhook_id}"[:128]
        if isinstance(webhook_id, str) and webhook_id
        else "sha256:" + hashlib.sha256(body).hexdigest()
    )
    try:
        occurred_at = parse_time(document.get("timestamp"), "timestamp")
    except ValidationFailed:
        occurred_at = None  # a bad timestamp is reported when the event is applied
    location = document.get("locationId")
    if location is None and isinstance(document.get("location"), Mapping):
        location = document["location"].get("id")
    return Envelope(
        event_type=event_type,
        dedupe_key=dedupe,
        occurred_at=occurred_at,
        location_id=str(location) if location is not None else None,
        payload=document,
    )


def _workflow_contact(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A workflow webhook's standard contact data in the marketplace contact shape."""
    contact = doc.get("contact") if isinstance(doc.get("contact"), Mapping) else {}
    attribution = (contact or {}).get("attributionSource")
    full_name = doc.get("full_name") or doc.get("name")
    return {
        "id": doc.get("contact_id") or doc.get("id"),
        "firstName": doc.get("first_name"),
        "lastName": doc.get("last_name"),
        "name": full_name,
        "email": doc.get("email"),
        "phone": doc.get("phone"),
        "source": doc.get("contact_source") or doc.get("source"),
        "tags": [t.strip() for t in doc["tags"].split(",")]
        if isinstance(doc.get("tags"), str)
        else doc.get("tags"),
        "postalCode": doc.get("postal_code"),
        "city": doc.get("city"),
        "assignedTo": doc.get("assigned_to") or doc.get("assignedTo"),
        "dateAdded": doc.get("date_created") or doc.get("dateAdded"),
        "attributionSource": attribution,
    }


Handler = Callable[[GhlRecords, dict[str, Any], str, dt.datetime], Outcome]


def _contact(r: GhlRecords, p: dict[str, Any], kind: str, at: dt.datetime) -> Outcome:
    return r.upsert_contact(p, observed_at=at, deleted=kind == "ContactDelete")


def _opportunity(r: GhlRecords, p: dict[str, Any], kind: str, at: dt.datetime) -> Outcome:
    return r.upsert_opportunity(p, observed_at=at, deleted=kind == "OpportunityDelete")


def _message(r: GhlRecords, p: dict[str, Any], kind: str, at: dt.datetime) -> Outcome:
    return r.upsert_message(p, observed_at=at)


def _appointment(r: GhlRecords, p: dict[str, Any], kind: str, at: dt.datetime) -> Outcome:
    appointment = p.get("appointment")
    if not isinstance(appointment, Mapping):
        raise ValidationFailed(f"{kind}: the 'appointment' object is missing")
    return r.upsert_appointment(appointment, observed_at=at, deleted=kind == "AppointmentDelete")


def _task(r: GhlRecords, p: dict[str, Any], kind: str, at: dt.datetime) -> Outcome:
    completed = True if kind == "TaskComplete" else None
    return r.upsert_task(p, observed_at=at, completed=completed, deleted=kind == "TaskDelete")


def _note(r: GhlRecords, p: dict[str, Any], kind: str, at: dt.datetime) -> Outcome:
    return r.upsert_note(p, observed_at=at, deleted=kind == "NoteDelete")


def _user(r: GhlRecords, p: dict[str, Any], kind: str, at: dt.datetime) -> Outcome:
    return r.upsert_user(p, observed_at=at)


def _workflow(r: GhlRecords, p: dict[str, Any], kind: str, at: dt.datetime) -> Outcome:
    return r.upsert_contact(_workflow_contact(p), observed_at=at)


HANDLERS: dict[str, Handler] = {
    **dict.fromkeys(CONTACT_EVENTS, _contact),
    **dict.fromkeys(OPPORTUNITY_EVENTS, _opportunity),
    **dict.fromkeys(MESSAGE_EVENTS, _message),
    **dict.fromkeys(APPOINTMENT_EVENTS, _appointment),
    **dict.fromkeys(TASK_EVENTS, _task),
    **dict.fromkeys(NOTE_EVENTS, _note),
    **dict.fromkeys(USER_EVENTS, _user),
    WORKFLOW_EVENT: _workflow,
}


def apply_event(
    records: GhlRecords, body: str | bytes, received_at: dt.datetime, workflow: bool = False
) -> Outcome | None:
    """Apply one stored delivery; None when its type is not one we process. The event's
    `timestamp` orders it against other deliveries about the same record (receipt time when
    it has none). Raises ValidationFailed for a payload that cannot be applied."""
    raw = body.encode() if isinstance(body, str) else body
    envelope = parse_envelope(raw, workflow=workflow)
    handler = HANDLERS.get(envelope.event_type or "")
    if handler is None:
        return None
    at = parse_time(envelope.payload.get("timestamp"), "timestamp") or received_at
    return handler(records, envelope.payload, envelope.event_type or "", at)
