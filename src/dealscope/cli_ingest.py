"""`dealscope ingest ...`: file imports, RESO listings, FRED series.

`dealscope ingest FILE --kind contacts` is `dealscope ingest file FILE --kind contacts`: a
first argument that is not a subcommand name is taken as the file (so a file literally
called `mls` or `fred` needs the explicit `ingest file mls`).

With the embedded DuckDB file, DuckDB lets one process write it: when a running server holds
it, `ingest file` uploads through that server's API (`--api-key` or DEALSCOPE_API_KEY, an
admin's key) and says so; otherwise it writes the file directly, and says that too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import sqlalchemy as sa
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperGroup

from dealscope.cli_ingest_replay import replay
from dealscope.client import DealScopeClient
from dealscope.client.ingest_models import ImportRead, ImportRejectedError
from dealscope.config import get_settings
from dealscope.errors import ValidationFailed, WarehouseBusy
from dealscope.ingest.files.mapping import parse_overrides
from dealscope.ingest.files.service import ImportRejected, ImportResult, import_file
from dealscope.ingest.files.spec import ImportKind
from dealscope.ingest.files.validate import BadRow
from dealscope.ingest.fred import DEFAULT_BASE_URL, import_fred_series
from dealscope.ingest.reso import DEFAULT_PAGE_SIZE, replicate_listings
from dealscope.kit.crypto import load_cipher
from dealscope.warehouse.engine import Warehouse, describe_url, open_warehouse
from dealscope.warehouse.migrate import ensure_current, opened_warehouse
from dealscope.warehouse.schema import tenants

console = Console(soft_wrap=True)


class _FileByDefault(TyperGroup):
    """`ingest FILE ...` runs `ingest file FILE ...`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["file", *args]
        return super().parse_args(ctx, args)


ingest_app = typer.Typer(
    cls=_FileByDefault,
    help="Import files (contacts, deals, transactions, agents, spend, costs, targets, "
    "listings, series), MLS listings from a RESO Web API, and FRED series.",
    no_args_is_help=True,
)
ingest_app.command("replay")(replay)  # webhook dead letters (cli_ingest_replay)

TenantOption = Annotated[
    str | None,
    typer.Option("--tenant", help="The tenant's slug (optional when there is only one)."),
]


def _tenant_id(warehouse: Warehouse, slug: str | None) -> int:
    with warehouse.engine.connect() as conn:
        rows = conn.execute(sa.select(tenants.c.id, tenants.c.slug).order_by(tenants.c.slug)).all()
    if slug is None:
        if len(rows) == 1:
            return int(rows[0].id)
        slugs = ", ".join(r.slug for r in rows) or "none yet"
        raise ValidationFailed(f"name the tenant with --tenant (tenants: {slugs})")
    for row in rows:
        if row.slug == slug:
            return int(row.id)
    raise ValidationFailed(f"no tenant {slug!r}")


@contextmanager
def _progress_bar(label: str) -> Iterator[Any]:
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=None)

        def report(phase: str, done: int, total: int) -> None:
            progress.update(
                task, description=f"{label}: {phase}", completed=done, total=total or None
            )

        yield report


def _bad_rows_table(bad_rows: list[Any], title: str) -> Table:
    table = Table(title=title, show_lines=False)
    table.add_column("line", justify="right")
    table.add_column("reason")
    for row in bad_rows:
        table.add_row(str(row.line), escape(row.reason))
    return table


