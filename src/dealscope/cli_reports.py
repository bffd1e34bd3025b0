"""`dealscope report ...`: render reports from the command line (DESIGN.md §2).

    dealscope report render monthly_executive --tenant acme --format pdf -o march.pdf
    dealscope report render agent_scorecard --tenant acme --agent-id 42 --as-of 2025-03-31
    dealscope report render --spec my-report.json --tenant acme --format xlsx
    dealscope report templates

Figures are the whole tenant's unless `--agent-id` narrows them to one agent. Rendering only
reads: the warehouse is opened read-only (an embedded DuckDB file held by a running API
cannot be opened: use POST /api/v1/reports/generate there).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import pydantic
import typer
from rich.console import Console
from rich.table import Table

from dealscope.config import get_settings
from dealscope.demo.loader import find_tenant
from dealscope.errors import NotFound, ValidationFailed
from dealscope.reports.document import load_tenant
from dealscope.reports.service import agent_scope, render
from dealscope.reports.specs import ReportFormat, ReportSpec
from dealscope.reports.templates import list_templates
from dealscope.warehouse.engine import open_warehouse
from dealscope.warehouse.migrate import ensure_current
from dealscope.warehouse.tenancy import TenantScope

console = Console(soft_wrap=True)
report_app = typer.Typer(help="Render reports.", no_args_is_help=True)


def _spec_file(path: Path) -> ReportSpec:
    try:
        return ReportSpec.model_validate(json.loads(path.read_text()))
    except OSError as exc:
        raise ValidationFailed(f"cannot read {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"{path} is not JSON: {exc}") from exc
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ValidationFailed(f"{path}: {problems}") from exc


@report_app.command("render")
def render_command(
    template: Annotated[
        str | None, typer.Argument(help="A built-in report (see `dealscope report templates`).")
    ] = None,
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant's slug.")] = "demo",
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="pdf, xlsx or csv.")] = (
        ReportFormat.PDF
    ),
    spec: Annotated[
        Path | None, typer.Option("--spec", help="A report spec (JSON) instead of a template.")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Day periods end on, YYYY-MM-DD (default: today there)."),
    ] = None,
    agent_id: Annotated[
        int | None, typer.Option("--agent-id", help="Only this agent's figures.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: its name).")
    ] = None,
) -> None:
    """Render a template or a spec file to PDF, Excel or CSV (a zip for several sections)."""
    if (template is None) == (spec is None):
        raise ValidationFailed("name a template or give --spec, not both and not neither")
    report: ReportSpec | str = _spec_file(spec) if spec is not None else str(template)
    day: dt.date | None = None
    if as_of is not None:
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError:
            raise ValidationFailed(f"--as-of must be YYYY-MM-DD, got {as_of!r}") from None
    warehouse = open_warehouse(get_settings().resolved_database_url, read_only=True)
    try:
        ensure_current(warehouse)
        tenant_id = find_tenant(warehouse, tenant)
        if tenant_id is None:
            raise NotFound(f"no tenant with slug {tenant!r}")
        if day is None:
            with warehouse.engine.connect() as connection:
                zone = load_tenant(connection, tenant_id).timezone
            day = dt.datetime.now(ZoneInfo(zone)).date()
        scope = TenantScope(tenant_id) if agent_id is None else agent_scope(tenant_id, agent_id)
        rendered = render(report, fmt, warehouse, scope, as_of=day)
    finally:
        warehouse.close()
    target = output or Path(rendered.filename)
    target.write_bytes(rendered.content)
    console.print(f"{rendered.title}: {len(rendered.content):,} bytes written to {target}")


@report_app.command("templates")
def templates_command() -> None:
    """The built-in reports and their sections."""
    table = Table("template", "title", "audience", "sections")
    for name, spec in list_templates():
        table.add_row(
            name.value, spec.title, spec.audience.value, ", ".join(s.title for s in spec.sections)
        )
    console.print(table)
