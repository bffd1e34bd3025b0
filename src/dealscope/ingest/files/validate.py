"""Checking every row of a file against its kind, collecting every problem with its line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dealscope.ingest.files.mapping import ColumnMapping
from dealscope.ingest.files.readers import RawTable
from dealscope.ingest.files.spec import KindSpec
from dealscope.ingest.files.values import BadValue, is_blank


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str
    cells: dict[str, Any] = field(default_factory=dict, compare=False)  # as read, for rejects


@dataclass(frozen=True)
class GoodRow:
    line: int
    values: dict[str, Any]
    cells: dict[str, Any] = field(compare=False)


def validate_rows(
    spec: KindSpec,
    table: RawTable,
    mapping: ColumnMapping,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[GoodRow], list[BadRow]]:
    """Every row parsed: good ones with their field values, bad ones with every reason."""
    good: list[GoodRow] = []
    bad: list[BadRow] = []
    index = {h: i for i, h in enumerate(table.headers)}
    columns = [(spec.field(name), column, index[column]) for name, column in mapping.fields.items()]
    for count, (line, cells) in enumerate(table.rows, start=1):
        raw = {h: (cells[i] if i < len(cells) else None) for h, i in index.items()}
        values: dict[str, Any] = {}
        problems: list[str] = []
        for spec_field, column, i in columns:
            cell = cells[i] if i < len(cells) else None
            if is_blank(cell):
                if spec_field.required:
                    problems.append(f"{column}: required, but empty")
                continue
            try:
                values[spec_field.name] = spec_field.parse(cell)
            except BadValue as exc:
                problems.append(f"{column}: {exc}")
        if not problems and spec.finish is not None:
            try:
                values = spec.finish(values)
            except BadValue as exc:
                problems.append(str(exc))
        if problems:
            bad.append(BadRow(line, "; ".join(problems), raw))
        else:
            good.append(GoodRow(line, values, raw))
        if progress is not None and count % 1000 == 0:
            progress(1000)
    if progress is not None:
        progress(len(table.rows) % 1000)
    return good, bad


def drop_duplicates(
    rows: list[GoodRow], key: Callable[[dict[str, Any]], tuple[Any, ...] | None], what: str
) -> tuple[list[GoodRow], list[BadRow]]:
    """Rows whose natural key an earlier row of the same file has are bad: which one is
    meant is not for us to guess."""
    first_line: dict[tuple[Any, ...], int] = {}
    kept: list[GoodRow] = []
    bad: list[BadRow] = []
    for row in rows:
        k = key(row.values)
        if k is not None and k in first_line:
            bad.append(BadRow(row.line, f"same {what} as line {first_line[k]}", row.cells))
            continue
        if k is not None:
            first_line[k] = row.line
        kept.append(row)
    return kept, bad
