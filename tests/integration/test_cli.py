"""The `dealscope` commands, in process (CliRunner) over real warehouses."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from dealscope.cli import app
from dealscope.demo.loader import find_tenant
from dealscope.warehouse.engine import Warehouse, open_warehouse
from dealscope.warehouse.migrate import current_revision, downgrade, head_revision

runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, list(args), env=env)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data dir, so the default warehouse is a fresh DuckDB file in it."""
    monkeypatch.setenv("DEALSCOPE_DATA_DIR", str(tmp_path))
    return tmp_path


def test_db_upgrade_then_current_on_the_default_duckdb(data_dir: Path) -> None:
    before = invoke("db", "current")
    assert before.exit_code == 0
    assert f"duckdb:///{data_dir}/warehouse.duckdb" in before.output
    assert "none (empty database)" in before.output

    upgraded = invoke("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert f"Upgraded from an empty database to {head_revision()} (head)." in upgraded.output

    again = invoke("db", "upgrade")
    assert f"Already at revision {head_revision()} (head)" in again.output
    assert f"Revision {head_revision()} (head): up to date." in invoke("db", "current").output


def test_db_upgrade_on_each_backend(warehouse: Warehouse) -> None:
    downgrade(warehouse, "base")

    result = invoke("db", "upgrade", env={"DEALSCOPE_DATABASE_URL": warehouse.url})

    assert result.exit_code == 0, result.output
    assert current_revision(warehouse) == head_revision()


def test_generate_loads_a_tenant_and_refuses_to_overwrite_it(data_dir: Path) -> None:
    assert invoke("db", "upgrade").exit_code == 0

    result = invoke("generate", "--leads", "300", "--seed", "3", "--tenant", "acme",
                    "--end", "2025-06-30", "--years", "1")  # fmt: skip

    assert result.exit_code == 0, result.output
    with open_warehouse(f"duckdb:///{data_dir}/warehouse.duckdb") as warehouse:
        tenant_id = find_tenant(warehouse, "acme")
    assert f"Tenant 'acme' (id {tenant_id})" in result.output
    assert "contacts" in result.output
    assert "Generated and loaded in" in result.output

    again = invoke("generate", "--leads", "300", "--seed", "3", "--tenant", "acme")
    assert again.exit_code == 1
    assert again.stderr == (
        "error: tenant 'acme' already exists; pass --replace to regenerate its data\n"
    )


def test_generate_needs_a_migrated_warehouse(data_dir: Path) -> None:
    result = invoke("generate", "--leads", "10", "--seed", "1")

    assert result.exit_code == 1
    assert "run `dealscope db upgrade`" in result.stderr
    assert "Traceback" not in result.output


@pytest.fixture
def duckdb_held_elsewhere(data_dir: Path) -> Iterator[None]:
    """Another process holding the default DuckDB file open, as a running server would."""
    path = data_dir / "warehouse.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, sys; con = duckdb.connect({str(path)!r}); print('held', flush=True); "
         "sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    yield
    holder.communicate("", timeout=10)


@pytest.mark.usefixtures("duckdb_held_elsewhere")
def test_a_busy_duckdb_file_is_one_clean_line() -> None:
    result = invoke("db", "current")

    assert result.exit_code == 1
    assert result.stderr.startswith("error: the warehouse file ")
    assert "is in use by another DealScope process" in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_an_unreachable_postgres_is_one_clean_line(free_port: Callable[[], int]) -> None:
    url = f"postgresql+psycopg://dealscope:hunter2@127.0.0.1:{free_port()}/dealscope"

    result = invoke("db", "current", env={"DEALSCOPE_DATABASE_URL": url})

    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot reach the warehouse database: connection fail")
    assert "hunter2" not in result.output


def test_serve_refuses_an_unmigrated_warehouse_before_starting(data_dir: Path) -> None:
    result = invoke("serve", "--port", "0")

    assert result.exit_code == 1
    assert "needs " + head_revision() in result.stderr
    assert "run `dealscope db upgrade`" in result.stderr


@pytest.mark.parametrize("option", ["--api-port", "--dashboard-port"])
def test_demo_says_which_port_is_taken(data_dir: Path, option: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = invoke("demo", option, str(port))

    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: port {port} on 127.0.0.1 is already in use")
    assert option in result.stderr
    assert not (data_dir / "warehouse.duckdb").exists()  # it stopped before doing anything


@pytest.mark.usefixtures("duckdb_held_elsewhere")
def test_demo_on_a_busy_duckdb_file_is_one_clean_line(free_port: Callable[[], int]) -> None:
    result = invoke("demo", "--api-port", str(free_port()), "--dashboard-port", str(free_port()))

    assert result.exit_code == 1
    assert result.stderr.startswith("error: the warehouse file ")
    assert "is in use by another DealScope process" in result.stderr
    assert "Traceback" not in result.output
