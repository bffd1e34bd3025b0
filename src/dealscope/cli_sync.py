"""`dealscope sync ...`: pull a tenant's data from outside systems over their APIs.

`dealscope sync ghl --tenant acme` reads the tenant's GoHighLevel location (pipelines,
users, contacts with attribution, opportunities, messages) into the warehouse with a
progress bar per resource; incremental by default (from the stored cursors), `--full` to
read everything again. `dealscope sync status --tenant acme` shows where each resource
stands. Credentials: see `dealscope.ingest.ghl.accounts`.
"""

from __future__ import annotations

import datetime as dt
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from dealscope.api.auth import tenants as tenant_service
from dealscope.config import get_settings
from dealscope.errors import ValidationFailed
from dealscope.ingest.ghl.accounts import resolve_credentials
from dealscope.ingest.ghl.client import GhlClient
from dealscope.ingest.ghl.cursors import list_cursors
from dealscope.ingest.ghl.sync import RESOURCES, GhlSync, ResourceResult, SyncReport
from dealscope.kit.crypto import load_cipher
from dealscope.warehouse.migrate import opened_warehouse

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

sync_app = typer.Typer(
    help="Pull a tenant's data from outside systems (GoHighLevel).", no_args_is_help=True
)


class GhlResource(StrEnum):
    """The resources of `dealscope.ingest.ghl.sync.RESOURCES`, as a typer choice."""

    pipelines = "pipelines"
    users = "users"
    contacts = "contacts"
    opportunities = "opportunities"
    messages = "messages"


TenantOption = Annotated[str, typer.Option("--tenant", help="The tenant's slug.")]


class _Bars:
    """Rich progress bars, one per resource, fed by the sync."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def begin(self, resource: str, total: int | None) -> None:
        if self._progress is not None:
            self._tasks[resource] = self._progress.add_task(resource, total=total)

    def advance(self, resource: str, rows: int, total: int | None) -> None:
        if self._progress is not None and resource in self._tasks:
            self._progress.update(self._tasks[resource], advance=rows, total=total)

    def end(self, resource: str, result: ResourceResult) -> None:
        if self._progress is None or resource not in self._tasks:
            return
        task = self._tasks[resource]
        label = resource if result.error is None else f"[red]{resource} (failed)[/]"
        self._progress.update(
            task, description=label, total=result.fetched, completed=result.fetched
        )


def _progress_bars(enabled: bool) -> Progress | None:
    if not enabled:
        return None
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("records"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )


def _summary(report: SyncReport) -> Table:
    table = Table(
        title=f"GHL sync of location {report.location_id} ({report.mode})", title_justify="left"
    )
    for column in ("resource", "mode", "fetched", "new", "updated", "unchanged", "per s", "status"):
        table.add_column(
            column, justify="left" if column in ("resource", "mode", "status") else "right"
        )
    for r in report.results:
        rate = f"{r.fetched / r.seconds:,.0f}" if r.seconds > 0 and r.fetched else "-"
        status = "ok" if r.error is None else "[red]failed[/]"
        table.add_row(
            r.resource, r.mode, f"{r.fetched:,}", f"{r.created:,}", f"{r.updated:,}",
            f"{r.unchanged:,}", rate, status,
        )  # fmt: skip
    return table


@sync_app.command("ghl")
def sync_ghl(
    tenant: TenantOption,
    full: Annotated[
        bool, typer.Option("--full", help="Read everything again instead of what changed.")
    ] = False,
    resource: Annotated[
        list[GhlResource] | None,
        typer.Option("--resource", help="Only this resource (repeat for several)."),
    ] = None,
    location_id: Annotated[
        str | None, typer.Option(help="GHL location (sub-account) id; else from settings.")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(help="GHL token; prefer DEALSCOPE_GHL_TOKEN (options land in history)."),
    ] = None,
    token_stdin: Annotated[
        bool, typer.Option("--token-stdin", help="Read the GHL token from stdin (scripts).")
    ] = False,
    base_url: Annotated[
        str | None, typer.Option(help="GHL API base URL; else DEALSCOPE_GHL_BASE_URL.")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Pull the tenant's GoHighLevel pipelines, users, contacts, deals and messages."""
    settings = get_settings()
    if token_stdin:
        token = sys.stdin.readline().strip()
        if not token:
            raise ValidationFailed("--token-stdin was given but stdin had no token line")
    credentials = resolve_credentials(settings, tenant, location_id, token, base_url)
    cipher = load_cipher(settings)
    wanted = [r.value for r in resource] if resource else list(RESOURCES)
    with opened_warehouse() as warehouse:
        with warehouse.engine.connect() as conn:
            tenant_id = tenant_service.get_tenant_by_slug(conn, tenant).id
        bars = _progress_bars(progress)
        with GhlClient(credentials) as client:
            sync = GhlSync(warehouse, tenant_id, client, cipher, progress=_Bars(bars))
            if bars is not None:
                with bars:
                    report = sync.run("full" if full else "incremental", wanted)
            else:
                report = sync.run("full" if full else "incremental", wanted)
    console.print(_summary(report))
    console.print(
        f"{report.requests:,} requests, {report.retries:,} retried, "
        f"{report.throttled_seconds:,.1f} s waiting on rate limits, {report.seconds:,.1f} s in all."
    )
    failed = [r for r in report.results if r.error is not None]
    for r in failed:
        err_console.print(f"[bold red]error:[/] {escape(r.resource)}: {escape(r.error or '')}")
    skipped = [r for r in wanted if r not in {x.resource for x in report.results}]
    if skipped:
        err_console.print(f"Not run after that error: {', '.join(skipped)}.")
    if failed:
        raise typer.Exit(1)


def _when(value: dt.datetime | None) -> str:
    return "" if value is None else f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"


def _cursor_text(cursor: dict[str, Any] | None) -> str:
    """A stored cursor as a person reads it: the newest change stored and its id, or the
    size of a list read whole."""
    if not cursor:
        return ""
    after = cursor.get("search_after")
    if isinstance(after, list) and len(after) == 2 and isinstance(after[0], int | float):
        when = dt.datetime.fromtimestamp(after[0] / 1000, dt.UTC)
        return f"after {when:%Y-%m-%d %H:%M:%S} UTC, {after[1]}"
    if "count" in cursor:
        return f"{cursor['count']:,} read whole"
    return str(cursor)


@sync_app.command("status")
def sync_status(tenant: TenantOption) -> None:
    """Where each synced resource of the tenant stands: cursor, last run, outcome."""
    with (
        opened_warehouse() as warehouse,
        warehouse.engine.connect() as conn,
    ):
        tenant_id = tenant_service.get_tenant_by_slug(conn, tenant).id
        found = list_cursors(conn, tenant_id, "ghl")
    if not found:
        console.print(
            f"Tenant {tenant!r} has not been synced yet: dealscope sync ghl --tenant {tenant}"
        )
        return
    table = Table(title=f"GHL sync of {tenant!r}", title_justify="left")
    for column in (
        "location",
        "resource",
        "status",
        "mode",
        "started",
        "finished",
        "rows",
        "cursor",
    ):
        table.add_column(column)
    order = {name: i for i, name in enumerate(RESOURCES)}
    for row in sorted(found, key=lambda r: (r.account, order.get(r.resource, len(order)))):
        status = row.status if row.error is None else f"{row.status}: {row.error[:120]}"
        cursor = _cursor_text(row.cursor)
        table.add_row(
            row.account, row.resource, status, row.mode or "", _when(row.started_at),
            _when(row.finished_at), f"{row.rows_fetched:,}", cursor,
        )  # fmt: skip
    console.print(table)
