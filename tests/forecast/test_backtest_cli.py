"""`dealscope forecast backtest` in process over a generated brokerage in a DuckDB file: the
score table is printed, the forecasts land in the ledger, and a wrong tenant is one line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from dealscope.cli import app
from dealscope.demo.generator import BrokerageSpec, generate_brokerage
from dealscope.demo.loader import load_brokerage
from dealscope.kit.crypto import PiiCipher
from dealscope.warehouse.engine import open_warehouse
from dealscope.warehouse.migrate import upgrade
from dealscope.warehouse.schema import forecasts

END = dt.date(2025, 3, 31)


def test_backtest_prints_scores_and_keeps_the_forecasts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    with open_warehouse(url) as warehouse:
        upgrade(warehouse)
        spec = BrokerageSpec(leads=1200, seed=8, end=END, years=2, agents=5)
        cipher = PiiCipher([Fernet.generate_key()], b"k")
        load_brokerage(warehouse, generate_brokerage(spec), "acme", cipher=cipher)
    monkeypatch.setenv("DEALSCOPE_DATABASE_URL", url)
    runner = CliRunner()
    args = ["forecast", "backtest", "--tenant", "acme", "--latest", END.isoformat()]
    args += ["--dates", "2", "--horizons", "1,2", "--methods", "monte_carlo,ets"]
    result = runner.invoke(app, [*args, "--iterations", "300"])
    assert result.exit_code == 0, result.output
    assert "2024-12-31 .. 2025-01-31" in result.output
    assert "monte_carlo" in result.output and "timeseries:ets" in result.output
    assert "8 backtest forecasts kept in the ledger." in result.output
    with open_warehouse(url) as warehouse, warehouse.engine.connect() as conn:
        rows = conn.execute(sa.select(forecasts.c.as_of, forecasts.c.params)).all()
    assert len(rows) == 8 and {r.params["kind"] for r in rows} == {"backtest"}
    assert {r.as_of for r in rows} == {dt.date(2024, 12, 31), dt.date(2025, 1, 31)}

    wrong = runner.invoke(app, ["forecast", "backtest", "--tenant", "nobody"])
    assert wrong.exit_code == 1 and "no tenant 'nobody'" in wrong.output
