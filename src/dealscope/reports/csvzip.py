"""CSV of a report: one file per section (a zip of them when there are several).

Numbers are written as plain numbers (ratios as fractions, money without symbols) so other
tools read them back exactly; text that a spreadsheet would run as a formula is neutralized.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile

from dealscope.reports.compute import SectionData
from dealscope.reports.document import ReportDocument
from dealscope.reports.formatting import neutralize


def slugify(text: str) -> str:
    """A file-name-safe form of `text`: lower case words joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "report"


def section_csv(data: SectionData) -> bytes:
    """One section as CSV (UTF-8 with a byte-order mark, so Excel reads accents right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralize(c.label) for c in data.columns])
    for row in data.rows:
        writer.writerow(
            [
                "" if cell is None else neutralize(cell) if isinstance(cell, str) else repr(cell)
                for cell in row
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode()


def section_filename(number: int, data: SectionData) -> str:
    return f"{number:02d}-{slugify(data.spec.title)}.csv"


def render_csv(document: ReportDocument) -> tuple[bytes, bool]:
    """The CSV bytes and whether they are a zip (several sections) or one CSV file."""
    if len(document.sections) == 1:
        return section_csv(document.sections[0]), False
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, data in enumerate(document.sections, start=1):
            archive.writestr(section_filename(number, data), section_csv(data))
    return buffer.getvalue(), True
