"""`dealscope alerts ...`: run a tenant's alert rules, list its alerts, and run the report
and alert scheduler on its own (for deployments whose API processes run with
DEALSCOPE_SCHEDULER_ENABLED=false).

With the embedded DuckDB file these commands need the file to themselves: stop
`dealscope serve` first, or use the API (`POST /api/v1/config/alerts/evaluate`).
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dealscope.alerts.evaluate import dispatch_notifications, evaluate_tenant, tenant_lock
from dealscope.alerts.repository import ACTIVE, STATUSES, list_alerts, list_rules
from dealscope.alerts.scheduler import Scheduler
from dealscope.api.scheduling import build_runner, load_alert_settings
from dealscope.config import get_settings
from dealscope.errors import Conflict, NotFound
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.migrate import opened_warehouse
from dealscope.warehouse.schema import tenants
from dealscope.warehouse.tenancy import TenantScope

console = Console(soft_wrap=True)
alerts_app = typer.Typer(help="Alert rules and alerts; the scheduler.", no_args_is_help=True)

TenantOption = Annotated[str, typer.Option("--tenant", help="The tenant's slug.")]


def _tenant_id(warehouse: Warehouse, slug: str) -> int:
    with warehouse.engine.connect() as connection:
        found = connection.execute(
            tenants.select().with_only_columns(tenants.c.id).where(tenants.c.slug == slug)
        ).scalar()
    if found is None:
        raise NotFound(f"no tenant {slug!r} (dealscope tenants list shows them)")
    return int(found)


@alerts_app.command("evaluate")
def evaluate_command(
    tenant: TenantOption,
    at: Annotated[
        dt.datetime | None,
        typer.Option(help="Judge the data as of this moment (ISO, UTC unless a zone is given)."),
    ] = None,
    notify: Annotated[bool, typer.Option(help="Send what fires or resolves.")] = True,
) -> None:
    """Run the tenant's enabled rules now (or --at a moment) and print what happened."""
    moment = dt.datetime.now(dt.UTC) if at is None else at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    settings = get_settings()
    with opened_warehouse() as warehouse:
        tenant_id = _tenant_id(warehouse, tenant)
        with tenant_lock(warehouse, tenant_id, "alerts") as mine:
            if not mine:
                raise Conflict("the tenant's rules are being evaluated right now; try again")
            report = evaluate_tenant(warehouse, tenant_id, moment)
            sent = failed = 0
            if notify:
                with warehouse.engine.connect() as connection:
                    prefs = load_alert_settings(connection, tenant_id)
                runner = build_runner(settings, warehouse)
                dispatch = dispatch_notifications(
                    warehouse, tenant_id, moment, prefs, runner.outbox
                )
                sent, failed = len(dispatch.sent), len(dispatch.failed)
                for alert_id, event, channel, error in dispatch.failed:
                    console.print(
                        f"[red]alert {alert_id} {event} via {channel}:[/] {escape(error)}"
                    )
        with warehouse.engine.connect() as connection:
            rules = {r.id: r.spec.name for r in list_rules(connection, TenantScope(tenant_id))}
    table = Table("rule", "name", "outcome")
    outcomes = [
        *((r, "[red]fired[/]") for r in report.fired),
        *((r, "still firing") for r in report.updated),
        *((r, "[green]resolved[/]") for r in report.resolved),
        *((r, "held back (cooldown)") for r in report.suppressed),
        *((r, "ok") for r in report.quiet),
        *((r, f"[red]error:[/] {escape(e)}") for r, e in report.failed.items()),
    ]
    for rule_id, outcome in sorted(outcomes):
        table.add_row(str(rule_id), escape(rules.get(rule_id, "?")), outcome)
    console.print(table)
    if notify:
        console.print(f"Notifications sent: {sent}, failed: {failed}.")


@alerts_app.command("list")
def list_command(
    tenant: TenantOption,
    status: Annotated[
        str, typer.Option(help="active (open and acknowledged), open, acknowledged, resolved, all")
    ] = "active",
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """The tenant's alerts, newest first."""
    statuses = {"active": ACTIVE, "all": STATUSES}.get(status, (status,))
    if not set(statuses) <= set(STATUSES):
        raise typer.BadParameter(f"unknown status {status!r}", param_hint="--status")
    with opened_warehouse() as warehouse:
        tenant_id = _tenant_id(warehouse, tenant)
        with warehouse.engine.connect() as connection:
            found = list_alerts(connection, TenantScope(tenant_id), tuple(statuses), limit)
    table = Table("id", "fired (UTC)", "severity", "status", "title")
    for alert in found:
        table.add_row(
            str(alert.id),
            alert.fired_at.strftime("%Y-%m-%d %H:%M"),
            alert.severity,
            alert.status,
            escape(alert.title),
        )
    console.print(table if found else "No alerts.")


@alerts_app.command("run-scheduler")
def run_scheduler_command() -> None:
    """Run report schedules and alert evaluation in this process until Ctrl-C."""
    settings = get_settings()
    with opened_warehouse() as warehouse:
        scheduler = Scheduler(
            build_runner(settings, warehouse),
            tick_seconds=settings.scheduler_tick_seconds,
            alert_minutes=settings.alert_interval_minutes,
        )
        scheduler.start()
        console.print(
            f"Scheduler running (reports every {settings.scheduler_tick_seconds} s, alerts "
            f"every {settings.alert_interval_minutes} min); Ctrl-C stops it."
        )
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            console.print("Stopping...")
        finally:
            scheduler.shutdown()
