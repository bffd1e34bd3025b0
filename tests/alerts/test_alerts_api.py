"""The alert rules API and the alert centre over HTTP, with a real SMTP server for the mail,
and the open alerts in the executive summary."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from alert_sinks import SmtpSink
from alerting_data import add_events, add_tenant
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from dealscope.alerts.repository import get_rule
from dealscope.api.app import create_app
from dealscope.config import Settings
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import report_deliveries, users
from dealscope.warehouse.tenancy import TenantScope
from dealscope.warehouse.unit_of_work import unit_of_work

PASSWORD = "correct horse battery staple"
SECRET = "whsec-0123456789abcdef"
FEED = {"kind": "feed_health", "window_minutes": 60, "max_failure_rate": 0.2, "min_events": 4}


@cache
def _hash() -> str:
    hasher = Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHash((hasher,)).hash(PASSWORD)


def _user(warehouse: Warehouse, tenant_id: int, email: str, role: str) -> None:
    with unit_of_work(warehouse) as uow:
        uow.connection.execute(
            users.insert().values(
                id=uow.next_id(users),
                tenant_id=tenant_id,
                email=email,
                full_name=email,
                password_hash=_hash(),
                role=role,
                created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
            )
        )


@pytest.fixture
def client(
    warehouse: Warehouse, smtp_sink: SmtpSink, tmp_path: Path
) -> Iterator[tuple[TestClient, int]]:
    tenant = add_tenant(warehouse)
    for role in ("admin", "viewer", "agent"):
        _user(warehouse, tenant, f"{role}@acme.example", role)
    smtp_sink.start()
    settings = Settings(
        _env_file=None,
        environment="test",
        data_dir=tmp_path,
        database_url=warehouse.url,
        smtp_url=smtp_sink.url,
        scheduler_enabled=False,
    )
    with TestClient(create_app(settings)) as test_client:
        assert test_client.app.state.scheduler is None  # type: ignore[attr-defined]
        yield test_client, tenant


def _auth(client: TestClient, role: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/token", data={"username": f"{role}@acme.example", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_rules_alert_centre_and_summary_over_http(
    client: tuple[TestClient, int], warehouse: Warehouse, smtp_sink: SmtpSink
) -> None:
    http, tenant = client
    admin, viewer, agent = (_auth(http, r) for r in ("admin", "viewer", "agent"))

    # The tenant's defaults: mail to ops, a 30-minute cooldown.
    config = {
        "version": 0,
        "document": {"email_recipients": ["ops@acme.example"], "dedupe_minutes": 30},
    }
    assert http.put("/api/v1/config/alerts", headers=admin, json=config).status_code == 200

    bad = http.post(
        "/api/v1/config/alerts/rules",
        headers=admin,
        json={"name": "x", "condition": {**FEED, "kind": "threshold", "metric": "vibes"}},
    )
    assert bad.status_code == 422  # threshold needs operator and value: payload validation
    bad = http.post(
        "/api/v1/config/alerts/rules",
        headers=admin,
        json={
            "name": "x",
            "condition": {"kind": "threshold", "metric": "vibes", "operator": "above", "value": 1},
        },
    )
    assert bad.status_code == 400 and "unknown metric 'vibes'" in bad.json()["detail"]
    refused = http.post(
        "/api/v1/config/alerts/rules", headers=viewer, json={"name": "x", "condition": FEED}
    )
    assert refused.status_code == 403

    created = http.post(
        "/api/v1/config/alerts/rules",
        headers=admin,
        json={"name": "GHL feed failing", "severity": "critical", "condition": FEED},
    )
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["rule"]["channels"] == [{"type": "email", "recipients": []}]
    assert rule["rule"]["cooldown_minutes"] == 30

    hooked = http.post(
        "/api/v1/config/alerts/rules",
        headers=admin,
        json={
            "name": "hook",
            "condition": {**FEED, "min_events": 1000},
            "channels": [{"type": "webhook", "url": "http://127.0.0.1:9/h", "secret": SECRET}],
        },
    ).json()
    shown = http.get(f"/api/v1/config/alerts/rules/{hooked['id']}", headers=viewer).json()
    assert shown["rule"]["channels"][0]["secret"] == "*" * 20
    # Sent back as read, the redacted secret keeps the stored one.
    put = http.put(
        f"/api/v1/config/alerts/rules/{hooked['id']}",
        headers=admin,
        json={**shown["rule"], "name": "hook renamed"},
    )
    assert put.status_code == 200 and put.json()["rule"]["name"] == "hook renamed"
    with warehouse.engine.connect() as conn:
        stored = get_rule(conn, TenantScope(tenant), hooked["id"])
    assert stored.spec.channels is not None and stored.spec.channels[0].secret == SECRET  # type: ignore[union-attr]

    # The feed fails: 3 of 5 events in the last hour.
    now = dt.datetime.now(dt.UTC)
    add_events(warehouse, tenant, now - dt.timedelta(minutes=10), 2)
    add_events(warehouse, tenant, now - dt.timedelta(minutes=5), 3, status="dead_letter")
    run = http.post("/api/v1/config/alerts/evaluate", headers=admin)
    assert run.status_code == 200, run.text
    assert run.json()["fired"] == [rule["id"]] and run.json()["notifications_sent"] == 1
    (mail,) = smtp_sink.mails
    assert mail.recipients == ["ops@acme.example"]
    assert mail.message["Subject"].startswith("[DealScope critical] Acme Realty: webhooks: 3 of 5")

    listed = http.get("/api/v1/dashboard/alerts", headers=viewer).json()
    assert listed["open"] == 1 and listed["scoped_out"] is False
    (alert,) = listed["items"]
    assert alert["rule_name"] == "GHL feed failing" and alert["value"] == pytest.approx(0.6)
    assert alert["notifications"][0]["sent"] == ["email"]
    assert "pending" not in alert["detail"]
    scoped = http.get("/api/v1/dashboard/alerts", headers=agent).json()
    assert scoped == {"items": [], "open": 0, "acknowledged": 0, "scoped_out": True}

    summary = http.get("/api/v1/dashboard/summary", headers=viewer).json()
    assert [a["severity"] for a in summary["alerts"]] == ["critical"]
    assert summary["alerts"][0]["title"] == alert["title"]
    assert http.get("/api/v1/dashboard/summary", headers=agent).json()["alerts"] == []

    path = f"/api/v1/dashboard/alerts/{alert['id']}"
    assert http.post(f"{path}/acknowledge", headers=viewer).status_code == 403
    acked = http.post(f"{path}/acknowledge", headers=admin).json()
    assert acked["status"] == "acknowledged" and acked["acknowledged_by"] is not None
    counts = http.get("/api/v1/dashboard/alerts", headers=viewer).json()
    assert (counts["open"], counts["acknowledged"]) == (0, 1)
    resolved = http.post(f"{path}/resolve", headers=admin).json()
    assert resolved["status"] == "resolved"
    assert resolved["detail"]["resolution"].startswith("manual")
    assert http.post(f"{path}/acknowledge", headers=admin).status_code == 409
    # Resolved alerts leave the summary (its cache moved on with the data version).
    assert http.get("/api/v1/dashboard/summary", headers=viewer).json()["alerts"] == []
    history = http.get("/api/v1/dashboard/alerts?status=resolved", headers=viewer).json()
    assert [a["id"] for a in history["items"]] == [alert["id"]]

    assert (
        http.delete(f"/api/v1/config/alerts/rules/{rule['id']}", headers=admin).status_code == 204
    )
    assert http.get(f"/api/v1/config/alerts/rules/{rule['id']}", headers=admin).status_code == 404
    assert http.get(f"{path}", headers=viewer).json()["rule_name"] is None


def test_the_scheduler_starts_with_the_api_unless_disabled(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    settings = Settings(
        _env_file=None,
        environment="test",
        data_dir=tmp_path,
        database_url=warehouse.url,
        scheduler_enabled=True,
    )
    assert not Settings(_env_file=None, environment="test").runs_scheduler
    assert Settings(_env_file=None, environment="dev").runs_scheduler
    with TestClient(create_app(settings)) as http:
        scheduler = http.app.state.scheduler  # type: ignore[attr-defined]
        assert scheduler is not None and scheduler._scheduler.running
        assert {j.id for j in scheduler._scheduler.get_jobs()} == {"reports", "alerts"}
    assert not scheduler._scheduler.running


def test_the_delivery_log_over_http(client: tuple[TestClient, int], warehouse: Warehouse) -> None:
    http, tenant = client
    due = dt.datetime(2025, 3, 31, 12, 0, tzinfo=dt.UTC)
    with unit_of_work(warehouse) as uow:
        uow.connection.execute(
            report_deliveries.insert().values(
                id=uow.next_id(report_deliveries),
                tenant_id=tenant,
                schedule_id=7,
                report_id=3,
                scheduled_for=due,
                attempted_at=due + dt.timedelta(minutes=1),
                status="retrying",
                attempts=1,
                error="email via 127.0.0.1:1 failed: ConnectionRefusedError",
                recipients={
                    "skipped_runs": 2,
                    "targets": [
                        {
                            "channel": "email",
                            "audience": "all",
                            "to": ["a@b.example"],
                            "status": "failed",
                            "error": "refused",
                        },
                        {"channel": "slack", "audience": "all", "status": "sent"},
                    ],
                },
            )
        )
    assert http.get("/api/v1/report-deliveries", headers=_auth(http, "viewer")).status_code == 403
    (row,) = http.get("/api/v1/report-deliveries", headers=_auth(http, "admin")).json()
    assert row["status"] == "retrying" and row["attempts"] == 1 and row["skipped_runs"] == 2
    assert row["scheduled_for"] == "2025-03-31T12:00:00Z"
    assert [(t["channel"], t["status"]) for t in row["targets"]] == [
        ("email", "failed"),
        ("slack", "sent"),
    ]
    other = http.get("/api/v1/report-deliveries?schedule_id=8", headers=_auth(http, "admin"))
    assert other.json() == []
