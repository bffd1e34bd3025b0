"""`GhlSync` against a loopback GHL server, on DuckDB and PostgreSQL: a full run, an
incremental run after changes in the CRM, and a repeat, each with the exact warehouse state;
expected values follow from the dataset's rules (`ghl_dataset.py`), counted by hand."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from dealscope.bench import ghl_data as data
from dealscope.bench.ghl_server import FakeGhl, FakeGhlServer, iso, ms
from dealscope.ingest.ghl.client import GhlClient, GhlCredentials, RetryPolicy
from dealscope.ingest.ghl.sync import GhlSync, Mode, SyncReport
from dealscope.kit.crypto import PiiCipher
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import (
    activities,
    agents,
    contacts,
    messages,
    opportunities,
    pipeline_stages,
    pipelines,
    stage_history,
    sync_cursors,
    tenants,
)

CIPHER = PiiCipher([Fernet.generate_key()], b"hash key of the sync tests")
NOW = dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC)
# Tables the sync writes, and the columns compared between runs (ciphertexts differ per
# encryption, so emails and phones are compared decrypted, separately).
SNAPSHOT_TABLES = (
    agents, pipelines, pipeline_stages, contacts, opportunities, stage_history, messages,
    activities,
)  # fmt: skip


def add_tenant(warehouse: Warehouse, slug: str = "acme") -> int:
    with warehouse.engine.begin() as conn:
        tenant_id = (
            int(conn.execute(sa.select(sa.func.count()).select_from(tenants)).scalar_one()) + 1
        )
        conn.execute(
            sa.insert(tenants).values(id=tenant_id, slug=slug, name=slug.title(), created_at=NOW)
        )
    return tenant_id


def run_sync(
    warehouse: Warehouse, tenant_id: int, url: str, mode: Mode = "incremental",
    resources: tuple[str, ...] | None = None, token: str = "pit-test-token",
) -> SyncReport:  # fmt: skip
    credentials = GhlCredentials(location_id="LOC_test", token=token, base_url=url)
    retry = RetryPolicy(base_delay=0.01, max_delay=2.0)
    with GhlClient(credentials, retry=retry) as client:
        sync = GhlSync(warehouse, tenant_id, client, CIPHER, now=lambda: NOW, page_limit=10)
        if resources is None:
            return sync.run(mode)
        return sync.run(mode, resources)


def rows(warehouse: Warehouse, stmt: sa.Select[Any]) -> list[sa.Row[Any]]:
    with warehouse.engine.connect() as conn:
        return list(conn.execute(stmt).all())


def scalar(warehouse: Warehouse, stmt: sa.Select[Any]) -> Any:
    with warehouse.engine.connect() as conn:
        return conn.execute(stmt).scalar_one()


def count(warehouse: Warehouse, table: sa.Table) -> int:
    return int(scalar(warehouse, sa.select(sa.func.count()).select_from(table)))


def snapshot(warehouse: Warehouse) -> dict[str, list[tuple[Any, ...]]]:
    state: dict[str, list[tuple[Any, ...]]] = {}
    for table in SNAPSHOT_TABLES:
        columns = [c for c in table.c if not c.name.endswith("_encrypted")]
        found = rows(warehouse, sa.select(*columns).order_by(table.c.id))
        state[table.name] = [tuple(r) for r in found]
    return state


def data_version(warehouse: Warehouse, tenant_id: int) -> int:
    return int(
        scalar(warehouse, sa.select(tenants.c.data_version).where(tenants.c.id == tenant_id))
    )


def cursor_of(warehouse: Warehouse, resource: str) -> sa.Row[Any]:
    found = rows(warehouse, sa.select(sync_cursors).where(sync_cursors.c.resource == resource))
    assert len(found) == 1
    return found[0]


def agent_ids(warehouse: Warehouse) -> dict[str, int]:
    return {
        r.external_id: r.id for r in rows(warehouse, sa.select(agents.c.external_id, agents.c.id))
    }


@pytest.fixture
def fake() -> Iterator[tuple[FakeGhl, str]]:
    ghl = data.build()
    with FakeGhlServer(ghl) as server:
        yield ghl, server.url


def _expected_deals(n: int) -> list[tuple[str, str, str]]:
    """(external id, stage key, status) of the dataset's deals, by its rules."""
    expected = []
    for i in range(n):
        stage = data.STAGES[i % 5][0]
        status = data.opportunity_status(i, i % 5)
        expected.append((f"O{i:04d}", data.STAGE_KEYS[stage], status))
    return expected


def test_full_then_incremental_then_repeat(warehouse: Warehouse, fake: tuple[FakeGhl, str]) -> None:
    ghl, url = fake
    tenant_id = add_tenant(warehouse)

    # --- full run ----------------------------------------------------------------------
    report = run_sync(warehouse, tenant_id, url, mode="full")
    assert report.ok, [r.error for r in report.results]
    assert [r.resource for r in report.results] == [
        "pipelines", "users", "contacts", "opportunities", "messages"
    ]  # fmt: skip
    assert ghl.served == Counter(
        pipelines=1, users=3, contacts=25, opportunities=12, messages=5 * 3 + 12
    )
    by_resource = {r.resource: r for r in report.results}
    assert (by_resource["contacts"].fetched, by_resource["contacts"].created) == (25, 25)
    assert by_resource["contacts"].pages == 3
    assert by_resource["messages"].pages == 3  # 27 messages, 10 a page

    # Contacts: page 1 by number, then keyset after the last row of each page. C0009..C0011
    # share one dateUpdated across the first page boundary; the keyset's id breaks the tie.
    searches = ghl.requests_to("/contacts/search")
    assert [("page" in r.body, r.body.get("searchAfter")) for r in searches] == [
        (True, None),
        (False, [ms(iso(data.contact_updated(9))), "C0009"]),
        (False, [ms(iso(data.contact_updated(19))), "C0019"]),
    ]
    exports = ghl.requests_to("/conversations/messages/export")
    assert [("cursor" in r.query) for r in exports] == [False, True, True]

    # Agents from users; the deleted one inactive. No placeholder agents were needed.
    found_agents = rows(
        warehouse,
        sa.select(agents.c.external_id, agents.c.first_name, agents.c.last_name,
                  agents.c.email, agents.c.phone, agents.c.is_active)
        .order_by(agents.c.external_id),
    )  # fmt: skip
    assert [tuple(r) for r in found_agents] == [
        ("U_ann", "Ann", "Lee", "ann@brokerage.example", "+15125550100", True),
        ("U_bob", "Bob", "Diaz", "bob@brokerage.example", None, True),
        ("U_cat", "Cat", "Wu", "cat@brokerage.example", None, False),
    ]
    ids = agent_ids(warehouse)

    assert [
        tuple(r) for r in rows(warehouse, sa.select(pipelines.c.external_id, pipelines.c.name))
    ] == [("PIPE_buy", "Buyers")]
    stages = rows(
        warehouse,
        sa.select(pipeline_stages.c.external_id, pipeline_stages.c.name,
                  pipeline_stages.c.stage_key, pipeline_stages.c.position)
        .order_by(pipeline_stages.c.position),
    )  # fmt: skip
    assert [tuple(r) for r in stages] == [
        (sid, name, data.STAGE_KEYS[sid], n) for n, (sid, name) in enumerate(data.STAGES)
    ]

    # Contacts, with attribution from either form, PII encrypted.
    assert count(warehouse, contacts) == 25
    by_id = {
        r.external_id: r
        for r in rows(warehouse, sa.select(contacts).where(
            contacts.c.external_id.in_(["C0003", "C0005", "C0006"])))
    }  # fmt: skip
    c5, c6, c3 = by_id["C0005"], by_id["C0006"], by_id["C0003"]
    assert (c5.first_name, c5.last_name, c5.source, c5.source_detail) == (
        "First5", "Last5", "website", "Website - home valuation"
    )  # fmt: skip
    assert (c5.utm_source, c5.utm_medium, c5.utm_campaign, c5.click_id_type, c5.click_id) == (
        "facebook", "paid_social", "spring_sellers", "fbclid", "fb5"
    )  # fmt: skip
    assert (c6.utm_source, c6.utm_medium, c6.click_id_type, c6.click_id, c6.source) == (
        "google", "cpc", "gclid", "g6", "paid_social"
    )  # fmt: skip
    assert (c3.utm_source, c3.click_id, c3.source, c3.source_detail) == (None, None, "other", None)
    assert CIPHER.decrypt(c5.email_encrypted) == "c5@example.org"
    assert CIPHER.decrypt(c5.phone_encrypted) == "+15125550005"
    assert c5.email_hash == CIPHER.email_hash("c5@example.org")
    assert (c5.assigned_agent_id, c6.assigned_agent_id) == (ids["U_bob"], ids["U_ann"])
    assert (list(c5.tags), list(c6.tags)) == (["seller"], ["buyer"])
    assert c5.postal_code == "78705"
    utm = Counter(r.utm_source for r in rows(warehouse, sa.select(contacts.c.utm_source)))
    assert utm == Counter({"facebook": 5, "google": 5, None: 15})
    owners = Counter(r[0] for r in rows(warehouse, sa.select(contacts.c.assigned_agent_id)))
    assert owners == Counter({ids["U_ann"]: 13, ids["U_bob"]: 12})

    # Deals and their first stage-history row.
    deals = rows(
        warehouse,
        sa.select(opportunities.c.external_id, opportunities.c.stage_key, opportunities.c.status)
        .order_by(opportunities.c.external_id),
    )  # fmt: skip
    assert [tuple(r) for r in deals] == _expected_deals(12)
    assert Counter(r.status for r in deals) == Counter(open=8, won=2, lost=2)
    total_value = scalar(warehouse, sa.select(sa.func.sum(opportunities.c.value)))
    assert total_value == 12 * 300000 + 1000 * sum(range(12))
    history = rows(
        warehouse,
        sa.select(opportunities.c.external_id, stage_history.c.from_stage, stage_history.c.to_stage,
                  stage_history.c.changed_at, stage_history.c.recorded_from)
        .join(opportunities, opportunities.c.id == stage_history.c.opportunity_id)
        .order_by(opportunities.c.external_id),
    )  # fmt: skip
    assert len(history) == 12
    h3 = history[3]
    assert (h3.external_id, h3.from_stage, h3.to_stage, h3.recorded_from) == (
        "O0003", None, "under_contract", "sync"
    )  # fmt: skip
    assert h3.changed_at.astimezone(dt.UTC) == data.BASE + dt.timedelta(days=1, minutes=3)
    assert (history[0].to_stage, history[4].to_stage) == ("lost", "closed_won")

    # Messages and the activities they make.
    assert count(warehouse, messages) == 27
    found = rows(warehouse, sa.select(messages.c.channel, messages.c.direction))
    assert Counter((r.channel, r.direction) for r in found) == Counter(
        {("sms", "inbound"): 9, ("sms", "outbound"): 9, ("email", "outbound"): 9}
    )
    assert count(warehouse, activities) == 27

    contacts_cursor = cursor_of(warehouse, "contacts")
    assert (contacts_cursor.status, contacts_cursor.mode, contacts_cursor.rows_fetched) == (
        "ok", "full", 25
    )  # fmt: skip
    assert contacts_cursor.cursor["search_after"] == [ms(iso(data.contact_updated(24))), "C0024"]
    last_message = max(
        (m for conv in ghl.messages.values() for m in conv),
        key=lambda m: (ms(m["dateAdded"]), m["id"]),
    )
    assert cursor_of(warehouse, "messages").cursor["search_after"] == [
        ms(last_message["dateAdded"]), last_message["id"]
    ]  # fmt: skip
    version_after_full = data_version(warehouse, tenant_id)
    assert version_after_full >= 5  # every page moved it on

    # --- changes in the CRM, then an incremental run ------------------------------------
    later = data.BASE + dt.timedelta(days=20)
    for n, i in enumerate((10, 11, 20)):
        ghl.contacts[f"C{i:04d}"] = data.contact(
            i, updated=later + dt.timedelta(minutes=n), last_name="Changed"
        )
    for i in (25, 26, 27):
        ghl.contacts[f"C{i:04d}"] = data.contact(i, updated=later + dt.timedelta(minutes=i - 15))
    ghl.opportunities["O0003"] = data.opportunity(3, stage_index=4, updated=later)
    ghl.opportunities["O0007"] = data.opportunity(
        7, stage_index=2, status="lost", updated=later + dt.timedelta(minutes=1)
    )
    new_messages = [
        data.message(5, 3, later), data.message(5, 4, later + dt.timedelta(minutes=1)),
        data.message(0, 12, later + dt.timedelta(minutes=2)),
    ]  # fmt: skip
    ghl.messages["CV05"] += new_messages[:2]
    ghl.messages["CV00"].append(new_messages[2])
    ghl.reset_counts()

    report = run_sync(warehouse, tenant_id, url)
    assert report.ok, [r.error for r in report.results]
    assert {r.resource: r.mode for r in report.results} == dict.fromkeys(
        ["pipelines", "users", "contacts", "opportunities", "messages"], "incremental"
    )
    # Only what changed crossed the wire; the message export starts at the cursor's
    # millisecond (inclusive), so it also re-sends the one message stored there.
    assert ghl.served == Counter(pipelines=1, users=3, contacts=6, opportunities=2, messages=4)
    by_resource = {r.resource: r for r in report.results}
    assert (by_resource["contacts"].created, by_resource["contacts"].updated) == (3, 3)
    assert by_resource["messages"].created == 3
    assert by_resource["pipelines"].fetched == 0  # unchanged lists are not rewritten

    assert count(warehouse, contacts) == 28
    changed = rows(
        warehouse,
        sa.select(contacts.c.external_id)
        .where(contacts.c.last_name == "Changed")
        .order_by(contacts.c.external_id),
    )
    assert [r.external_id for r in changed] == ["C0010", "C0011", "C0020"]
    deals = rows(
        warehouse,
        sa.select(opportunities.c.external_id, opportunities.c.stage_key, opportunities.c.status,
                  opportunities.c.closed_at)
        .where(opportunities.c.external_id.in_(["O0003", "O0007"]))
        .order_by(opportunities.c.external_id),
    )  # fmt: skip
    assert [(r.external_id, r.stage_key, r.status) for r in deals] == [
        ("O0003", "closed_won", "won"), ("O0007", "showing", "lost")
    ]  # fmt: skip
    assert deals[0].closed_at.astimezone(dt.UTC) == later
    moves = rows(
        warehouse,
        sa.select(opportunities.c.external_id, stage_history.c.from_stage, stage_history.c.to_stage,
                  stage_history.c.changed_at)
        .join(opportunities, opportunities.c.id == stage_history.c.opportunity_id)
        .where(stage_history.c.from_stage.is_not(None)).order_by(opportunities.c.external_id),
    )  # fmt: skip
    assert [
        (r.external_id, r.from_stage, r.to_stage, r.changed_at.astimezone(dt.UTC)) for r in moves
    ] == [
        ("O0003", "under_contract", "closed_won", later),
        ("O0007", "showing", "lost", later + dt.timedelta(minutes=1)),
    ]
    assert count(warehouse, stage_history) == 14
    assert count(warehouse, messages) == 30
    contacts_cursor = cursor_of(warehouse, "contacts")
    assert contacts_cursor.cursor["search_after"] == [
        ms(iso(later + dt.timedelta(minutes=12))),
        "C0027",
    ]
    assert (contacts_cursor.mode, contacts_cursor.rows_fetched) == ("incremental", 6)
    assert cursor_of(warehouse, "messages").cursor["search_after"] == [
        ms(new_messages[2]["dateAdded"]),
        "M00_012",
    ]
    version_after_incremental = data_version(warehouse, tenant_id)
    assert version_after_incremental > version_after_full

    # --- the same incremental run again: nothing new, nothing changes -------------------
    before = snapshot(warehouse)
    ghl.reset_counts()
    report = run_sync(warehouse, tenant_id, url)
    assert report.ok
    assert ghl.served == Counter(pipelines=1, users=3, messages=1)
    assert snapshot(warehouse) == before
    assert data_version(warehouse, tenant_id) == version_after_incremental

    # A full run re-reads everything and still changes nothing.
    ghl.reset_counts()
    report = run_sync(warehouse, tenant_id, url, mode="full")
    assert report.ok
    assert ghl.served["contacts"] == 28
    after = snapshot(warehouse)
    assert after == before
