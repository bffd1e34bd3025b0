"""A GHL location in REST v2 shapes, built by rules simple enough to count by hand (the
sync's tests assert warehouse states from them; the benchmark scales them up).

- 1 pipeline "Buyers" with 5 stages: New Lead, Contacted, Showing Scheduled, Under
  Contract, Closed (our keys: new, contacted, showing, under_contract, closed_won).
- 3 users: Ann Lee, Bob Diaz, and Cat Wu (deleted).
- `contacts` contacts C0000...: even ones assigned to Ann, odd ones to Bob; dateUpdated one
  minute apart, except C0009, C0010 and C0011, which share one (a tie across the boundary
  of pages of 10). Every 5th has `attributionSource` (facebook / paid_social, fbclid);
  every 5th + 1 has `attributions[]` (google / cpc, gclid); the rest none.
- `opportunities` deals O0000...: deal i belongs to contact 2i, sits in stage i % 5, is won
  in "Closed", lost when i % 11 == 0 (and not closed), else open.
- messages: conversation CV00 of contact C0000 has `big_conversation` messages; CV01..CV(n)
  of contacts C0001... have 3 each (inbound SMS, outbound SMS by Ann, outbound email).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dealscope.bench.ghl_server import FakeGhl, iso

BASE = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
PIPELINE_ID = "PIPE_buy"
STAGES = [
    ("S_new", "New Lead"),
    ("S_cont", "Contacted"),
    ("S_show", "Showing Scheduled"),
    ("S_uc", "Under Contract"),
    ("S_closed", "Closed"),
]
STAGE_KEYS = {
    "S_new": "new",
    "S_cont": "contacted",
    "S_show": "showing",
    "S_uc": "under_contract",
    "S_closed": "closed_won",
}
USERS: list[dict[str, Any]] = [
    {"id": "U_ann", "name": "Ann Lee", "firstName": "Ann", "lastName": "Lee",
     "email": "ann@brokerage.example", "phone": "+15125550100",
     "roles": {"type": "account", "role": "user", "locationIds": ["LOC_test"]}},
    {"id": "U_bob", "name": "Bob Diaz", "firstName": "Bob", "lastName": "Diaz",
     "email": "bob@brokerage.example",
     "roles": {"type": "account", "role": "admin", "locationIds": ["LOC_test"]}},
    {"id": "U_cat", "name": "Cat Wu", "firstName": "Cat", "lastName": "Wu",
     "email": "cat@brokerage.example", "deleted": True,
     "roles": {"type": "account", "role": "user", "locationIds": ["LOC_test"]}},
]  # fmt: skip
SOURCES = ["Zillow Premier Agent", "Website - home valuation", "Facebook Lead Ad", None]


def contact_updated(i: int) -> dt.datetime:
    minutes = 9 if i in (9, 10, 11) else i
    return BASE + dt.timedelta(minutes=minutes, seconds=30)


def contact(
    i: int, updated: dt.datetime | None = None, last_name: str | None = None
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": f"C{i:04d}",
        "locationId": "LOC_test",
        "firstName": f"First{i}",
        "lastName": last_name or f"Last{i}",
        "email": f"c{i}@example.org",
        "phone": f"+1512555{i:04d}",
        "source": SOURCES[i % 4],
        "assignedTo": "U_ann" if i % 2 == 0 else "U_bob",
        "tags": ["buyer"] if i % 3 == 0 else ["seller"],
        "postalCode": f"787{i % 50:02d}",
        "city": "Austin",
        "dateAdded": iso(BASE + dt.timedelta(minutes=i)),
        "dateUpdated": iso(updated or contact_updated(i)),
        "customFields": [{"id": "CF_timeline", "value": "3-6 months"}],
    }
    if i % 5 == 0:
        record["attributionSource"] = {
            "utmSource": "facebook", "utmMedium": "paid_social", "campaign": "spring_sellers",
            "fbclid": f"fb{i}", "url": "https://brokerage.example/valuation",
        }  # fmt: skip
    elif i % 5 == 1:
        record["attributions"] = [
            {"utmSource": "google", "utmMedium": "cpc", "campaign": "buyers_78704",
             "gclid": f"g{i}", "isFirst": True}
        ]  # fmt: skip
    return record


def opportunity_status(i: int, stage_index: int) -> str:
    if STAGES[stage_index][0] == "S_closed":
        return "won"
    return "lost" if i % 11 == 0 else "open"


def opportunity(
    i: int, stage_index: int | None = None, status: str | None = None,
    updated: dt.datetime | None = None,
) -> dict[str, Any]:  # fmt: skip
    stage_index = i % 5 if stage_index is None else stage_index
    updated = updated or BASE + dt.timedelta(days=1, minutes=i)
    return {
        "id": f"O{i:04d}",
        "locationId": "LOC_test",
        "name": f"Deal {i}",
        "contactId": f"C{2 * i:04d}",
        "pipelineId": PIPELINE_ID,
        "pipelineStageId": STAGES[stage_index][0],
        "status": status or opportunity_status(i, stage_index),
        "monetaryValue": 300000 + i * 1000,
        "assignedTo": "U_ann" if i % 2 == 0 else "U_bob",
        "source": "Zillow Premier Agent",
        "createdAt": iso(BASE + dt.timedelta(minutes=2 * i, seconds=10)),
        "updatedAt": iso(updated),
        "lastStageChangeAt": iso(updated),
        "lastStatusChangeAt": iso(updated),
        "contact": {"id": f"C{2 * i:04d}", "name": f"First{2 * i} Last{2 * i}"},
    }


def message(conversation: int, k: int, at: dt.datetime) -> dict[str, Any]:
    kind = k % 3
    return {
        "id": f"M{conversation:02d}_{k:03d}",
        "type": 2 if kind < 2 else 3,
        "messageType": "TYPE_SMS" if kind < 2 else "TYPE_EMAIL",
        "direction": "inbound" if kind == 0 else "outbound",
        "status": "delivered",
        "body": f"message {k} of conversation {conversation}",
        "contentType": "text/plain",
        "attachments": [],
        "conversationId": f"CV{conversation:02d}",
        "contactId": f"C{conversation:04d}",
        "locationId": "LOC_test",
        "userId": None if kind == 0 else "U_ann",
        "source": "app",
        "dateAdded": iso(at),
    }


def conversation_messages(conversation: int, count: int) -> list[dict[str, Any]]:
    start = BASE + dt.timedelta(days=2, hours=conversation)
    return [message(conversation, k, start + dt.timedelta(minutes=k)) for k in range(count)]


def build(
    contacts: int = 25, opportunities: int = 12, conversations: int = 6,
    big_conversation: int = 12,
) -> FakeGhl:  # fmt: skip
    fake = FakeGhl()
    fake.pipelines = [
        {
            "id": PIPELINE_ID, "name": "Buyers", "locationId": "LOC_test",
            "showInFunnel": True, "showInPieChart": True,
            "stages": [{"id": sid, "name": name, "position": n}
                       for n, (sid, name) in enumerate(STAGES)],
        }
    ]  # fmt: skip
    fake.users = [dict(u) for u in USERS]
    fake.contacts = {c["id"]: c for c in (contact(i) for i in range(contacts))}
    fake.opportunities = {o["id"]: o for o in (opportunity(i) for i in range(opportunities))}
    fake.messages = {"CV00": conversation_messages(0, big_conversation)}
    for n in range(1, conversations):
        fake.messages[f"CV{n:02d}"] = conversation_messages(n, 3)
    return fake
