"""/api/v1/config/{dashboard,alerts,attribution}: defaults, versions, optimistic concurrency,
validation, permissions, redaction, tenant isolation and the audit trail, on both backends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from accounts import Brokerage, add_brokerage, add_user, bearer_of
from fastapi.testclient import TestClient

from dealscope.api.app import create_app
from dealscope.api.auth.principal import Principal
from dealscope.api.configuration.documents import ConfigKind, DashboardConfig
from dealscope.api.configuration.repository import StoredVersion, insert_version
from dealscope.api.configuration.service import save_config
from dealscope.config import Settings
from dealscope.errors import Conflict
from dealscope.kit.roles import Role
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import audit_log, tenants
from dealscope.warehouse.tenancy import TenantScope
from dealscope.warehouse.unit_of_work import unit_of_work

CONFIG = "/api/v1/config"
SLACK = "https://hooks.slack.com/services/T01/B02/abcdefSECRET"

DEFAULTS: dict[str, dict[str, Any]] = {
    "dashboard": {
        "default_range": "30d",
        "comparison": "previous_period",
        "currency_display": "symbol",
        "kpi_cards": ["gci", "closed_volume", "pipeline_value", "speed_to_lead_median"],
        "refresh_seconds": 300,
        "accent_color": "#1f6feb",
        "branding": {
            "display_name": None,
            "logo": None,
            "primary_color": "#1b2a4a",
            "accent_color": "#1f6feb",
        },
    },
    "alerts": {
        "default_channels": ["email"],
        "quiet_hours": None,
        "dedupe_minutes": 60,
        "email_recipients": [],
        "slack_webhook_url": None,
    },
    "attribution": {
        "model": "last_non_direct",
        "lookback_days": 90,
        "time_decay_half_life_days": 7.0,
        "position_based": {"first": 0.4, "last": 0.4},
    },
}


@dataclass
class World:
    acme: Brokerage
    zenith: Brokerage
    ann: int  # acme's admin
    admin: dict[str, str]
    viewer: dict[str, str]
    agent: dict[str, str]
    other_admin: dict[str, str]  # zenith's


@pytest.fixture
def client(warehouse: Warehouse, tmp_path: Any) -> Iterator[TestClient]:
    settings = Settings(
        _env_file=None,
        environment="test",
        data_dir=tmp_path,
        database_url=warehouse.url,
        rate_limit_per_minute=10_000,
    )
    with TestClient(create_app(settings)) as started:
        yield started


@pytest.fixture
def world(warehouse: Warehouse, client: TestClient) -> World:
    acme, zenith = add_brokerage(warehouse, "acme"), add_brokerage(warehouse, "zenith")
    ann = add_user(warehouse, acme, "ann@acme.example", Role.ADMIN)
    add_user(warehouse, acme, "vic@acme.example", Role.VIEWER)
    add_user(warehouse, acme, "al@acme.example", Role.AGENT, agent_id=acme.agent_id)
    add_user(warehouse, zenith, "zed@zenith.example", Role.ADMIN)
    return World(
        acme,
        zenith,
        ann,
        admin=bearer_of(client, "ann@acme.example"),
        viewer=bearer_of(client, "vic@acme.example"),
        agent=bearer_of(client, "al@acme.example"),
        other_admin=bearer_of(client, "zed@zenith.example"),
    )


def _put(client: TestClient, headers: dict[str, str], kind: str, version: int, **doc: Any) -> Any:
    return client.put(
        f"{CONFIG}/{kind}",
        headers=headers,
        json={"version": version, "document": DEFAULTS[kind] | doc},
    )


@pytest.mark.parametrize("kind", ["dashboard", "alerts", "attribution"])
def test_before_anything_is_saved_the_defaults_are_version_0(
    client: TestClient, world: World, kind: str
) -> None:
    response = client.get(f"{CONFIG}/{kind}", headers=world.agent)

    assert response.status_code == 200
    assert response.json() == {
        "kind": kind,
        "version": 0,
        "document": DEFAULTS[kind],
        "updated_at": None,
        "updated_by": None,
    }
    history = client.get(f"{CONFIG}/{kind}/versions", headers=world.agent)
    assert history.json() == {"kind": kind, "items": []}


def test_each_save_is_a_new_version_based_on_the_current_one(
    client: TestClient, world: World
) -> None:
    before = dt.datetime.now(dt.UTC)
    first = _put(client, world.admin, "dashboard", 0, default_range="qtd", accent_color="#0A7D5A")
    second = _put(client, world.admin, "dashboard", 1, kpi_cards=["gci"], refresh_seconds=60)

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["version"] == 1
    assert first.json()["document"]["accent_color"] == "#0a7d5a"  # stored in lower case
    current = client.get(f"{CONFIG}/dashboard", headers=world.viewer).json()
    assert current == second.json()
    assert current["version"] == 2
    assert current["document"] == DEFAULTS["dashboard"] | {
        "kpi_cards": ["gci"],
        "refresh_seconds": 60,
    }
    assert current["updated_by"] == world.ann
    assert before <= dt.datetime.fromisoformat(current["updated_at"]) <= dt.datetime.now(dt.UTC)

    history = client.get(f"{CONFIG}/dashboard/versions", headers=world.viewer).json()
    assert [item["version"] for item in history["items"]] == [2, 1]
    assert history["items"][1]["document"]["default_range"] == "qtd"
    assert history["items"][1]["created_by"] == world.ann
    limited = client.get(f"{CONFIG}/dashboard/versions", headers=world.viewer, params={"limit": 1})
    assert [item["version"] for item in limited.json()["items"]] == [2]


def test_a_change_based_on_a_stale_version_is_refused_with_409(
    client: TestClient, world: World
) -> None:
    assert _put(client, world.admin, "alerts", 0, dedupe_minutes=30).status_code == 200

    stale = _put(client, world.admin, "alerts", 0, dedupe_minutes=5)
    ahead = _put(client, world.admin, "alerts", 7, dedupe_minutes=5)

    assert stale.status_code == 409
    assert stale.json() == {
        "error": "conflict",
        "detail": "the alerts configuration is at version 1, but this change is based on "
        "version 0; reload it, apply your change again and send version 1",
    }
    assert ahead.status_code == 409
    current = client.get(f"{CONFIG}/alerts", headers=world.admin).json()
    assert (current["version"], current["document"]["dedupe_minutes"]) == (1, 30)


def test_two_writers_racing_for_one_version_cannot_both_win(
    warehouse: Warehouse, world: World
) -> None:
    admin = Principal(world.acme.tenant_id, Role.ADMIN, TenantScope(world.acme.tenant_id), "ann",
                      user_id=world.ann)  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    with unit_of_work(warehouse) as uow:
        save_config(uow, admin, ConfigKind.DASHBOARD, 0, DashboardConfig(), now)
    # The other writer read version 0 before the first committed: the row it writes clashes.
    with (
        pytest.raises(Conflict, match="changed by someone else at the same time"),
        unit_of_work(warehouse) as uow,
    ):
        stale = StoredVersion(1, {}, now, world.ann)
        insert_version(uow, world.acme.tenant_id, ConfigKind.DASHBOARD, stale)


@pytest.mark.parametrize(
    ("kind", "document", "problem"),
    [
        ("dashboard", {"default_range": "1y"},
         "body.document.default_range: Input should be 'today', '7d', '30d', '90d', 'qtd' or "
         "'ytd'"),
        ("dashboard", {"comparison": "budget"},
         "body.document.comparison: Input should be 'previous_period', 'previous_year' or "
         "'target'"),
        ("dashboard", {"kpi_cards": ["GCI"]},
         "body.document.kpi_cards.0: String should match pattern '^[a-z][a-z0-9_]*$'"),
        ("dashboard", {"kpi_cards": [f"m{i}" for i in range(17)]},
         "body.document.kpi_cards: List should have at most 16 items after validation, not 17"),
        ("dashboard", {"kpi_cards": ["gci", "gci"]},
         "body.document.kpi_cards: Value error, kpi_cards must not repeat: gci"),
        ("dashboard", {"refresh_seconds": 5},
         "body.document.refresh_seconds: Input should be greater than or equal to 10"),
        ("dashboard", {"refresh_seconds": 3601},
         "body.document.refresh_seconds: Input should be less than or equal to 3600"),
        ("dashboard", {"accent_color": "red"},
         "body.document.accent_color: String should match pattern '^#[0-9a-fA-F]{6}$'"),
        ("dashboard", {"theme": "dark"}, "body.document.theme: Extra inputs are not permitted"),
        ("alerts", {"default_channels": ["sms"]},
         "body.document.default_channels.0: Input should be 'email', 'slack' or 'webhook'"),
        ("alerts", {"dedupe_minutes": 0},
         "body.document.dedupe_minutes: Input should be greater than or equal to 1"),
        ("alerts", {"email_recipients": ["ops@acme.example", "not-an-email"]},
         "body.document.email_recipients: Value error, not an email address: not-an-email"),
        ("alerts", {"slack_webhook_url": "http://hooks.slack.com/services/x"},
         "body.document.slack_webhook_url: Value error, the Slack webhook URL must be an "
         "https:// URL"),
        ("alerts", {"quiet_hours": {"start": "22:00", "end": "22:00"}},
         "body.document.quiet_hours: Value error, quiet hours must not start and end at the "
         "same time"),
        ("attribution", {"model": "markov"},
         "body.document.model: Input should be 'first_touch', 'last_touch', 'last_non_direct', "
         "'linear', 'time_decay', 'position_based' or 'w_shaped'"),
        ("attribution", {"lookback_days": 0},
         "body.document.lookback_days: Input should be greater than or equal to 1"),
        ("attribution", {"lookback_days": 366},
         "body.document.lookback_days: Input should be less than or equal to 365"),
        ("attribution", {"time_decay_half_life_days": 0},
         "body.document.time_decay_half_life_days: Input should be greater than 0"),
        ("attribution", {"position_based": {"first": 0.6, "last": 0.5}},
         "body.document.position_based: Value error, first + last must be at most 1, got 1.1"),
    ],
)  # fmt: skip
def test_invalid_documents_are_422_naming_the_field(
    client: TestClient, world: World, kind: str, document: dict[str, Any], problem: str
) -> None:
    response = _put(client, world.admin, kind, 0, **document)

    assert response.status_code == 422
    assert response.json() == {"error": "invalid_request", "detail": problem}
    assert client.get(f"{CONFIG}/{kind}", headers=world.admin).json()["version"] == 0


def test_valid_alerts_and_attribution_documents_are_kept_as_sent(
    client: TestClient, world: World
) -> None:
    alerts = _put(client, world.admin, "alerts", 0,
                  default_channels=["slack", "email"],
                  quiet_hours={"start": "22:00", "end": "07:00"},
                  email_recipients=[" Ops@Acme.example ", "broker@acme.example"],
                  slack_webhook_url=SLACK)  # fmt: skip
    attribution = _put(client, world.admin, "attribution", 0, model="position_based",
                       lookback_days=365, position_based={"first": 0.5, "last": 0.5})  # fmt: skip

    assert alerts.status_code == 200, alerts.text
    assert alerts.json()["document"] == {
        "default_channels": ["slack", "email"],
        "quiet_hours": {"start": "22:00:00", "end": "07:00:00"},
        "dedupe_minutes": 60,
        "email_recipients": ["ops@acme.example", "broker@acme.example"],
        "slack_webhook_url": SLACK,
    }
    assert attribution.status_code == 200, attribution.text
    assert attribution.json()["document"]["position_based"] == {"first": 0.5, "last": 0.5}


def test_only_admins_change_configuration(client: TestClient, world: World) -> None:
    viewer = _put(client, world.viewer, "dashboard", 0, default_range="7d")
    agent = _put(client, world.agent, "attribution", 0, model="linear")
    nobody = client.put(f"{CONFIG}/dashboard", json={"version": 0, "document": {}})
    anonymous_read = client.get(f"{CONFIG}/dashboard")

    assert (viewer.status_code, viewer.json()["error"]) == (403, "permission_denied")
    assert "config:write" in viewer.json()["detail"]
    assert agent.status_code == 403
    assert (nobody.status_code, anonymous_read.status_code) == (401, 401)


def test_the_slack_webhook_is_shown_whole_only_to_those_who_may_change_it(
    client: TestClient, world: World
) -> None:
    assert _put(client, world.admin, "alerts", 0, slack_webhook_url=SLACK).status_code == 200

    as_admin = client.get(f"{CONFIG}/alerts", headers=world.admin).json()
    as_viewer = client.get(f"{CONFIG}/alerts", headers=world.viewer).json()
    history = client.get(f"{CONFIG}/alerts/versions", headers=world.agent).json()

    assert as_admin["document"]["slack_webhook_url"] == SLACK
    assert as_viewer["document"]["slack_webhook_url"] == "https://hooks.slack.com/redacted"
    assert history["items"][0]["document"]["slack_webhook_url"] == (
        "https://hooks.slack.com/redacted"
    )


def test_tenants_never_see_each_others_configuration(client: TestClient, world: World) -> None:
    assert _put(client, world.admin, "dashboard", 0, default_range="ytd").status_code == 200

    theirs = client.get(f"{CONFIG}/dashboard", headers=world.other_admin).json()
    their_history = client.get(f"{CONFIG}/dashboard/versions", headers=world.other_admin).json()
    their_first = _put(client, world.other_admin, "dashboard", 0, default_range="7d")

    assert (theirs["version"], theirs["document"]["default_range"]) == (0, "30d")
    assert their_history["items"] == []
    assert their_first.json()["version"] == 1  # their own count, not acme's
    ours = client.get(f"{CONFIG}/dashboard", headers=world.admin).json()
    assert (ours["version"], ours["document"]["default_range"]) == (1, "ytd")


def _data_version(warehouse: Warehouse, tenant_id: int) -> int:
    with warehouse.engine.connect() as connection:
        stmt = sa.select(tenants.c.data_version).where(tenants.c.id == tenant_id)
        return int(connection.execute(stmt).scalar_one())


def test_only_attribution_changes_move_the_data_version_on(
    warehouse: Warehouse, client: TestClient, world: World
) -> None:
    start = _data_version(warehouse, world.acme.tenant_id)

    _put(client, world.admin, "dashboard", 0, default_range="7d")
    _put(client, world.admin, "alerts", 0, dedupe_minutes=15)
    after_settings = _data_version(warehouse, world.acme.tenant_id)
    _put(client, world.admin, "attribution", 0, model="linear")

    assert after_settings == start
    assert _data_version(warehouse, world.acme.tenant_id) == start + 1


def test_each_change_is_audited_with_the_versions(
    warehouse: Warehouse, client: TestClient, world: World
) -> None:
    _put(client, world.admin, "dashboard", 0, default_range="7d")
    _put(client, world.admin, "dashboard", 0, default_range="90d")  # stale

    with warehouse.engine.connect() as connection:
        rows = connection.execute(
            sa.select(audit_log.c.action, audit_log.c.status_code, audit_log.c.detail)
            .where(audit_log.c.method == "PUT")
            .order_by(audit_log.c.occurred_at)
        ).all()
    assert [tuple(row) for row in rows] == [
        ("update", 200, {"kind": "dashboard", "old_version": 0, "new_version": 1}),
        ("update", 409, {"kind": "dashboard", "based_on_version": 0}),
    ]


def test_every_kind_is_described_with_its_own_schema_and_examples(client: TestClient) -> None:
    openapi = client.get("/openapi.json").json()
    schemas = openapi["components"]["schemas"]

    for kind, model in (("dashboard", "Dashboard"), ("alerts", "Alerts"),
                        ("attribution", "Attribution")):  # fmt: skip
        paths = openapi["paths"]
        assert set(paths[f"{CONFIG}/{kind}"]) == {"get", "put"}
        assert set(paths[f"{CONFIG}/{kind}/versions"]) == {"get"}
        put = paths[f"{CONFIG}/{kind}"]["put"]
        assert put["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{model}ConfigUpdate"
        }
        assert "409" in put["responses"]
        read = schemas[f"{model}ConfigRead"]
        assert read["examples"][0]["kind"] == kind
        assert read["examples"][0]["version"] == 4
        update_example = schemas[f"{model}ConfigUpdate"]["examples"][0]
        assert set(update_example) == {"version", "document"}
        assert f"{model}ConfigHistory" in schemas
    dashboard = schemas["DashboardConfig"]["properties"]
    assert dashboard["refresh_seconds"]["minimum"] == 10
    assert dashboard["refresh_seconds"]["maximum"] == 3600


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def test_the_example_documents_are_accepted(client: TestClient, world: World) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]

    for kind, model in (("dashboard", "Dashboard"), ("alerts", "Alerts"),
                        ("attribution", "Attribution")):  # fmt: skip
        example = schemas[f"{model}ConfigUpdate"]["examples"][0] | {"version": 0}
        response = client.put(f"{CONFIG}/{kind}", headers=world.admin, json=example)
        assert response.status_code == 200, response.text
        # The schema's examples leave out null fields; the stored document spells them out.
        assert _without_nulls(response.json()["document"]) == _without_nulls(example["document"])
