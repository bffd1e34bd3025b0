"""The Excel workbook of a report (XlsxWriter): a summary sheet, then one sheet per section
with its table (numbers kept as numbers, formatted by unit; the header row frozen) and, for
chart sections, a native Excel chart drawn from a data block beside the table.

Every text cell goes through `neutralize` and is written as a string, never as a formula.
"""

from __future__ import annotations

import io
import re

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from dealscope.analytics.specs import Unit
from dealscope.reports.compute import Cell, Chart, Column, SectionData
from dealscope.reports.document import ReportDocument
from dealscope.reports.formatting import excel_number_format, neutralize
from dealscope.reports.specs import Visual

HEADER_ROW = 3  # title, period, blank, then the header
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\']")
CHART_TYPES = {
    Visual.LINE: {"type": "line"},
    Visual.BAR: {"type": "column"},
    Visual.FUNNEL: {"type": "bar"},
    Visual.PIE: {"type": "doughnut"},
}


def sheet_name(title: str, taken: set[str]) -> str:
    """A legal, unique sheet name (31 characters, none of []:*?/\\')."""
    base = _SHEET_FORBIDDEN.sub(" ", title).strip()[:31] or "Section"
    name, number = base, 2
    while name.lower() in taken:
        suffix = f" ({number})"
        name = base[: 31 - len(suffix)] + suffix
        number += 1
    taken.add(name.lower())
    return name


class _Formats:
    def __init__(self, book: Workbook, currency: str, primary: str) -> None:
        self.currency = currency
        self.title = book.add_format({"bold": True, "font_size": 14, "font_color": primary})
        self.muted = book.add_format({"font_color": "#868e96", "italic": True})
        self.header = book.add_format(
            {
                "bold": True,
                "font_color": "#ffffff",
                "bg_color": primary,
                "text_wrap": True,
                "valign": "bottom",
                "border": 1,
            }
        )
        self.label = book.add_format({"bold": True})
        self._numbers: dict[tuple[Unit, str], object] = {}
        self._book = book

    def number(self, unit: Unit, role: str = "value") -> object:
        key = (unit, role)
        if key not in self._numbers:
            pattern = (
                "+0.0%;-0.0%;0.0%" if role == "change" else excel_number_format(unit, self.currency)
            )
            self._numbers[key] = self._book.add_format({"num_format": pattern})
        return self._numbers[key]


def _write(sheet: Worksheet, row: int, col: int, cell: Cell, column: Column, fm: _Formats) -> None:
    if cell is None:
        sheet.write_blank(row, col, None)
    elif column.unit is None or isinstance(cell, str):
        sheet.write_string(row, col, neutralize(str(cell)))
    else:
        sheet.write_number(row, col, float(cell), fm.number(column.unit, column.role))


def _widths(sheet: Worksheet, columns: list[Column], rows: list[list[Cell]]) -> None:
    for index, column in enumerate(columns):
        longest = max([len(str(r[index])) for r in rows if r[index] is not None] + [8])
        width = max(10, min(40, longest + 2)) if column.unit is None else 16
        sheet.set_column(index, index, width)