def _print_result(
    file_name: str,
    kind: str,
    rows_read: int,
    inserted: int,
    updated: int,
    unchanged: int,
    bad_rows: list[Any],
    reject_file: str | None,
    columns: dict[str, str],
    ignored: list[str],
) -> None:
    if columns:
        mapping = ", ".join(f"{escape(c)} → {f}" for c, f in sorted(columns.items()))
        console.print(f"Columns: {mapping}")
    if ignored:
        console.print(f"Not imported (no matching field): {escape(', '.join(ignored))}")
    if bad_rows:
        console.print(_bad_rows_table(bad_rows, f"{len(bad_rows)} bad rows skipped"))
    console.print(
        f"[bold green]Imported[/] {escape(file_name)} as {kind}: {rows_read} rows read, "
        f"{inserted} new, {updated} updated, {unchanged} unchanged, {len(bad_rows)} skipped."
    )
    if reject_file:
        console.print(f"Skipped rows, with their reasons: {escape(reject_file)}")


def _local_result(result: ImportResult) -> None:
    c = result.counts
    mapping = result.mapping
    _print_result(
        result.source_name, result.kind.value, result.rows_read, c.inserted, c.updated,
        c.unchanged, result.bad_rows,
        None if result.reject_path is None else str(result.reject_path),
        {col: f for f, col in mapping.fields.items()} if mapping else {},
        mapping.ignored if mapping else [],
    )  # fmt: skip


def _api_result(result: ImportRead) -> None:
    _print_result(
        result.file_name, result.kind, result.rows_read, result.inserted, result.updated,
        result.unchanged, result.bad_rows, result.reject_file, result.columns,
        result.ignored_columns,
    )  # fmt: skip


def _rejected(bad_rows: list[BadRow] | list[Any], rows_read: int) -> NoReturn:
    console.print(_bad_rows_table(bad_rows, f"{len(bad_rows)} bad rows: nothing was imported"))
    raise ValidationFailed(
        f"{len(bad_rows)} of {rows_read} rows are bad (listed above), so nothing was imported; "
        "fix them, or import the good rows with --skip-bad-rows"
    )


def _through_api(
    url: str,
    api_key: str | None,
    kind: ImportKind,
    path: Path,
    content: bytes,
    skip_bad_rows: bool,
    mappings: list[str],
) -> None:
    if not api_key:
        raise ValidationFailed(
            f"to import through the API at {url}, pass --api-key (or set DEALSCOPE_API_KEY) "
            "with an admin's API key (POST /api/v1/api-keys, or the dashboard's admin page)"
        )
    with DealScopeClient(url, timeout=600.0, api_key=api_key) as client:
        try:
            result = client.ingest(
                kind.value, path.name, content, skip_bad_rows=skip_bad_rows, mappings=mappings
            )
        except ImportRejectedError as exc:
            _rejected(exc.bad_rows, exc.rows_read)
    _api_result(result)


@ingest_app.command("file")
def ingest_file(
    path: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV, XLSX, Parquet or JSON.")
    ],
    kind: Annotated[ImportKind, typer.Option("--kind", help="What the rows are.")],
    tenant: TenantOption = None,
    mappings: Annotated[
        list[str] | None,
        typer.Option("--map", help="COLUMN=FIELD (repeatable); COLUMN= leaves a column out."),
    ] = None,
    skip_bad_rows: Annotated[
        bool,
        typer.Option("--skip-bad-rows", help="Import the good rows; write bad ones to a file."),
    ] = False,
    reject_dir: Annotated[
        Path | None,
        typer.Option("--reject-dir", help="Where the reject file goes (default: beside FILE)."),
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option("--api-url", help="Import through this running API instead."),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option("--api-key", envvar="DEALSCOPE_API_KEY", help="An admin's API key."),
    ] = None,
) -> None:
    """Import a file of KIND; every bad row is listed with its line, and a file with bad
    rows imports nothing unless --skip-bad-rows."""
    settings = get_settings()
    content = path.read_bytes()
    overrides = parse_overrides(mappings or [])
    if api_url:
        console.print(f"Importing through the API at {escape(api_url)}.")
        _through_api(api_url, api_key, kind, path, content, skip_bad_rows, mappings or [])
        return
    try:
        warehouse = open_warehouse(settings.resolved_database_url)
    except WarehouseBusy:
        url = settings.resolved_api_url
        console.print(
            f"The warehouse file is held by a running DealScope server; importing through "
            f"its API at {escape(url)}."
        )
        _through_api(url, api_key, kind, path, content, skip_bad_rows, mappings or [])
        return
    try:
        ensure_current(warehouse)
        console.print(
            f"Importing into the warehouse at {escape(describe_url(warehouse.url))} directly "
            "(no server holds it)."
        )
        tenant_id = _tenant_id(warehouse, tenant)
        rejected: ImportRejected | None = None
        result: ImportResult | None = None
        with _progress_bar(path.name) as report:
            try:
                result = import_file(
                    warehouse, tenant_id, kind, path.name, content, load_cipher(settings),
                    overrides=overrides, skip_bad_rows=skip_bad_rows,
                    reject_dir=reject_dir or path.resolve().parent, actor="cli",
                    progress=report,
                )  # fmt: skip
            except ImportRejected as exc:
                rejected = exc
    finally:
        warehouse.close()
    if rejected is not None:
        _rejected(rejected.bad_rows, rejected.rows_read)
    assert result is not None
    _local_result(result)


