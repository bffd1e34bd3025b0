"""`dealscope sync ghl` and `dealscope sync status` in process (CliRunner) over a DuckDB file,
against the loopback GHL server; credentials from options, env and per-tenant JSON."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from dealscope import cli_sync
from dealscope.bench import ghl_data as data
from dealscope.bench.ghl_server import FakeGhl, FakeGhlServer
from dealscope.cli import app
from dealscope.config import Settings
from dealscope.errors import ConfigurationError
from dealscope.ingest.ghl.accounts import resolve_credentials
from dealscope.ingest.ghl.sync import RESOURCES
from dealscope.warehouse.engine import open_warehouse
from dealscope.warehouse.schema import contacts, messages, opportunities, sync_cursors

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _migrated_duckdb_file: Path) -> Path:
    shutil.copyfile(_migrated_duckdb_file, tmp_path / "warehouse.duckdb")
    monkeypatch.setenv("DEALSCOPE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(cli_sync.console, "width", 200)
    return tmp_path


@pytest.fixture
def ghl() -> Iterator[tuple[FakeGhl, str]]:
    fake = data.build(contacts=120, opportunities=30, conversations=5, big_conversation=3)
    with FakeGhlServer(fake) as server:
        yield fake, server.url


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


def table_rows(output: str) -> dict[str, list[str]]:
    """The rows of a rich table in `output`, by their first cell."""
    found = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("│┃").split("│")]
        if len(cells) > 1 and cells[0]:
            found[cells[0]] = cells
    return found


def counts(data_dir: Path) -> tuple[int, int, int]:
    path = data_dir / "warehouse.duckdb"
    with open_warehouse(f"duckdb:///{path}") as warehouse, warehouse.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (contacts, opportunities, messages)
        )


def test_sync_command_full_incremental_status(
    data_dir: Path, ghl: tuple[FakeGhl, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, url = ghl
    monkeypatch.setenv("DEALSCOPE_GHL_TOKEN", fake.token)
    monkeypatch.setenv("DEALSCOPE_GHL_BASE_URL", url)
    assert invoke("tenants", "add", "--slug", "acme", "--name", "Acme Realty").exit_code == 0

    result = invoke("sync", "status", "--tenant", "acme")
    assert result.exit_code == 0, result.output
    assert "has not been synced yet" in result.output

    result = invoke("sync", "ghl", "--tenant", "acme", "--location-id", "LOC_test", "--no-progress")
    assert result.exit_code == 0, result.output
    assert "GHL sync of location LOC_test (incremental)" in result.output
    lines = table_rows(result.output)
    # resource, mode, fetched, new, updated, unchanged, ...: the first run is a full one.
    assert lines["contacts"][1:6] == ["full", "120", "120", "0", "0"]
    assert lines["opportunities"][1:6] == ["full", "30", "30", "0", "0"]
    assert lines["messages"][1:3] == ["full", "15"]
    assert counts(data_dir) == (120, 30, 15)

    result = invoke("sync", "status", "--tenant", "acme")
    assert result.exit_code == 0, result.output
    assert "LOC_test" in result.output and "contacts" in result.output
    assert "ok" in result.output and "C0119" in result.output

    fake.reset_counts()
    result = invoke(
        "sync", "ghl", "--tenant", "acme", "--location-id", "LOC_test", "--no-progress",
        "--resource", "contacts", "--full",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert fake.served == {"contacts": 120}
    assert "GHL sync of location LOC_test (full)" in result.output


def test_sync_command_reports_a_refused_token_in_one_line(
    data_dir: Path, ghl: tuple[FakeGhl, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = ghl
    monkeypatch.setenv(
        "DEALSCOPE_GHL_ACCOUNTS",
        json.dumps({"acme": {"location_id": "LOC_test", "token": "wrong", "base_url": url}}),
    )
    assert invoke("tenants", "add", "--slug", "acme", "--name", "Acme Realty").exit_code == 0
    result = invoke("sync", "ghl", "--tenant", "acme", "--no-progress")
    assert result.exit_code == 1
    assert "GHL refused the token for location LOC_test (401: Invalid JWT)" in result.output
    assert "Not run after that error: users, contacts, opportunities, messages." in result.output
    path = data_dir / "warehouse.duckdb"
    with open_warehouse(f"duckdb:///{path}") as warehouse, warehouse.engine.connect() as conn:
        stored = conn.execute(sa.select(sync_cursors.c.resource, sync_cursors.c.status)).all()
    assert [tuple(r) for r in stored] == [("pipelines", "failed")]

    result = runner.invoke(
        app,
        ["sync", "ghl", "--tenant", "acme", "--no-progress", "--resource", "pipelines",
         "--token-stdin"],
        input="pit-test-token\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output  # the token from stdin beats the configured one
    result = invoke("sync", "ghl", "--tenant", "acme", "--token-stdin")
    assert result.exit_code == 1
    assert "--token-stdin was given but stdin had no token line" in result.output

    result = invoke("sync", "ghl", "--tenant", "nobody", "--no-progress")
    assert result.exit_code == 1
    assert "no GHL account for tenant 'nobody'" in result.output


def test_credentials_come_from_options_then_tenant_then_installation() -> None:
    settings = Settings(
        ghl_location_id="LOC_default",
        ghl_token="tok-default",  # type: ignore[arg-type]
        ghl_accounts=json.dumps({"acme": {"location_id": "LOC_acme", "token": "tok-acme"}}),  # type: ignore[arg-type]
    )
    acme = resolve_credentials(settings, "acme")
    assert (acme.location_id, acme.token, acme.base_url) == (
        "LOC_acme", "tok-acme", "https://services.leadconnectorhq.com"
    )  # fmt: skip
    other = resolve_credentials(settings, "other")
    assert (other.location_id, other.token) == ("LOC_default", "tok-default")
    given = resolve_credentials(settings, "acme", "LOC_x", "tok-x", "http://127.0.0.1:9")
    assert (given.location_id, given.token, given.base_url) == (
        "LOC_x", "tok-x", "http://127.0.0.1:9"
    )  # fmt: skip
    assert "tok-acme" not in repr(acme)
    with pytest.raises(ConfigurationError, match="unknown key"):
        resolve_credentials(Settings(ghl_accounts='{"acme": {"locationId": "x"}}'), "acme")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        resolve_credentials(Settings(ghl_accounts="{"), "acme")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="a token"):
        resolve_credentials(Settings(ghl_location_id="LOC"), "acme")


def test_resource_choices_match_the_sync() -> None:
    assert tuple(r.value for r in cli_sync.GhlResource) == RESOURCES