def _chart(
    book: Workbook,
    sheet: Worksheet,
    name: str,
    chart: Chart,
    first_col: int,
    fm: _Formats,
    colours: list[str],
) -> None:
    """Write the chart's data at `first_col` and a native chart of it below the heading."""
    sheet.write_string(HEADER_ROW, first_col, "Chart data", fm.header)
    for number, series in enumerate(chart.series, start=1):
        sheet.write_string(HEADER_ROW, first_col + number, neutralize(series.name), fm.header)
    for offset, category in enumerate(chart.categories, start=1):
        sheet.write_string(HEADER_ROW + offset, first_col, neutralize(category))
        for number, series in enumerate(chart.series, start=1):
            value = series.values[offset - 1]
            if value is None:
                sheet.write_blank(HEADER_ROW + offset, first_col + number, None)
            else:
                sheet.write_number(
                    HEADER_ROW + offset, first_col + number, value, fm.number(chart.unit)
                )
    sheet.set_column(first_col, first_col, 22)
    sheet.set_column(first_col + 1, first_col + len(chart.series), 16)
    excel = book.add_chart(CHART_TYPES[chart.kind])
    assert excel is not None
    last = HEADER_ROW + max(len(chart.categories), 1)
    for number, series in enumerate(chart.series, start=1):
        colour = colours[(number - 1) % len(colours)]
        options: dict[str, object] = {
            "name": [name, HEADER_ROW, first_col + number],
            "categories": [name, HEADER_ROW + 1, first_col, last, first_col],
            "values": [name, HEADER_ROW + 1, first_col + number, last, first_col + number],
        }
        if chart.kind == Visual.LINE:
            line: dict[str, object] = {"color": colour, "width": 2.25}
            if series.dashed:
                line["dash_type"] = "dash"
            options["line"] = line
        elif chart.kind == Visual.PIE:
            options["points"] = [
                {"fill": {"color": colours[i % len(colours)]}} for i in range(len(chart.categories))
            ]
        else:
            options["fill"] = {"color": colour}
        excel.add_series(options)
    excel.set_title({"none": True})
    if chart.kind == Visual.FUNNEL:
        excel.set_y_axis({"reverse": True})
        excel.set_legend({"none": True})
    elif chart.kind != Visual.PIE:
        excel.set_y_axis(
            {
                "num_format": excel_number_format(chart.unit, fm.currency),
                "major_gridlines": {"visible": True, "line": {"color": "#dee2e6"}},
            }
        )
        if len(chart.series) == 1:
            excel.set_legend({"none": True})
        else:
            excel.set_legend({"position": "top"})
    excel.set_size({"width": 720, "height": 340})
    sheet.insert_chart(HEADER_ROW, first_col + len(chart.series) + 2, excel)


def _section_sheet(
    book: Workbook, data: SectionData, name: str, fm: _Formats, colours: list[str]
) -> None:
    sheet = book.add_worksheet(name)
    sheet.write_string(0, 0, neutralize(data.spec.title), fm.title)
    sheet.write_string(1, 0, data.period_label, fm.muted)
    for col, column in enumerate(data.columns):
        sheet.write_string(HEADER_ROW, col, neutralize(column.label), fm.header)
    for offset, row in enumerate(data.rows, start=1):
        for col, (cell, column) in enumerate(zip(row, data.columns, strict=True)):
            _write(sheet, HEADER_ROW + offset, col, cell, column, fm)
    _widths(sheet, data.columns, data.rows)
    sheet.set_row(HEADER_ROW, 30)
    keys = sum(1 for c in data.columns if c.unit is None)
    sheet.freeze_panes(HEADER_ROW + 1, keys)
    if data.rows:
        last_row, last_col = HEADER_ROW + len(data.rows), len(data.columns) - 1
        sheet.autofilter(HEADER_ROW, 0, last_row, last_col)
    if data.chart is not None:
        _chart(book, sheet, name, data.chart, len(data.columns) + 1, fm, colours)


def _summary_sheet(
    book: Workbook, document: ReportDocument, fm: _Formats, names: list[str]
) -> None:
    sheet = book.add_worksheet("Summary")
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 70)
    sheet.write_string(0, 0, neutralize(f"{document.brand_name}: {document.spec.title}"), fm.title)
    facts = [
        ("Figures of", document.audience),
        ("As of day", document.as_of.isoformat()),
        ("Generated", document.local(document.generated_at)),
        ("Data as of", document.local(document.data_as_of)),
        ("Currency", document.tenant.currency),
    ]
    for row, (label, value) in enumerate(facts, start=2):
        sheet.write_string(row, 0, label, fm.label)
        sheet.write_string(row, 1, neutralize(value))
    start = len(facts) + 3
    sheet.write_string(start, 0, "Sheet", fm.header)
    sheet.write_string(start, 1, "Period", fm.header)
    for offset, (name, data) in enumerate(zip(names, document.sections, strict=True), start=1):
        sheet.write_url(start + offset, 0, f"internal:'{name}'!A1", string=name)
        sheet.write_string(start + offset, 1, data.period_label)


def render_xlsx(document: ReportDocument, colours: list[str]) -> bytes:
    """The report as an .xlsx workbook."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    book.set_properties(
        {"title": document.spec.title, "company": document.brand_name, "author": "DealScope"}
    )
    fm = _Formats(book, document.tenant.currency, document.branding.primary_color)
    taken = {"summary"}
    names = [sheet_name(s.spec.title, taken) for s in document.sections]
    _summary_sheet(book, document, fm, names)
    for name, data in zip(names, document.sections, strict=True):
        _section_sheet(book, data, name, fm, colours)
    book.close()
    return buffer.getvalue()
