"""The `dealscope` command line: warehouse migrations, servers, data generation, the demo."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import sqlalchemy.exc
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperGroup

from dealscope.bench.cli import bench_app
from dealscope.cli_alerts import alerts_app
from dealscope.cli_forecast import forecast_app
from dealscope.cli_ingest import ingest_app
from dealscope.cli_reports import report_app
from dealscope.cli_sync import sync_app
from dealscope.cli_users import tenants_app, users_app
from dealscope.config import Environment, Settings, get_settings
from dealscope.dashboard import APP_PATH as DASHBOARD_APP
from dealscope.demo.generator import BrokerageSpec, generate_brokerage
from dealscope.demo.loader import LoadResult, find_tenant, load_brokerage
from dealscope.demo.users import DemoLogin, create_demo_users
from dealscope.errors import DealScopeError, ValidationFailed
from dealscope.kit.crypto import add_key, drop_old_keys, load_cipher
from dealscope.kit.logs import configure_logging
from dealscope.kit.processes import ChildGroup, ChildSpec, port_in_use, tail, wait_until
from dealscope.warehouse.engine import Warehouse, describe_url
from dealscope.warehouse.migrate import (
    current_revision,
    head_revision,
    new_revision,
    opened_warehouse,
    upgrade,
)
from dealscope.warehouse.pii import reencrypt_contacts

console = Console(soft_wrap=True)  # long paths and URLs stay whole, for copying
err_console = Console(stderr=True, soft_wrap=True)


class _CleanErrors(TyperGroup):
    """Print expected failures as one line and exit 1, in every command (sub-apps too)."""

    # `ctx` is typer's privately vendored click Context, hence Any.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except DealScopeError as exc:
            _fail(str(exc))
        except sqlalchemy.exc.OperationalError as exc:
            reason = str(exc.orig or exc).strip().splitlines()[0]
            _fail(f"cannot reach the warehouse database: {reason}")


def _fail(message: str) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(1)


app = typer.Typer(
    cls=_CleanErrors,
    help="DealScope: revenue intelligence for real-estate brokerages.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Warehouse schema migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(bench_app, name="bench")
app.add_typer(tenants_app, name="tenants")
app.add_typer(users_app, name="users")
app.add_typer(ingest_app, name="ingest")
app.add_typer(sync_app, name="sync")
app.add_typer(report_app, name="report")
app.add_typer(alerts_app, name="alerts")
app.add_typer(forecast_app, name="forecast")
keys_app = typer.Typer(help="Encryption keys for contact email and phone.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


# --- the warehouse ---------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the warehouse schema to this version of DealScope."""

    settings = get_settings()
    console.print(f"Warehouse: {escape(describe_url(settings.resolved_database_url))}")
    with opened_warehouse(settings.resolved_database_url, check_schema=False) as warehouse:
        before = current_revision(warehouse)
        upgrade(warehouse)
        after = current_revision(warehouse)
    if before == after:
        console.print(f"Already at revision [bold]{after}[/] (head); nothing to do.")
    else:
        console.print(f"Upgraded from {before or 'an empty database'} to [bold]{after}[/] (head).")


@db_app.command("current")
def db_current() -> None:
    """Show the warehouse's schema revision and whether it is current."""
    settings = get_settings()
    console.print(f"Warehouse: {escape(describe_url(settings.resolved_database_url))}")
    with opened_warehouse(settings.resolved_database_url, check_schema=False) as warehouse:
        revision = current_revision(warehouse)
    head = head_revision()
    if revision == head:
        console.print(f"Revision [bold]{revision}[/] (head): up to date.")
    else:
        console.print(
            f"Revision [bold]{revision or 'none (empty database)'}[/]; this code needs {head}. "
            "Run `dealscope db upgrade`."
        )


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("--message", "-m", help="What the migration does.")],
) -> None:
    """Write a new migration for what schema.py changed (the warehouse must be at head)."""

    settings = get_settings()
    console.print(f"Warehouse: {escape(describe_url(settings.resolved_database_url))}")
    with opened_warehouse(settings.resolved_database_url) as warehouse:
        path = new_revision(warehouse, message)
    console.print(f"Wrote the migration {escape(str(path))}; review it before committing.")


