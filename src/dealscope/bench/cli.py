"""`dealscope bench ...`: run named benchmarks and write their JSON results."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

bench_app = typer.Typer(help="Run benchmarks and write JSON results.", no_args_is_help=True)
console = Console()


@bench_app.callback()
def bench() -> None:
    """Run named benchmarks; each writes a JSON file (name, figures, machine)."""


OutputOption = Annotated[Path, typer.Option("--output", "-o", help="Folder for the JSON result.")]


@bench_app.command("generate")
def generate(
    sizes: Annotated[str, typer.Option(help="Comma-separated lead counts.")] = "100000,1000000",
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 42,
    database_url: Annotated[
        str | None,
        typer.Option(help="Write into this warehouse instead of a temporary DuckDB file."),
    ] = None,
    output: OutputOption = Path("bench-results"),
) -> None:
    """Time `dealscope generate` (simulate + bulk write) at each size."""
    # Imported here: every `dealscope` command loads this module, few run a benchmark.
    from dealscope.bench.generate import bench_generate
    from dealscope.bench.results import BenchResult

    try:
        counts = [int(s.replace("_", "")) for s in sizes.split(",") if s.strip()]
    except ValueError:
        raise typer.BadParameter(
            f"--sizes must be whole numbers separated by commas, got {sizes!r}"
        ) from None
    figures = bench_generate(counts, seed=seed, database_url=database_url)
    path = BenchResult("generate", figures).write(output)
    table = Table("leads", "generate s", "write s", "total s", "rows", "rows/s")
    for run in figures["runs"]:
        table.add_row(
            f"{run['leads']:,}",
            f"{run['generate_seconds']:.1f}",
            f"{run['write_seconds']:.1f}",
            f"{run['total_seconds']:.1f}",
            f"{run['rows_written']:,}",
            f"{run['rows_per_second']:,}",
        )
    console.print(table)
    console.print(f"peak memory {figures['peak_rss_mib']:,.0f} MiB; result written to {path}")


@bench_app.command("api")
def api(
    leads: Annotated[
        int, typer.Option(min=1, help="Leads of the generated brokerage.")
    ] = 1_000_000,
    repeat: Annotated[int, typer.Option(min=1, help="Timed calls per endpoint and mode.")] = 20,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 42,
    output: OutputOption = Path("bench-results"),
    warehouse: Annotated[
        Path | None,
        typer.Option(
            help="Keep the generated brokerage in this DuckDB file; a later run reuses it."
        ),
    ] = None,
) -> None:
    """Time the analytics endpoints cold (cache cleared) and warm (cached) on a generated
    brokerage in a temporary DuckDB file (or the kept --warehouse file), served in process."""
    # Imported here: every `dealscope` command loads this module, few run a benchmark.
    from dealscope.bench.api import bench_api
    from dealscope.bench.results import BenchResult

    figures = bench_api(leads, repeat, seed=seed, warehouse_path=warehouse)
    path = BenchResult("api", figures).write(output)
    table = Table("endpoint", "cold p50 ms", "cold p95 ms", "warm p50 ms", "warm p95 ms", "met")
    for name, run in figures["endpoints"].items():
        met = "yes" if run["cold_p95_met"] and run["warm_p95_met"] else "no"
        table.add_row(
            name,
            f"{run['cold']['p50_ms']:.1f}",
            f"{run['cold']['p95_ms']:.1f}",
            f"{run['warm']['p50_ms']:.1f}",
            f"{run['warm']['p95_ms']:.1f}",
            met,
        )
    console.print(table)
    overhead = figures["summary_overhead"]
    console.print(
        f"summary: cold API p50 / raw DuckDB p50 = {overhead['ratio']:.2f} "
        f"({overhead['api_cold_p50_ms']:.1f} ms / {overhead['raw_duckdb']['p50_ms']:.1f} ms); "
        f"result written to {path}"
    )


@bench_app.command("reports")
def reports(
    leads: Annotated[
        int, typer.Option(min=1, help="Leads of the generated brokerage.")
    ] = 1_000_000,
    repeat: Annotated[int, typer.Option(min=1, help="Timed renderings per format.")] = 5,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 42,
    database_url: Annotated[
        str | None,
        typer.Option(help="Read this warehouse's --tenant instead of generating one."),
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="The tenant, with --database-url.")] = None,
    output: OutputOption = Path("bench-results"),
) -> None:
    """Time the monthly executive report (PDF, XLSX, CSV) on a generated brokerage in a
    temporary DuckDB file: its figures and its file, cold and warm."""
    # Imported here: every `dealscope` command loads this module, few run a benchmark.
    from dealscope.bench.reports import bench_reports
    from dealscope.bench.results import BenchResult

    figures = bench_reports(leads, repeat, seed=seed, database_url=database_url, tenant=tenant)
    path = BenchResult("reports", figures).write(output)
    table = Table("format", "p50 s", "max s", "figures p50 s", "file p50 s", "CPU p50 s", "bytes")
    for fmt, run in figures["formats"].items():
        table.add_row(
            fmt,
            f"{run['total_seconds']['p50']:.2f}",
            f"{run['total_seconds']['max']:.2f}",
            f"{run['figures_seconds']['p50']:.2f}",
            f"{run['file_seconds']['p50']:.2f}",
            f"{run['cpu_seconds']['p50']:.2f}",
            f"{run['bytes']:,}",
        )
    console.print(table)
    cold = figures["cold_pdf"]
    met = "met" if figures["pdf_target_met"] else "NOT met"
    cold_met = "met" if figures["cold_pdf_target_met"] else "NOT met"
    console.print(
        f"cold PDF {cold['total_seconds']:.2f} s (figures {cold['figures_seconds']:.2f} s, "
        f"CPU {cold['cpu_seconds']:.2f} s, load average {figures['load_average_1m']}); "
        f"target < {figures['target_seconds']:.0f} s: warm p50 {met}, cold {cold_met}; "
        f"result written to {path}"
    )


@bench_app.command("dashboard")
def dashboard(
    leads: Annotated[int, typer.Option(min=1, help="Leads of the generated brokerage.")] = 25_000,
    runs: Annotated[int, typer.Option(min=1, help="Timed navigations per screen size.")] = 7,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 42,
    output: OutputOption = Path("bench-results"),
) -> None:
    """Time navigating to the executive summary until its charts are drawn, in Debian's
    Chromium at laptop and phone sizes (API and dashboard on loopback, demo-sized data)."""
    # Imported here: every `dealscope` command loads this module, few run a benchmark.
    from dealscope.bench.dashboard import bench_dashboard
    from dealscope.bench.results import BenchResult

    figures = bench_dashboard(leads, runs, seed=seed)
    path = BenchResult("dashboard", figures).write(output)
    table = Table("screen", "median s", "min s", "max s", "first load s", "charts", "met")
    for screen, run in figures["viewports"].items():
        table.add_row(
            screen,
            f"{run['median_s']:.2f}",
            f"{run['min_s']:.2f}",
            f"{run['max_s']:.2f}",
            f"{run['first_load_after_sign_in_s']:.1f}",
            str(run["charts"]),
            "yes" if run["met"] else "no",
        )
    console.print(table)
    console.print(f"target: median under {figures['target_median_s']} s; result written to {path}")


@bench_app.command("forecast")
def forecast(
    open_deals: Annotated[int, typer.Option(min=1, help="Open deals in the pipeline.")] = 5000,
    horizon_days: Annotated[int, typer.Option(min=1, max=730, help="Days ahead.")] = 90,
    leads: Annotated[int, typer.Option(min=1, help="Leads of the generated history.")] = 40_000,
    repeat: Annotated[int, typer.Option(min=1, help="Timed 10,000-iteration runs.")] = 5,
    million: Annotated[bool, typer.Option(help="Also time 1,000,000 iterations.")] = True,
    seed: Annotated[int, typer.Option(help="Generator and simulation seed.")] = 42,
    output: OutputOption = Path("bench-results"),
) -> None:
    """Time the Monte Carlo forecast: 10,000 and 1,000,000 iterations over the horizon with
    `open_deals` open deals (targets: 200 ms and 10 s)."""
    # Imported here: every `dealscope` command loads this module, few run a benchmark.
    from dealscope.bench.forecast import bench_forecast
    from dealscope.bench.results import BenchResult

    figures = bench_forecast(open_deals, horizon_days, leads, repeat, seed, million)
    path = BenchResult("forecast", figures).write(output)
    table = Table("iterations", "wall s (median)", "CPU s (median)", "target s", "met (wall/CPU)")
    for name, label in (("iterations_10k", "10,000"), ("iterations_1m", "1,000,000")):
        if name in figures:
            run = figures[name]
            table.add_row(
                label,
                f"{run['wall_median_s']:.3f}",
                f"{run['cpu_median_s']:.3f}",
                f"{run['target_s']:g}",
                f"{'yes' if run['met_wall'] else 'no'}/{'yes' if run['met_cpu'] else 'no'}",
            )
    console.print(table)
    console.print(
        f"{figures['open_deals']:,} open deals, {figures['horizon_days']} days, fit "
        f"{figures['fit_seconds']:.2f} s, load average {figures['load_average_1m']:.1f}; "
        f"result written to {path}"
    )


@bench_app.command("ghl-sync")
def ghl_sync(
    contacts: Annotated[
        int, typer.Option(min=10, help="Contacts of the generated location.")
    ] = 20_000,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="Sync into this (migrated) warehouse, as a new tenant, not a temp DuckDB."
        ),
    ] = None,
    output: OutputOption = Path("bench-results"),
) -> None:
    """Records per second `dealscope sync ghl` stores from a loopback GHL REST v2 server (full,
    then incremental after 1% of the contacts changed)."""
    # Imported here: every `dealscope` command loads this module, few run a benchmark.
    from dealscope.bench.ghl_sync import bench_ghl_sync
    from dealscope.bench.results import BenchResult

    figures = bench_ghl_sync(contacts, database_url)
    path = BenchResult("ghl-sync", figures).write(output)
    table = Table("run", "resource", "records", "seconds", "records/s")
    for run in ("full", "incremental"):
        for name, res in figures[run]["resources"].items():
            rate = "-" if res["records_per_second"] is None else f"{res['records_per_second']:,.0f}"
            table.add_row(run, name, f"{res['records']:,}", f"{res['seconds']:.2f}", rate)
    console.print(table)
    console.print(
        f"{figures['backend']}, {figures['full']['requests']:,} requests in the full run; load "
        f"average {figures['load_average_1m']:.1f}; result written to {path}"
    )


@bench_app.command("ingest")
def ingest(
    events: Annotated[int, typer.Option(min=100, help="Webhooks sent in the flood.")] = 20_000,
    concurrency: Annotated[int, typer.Option(min=1, help="Connections sending at once.")] = 128,
    samples: Annotated[
        int, typer.Option(min=1, help="Webhooks timed from 2xx to visible in the API.")
    ] = 100,
    database_url: Annotated[
        str | None,
        typer.Option(help="Use this warehouse instead of a temporary DuckDB file."),
    ] = None,
    output: OutputOption = Path("bench-results"),
) -> None:
    """Signed GHL webhooks over real HTTP to `dealscope serve`: accepted per second, the
    backlog's apply time, and the delay from a webhook's 2xx to its effect in the API."""
    # Imported here: every `dealscope` command loads this module, few run a benchmark.
    from dealscope.bench.ingest import bench_ingest
    from dealscope.bench.results import BenchResult

    figures = bench_ingest(events, concurrency, samples, database_url=database_url)
    path = BenchResult("ingest", figures).write(output)
    flood, visible = figures["flood"], figures["visibility"]
    console.print(
        f"accepted {flood['accepted']:,} of {flood['sent']:,} in {flood['seconds']:.1f} s: "
        f"{flood['accepted_per_second']:,.0f}/s (target 1,500/s: "
        f"{'met' if figures['accepted_target_met'] else 'not met'}); backlog applied "
        f"{figures['backlog_applied_seconds']:.1f} s after the flood"
    )
    console.print(
        f"2xx to visible in the API: p50 {visible['p50_ms']:.0f} ms, p95 "
        f"{visible['p95_ms']:.0f} ms (target p95 < 1,000 ms: "
        f"{'met' if figures['visible_target_met'] else 'not met'}); during the flood: p50 "
        f"{figures['visibility_during_flood']['p50_ms']} ms, p95 "
        f"{figures['visibility_during_flood']['p95_ms']} ms; result written to {path}"
    )
