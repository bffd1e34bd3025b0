"""POST /api/v1/ingest/{kind} and `dealscope ingest` through a running server."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from import_kit import add_shop, count, data_version, rows
from test_import_files import BAD_CONTACTS, CONTACTS_CSV
from typer.testing import CliRunner

from dealscope.api.app import create_app
from dealscope.api.auth.api_keys import create_api_key
from dealscope.api.auth.schemas import ApiKeyCreate
from dealscope.cli import app
from dealscope.client import DealScopeClient
from dealscope.client.ingest_models import ImportRejectedError
from dealscope.config import Settings, get_settings
from dealscope.kit.crypto import load_cipher
from dealscope.kit.roles import Role
from dealscope.warehouse.engine import Warehouse, open_warehouse
from dealscope.warehouse.schema import contacts
from dealscope.warehouse.unit_of_work import unit_of_work

NOW = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)


def _key(warehouse: Warehouse, tenant_id: int, role: Role) -> str:
    with unit_of_work(warehouse) as uow:
        created = create_api_key(
            uow, tenant_id, ApiKeyCreate(name=role.value, role=role), None, NOW
        )
    return created.key


def _settings(warehouse: Warehouse, data_dir: Path) -> Settings:
    return Settings(
        _env_file=None, environment="test", data_dir=data_dir, database_url=warehouse.url
    )


def test_upload_rejects_skips_and_refuses(warehouse: Warehouse, tmp_path: Path) -> None:
    shop = add_shop(warehouse)
    admin = {"X-API-Key": _key(warehouse, shop.tenant_id, Role.ADMIN)}
    analyst = {"X-API-Key": _key(warehouse, shop.tenant_id, Role.ANALYST)}
    settings = _settings(warehouse, tmp_path)
    upload = {"file": ("leads.csv", CONTACTS_CSV, "text/csv")}
    with TestClient(create_app(settings)) as client:
        refused = client.post("/api/v1/ingest/contacts", headers=analyst, files=upload)
        assert refused.status_code == 403
        assert refused.json()["error"] == "permission_denied"

        rejected = client.post("/api/v1/ingest/contacts", headers=admin, files=upload)
        assert rejected.status_code == 422
        body = rejected.json()
        assert body["error"] == "import_rejected"
        assert body["rows_read"] == 6
        assert [(b["line"], b["reason"]) for b in body["bad_rows"]] == BAD_CONTACTS
        assert count(warehouse, contacts) == 0

        skipped = client.post(
            "/api/v1/ingest/contacts",
            headers=admin,
            files=upload,
            params={"skip_bad_rows": "true"},
        )
        assert skipped.status_code == 200, skipped.text
        result = skipped.json()
        assert (result["inserted"], result["updated"], result["rejected"]) == (2, 0, 4)
        assert result["columns"]["E-mail"] == "email"
        assert result["ignored_columns"] == ["Notes"]
        reject_file = Path(result["reject_file"])
        assert reject_file.parent == tmp_path / "rejects" / str(shop.tenant_id)
        assert len(reject_file.read_text().splitlines()) == 5
        assert result["data_version"] == data_version(warehouse, shop.tenant_id) == 1

        mapped = client.post(
            "/api/v1/ingest/contacts",
            headers=admin,
            files={"file": ("x.csv", b"Lead Mail,Name\nxavier@example.com,Xavier Ray\n")},
            params={"map": ["Lead Mail=email"]},
        )
        assert mapped.status_code == 200, mapped.text
        assert mapped.json()["columns"] == {"Lead Mail": "email", "Name": "full_name"}
        cipher = load_cipher(settings)
        stored = rows(warehouse, contacts, "first_name", "last_name", "email_encrypted")
        assert (stored[-1][0], stored[-1][1], cipher.decrypt(stored[-1][2])) == (
            "Xavier", "Ray", "xavier@example.com",
        )  # fmt: skip

        runs = client.get("/api/v1/ingest/runs", headers=admin, params={"limit": 3})
        assert runs.status_code == 200
        assert [(r["status"], r["source"], r["rows_inserted"], r["rows_rejected"], r["actor"])
                for r in runs.json()] == [
            ("imported", "upload", 1, 0, "API key admin"),
            ("imported", "upload", 2, 4, "API key admin"),
            ("rejected", "upload", 0, 4, "API key admin"),
        ]  # fmt: skip
        assert client.get("/api/v1/ingest/runs", headers=analyst).status_code == 403

        unknown = client.post("/api/v1/ingest/widgets", headers=admin, files=upload)
        assert unknown.status_code == 422
        empty = client.post(
            "/api/v1/ingest/contacts", headers=admin, files={"file": ("e.csv", b"")}
        )
        assert (empty.status_code, empty.json()["error"]) == (400, "validation_failed")
    assert count(warehouse, contacts) == 3


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("DEALSCOPE_")}
    return subprocess.run(
        [sys.executable, "-m", "dealscope", "ingest", *args],
        env={**base, **env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_cli_goes_through_the_server_holding_the_file(
    _migrated_duckdb_file: Path, tmp_path: Path, serve_api: Callable[[Settings], str]
) -> None:
    """DuckDB lets one process write the file: the server (this process) holds it, so the
    CLI (another process) uploads through the server's API, and says so."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(_migrated_duckdb_file, path)
    with open_warehouse(f"duckdb:///{path}") as warehouse:
        shop = add_shop(warehouse)
        key = _key(warehouse, shop.tenant_id, Role.ADMIN)
        url = serve_api(_settings(warehouse, tmp_path))
        leads = tmp_path / "leads.csv"
        leads.write_bytes(CONTACTS_CSV)
        env = {
            "DEALSCOPE_DATA_DIR": str(tmp_path),
            "DEALSCOPE_DATABASE_URL": warehouse.url,
            "DEALSCOPE_API_URL": url,
            "DEALSCOPE_ENVIRONMENT": "test",
        }
        no_key = _cli([str(leads), "--kind", "contacts"], env)
        assert no_key.returncode == 1
        assert "held by a running DealScope server; importing through its API" in no_key.stdout
        assert "pass --api-key (or set DEALSCOPE_API_KEY)" in no_key.stderr
        assert "lock" not in (no_key.stdout + no_key.stderr).lower()

        with DealScopeClient(url, api_key=key) as client:  # what the CLI calls
            with pytest.raises(ImportRejectedError) as rejected:
                client.ingest("contacts", "leads.csv", CONTACTS_CSV)
            assert [(b.line, b.reason) for b in rejected.value.bad_rows] == BAD_CONTACTS
        assert count(warehouse, contacts) == 0

        good = _cli(["file", str(leads), "--kind", "contacts", "--skip-bad-rows"],
                    {**env, "DEALSCOPE_API_KEY": key})  # fmt: skip
        assert good.returncode == 0, good.stdout + good.stderr
        assert "importing through its API" in good.stdout
        assert (
            "Imported leads.csv as contacts: 6 rows read, 2 new, 0 updated, 0 unchanged, "
            "4 skipped." in good.stdout
        )
        assert f"{tmp_path}/rejects/{shop.tenant_id}/leads.rejects-" in good.stdout
        assert count(warehouse, contacts) == 2
        assert data_version(warehouse, shop.tenant_id) == 1