@ingest_app.command("mls")
def ingest_mls(
    url: Annotated[str, typer.Option("--url", help="The RESO Web API's Property resource URL.")],
    token: Annotated[
        str | None,
        typer.Option("--token", envvar="DEALSCOPE_RESO_TOKEN", help="OAuth2 bearer token."),
    ] = None,
    tenant: TenantOption = None,
    full: Annotated[
        bool, typer.Option("--full", help="Fetch everything, not only what changed.")
    ] = False,
    page_size: Annotated[int, typer.Option("--page-size", min=1, max=10_000)] = DEFAULT_PAGE_SIZE,
    odata_filter: Annotated[
        str | None,
        typer.Option("--filter", help="Added to every request's $filter (MLS Grid needs one)."),
    ] = None,
) -> None:
    """Replicate MLS listings from a RESO Web API since the last run."""
    settings = get_settings()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with (
        opened_warehouse(settings.resolved_database_url) as warehouse,
        httpx.Client(headers=headers, timeout=60.0) as client,
        _progress_bar("listings") as report,
    ):
        tenant_id = _tenant_id(warehouse, tenant)
        result = replicate_listings(
            warehouse, tenant_id, url, load_cipher(settings), client=client, full=full,
            page_size=page_size, extra_filter=odata_filter,
            reject_dir=settings.data_dir / "rejects", actor="cli", progress=report,
        )  # fmt: skip
    _local_result(result)


@ingest_app.command("fred")
def ingest_fred(
    api_key: Annotated[
        str, typer.Option("--api-key", envvar="DEALSCOPE_FRED_API_KEY", help="FRED API key.")
    ],
    series: Annotated[
        list[str] | None,
        typer.Option("--series", help="Series id (repeatable). Default: MORTGAGE30US."),
    ] = None,
    tenant: TenantOption = None,
    start: Annotated[
        dt.datetime | None, typer.Option("--start", formats=["%Y-%m-%d"], help="First day.")
    ] = None,
    base_url: Annotated[
        str, typer.Option("--base-url", envvar="DEALSCOPE_FRED_URL", help="FRED API base.")
    ] = DEFAULT_BASE_URL,
) -> None:
    """Fetch FRED series (weekly 30-year mortgage rate by default) into market series."""
    settings = get_settings()
    with (
        opened_warehouse(settings.resolved_database_url) as warehouse,
        httpx.Client(timeout=60.0) as client,
    ):
        tenant_id = _tenant_id(warehouse, tenant)
        for series_id in series or ["MORTGAGE30US"]:
            result = import_fred_series(
                warehouse, tenant_id, series_id, api_key, load_cipher(settings), client=client,
                base_url=base_url, start=None if start is None else start.date(), actor="cli",
            )  # fmt: skip
            _local_result(result)
