"""`dealscope alerts evaluate|list` in process over a DuckDB file, driven by the data."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from alerting_data import add_events, add_rule, add_tenant
from typer.testing import CliRunner

from dealscope import cli_alerts
from dealscope.cli import app
from dealscope.warehouse.engine import open_warehouse

runner = CliRunner()
AT = dt.datetime(2025, 2, 4, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _migrated_duckdb_file: Path) -> Path:
    shutil.copyfile(_migrated_duckdb_file, tmp_path / "warehouse.duckdb")
    monkeypatch.setenv("DEALSCOPE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(cli_alerts.console, "width", 200)
    return tmp_path


def test_evaluate_and_list_from_the_command_line(data_dir: Path) -> None:
    with open_warehouse(f"duckdb:///{data_dir / 'warehouse.duckdb'}") as warehouse:
        tenant = add_tenant(warehouse)
        add_events(warehouse, tenant, AT - dt.timedelta(minutes=10), 6, status="dead_letter")
        add_rule(
            warehouse,
            tenant,
            {"name": "GHL feed", "condition": {"kind": "feed_health", "min_events": 5}},
        )
    at = AT.isoformat()
    first = runner.invoke(app, ["alerts", "evaluate", "--tenant", "acme", "--at", at])
    assert first.exit_code == 0, first.output
    assert "GHL feed" in first.output and "fired" in first.output
    assert "Notifications sent: 0, failed: 0." in first.output  # the rule has no channels
    again = runner.invoke(app, ["alerts", "evaluate", "--tenant", "acme", "--at", at])
    assert "still firing" in again.output

    listed = runner.invoke(app, ["alerts", "list", "--tenant", "acme"])
    assert listed.exit_code == 0, listed.output
    assert "webhooks: 6 of 6 events failed in 60 min (100% > 10%)" in listed.output

    unknown = runner.invoke(app, ["alerts", "list", "--tenant", "nope"])
    assert unknown.exit_code != 0 and "no tenant 'nope'" in unknown.output
