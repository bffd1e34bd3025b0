"""`dealscope report render` and `dealscope report templates` on a small generated brokerage."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader
from report_world import CIPHER, END
from typer.testing import CliRunner

from dealscope.cli import app
from dealscope.demo.generator import BrokerageSpec, generate_brokerage
from dealscope.demo.loader import load_brokerage
from dealscope.warehouse.engine import open_warehouse


def test_report_render_writes_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _migrated_duckdb_file: Path
) -> None:
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(_migrated_duckdb_file, path)
    with open_warehouse(f"duckdb:///{path}") as warehouse:
        spec = BrokerageSpec(leads=250, seed=4, end=END, years=1, agents=4, name="Tiny Realty")
        load_brokerage(warehouse, generate_brokerage(spec), "tiny", cipher=CIPHER)
    monkeypatch.setenv("DEALSCOPE_DATABASE_URL", f"duckdb:///{path}")
    monkeypatch.setenv("DEALSCOPE_DATA_DIR", str(tmp_path))
    runner = CliRunner()

    out = tmp_path / "weekly.zip"
    result = runner.invoke(
        app,
        ["report", "render", "weekly_performance", "--tenant", "tiny", "--as-of", "2025-03-31",
         "--format", "csv", "-o", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Weekly performance" in result.output and str(out) in result.output
    names = zipfile.ZipFile(out).namelist()
    assert names[0] == "01-the-week-in-figures.csv" and len(names) == 5

    pdf = tmp_path / "exec.pdf"
    result = runner.invoke(
        app,
        ["report", "render", "monthly_executive", "--tenant", "tiny", "--as-of", "2025-03-31",
         "-o", str(pdf)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    cover = PdfReader(io.BytesIO(pdf.read_bytes())).pages[0].extract_text()
    assert "TINY REALTY" in cover and "1 March 2025 to 31 March 2025" in cover

    unknown = runner.invoke(app, ["report", "render", "monthly_executive", "--tenant", "nope"])
    assert unknown.exit_code != 0 and "no tenant with slug 'nope'" in unknown.output
    both = runner.invoke(app, ["report", "render", "daily_summary", "--spec", str(out)])
    assert both.exit_code != 0 and "not both" in both.output
    listed = runner.invoke(app, ["report", "templates"])
    assert listed.exit_code == 0 and "agent_scorecard" in listed.output
