"""The PDF of a report: Jinja2 HTML printed by WeasyPrint.

A branded cover (tenant name, logo, colours, who the figures are of, the period, when it was
generated and the data's as-of time), then each section: KPI cards, an SVG chart (vector in
the PDF) or a table whose header repeats on every page; page numbers in the footer.
"""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from dealscope.reports.charts import render_svg
from dealscope.reports.compute import Card, Cell, Column, SectionData
from dealscope.reports.document import ReportDocument
from dealscope.reports.formatting import format_change, format_value
from dealscope.reports.specs import Visual

TEMPLATES = Path(__file__).parent / "pdf_templates"
MAX_PDF_COLUMNS = 9


def _css_string(text: object) -> Markup:
    """Text safe inside a CSS string in double quotes in a <style> element (page margin
    boxes): CSS escapes instead of HTML ones, which a style sheet would show literally."""
    escaped = "".join(f"\\{ord(c):x} " if c in '\\"<>&\n\r' else c for c in str(text))
    return Markup(escaped)


_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters["css"] = _css_string


def tone(change_pct: float | None, higher_is_better: bool) -> str:
    """good, bad or flat: whether a change is good news for this metric."""
    if change_pct is None or abs(change_pct) < 0.0005:
        return "flat"
    return "good" if (change_pct > 0) == higher_is_better else "bad"


def _card(card: Card, currency: str) -> dict[str, str | None]:
    return {
        "label": card.label,
        "value": format_value(card.value, card.unit, currency),
        "change": None if card.comparison is None else format_change(card.change_pct),
        "comparison": None
        if card.comparison is None
        else format_value(card.comparison, card.unit, currency),
        "tone": tone(card.change_pct, card.higher_is_better),
    }


def _cell(cell: Cell, column: Column, currency: str) -> dict[str, str]:
    if column.unit is None:
        return {"text": "–" if cell is None else str(cell), "css": ""}
    number = None if cell is None else float(cell)
    if column.role == "change":
        return {
            "text": format_change(number),
            "css": "num " + tone(number, column.higher_is_better),
        }
    return {"text": format_value(number, column.unit, currency), "css": "num"}


def _svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _section(data: SectionData, document: ReportDocument) -> dict[str, Any]:
    currency = document.tenant.currency
    spec = data.spec
    context: dict[str, Any] = {
        "title": spec.title,
        "period": data.period_label,
        "note": spec.note,
        "cards": [_card(c, currency) for c in data.cards],
        "svg": None,
        "table": None,
        "css": "sec-cards" if spec.visual == Visual.KPI_CARDS else "sec-chart",
    }
    if data.chart is not None:
        svg = render_svg(data.chart, document.branding.accent_color, currency)
        context["svg"] = _svg_uri(svg)
    if spec.visual == Visual.TABLE:
        # A page holds about ten columns: wider tables drop the comparison values (the
        # change stays; the workbook and the CSV keep every column).
        shown = [
            i
            for i, c in enumerate(data.columns)
            if len(data.columns) <= MAX_PDF_COLUMNS or c.role != "comparison"
        ]
        context["css"] = "sec-table"
        context["table"] = {
            "header": [
                {
                    "label": data.columns[i].label,
                    "css": "" if data.columns[i].unit is None else "num",
                }
                for i in shown
            ],
            "rows": [
                [_cell(row[i], data.columns[i], currency) for i in shown] for row in data.rows
            ],
        }
    return context


def _cover_period(document: ReportDocument) -> str:
    """The first section's period: the one the report is about."""
    period = document.sections[0].result.period

    def day(value: dt.date) -> str:
        return f"{value.day} {value:%B %Y}"

    if period.start == period.end:
        return f"{period.start:%A} {day(period.start)}"
    return f"{day(period.start)} to {day(period.end)}"


def render_html(document: ReportDocument) -> str:
    """The report as one HTML page (what WeasyPrint prints)."""
    template = _environment.get_template("report.html.j2")
    return template.render(
        title=document.spec.title,
        subtitle=document.subtitle,
        brand_name=document.brand_name,
        logo=document.branding.logo,
        primary=document.branding.primary_color,
        accent=document.branding.accent_color,
        audience_label=document.audience,
        cover_period=_cover_period(document),
        generated_label=document.local(document.generated_at),
        data_label=document.local(document.data_as_of),
        sections=[_section(s, document) for s in document.sections],
    )


def render_pdf(document: ReportDocument) -> bytes:
    """The report as PDF bytes."""
    import weasyprint  # imported here: it loads Pango, which only PDF rendering needs

    html = render_html(document)
    pdf = weasyprint.HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf
