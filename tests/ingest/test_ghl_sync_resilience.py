"""The GHL sync when HighLevel pushes back: 429 with Retry-After, 5xx, the burst window, the
daily quota, a refused token, a record we cannot store. Real HTTP to the loopback server,
DuckDB warehouse (the writes are the ones `test_ghl_sync.py` checks on both backends)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from test_ghl_sync import CIPHER, NOW, add_tenant, count, cursor_of, run_sync

from dealscope.bench import ghl_data as data
from dealscope.bench.ghl_server import FakeGhl, FakeGhlServer, Fault, iso, ms
from dealscope.errors import ValidationFailed
from dealscope.ingest.ghl.client import (
    GhlAuthFailed,
    GhlClient,
    GhlCredentials,
    RateLimitState,
    RetryPolicy,
    retry_after_seconds,
)
from dealscope.ingest.ghl.sync import GhlSync
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import contacts, opportunities

duckdb_only = pytest.mark.parametrize("warehouse", ["duckdb"], indirect=True)


@pytest.fixture
def fake() -> Iterator[tuple[FakeGhl, str]]:
    ghl = data.build()
    with FakeGhlServer(ghl) as server:
        yield ghl, server.url


@duckdb_only
def test_429_waits_for_retry_after_then_continues(
    warehouse: Warehouse, fake: tuple[FakeGhl, str]
) -> None:
    ghl, url = fake
    tenant_id = add_tenant(warehouse)
    ghl.faults.append(
        Fault("/contacts/search", 429, {"Retry-After": "1"}, {"message": "Too many"}, after=1)
    )
    report = run_sync(warehouse, tenant_id, url, mode="full", resources=("contacts",))
    assert report.ok, report.results[0].error
    assert report.retries == 1
    searches = ghl.requests_to("/contacts/search")
    assert [r.status for r in searches] == [200, 429, 200, 200]
    assert searches[1].body == searches[2].body  # the same page asked again
    assert searches[2].at - searches[1].at >= 1.0
    assert report.throttled_seconds >= 1.0
    assert count(warehouse, contacts) == 25


@duckdb_only
def test_5xx_backs_off_and_retries_then_gives_up(
    warehouse: Warehouse, fake: tuple[FakeGhl, str]
) -> None:
    ghl, url = fake
    tenant_id = add_tenant(warehouse)
    ghl.faults.append(Fault("/users/", 503, times=2))
    report = run_sync(warehouse, tenant_id, url, mode="full", resources=("users",))
    assert report.ok
    assert report.retries == 2
    assert [r.status for r in ghl.requests_to("/users/")] == [503, 503, 200]

    ghl.faults.append(Fault("/opportunities/pipelines", 502, times=50))
    report = run_sync(warehouse, tenant_id, url, mode="full", resources=("pipelines",))
    (result,) = report.results
    assert result.error == (
        "GET /opportunities/pipelines: GHL answered 502 6 times in a row: injected"
    )
    stored = cursor_of(warehouse, "pipelines")
    assert (stored.status, stored.error) == ("failed", result.error)


@duckdb_only
def test_burst_window_from_the_headers_is_never_overrun(
    warehouse: Warehouse, fake: tuple[FakeGhl, str]
) -> None:
    ghl, url = fake
    ghl.burst_max, ghl.interval_ms = 3, 400  # the server answers 429 past 3 per 0.4 s
    tenant_id = add_tenant(warehouse)
    report = run_sync(warehouse, tenant_id, url, mode="full")
    assert report.ok
    statuses = Counter(r.status for r in ghl.log)
    assert statuses == Counter({200: 10})  # 1 + 1 + 3 + 2 + 3 pages, and no 429
    assert report.retries == 0
    assert report.throttled_seconds > 0  # it waited for windows to reset, unasked


@duckdb_only
def test_daily_quota_stops_the_run_and_the_next_run_resumes(
    warehouse: Warehouse, fake: tuple[FakeGhl, str]
) -> None:
    ghl, url = fake
    ghl.daily_limit = 4  # pipelines, users, contacts page 1, contacts page 2: then spent
    tenant_id = add_tenant(warehouse)
    report = run_sync(warehouse, tenant_id, url, mode="full")
    assert [r.resource for r in report.results] == ["pipelines", "users", "contacts"]
    contacts_result = report.results[-1]
    assert contacts_result.fatal
    assert contacts_result.error is not None
    assert contacts_result.error.startswith("GHL daily request quota of location LOC_test is spent")
    assert count(warehouse, contacts) == 20
    stored = cursor_of(warehouse, "contacts")
    assert stored.status == "failed"
    assert stored.cursor["search_after"] == [ms(iso(data.contact_updated(19))), "C0019"]

    ghl.daily_limit, ghl.daily_used = 200_000, 0  # a new day
    ghl.reset_counts()
    report = run_sync(warehouse, tenant_id, url)
    assert report.ok
    assert ghl.served["contacts"] == 5  # only the rest
    assert count(warehouse, contacts) == 25
    assert cursor_of(warehouse, "contacts").status == "ok"


@duckdb_only
def test_a_record_we_cannot_store_is_named_and_the_rest_kept(
    warehouse: Warehouse, fake: tuple[FakeGhl, str]
) -> None:
    ghl, url = fake
    ghl.opportunities["O0005"]["pipelineStageId"] = "S_gone"
    tenant_id = add_tenant(warehouse)
    report = run_sync(warehouse, tenant_id, url, mode="full")
    by_resource = {r.resource: r for r in report.results}
    result = by_resource["opportunities"]
    assert result.error == (
        "1 record(s) rejected: O0005: pipeline stage 'S_gone' is not known: sync the "
        "pipelines (dealscope sync ghl), then replay this event (dealscope ingest replay)"
    )
    assert (result.fetched, result.created) == (12, 11)
    assert by_resource["messages"].error is None  # the run went on
    found = {r[0] for r in _rows(warehouse, sa.select(opportunities.c.external_id))}
    assert found == {f"O{i:04d}" for i in range(12)} - {"O0005"}
    assert cursor_of(warehouse, "opportunities").status == "failed"

    ghl.opportunities["O0005"]["pipelineStageId"] = "S_show"  # fixed in the CRM
    report = run_sync(warehouse, tenant_id, url, mode="full", resources=("opportunities",))
    assert report.ok
    assert count(warehouse, opportunities) == 12


def test_a_refused_token_stops_at_the_first_request(fake: tuple[FakeGhl, str]) -> None:
    ghl, url = fake
    credentials = GhlCredentials("LOC_test", "expired", url)
    with GhlClient(credentials) as client, pytest.raises(GhlAuthFailed) as raised:
        client.request("GET", "/users/", params={"locationId": "LOC_test"})
    assert "GHL refused the token for location LOC_test (401: Invalid JWT)" in str(raised.value)
    assert len(ghl.log) == 1


def _rows(warehouse: Warehouse, stmt: sa.Select[tuple[str]]) -> list[sa.Row[tuple[str]]]:
    with warehouse.engine.connect() as conn:
        return list(conn.execute(stmt).all())


# --- the client's arithmetic, no server ------------------------------------------------


def test_retry_after_as_seconds_or_http_date() -> None:
    now = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Sun, 01 Mar 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Sun, 01 Mar 2026 11:59:00 GMT", now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_rate_limit_state_waits_only_when_the_window_is_spent() -> None:
    state = RateLimitState()
    headers = {
        "x-ratelimit-max": "100",
        "x-ratelimit-remaining": "1",
        "x-ratelimit-interval-milliseconds": "10000",
        "x-ratelimit-limit-daily": "200000",
        "x-ratelimit-daily-remaining": "199000",
    }
    state.update(headers, now=50.0)
    assert (state.burst_max, state.burst_remaining, state.daily_remaining) == (100, 1, 199000)
    assert state.wait_before_next(now=50.5, reserve=0) == 0.0
    state.update({**headers, "x-ratelimit-remaining": "0"}, now=51.0)
    assert state.wait_before_next(now=53.0, reserve=0) == pytest.approx(8.0)
    assert state.wait_before_next(now=62.0, reserve=0) == 0.0


def test_backoff_is_full_jitter_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    rng = random.Random(7)
    waits = [policy.backoff(attempt, rng) for attempt in range(1, 7) for _ in range(200)]
    assert min(waits) >= 0.0 and max(waits) <= 8.0
    by_attempt = [waits[i * 200 : (i + 1) * 200] for i in range(6)]
    assert max(by_attempt[0]) <= 2.0 and max(by_attempt[1]) <= 4.0
    assert max(by_attempt[5]) > 6.0  # capped at 8, not 64


@duckdb_only
def test_sync_refuses_unknown_resources(warehouse: Warehouse) -> None:
    credentials = GhlCredentials("LOC_test", "t", "http://127.0.0.1:9")
    with GhlClient(credentials) as client:
        sync = GhlSync(warehouse, 1, client, CIPHER, now=lambda: NOW)
        with pytest.raises(ValidationFailed, match="unknown GHL resource"):
            sync.run("full", ["contacts", "invoices"])


@duckdb_only
def test_an_unexpected_error_is_recorded_on_the_cursor_and_raised(
    warehouse: Warehouse, fake: tuple[FakeGhl, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = fake
    tenant_id = add_tenant(warehouse)

    def broken(client: object) -> list[dict[str, object]]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("dealscope.ingest.ghl.endpoints.list_users", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        run_sync(warehouse, tenant_id, url, mode="full", resources=("users",))
    stored = cursor_of(warehouse, "users")
    assert (stored.status, stored.error) == ("failed", "stopped by RuntimeError: disk on fire")


@duckdb_only
def test_a_malformed_answer_is_a_clear_error(
    warehouse: Warehouse, fake: tuple[FakeGhl, str]
) -> None:
    ghl, url = fake
    tenant_id = add_tenant(warehouse)
    ghl.faults.append(Fault("/contacts/search", 200, body={"contacts": "not a list"}))
    report = run_sync(warehouse, tenant_id, url, mode="full", resources=("contacts",))
    assert report.results[0].error == (
        "POST /contacts/search: expected `contacts` to be a list of objects"
    )
    assert count(warehouse, contacts) == 0


@duckdb_only
def test_messages_before_their_contacts_make_placeholders_the_contacts_fill(
    warehouse: Warehouse, fake: tuple[FakeGhl, str]
) -> None:
    _, url = fake
    tenant_id = add_tenant(warehouse)
    report = run_sync(warehouse, tenant_id, url, mode="full", resources=("messages",))
    assert report.ok
    # Conversations CV00..CV05 belong to contacts C0000..C0005: placeholders, dated by the
    # earliest message of each (the dataset's first message of conversation n).
    placeholders = _rows(
        warehouse,
        sa.select(contacts.c.external_id, contacts.c.created_at, contacts.c.updated_at).order_by(
            contacts.c.external_id
        ),
    )
    assert [r.external_id for r in placeholders] == [f"C{n:04d}" for n in range(6)]
    assert all(r.updated_at is None for r in placeholders)
    first = {n: data.conversation_messages(n, 1)[0]["dateAdded"] for n in range(6)}
    assert [ms(iso(r.created_at)) for r in placeholders] == [ms(first[n]) for n in range(6)]

    report = run_sync(warehouse, tenant_id, url, mode="full", resources=("contacts",))
    assert report.ok
    (result,) = report.results
    assert (result.created, result.updated) == (19, 6)
    filled = _rows(
        warehouse,
        sa.select(contacts.c.external_id, contacts.c.first_name, contacts.c.created_at).where(
            contacts.c.external_id == "C0003"
        ),
    )
    assert [(r.first_name, ms(iso(r.created_at))) for r in filled] == [
        ("First3", ms(iso(data.BASE + dt.timedelta(minutes=3))))
    ]
    assert count(warehouse, contacts) == 25