def test_the_cli_writes_directly_when_no_server_holds_the_file(
    warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = add_shop(warehouse)
    leads = tmp_path / "leads.csv"
    leads.write_bytes(CONTACTS_CSV)
    monkeypatch.setenv("DEALSCOPE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DEALSCOPE_DATABASE_URL", warehouse.url)
    monkeypatch.setenv("DEALSCOPE_ENVIRONMENT", "test")
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    runner = CliRunner()
    bad = runner.invoke(app, ["ingest", str(leads), "--kind", "contacts"])
    assert bad.exit_code == 1
    assert "directly (no server holds it)" in bad.output
    assert "4 bad rows: nothing was imported" in bad.output
    for line, reason in BAD_CONTACTS:
        assert reason.split(":")[0] in bad.output and f"│ {line:>4} │" in bad.output
    assert count(warehouse, contacts) == 0
    good = runner.invoke(
        app, ["ingest", str(leads), "--kind", "contacts", "--tenant", "shop", "--skip-bad-rows",
              "--map", "Notes="],
    )  # fmt: skip
    assert good.exit_code == 0, good.output
    assert "2 new, 0 updated, 0 unchanged, 4 skipped" in good.output
    assert f"Skipped rows, with their reasons: {tmp_path}/leads.rejects-" in good.output
    assert "Not imported" not in good.output  # Notes was left out by hand
    assert count(warehouse, contacts) == 2
    assert data_version(warehouse, shop.tenant_id) == 1
    unknown = runner.invoke(app, ["ingest", str(leads), "--kind", "contacts", "--tenant", "x"])
    assert unknown.exit_code == 1 and "no tenant 'x'" in unknown.output
