"""`dealscope tenants ...` and `dealscope users ...` in process (CliRunner) over a DuckDB file."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from dealscope import cli_users
from dealscope.api.auth.sessions import SignInAttempt, sign_in
from dealscope.cli import app
from dealscope.config import Settings
from dealscope.errors import AuthenticationFailed
from dealscope.warehouse.engine import open_warehouse
from dealscope.warehouse.schema import users

runner = CliRunner()
PASSWORD = "a passphrase for the cli"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _migrated_duckdb_file: Path) -> Path:
    """A data dir whose default warehouse is a migrated, empty DuckDB file."""
    shutil.copyfile(_migrated_duckdb_file, tmp_path / "warehouse.duckdb")
    monkeypatch.setenv("DEALSCOPE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(cli_users.console, "width", 200)  # tables unwrapped, whatever the tty
    return tmp_path


def invoke(*args: str, stdin: str | None = None) -> Result:
    return runner.invoke(app, list(args), input=stdin)


def _add_acme() -> None:
    result = invoke("tenants", "add", "--slug", "acme", "--name", "Acme Realty")
    assert result.exit_code == 0, result.output


def _add_user(email: str, *options: str, password: str = PASSWORD) -> Result:
    return invoke(
        "users", "add", "--tenant", "acme", "--email", email, "--name", "Pat Doe",
        *options, "--password-stdin", stdin=f"{password}\n",
    )  # fmt: skip


def _sign_in(data_dir: Path, email: str, password: str = PASSWORD) -> int:
    """The user id a password sign-in through the API's own service gives."""
    settings = Settings(_env_file=None, environment="test", data_dir=data_dir)
    with open_warehouse(settings.resolved_database_url) as warehouse:
        now = dt.datetime.now(dt.UTC)
        return sign_in(warehouse, settings, SignInAttempt(email, password), now).user_id


def test_tenants_add_and_list(data_dir: Path) -> None:
    added = invoke(
        "tenants", "add", "--slug", "summit-ridge", "--name", "Summit Ridge Realty",
        "--timezone", "America/Denver", "--currency", "usd",
    )  # fmt: skip

    assert added.exit_code == 0, added.output
    assert added.output.startswith("Created tenant 'summit-ridge' (id ")
    assert "dealscope users add --tenant summit-ridge --role admin" in added.output
    listed = invoke("tenants", "list")
    assert listed.exit_code == 0
    row = next(line for line in listed.output.splitlines() if "summit-ridge" in line)
    assert row.split("│")[2:7] == [
        " summit-ridge ",
        " Summit Ridge Realty ",
        " America/Denver ",
        " USD      ",
        " yes    ",
    ]


def test_tenants_list_when_there_are_none(data_dir: Path) -> None:
    assert invoke("tenants", "list").output.startswith("No tenants yet; create one with:")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["--slug", "Acme Inc", "--name", "A"],
            "error: slug: Value error, 'Acme Inc' is not a tenant slug",
        ),
        (
            ["--slug", "acme", "--name", "A", "--timezone", "Mars/Olympus"],
            "error: timezone: Value error, 'Mars/Olympus' is not an IANA time zone",
        ),
        (["--slug", "acme", "--name", "A"], "error: a tenant with the slug 'acme' already exists"),
    ],
)
def test_tenants_add_refuses_bad_and_taken_slugs(
    data_dir: Path, args: list[str], error: str
) -> None:
    _add_acme()

    result = invoke("tenants", "add", *args)

    assert result.exit_code == 1
    assert result.stderr.startswith(error)


