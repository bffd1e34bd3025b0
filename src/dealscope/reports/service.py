"""Rendering a report: the one entry point the API, the CLI and the scheduler call.

    rendered = render("monthly_executive", "pdf", warehouse, TenantScope(tenant_id),
                      as_of=dt.date(2025, 3, 31))
    rendered.filename, rendered.content_type, rendered.content, rendered.summary_html

`report` is a `ReportSpec` (a saved report's spec: `repository.get_report(...).spec`) or the
name of a built-in template (`templates.TemplateName`). The scope decides whose figures
appear (`TenantScope(tenant_id)` for the whole brokerage, `agent_scope(tenant_id, agent_id)`
for one agent's scorecard); the tenant is the scope's. `as_of` is the day the periods are
resolved on (nothing here reads the clock but `generated_at`'s default).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import jinja2

from dealscope.reports.charts import palette
from dealscope.reports.csvzip import render_csv, slugify
from dealscope.reports.document import ReportDocument, build_document
from dealscope.reports.formatting import format_change, format_value
from dealscope.reports.pdf import TEMPLATES, render_pdf, tone
from dealscope.reports.specs import (
    Audience,
    PeriodOverride,
    ReportFormat,
    ReportSpec,
    Visual,
    validate_spec,
    with_period,
)
from dealscope.reports.templates import get_template
from dealscope.reports.xlsx import render_xlsx
from dealscope.warehouse.engine import Warehouse
from dealscope.warehouse.tenancy import TenantScope

CONTENT_TYPES = {
    ReportFormat.PDF: "application/pdf",
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.CSV: "text/csv",
}
ZIP_TYPE = "application/zip"


@dataclass(frozen=True)
class RenderedReport:
    """A rendered report: a file to attach or download, and an HTML summary for an email
    body (title, period, headline figures, generated-at and data as-of times)."""

    filename: str
    content_type: str
    content: bytes
    summary_html: str
    title: str
    format: ReportFormat


def agent_scope(tenant_id: int, agent_id: int) -> TenantScope:
    """The scope of one agent's own figures (an agent scorecard)."""
    return TenantScope.for_agents(tenant_id, [agent_id])


def resolve_spec(report: ReportSpec | str) -> ReportSpec:
    """A template name's spec, or `report` itself; validated against the registry."""
    spec = get_template(report) if isinstance(report, str) else report
    return validate_spec(spec)


_SUMMARY = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True
).get_template("summary.html.j2")
_TONE_COLOURS = {"good": "#2b8a3e", "bad": "#c92a2a", "flat": "#868e96"}


def summary_html(document: ReportDocument) -> str:
    """The email body: the first KPI section's figures (or the first section's period)."""
    first = next(
        (s for s in document.sections if s.spec.visual == Visual.KPI_CARDS), document.sections[0]
    )
    currency = document.tenant.currency
    cards = [
        {
            "label": c.label,
            "value": format_value(c.value, c.unit, currency),
            "change": "" if c.comparison is None else format_change(c.change_pct),
            "colour": _TONE_COLOURS[tone(c.change_pct, c.higher_is_better)],
        }
        for c in first.cards
    ]
    return _SUMMARY.render(
        primary=document.branding.primary_color,
        brand=document.brand_name,
        title=document.spec.title,
        subtitle=document.subtitle,
        period=f"{first.spec.title}: {first.period_label}",
        cards=cards,
        generated=document.local(document.generated_at),
        data_as_of=document.local(document.data_as_of),
    )


def render_document(document: ReportDocument, fmt: ReportFormat) -> RenderedReport:
    """`document` in format `fmt`."""
    stem = slugify(document.spec.title)
    if document.spec.audience == Audience.EACH_AGENT:
        stem += "-" + slugify(document.audience)
    stem += f"-{document.as_of.isoformat()}"
    content_type = CONTENT_TYPES[fmt]
    extension = fmt.value
    if fmt == ReportFormat.PDF:
        content = render_pdf(document)
    elif fmt == ReportFormat.XLSX:
        content = render_xlsx(document, palette(document.branding.accent_color))
    else:
        content, zipped = render_csv(document)
        if zipped:
            content_type, extension = ZIP_TYPE, "zip"
    return RenderedReport(
        filename=f"{stem}.{extension}",
        content_type=content_type,
        content=content,
        summary_html=summary_html(document),
        title=document.spec.title,
        format=fmt,
    )


def render(
    report: ReportSpec | str,
    fmt: ReportFormat | str,
    warehouse: Warehouse,
    scope: TenantScope,
    *,
    as_of: dt.date,
    period: PeriodOverride | None = None,
    generated_at: dt.datetime | None = None,
) -> RenderedReport:
    """Render `report` (a spec or a template name) as `fmt` (pdf, xlsx or csv) with the
    figures `scope` may see, periods resolved on `as_of` (optionally all set to `period`).

    Raises ValidationFailed naming an unknown template, metric, dimension or a visual that
    cannot draw its section; ScopeViolation when the scope may not read a metric's table
    (an agent and marketing spend); NotFound for an unknown tenant."""
    spec = with_period(resolve_spec(report), period)
    moment = generated_at or dt.datetime.now(dt.UTC)
    document = build_document(spec, warehouse, scope, as_of, moment)
    return render_document(document, ReportFormat(fmt))
