"""Reading an import file into a header and rows, each row with the line a user sees.

CSV (any common delimiter, UTF-8 with or without BOM, Latin-1 as a fallback), XLSX (the
first sheet, read with openpyxl) and Parquet (pyarrow). JSON is read by the listing import
(RESO's OData shape or a plain list of records). Line numbers: CSV and XLSX give the line or
sheet row of the record (the header is line 1); Parquet and JSON give the record's position,
counting the header as line 1 too, so "line 2" is always the first record.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dealscope.errors import ValidationFailed

FORMATS = ("csv", "xlsx", "parquet", "json")


@dataclass
class RawTable:
    headers: list[str]
    rows: list[tuple[int, list[Any]]]  # (line, cells in header order)


def detect_format(name: str, content: bytes) -> str:
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix in ("csv", "txt", "tsv"):
        return "csv"
    if suffix in ("xlsx", "xlsm"):
        return "xlsx"
    if suffix in ("parquet", "pq"):
        return "parquet"
    if suffix == "json":
        return "json"
    if content.startswith(b"PK\x03\x04"):
        return "xlsx"
    if content.startswith(b"PAR1"):
        return "parquet"
    if content.lstrip()[:1] in (b"{", b"["):
        return "json"
    if suffix in ("xls",):
        raise ValidationFailed(f"{name}: old .xls workbooks are not read; save it as .xlsx")
    return "csv"


def read_table(name: str, content: bytes, file_format: str | None = None) -> RawTable:
    """The rows of `content` (the bytes of file `name`)."""
    fmt = file_format or detect_format(name, content)
    readers = {"csv": _read_csv, "xlsx": _read_xlsx, "parquet": _read_parquet, "json": _read_json}
    if fmt not in readers:
        raise ValidationFailed(f"unknown file format {fmt!r}; use one of {', '.join(FORMATS)}")
    table = readers[fmt](name, content)
    if not table.headers:
        raise ValidationFailed(f"{name}: the file has no header row")
    seen: dict[str, int] = {}
    for i, header in enumerate(table.headers):
        if header in seen:
            raise ValidationFailed(
                f"{name}: column {header!r} appears twice (columns {seen[header] + 1} and {i + 1})"
            )
        seen[header] = i
    return table


def _decode(name: str, content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("latin-1")


def _read_csv(name: str, content: bytes) -> RawTable:
    text = _decode(name, content)
    sample = text[:20_000]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    headers: list[str] | None = None
    rows: list[tuple[int, list[Any]]] = []
    for record in reader:
        if headers is None:
            if not any(cell.strip() for cell in record):
                continue
            headers = [cell.strip() for cell in record]
            continue
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue  # blank lines are not records
        rows.append((line, record))
    return RawTable(headers or [], rows)


def _read_xlsx(name: str, content: bytes) -> RawTable:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ValidationFailed(f"{name}: not a readable .xlsx workbook ({exc})") from exc
    try:
        sheet = workbook.worksheets[0]
        headers: list[str] | None = None
        rows: list[tuple[int, list[Any]]] = []
        for number, record in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = list(record)
            if headers is None:
                if all(c is None for c in cells):
                    continue
                while cells and cells[-1] is None:
                    cells.pop()
                headers = ["" if c is None else str(c).strip() for c in cells]
                continue
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            rows.append((number, cells[: len(headers)] + [None] * (len(headers) - len(cells))))
        return RawTable(headers or [], rows)
    finally:
        workbook.close()


def _read_parquet(name: str, content: bytes) -> RawTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(content))
    except pa.ArrowException as exc:
        raise ValidationFailed(f"{name}: not a readable Parquet file ({exc})") from exc
    headers = list(table.column_names)
    columns = [table.column(h).to_pylist() for h in headers]
    rows = [(i + 2, [col[i] for col in columns]) for i in range(table.num_rows)]
    return RawTable(headers, rows)


def records_of_json(name: str, content: bytes) -> list[dict[str, Any]]:
    """Records of a JSON file: an OData page (`{"value": [...]}`) or a list of objects."""
    try:
        document = json.loads(_decode(name, content))
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"{name}: not valid JSON ({exc})") from exc
    if isinstance(document, dict) and isinstance(document.get("value"), list):
        document = document["value"]
    if not isinstance(document, list) or not all(isinstance(r, dict) for r in document):
        raise ValidationFailed(
            f'{name}: expected a list of records or an OData page {{"value": [...]}}'
        )
    return document


def _read_json(name: str, content: bytes) -> RawTable:
    records = records_of_json(name, content)
    headers: list[str] = []
    for record in records:
        headers.extend(k for k in record if k not in headers and not k.startswith("@"))
    rows = [(i + 2, [record.get(h) for h in headers]) for i, record in enumerate(records)]
    return RawTable(headers, rows)


def iter_cells(table: RawTable) -> Iterator[tuple[int, dict[str, Any]]]:
    for line, cells in table.rows:
        yield line, {h: (cells[i] if i < len(cells) else None) for i, h in enumerate(table.headers)}
