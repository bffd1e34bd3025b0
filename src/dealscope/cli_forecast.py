"""`dealscope forecast backtest`: replay history and score the forecasting methods.

Forecasts are made as of past month-ends with only what was known then (Monte Carlo, ETS,
Prophet), compared with what then closed, scored by method and horizon (MAPE, bias, P10-P90
coverage) and, unless `--no-record`, kept in the accuracy ledger as backtest forecasts (read
by GET /api/v1/analytics/forecast/accuracy?kind=backtest).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from dealscope.analytics.forecast_backtest import run_backtest
from dealscope.analytics.forecast_history import ForecastMetric
from dealscope.analytics.forecast_ledger import record_forecasts
from dealscope.analytics.sources import Sources
from dealscope.api.auth import tenants as tenant_service
from dealscope.errors import ValidationFailed
from dealscope.warehouse.migrate import opened_warehouse
from dealscope.warehouse.tenancy import TenantScope

console = Console(soft_wrap=True)
forecast_app = typer.Typer(help="Forecast backtests.", no_args_is_help=True)


def _numbers(text: str, option: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValidationFailed(f"{option} must be whole numbers separated by commas") from None


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


@forecast_app.command("backtest")
def backtest(
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant's slug.")] = "demo",
    metric: Annotated[ForecastMetric, typer.Option(help="What to forecast.")] = ForecastMetric.GCI,
    dates: Annotated[int, typer.Option(min=1, max=60, help="Month-ends to forecast from.")] = 12,
    horizons: Annotated[str, typer.Option(help="Months ahead, comma-separated.")] = "1,2,3",
    methods: Annotated[
        str, typer.Option(help="Comma-separated: monte_carlo, ets, prophet.")
    ] = "monte_carlo,ets,prophet",
    iterations: Annotated[int, typer.Option(min=100, max=100_000)] = 2000,
    latest: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Windows end by this day (default: today)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Simulation seed.")] = 0,
    record: Annotated[bool, typer.Option(help="Keep the forecasts in the ledger.")] = True,
) -> None:
    """Forecast as of past month-ends, compare with what happened, print MAPE, bias and
    P10-P90 coverage by method and horizon."""
    with opened_warehouse() as warehouse:
        with warehouse.engine.connect() as connection:
            found = tenant_service.get_tenant_by_slug(connection, tenant)
        end = latest.date() if latest else dt.datetime.now(ZoneInfo(found.timezone)).date()
        scope = TenantScope(found.id)
        chosen = [m.strip() for m in methods.split(",") if m.strip()]
        with console.status("backtesting...") as status:
            report = run_backtest(
                Sources(warehouse, scope),
                found.timezone,
                end,
                metric,
                dates,
                _numbers(horizons, "--horizons"),
                iterations,
                chosen,
                seed,
                progress=lambda message: status.update(f"backtesting: {message}"),
            )
        if record:
            record_forecasts(warehouse, scope, report.records(), dt.datetime.now(dt.UTC))
    first, last = report.as_of_dates[0], report.as_of_dates[-1]
    table = Table(
        title=f"{metric.value} of {tenant}, as of {len(report.as_of_dates)} month-ends "
        f"{first} .. {last}"
    )
    table.add_column("method", no_wrap=True, min_width=18)
    for name in ("days ahead", "forecasts", "MAPE", "bias", "P10-P90 coverage"):
        table.add_column(name, justify="right")
    for score in report.scores:
        table.add_row(
            score.method,
            f"≤ {score.horizon_days}",
            str(score.forecasts),
            _percent(score.mape),
            _percent(score.bias),
            _percent(score.coverage),
        )
    console.print(table)
    if record:
        console.print(f"{len(report.forecasts)} backtest forecasts kept in the ledger.")
