"""`dealscope bench ghl-sync` end to end at a tiny size: the JSON it writes and its counts
(no timing is asserted)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dealscope.cli import app


def test_bench_ghl_sync_writes_its_figures(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "ghl-sync", "--contacts", "40", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (path,) = tmp_path.glob("ghl-sync-*.json")
    figures = json.loads(path.read_text())["figures"]
    full = figures["full"]["resources"]
    # 40 contacts, 10 deals, 4 conversations: one of 100 messages and three of 3.
    assert {name: r["records"] for name, r in full.items()} == {
        "pipelines": 1, "users": 3, "contacts": 40, "opportunities": 10, "messages": 109,
    }  # fmt: skip
    assert all(r["error"] is None for r in full.values())
    assert full["contacts"]["records_per_second"] > 0
    incremental = figures["incremental"]
    assert incremental["contacts_changed"] == 1
    assert incremental["resources"]["contacts"]["records"] == 1
    assert incremental["resources"]["opportunities"]["records"] == 0
    assert figures["backend"] == "duckdb"
