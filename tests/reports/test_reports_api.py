"""/reports through the API on both backends: generate and download under the caller's scope,
the same numbers as /metrics/query, saved reports shared by role, schedules, and errors that
name what is wrong."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from PIL import Image
from pypdf import PdfReader
from report_world import module_warehouse

from dealscope.api.app import create_app
from dealscope.config import Settings
from dealscope.demo.generator import BrokerageSpec, generate_brokerage
from dealscope.demo.loader import load_brokerage
from dealscope.kit.crypto import PiiCipher
from dealscope.kit.passwords import hash_password
from dealscope.kit.roles import Role
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.schema import agents, report_schedules, users
from dealscope.warehouse.unit_of_work import unit_of_work

END = dt.date(2025, 3, 31)
PASSWORD = "correct horse battery staple"
_HASH: list[str] = []

QUICK = {
    "title": "Lead flow",
    "sections": [
        {"title": "Totals", "visual": "kpi_cards", "metrics": ["new_leads", "gci"],
         "range": "mtd", "compare": "previous_period"},
        {"title": "By source", "visual": "bar", "metrics": ["new_leads"],
         "dimensions": ["source"], "range": "mtd"},
    ],
}  # fmt: skip


@dataclass
class Team:
    client: TestClient
    tenant_id: int
    agent_id: int  # the agent user's own agent
    other_agent: int  # an agent on another team
    agent_names: dict[int, str]
    headers: dict[str, dict[str, str]]


def _add_user(
    warehouse: Warehouse, tenant_id: int, role: Role, agent: int | None, team: int | None
) -> str:
    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    email = f"{role.value}{agent or ''}{team or ''}@acme.example"
    with unit_of_work(warehouse) as uow:
        uow.connection.execute(
            users.insert().values(
                id=uow.next_id(users), tenant_id=tenant_id, email=email, full_name=email,
                password_hash=_HASH[0], role=role.value, agent_id=agent, team_id=team,
                created_at=dt.datetime.now(dt.UTC),
            )
        )  # fmt: skip
    return email


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def team(request: pytest.FixtureRequest) -> Iterator[Team]:
    """One brokerage and its users per backend, shared by this module's tests (in file
    order: the branding test, which changes how PDFs look, comes last)."""
    with module_warehouse(request, request.param) as warehouse:
        yield from _team(warehouse, request.getfixturevalue("tmp_path_factory").mktemp("data"))


def _team(warehouse: Warehouse, data_dir: Path) -> Iterator[Team]:
    spec = BrokerageSpec(leads=500, seed=8, end=END, years=1, agents=6, name="Acme Realty")
    cipher = PiiCipher([Fernet.generate_key()], b"k")
    tenant_id = load_brokerage(warehouse, generate_brokerage(spec), "acme", cipher=cipher).tenant_id
    with warehouse.engine.connect() as conn:
        rows = conn.execute(
            sa.select(agents.c.id, agents.c.team_id, agents.c.first_name, agents.c.last_name)
            .where(agents.c.tenant_id == tenant_id)
            .order_by(agents.c.id)
        ).all()
    first = rows[0]
    other = next(r for r in rows if r.team_id != first.team_id)
    people = {
        "admin": (Role.ADMIN, None, None),
        "analyst": (Role.ANALYST, None, None),
        "analyst2": (Role.ANALYST, None, int(other.team_id)),
        "viewer": (Role.VIEWER, None, None),
        "manager": (Role.MANAGER, None, int(first.team_id)),
        "agent": (Role.AGENT, int(first.id), None),
    }
    emails = {k: _add_user(warehouse, tenant_id, *v) for k, v in people.items()}
    settings = Settings(
        _env_file=None, environment="test", data_dir=data_dir, database_url=warehouse.url,
        rate_limit_per_minute=100_000,
    )  # fmt: skip
    with TestClient(create_app(settings)) as client:
        headers = {}
        for key, email in emails.items():
            token = client.post(
                "/api/v1/auth/token", data={"username": email, "password": PASSWORD}
            )
            assert token.status_code == 200, token.text
            headers[key] = {"Authorization": f"Bearer {token.json()['access_token']}"}
        yield Team(
            client, tenant_id, int(first.id), int(other.id),
            {int(r.id): f"{r.first_name} {r.last_name}" for r in rows}, headers,
        )  # fmt: skip


def _generate(team: Team, who: str, **body: Any) -> Any:
    return team.client.post(
        "/api/v1/reports/generate", headers=team.headers[who], json={"as_of": str(END), **body}
    )


def _metrics(team: Team, who: str, **query: Any) -> dict[str, float]:
    response = team.client.post(
        "/api/v1/metrics/query", headers=team.headers[who], json={"as_of": str(END), **query}
    )
    assert response.status_code == 200, response.text
    return {m["slug"]: m["rows"][0]["value"] for m in response.json()["metrics"]}


def _csv(content: bytes) -> dict[str, list[list[str]]]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    return {
        n: list(csv.reader(io.StringIO(archive.read(n).decode("utf-8-sig"))))
        for n in archive.namelist()
    }


def test_generate_download_and_scope(team: Team) -> None:
    made = _generate(team, "analyst", spec=QUICK, format="csv")
    assert made.status_code == 200, made.text
    body = made.json()
    assert body["filename"] == "lead-flow-2025-03-31.zip" and len(body["download_id"]) == 32
    got = team.client.get(body["download_url"], headers=team.headers["analyst"])
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    assert "lead-flow-2025-03-31.zip" in got.headers["content-disposition"]
    header, row = _csv(got.content)["01-totals.csv"][:2]
    figures = dict(zip(header, row, strict=True))
    api = _metrics(team, "analyst", metrics=["new_leads", "gci"], range="mtd")
    assert float(figures["New leads"]) == api["new_leads"] > 0  # what the API shows
    assert float(figures["GCI"]) == pytest.approx(api["gci"])
    # a rendering belongs to whoever made it
    for who in ("admin", "viewer"):
        other = team.client.get(body["download_url"], headers=team.headers[who])
        assert other.status_code == 404, who
    bogus = team.client.get("/api/v1/reports/download/..%2F..%2Fx", headers=team.headers["admin"])
    assert bogus.status_code == 404

    # an agent's rendering counts only the agent's rows, like /metrics/query for the agent
    mine = _generate(team, "agent", spec=QUICK, format="csv", download=True)
    assert mine.status_code == 200 and mine.headers["content-type"] == "application/zip"
    header, row = _csv(mine.content)["01-totals.csv"][:2]
    own = _metrics(team, "agent", metrics=["new_leads"], range="mtd")["new_leads"]
    assert float(dict(zip(header, row, strict=True))["New leads"]) == own < api["new_leads"]

    scorecard = _generate(team, "agent", template="agent_scorecard", format="pdf", download=True)
    assert scorecard.status_code == 200, scorecard.text
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(scorecard.content)).pages)
    assert team.agent_names[team.agent_id] in text
    assert team.agent_names[team.other_agent] not in text

    # a manager narrows a report to an agent of the team, not of another team
    ok = _generate(team, "manager", spec=QUICK, format="csv", agent_id=team.agent_id)
    assert ok.status_code == 200, ok.text
    out = _generate(team, "manager", spec=QUICK, format="csv", agent_id=team.other_agent)
    assert out.status_code == 404 and "scope" in out.json()["detail"]
    whole = _generate(team, "admin", template="agent_scorecard", format="csv")
    assert whole.status_code == 400 and "one agent" in whole.json()["detail"]
    refused = _generate(
        team, "agent", format="csv",
        spec={"title": "Spend", "sections": [
            {"title": "Spend", "visual": "kpi_cards", "metrics": ["marketing_spend"]}]},
    )  # fmt: skip
    assert refused.status_code == 403 and refused.json()["error"] == "scope_violation"


def test_bad_specs_are_refused_with_their_names(team: Team) -> None:
    def section(**fields: Any) -> dict[str, Any]:
        base = {"title": "Bad one", "visual": "table", "metrics": ["new_leads"]}
        return {"title": "R", "sections": [{**base, **fields}]}

    cases = [
        (section(metrics=["new_leads", "gci_total"]), "'gci_total'"),
        (section(metrics=["marketing_spend"], dimensions=["agent"]), "agent"),
        (section(visual="pie", metrics=["new_leads", "gci"], dimensions=["source"]), "pie"),
        (section(visual="line"), "grain"),
        (section(visual="funnel", metrics=["new_leads", "gci"]), "count"),
        (section(visual="bar", metrics=["gci", "new_leads"], grain="month"), "one unit"),
    ]
    for spec, named in cases:
        response = _generate(team, "analyst", spec=spec, format="csv")
        assert response.status_code == 400, (spec, response.text)
        detail = response.json()["detail"]
        assert "section 1 ('Bad one')" in detail and named in detail, detail
    unknown = _generate(team, "analyst", template="quarterly", format="pdf")
    assert unknown.status_code == 422
    both = _generate(team, "analyst", template="daily_summary", spec=QUICK)
    assert both.status_code == 422 and "exactly one" in both.text


def test_saved_reports_are_shared_by_role(team: Team) -> None:
    c, h = team.client, team.headers
    created = c.post(
        "/api/v1/reports",
        headers=h["analyst"],
        json={"name": "Lead flow", "spec": QUICK, "shared_with_roles": ["viewer"]},
    )
    assert created.status_code == 201, created.text
    report = created.json()
    assert report["editable"] and report["spec"]["title"] == "Lead flow"
    listed = {r["id"] for r in c.get("/api/v1/reports/list", headers=h["viewer"]).json()["reports"]}
    assert report["id"] in listed
    hidden = c.get("/api/v1/reports/list", headers=h["manager"]).json()
    assert report["id"] not in {r["id"] for r in hidden["reports"]}
    assert {t["name"] for t in hidden["templates"]} == {
        "daily_summary", "weekly_performance", "monthly_executive", "agent_scorecard"
    }  # fmt: skip
    assert c.get(f"/api/v1/reports/{report['id']}", headers=h["manager"]).status_code == 404
    by_viewer = _generate(team, "viewer", report_id=report["id"], format="xlsx")
    assert by_viewer.status_code == 200, by_viewer.text
    assert _generate(team, "manager", report_id=report["id"]).status_code == 404
    assert (
        c.post(
            "/api/v1/reports", headers=h["viewer"], json={"name": "x", "spec": QUICK}
        ).status_code
        == 403
    )

    changed = {"name": "Lead flow v2", "spec": QUICK, "shared_with_roles": ["manager"]}
    other = c.put(f"/api/v1/reports/{report['id']}", headers=h["analyst2"], json=changed)
    assert other.status_code == 404  # not the owner, not an admin
    mine = c.put(f"/api/v1/reports/{report['id']}", headers=h["analyst"], json=changed)
    assert mine.status_code == 200 and mine.json()["name"] == "Lead flow v2"
    assert c.get(f"/api/v1/reports/{report['id']}", headers=h["manager"]).status_code == 200
    assert c.get(f"/api/v1/reports/{report['id']}", headers=h["viewer"]).status_code == 404
    unknown = {"title": "R", "sections": [{"title": "T", "visual": "table", "metrics": ["nope"]}]}
    bad = c.put(
        f"/api/v1/reports/{report['id']}", headers=h["analyst"], json={"name": "x", "spec": unknown}
    )
    assert bad.status_code == 400 and "'nope'" in bad.json()["detail"]
    assert (
        c.get(f"/api/v1/reports/{report['id']}", headers=h["admin"]).json()["name"]
        == "Lead flow v2"
    )

    scheduled = c.post(
        "/api/v1/reports/schedule", headers=h["analyst"],
        json={"report_id": report["id"], "cron": "0 7 * * 1", "timezone": "America/New_York",
              "recipients": ["Owner@Acme.example"], "formats": ["pdf", "xlsx"]},
    )  # fmt: skip
    assert scheduled.status_code == 201, scheduled.text
    schedule = scheduled.json()
    assert schedule["recipients"] == ["owner@acme.example"]
    # 07:00 New York time on a Monday, in UTC: 11:00 (EDT) or 12:00 (EST)
    next_run = dt.datetime.fromisoformat(schedule["next_run_at"])
    local = next_run.astimezone(ZoneInfo("America/New_York"))
    assert (local.weekday(), local.hour, local.minute) == (0, 7, 0)
    assert next_run > dt.datetime.now(dt.UTC)
    listed_schedules = c.get("/api/v1/reports/schedules", headers=h["manager"]).json()
    assert [s["id"] for s in listed_schedules] == [schedule["id"]]
    bad_cron = c.post(
        "/api/v1/reports/schedule", headers=h["analyst"],
        json={"report_id": report["id"], "cron": "0 25 * * *", "recipients": ["a@b.example"]},
    )  # fmt: skip
    assert bad_cron.status_code == 400 and "0 25 * * *" in bad_cron.json()["detail"]
    template = c.post(
        "/api/v1/reports/schedule", headers=h["admin"],
        json={"template": "agent_scorecard", "cron": "0 8 1 * *"},
    )  # fmt: skip
    assert template.status_code == 201, template.text  # goes to each agent: no recipients

    stop = f"/api/v1/reports/schedules/{template.json()['id']}"
    assert c.delete(stop, headers=h["analyst"]).status_code == 404  # the admin's report's
    assert c.delete(stop, headers=h["admin"]).status_code == 204
    assert c.delete(stop, headers=h["admin"]).status_code == 404
    assert c.delete(f"/api/v1/reports/{report['id']}", headers=h["analyst"]).status_code == 204
    assert c.get(f"/api/v1/reports/{report['id']}", headers=h["admin"]).status_code == 404
    warehouse = c.app.state.warehouse  # type: ignore[attr-defined]
    with warehouse.engine.connect() as conn:
        left = conn.execute(sa.select(report_schedules.c.report_id)).scalars().all()
    assert left == []  # its schedule went with it; the template's was stopped


def _logo() -> str:
    picture = io.BytesIO()
    Image.new("RGB", (60, 20), (200, 30, 40)).save(picture, format="PNG")
    return "data:image/png;base64," + base64.b64encode(picture.getvalue()).decode()


def test_branding_from_the_dashboard_configuration(team: Team) -> None:
    c, h = team.client, team.headers
    current = c.get("/api/v1/config/dashboard", headers=h["admin"]).json()
    branding = {"display_name": "Acme & Luxury Homes", "logo": _logo(),
                "primary_color": "#7A1F2B", "accent_color": "#C9A227"}  # fmt: skip
    document = {**current["document"], "branding": branding}
    saved = c.put(
        "/api/v1/config/dashboard",
        headers=h["admin"],
        json={"version": current["version"], "document": document},
    )
    assert saved.status_code == 200, saved.text
    pdf = _generate(team, "viewer", spec=QUICK, format="pdf", download=True)
    assert pdf.status_code == 200
    reader = PdfReader(io.BytesIO(pdf.content))
    assert "ACME & LUXURY HOMES" in reader.pages[0].extract_text()
    assert len(list(reader.pages[0].images)) == 1  # the logo, on the cover
    assert "Acme & Luxury Homes" in reader.pages[1].extract_text()  # the running header
    bad = c.put(
        "/api/v1/config/dashboard", headers=h["admin"],
        json={"version": saved.json()["version"],
              "document": {**current["document"], "branding": {"logo": "http://x/logo.png"}}},
    )  # fmt: skip
    assert bad.status_code == 422 and "data URI" in bad.text