def test_users_add_from_stdin_then_the_user_signs_in(data_dir: Path) -> None:
    _add_acme()

    result = _add_user("Pat@Acme.example", "--role", "admin")

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Created user pat@acme.example (id ")
    assert "role admin) in tenant 'acme'." in result.output
    user_id = _sign_in(data_dir, "pat@acme.example")
    assert f"(id {user_id}," in result.output
    listed = invoke("users", "list", "--tenant", "acme")
    row = next(line for line in listed.output.splitlines() if "pat@acme.example" in line)
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    assert cells[:7] == [str(user_id), "pat@acme.example", "Pat Doe", "admin", "", "", "active"]
    assert cells[7].startswith(f"{dt.datetime.now(dt.UTC):%Y-%m-%d} ")  # the sign-in just now


def test_users_add_prompts_for_the_password_twice(data_dir: Path) -> None:
    _add_acme()

    result = invoke(
        "users", "add", "--tenant", "acme", "--email", "sam@acme.example", "--name", "Sam",
        "--role", "viewer", stdin=f"{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "Password: \nRepeat for confirmation: \n" in result.output
    assert PASSWORD not in result.output
    assert _sign_in(data_dir, "sam@acme.example") > 0


def test_the_password_is_never_an_option(data_dir: Path) -> None:
    result = invoke("users", "add", "--tenant", "acme", "--password", PASSWORD)

    assert result.exit_code == 2
    assert "No such option: --password" in result.stderr


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (["--role", "admin", "--tenant", "nowhere"], "error: no tenant 'nowhere'"),
        (["--role", "agent"], "error: a user with role agent needs an agent_id"),
        (["--role", "agent", "--agent-id", "999"], "error: agent_id 999 is not an agent"),
    ],
)
def test_users_add_refuses_what_the_api_refuses(
    data_dir: Path, options: list[str], error: str
) -> None:
    _add_acme()

    result = _add_user("pat@acme.example", *options)

    assert result.exit_code == 1
    assert result.stderr.startswith(error)


def test_users_add_refuses_a_short_password_and_a_taken_email(data_dir: Path) -> None:
    _add_acme()
    short = _add_user("pat@acme.example", "--role", "admin", password="too short")
    assert _add_user("pat@acme.example", "--role", "admin").exit_code == 0

    taken = _add_user("PAT@acme.example", "--role", "viewer")

    assert short.exit_code == 1
    assert short.stderr == "error: password: String should have at least 12 characters\n"
    assert taken.exit_code == 1
    assert taken.stderr == (
        "error: this tenant already has a user with the email 'pat@acme.example'\n"
    )


def test_users_disable_stops_sign_in(data_dir: Path) -> None:
    _add_acme()
    _add_user("pat@acme.example", "--role", "admin")
    _add_user("lee@acme.example", "--role", "analyst")

    result = invoke("users", "disable", "--tenant", "acme", "--email", "lee@acme.example")

    assert result.exit_code == 0, result.output
    assert result.output == "Disabled lee@acme.example in tenant 'acme'; sessions ended.\n"
    with pytest.raises(AuthenticationFailed, match="this account is disabled"):
        _sign_in(data_dir, "lee@acme.example")
    listed = invoke("users", "list", "--tenant", "acme").output
    assert "│ disabled " in next(line for line in listed.splitlines() if "lee@" in line)


def test_users_unlock_lifts_a_lockout(data_dir: Path) -> None:
    _add_acme()
    _add_user("pat@acme.example", "--role", "admin")
    until = dt.datetime(2099, 1, 2, 3, 4, tzinfo=dt.UTC)
    with (
        open_warehouse(f"duckdb:///{data_dir}/warehouse.duckdb") as warehouse,
        warehouse.engine.begin() as conn,
    ):
        conn.execute(sa.update(users).values(failed_logins=5, locked_until=until))
    assert "locked until 2099-01-02 03:04 UTC" in invoke("users", "list", "--tenant", "acme").output

    result = invoke("users", "unlock", "--tenant", "acme", "--email", "pat@acme.example")

    assert result.exit_code == 0
    assert result.output == "Unlocked pat@acme.example in tenant 'acme'.\n"
    assert _sign_in(data_dir, "pat@acme.example") > 0


def test_users_disable_names_an_unknown_email(data_dir: Path) -> None:
    _add_acme()

    result = invoke("users", "disable", "--tenant", "acme", "--email", "ghost@acme.example")

    assert result.exit_code == 1
    assert result.stderr == "error: no user with the email 'ghost@acme.example' in this tenant\n"