# --- keys ------------------------------------------------------------------------------


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Encrypt every contact's email and phone under a new key, then retire the old keys.

    With DEALSCOPE_PII_KEYS, put the new key first in it before running this; the old keys can
    be removed from it once this has finished."""
    settings = get_settings()
    console.print(f"Warehouse: {escape(describe_url(settings.resolved_database_url))}")
    with opened_warehouse(settings.resolved_database_url) as warehouse:
        during, after = add_key(settings)
        with Progress(
            SpinnerColumn(), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(), console=console
        ) as progress:
            task = progress.add_task("Re-encrypting contacts", total=None)

            def report(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            rewritten = reencrypt_contacts(warehouse, during, progress=report)
        drop_old_keys(settings, after)
    console.print(f"Re-encrypted {rewritten:,} contacts under the new key.")
    if settings.pii_keys is not None and len(during.keys) > 1:
        console.print("You may now remove every key but the first from DEALSCOPE_PII_KEYS.")


# --- servers ---------------------------------------------------------------------------


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


def _require_free_port(host: str, port: int, what: str, option: str) -> None:
    if port_in_use(host, port):
        _fail(
            f"port {port} on {host} is already in use, so the {what} cannot start there "
            f"(another DealScope running?); stop it or choose another port with {option}"
        )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default DEALSCOPE_API_PORT).")] = None,
    log_level: Annotated[LogLevel, typer.Option(help="Log verbosity.")] = LogLevel.INFO,
) -> None:
    """Run the API (uvicorn) against the configured warehouse."""
    # The web stack loads only for the command that serves it.
    import uvicorn

    from dealscope.api.app import served_app

    settings = get_settings()
    host, port = host or settings.api_host, port or settings.api_port
    _require_free_port(host, port, "API", "--port")
    with opened_warehouse(
        settings.resolved_database_url
    ):  # fail here, in one line, rather than in the server's startup
        pass
    configure_logging(log_level.value.upper())
    console.print(
        f"API on http://{host}:{port} (docs at /docs) over "
        f"{escape(describe_url(settings.resolved_database_url))}"
    )
    uvicorn.run(served_app(settings), host=host, port=port, log_level=log_level.value)


def dashboard_command(host: str, port: int) -> list[str]:
    """How to start the Streamlit dashboard (run it with the dashboard folder as cwd, where
    its .streamlit/config.toml lives)."""
    return [
        sys.executable, "-m", "streamlit", "run", str(DASHBOARD_APP),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip


@app.command()
def dashboard(
    port: Annotated[
        int | None, typer.Option(help="Port [default: DEALSCOPE_DASHBOARD_PORT].")
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    api_url: Annotated[
        str | None, typer.Option(help="The API [default: DEALSCOPE_API_URL].")
    ] = None,
) -> None:
    """Run the Streamlit dashboard, a client of the API."""
    settings = get_settings()
    port = port or settings.dashboard_port
    _require_free_port(host, port, "dashboard", "--port")
    api_url = api_url or settings.resolved_api_url
    console.print(f"Dashboard on http://{host}:{port}, reading the API at {escape(api_url)}")
    sys.stdout.flush()
    # Become Streamlit, so Ctrl-C and SIGTERM reach it directly and nothing is left behind.
    os.chdir(DASHBOARD_APP.parent)
    command = dashboard_command(host, port)
    os.execve(command[0], command, os.environ | {"DEALSCOPE_API_URL": api_url})


# --- data ------------------------------------------------------------------------------


def _today_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@contextmanager
def _progress() -> Iterator[Callable[[str], Callable[[str, float], None]]]:
    """A rich progress display; yields a factory of `progress(stage, fraction)` callbacks."""
    with Progress(
        SpinnerColumn(),
        "[progress.description]{task.description}",
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:

        def phase(name: str) -> Callable[[str, float], None]:
            task = progress.add_task(name, total=1.0)

            def report(stage: str, fraction: float) -> None:
                progress.update(task, description=f"{name}: {stage}", completed=fraction)

            return report

        yield phase


def _generate_and_load(
    warehouse: Warehouse,
    settings: Settings,
    leads: int,
    seed: int,
    end: dt.date,
    years: float,
    tenant: str,
    replace: bool = False,
) -> LoadResult:
    spec = BrokerageSpec(leads=leads, seed=seed, end=end, years=years)
    started = time.perf_counter()
    with _progress() as phase:
        brokerage = generate_brokerage(spec, progress=phase("Generating"))
        result = load_brokerage(
            warehouse,
            brokerage,
            tenant_slug=tenant,
            cipher=load_cipher(settings),
            replace=replace,
            progress=phase("Loading"),
        )
    table = Table(title=f"Tenant {tenant!r} (id {result.tenant_id})")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in sorted(result.rows.items()):
        table.add_row(name, f"{count:,}")
    table.add_row("[bold]total[/]", f"[bold]{sum(result.rows.values()):,}[/]")
    console.print(table)
    console.print(f"Generated and loaded in {time.perf_counter() - started:.1f} s.")
    return result


@app.command()
def generate(
    leads: Annotated[int, typer.Option(min=1, help="How many leads to generate.")],
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data.")],
    tenant: Annotated[str, typer.Option(help="Slug of the tenant to load into.")] = "demo",
    years: Annotated[float, typer.Option(min=0.25, help="Years of history.")] = 3.0,
    end: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Last day of the history [default: today, UTC]."),
    ] = None,
    replace: Annotated[bool, typer.Option(help="Replace the tenant's data if it exists.")] = False,
) -> None:
    """Generate a realistic synthetic brokerage and load it into the warehouse."""
    settings = get_settings()
    console.print(f"Warehouse: {escape(describe_url(settings.resolved_database_url))}")
    last_day = end.date() if end is not None else _today_utc()
    with opened_warehouse(settings.resolved_database_url) as warehouse:
        if not replace and find_tenant(warehouse, tenant) is not None:
            # Say so before spending minutes generating what the loader would refuse.
            raise ValidationFailed(
                f"tenant {tenant!r} already exists; pass --replace to regenerate its data"
            )
        _generate_and_load(warehouse, settings, leads, seed, last_day, years, tenant, replace)


# --- the demo --------------------------------------------------------------------------

DEMO_TENANT = "demo"
DEMO_YEARS = 3.0
_STARTUP_TIMEOUT_SECONDS = 120.0


def _prepare_demo_warehouse(settings: Settings, leads: int, seed: int) -> list[DemoLogin]:
    """Migrate, generate the demo tenant unless it exists, create the demo users; the logins."""
    console.print(f"Warehouse: {escape(describe_url(settings.resolved_database_url))}")
    with opened_warehouse(settings.resolved_database_url, check_schema=False) as warehouse:
        upgrade(warehouse)
        tenant_id = find_tenant(warehouse, DEMO_TENANT)
        if tenant_id is None:
            console.print(f"Generating the demo brokerage ({leads:,} leads, seed {seed})...")
            result = _generate_and_load(
                warehouse, settings, leads, seed, _today_utc(), DEMO_YEARS, DEMO_TENANT
            )
            tenant_id = result.tenant_id
        else:
            console.print(
                f"The demo tenant already exists (id {tenant_id}); using it as it is. "
                f"To start over, stop the demo and delete {escape(str(settings.duckdb_path))}."
            )
        return list(create_demo_users(warehouse, tenant_id))


def _print_running(api: str, dashboard_url: str, logins: list[DemoLogin], log_dir: Path) -> None:
    urls = Table.grid(padding=(0, 2))
    urls.add_row("Dashboard", dashboard_url)
    urls.add_row("API docs", f"{api}/docs")
    urls.add_row("Health", f"{api}/health")
    console.print("\n[bold green]DealScope demo is running.[/]")
    console.print(urls)
    table = Table(title=f"Demo logins (tenant {DEMO_TENANT!r})", title_justify="left")
    for column in ("email", "password", "role"):
        table.add_column(column, no_wrap=True, overflow="fold")  # these must be copied whole
    table.add_column("may see")
    for login in logins:
        table.add_row(login.email, login.password, login.role, login.description)
    console.print(table)
    console.print(
        f"Sign in with them in the API docs ({api}/docs, Authorize) or at "
        f"POST {api}/api/v1/auth/token. "
        f"Server logs: {escape(str(log_dir))}\nPress Ctrl-C to stop."
    )


def _report_child(children: ChildGroup, name: str, what: str) -> None:
    log_file = children.log_path(name)
    err_console.print(
        f"[bold red]error:[/] the {name} {what}; the end of {escape(str(log_file))}:\n"
        f"{escape(tail(log_file))}"
    )


@app.command()
def demo(
    leads: Annotated[int, typer.Option(min=1, help="Leads in the generated brokerage.")] = 25_000,
    seed: Annotated[int, typer.Option(help="Random seed of the generated brokerage.")] = 42,
    api_port: Annotated[int, typer.Option(help="Port of the API.")] = 8000,
    dashboard_port: Annotated[int, typer.Option(help="Port of the dashboard.")] = 8501,
) -> None:
    """Generate a demo brokerage, then run the API and the dashboard until Ctrl-C."""
    host = "127.0.0.1"  # the demo's default secrets are tolerable only on loopback
    _require_free_port(host, api_port, "API", "--api-port")
    _require_free_port(host, dashboard_port, "dashboard", "--dashboard-port")
    settings = Settings(environment=Environment.DEMO, database_url=None)
    logins = _prepare_demo_warehouse(settings, leads, seed)

    api, dashboard_url = f"http://{host}:{api_port}", f"http://{host}:{dashboard_port}"
    env = os.environ | {
        "DEALSCOPE_ENVIRONMENT": Environment.DEMO.value,
        "DEALSCOPE_DATA_DIR": str(settings.data_dir),
        "DEALSCOPE_DATABASE_URL": settings.resolved_database_url,
        "DEALSCOPE_API_URL": api,
    }
    serve_command = [
        sys.executable, "-m", "dealscope", "serve",
        "--host", host, "--port", str(api_port), "--log-level", "warning",
    ]  # fmt: skip
    specs = [
        ChildSpec("API", serve_command, f"{api}/health", strict=False),
        ChildSpec(
            "dashboard",
            dashboard_command(host, dashboard_port),
            f"{dashboard_url}/_stcore/health",
            cwd=DASHBOARD_APP.parent,
        ),
    ]
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: stop.set())

    with ChildGroup(specs, env, settings.data_dir / "logs") as children:
        with console.status("Starting the API and the dashboard..."):
            ready = wait_until(
                lambda: not children.not_answering(),
                lambda: stop.is_set() or children.exited() is not None,
                _STARTUP_TIMEOUT_SECONDS,
            )
        if stop.is_set():
            raise typer.Exit(0)
        if not ready:
            failed = children.exited()
            if failed is not None:
                _report_child(children, failed, "exited during startup")
            else:
                for name in children.not_answering():
                    late = f"did not answer within {_STARTUP_TIMEOUT_SECONDS:.0f} s"
                    _report_child(children, name, late)
            raise typer.Exit(1)
        _print_running(api, dashboard_url, logins, children.log_dir)
        while not stop.wait(0.5):
            failed = children.exited()
            if failed is not None:
                _report_child(children, failed, "stopped unexpectedly")
                raise typer.Exit(1)
        console.print("Stopping the dashboard and the API...")
