"""Which column of a file feeds which field: detected from headers, overridable by hand.

`--map "Lead Email=email"` (or `{"Lead Email": "email"}` from the API) maps a column
explicitly; `--map "Notes="` ignores a column. Everything else is matched by header
(`spec.header_key`) against each field's name and synonyms. A required field without a
column, an unknown field or column named in a mapping, and two columns feeding one field
are errors of the whole file, reported before any row is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dealscope.errors import ValidationFailed
from dealscope.ingest.files.spec import KindSpec, header_key


@dataclass(frozen=True)
class ColumnMapping:
    fields: dict[str, str]  # field -> column
    ignored: list[str]  # columns feeding no field (but those left out by hand)

    def describe(self) -> list[tuple[str, str]]:
        return sorted(((column, name) for name, column in self.fields.items()), key=str)


def parse_overrides(pairs: Iterable[str]) -> dict[str, str]:
    """`["col=field", ...]` as a dict; an empty field ignores the column."""
    result: dict[str, str] = {}
    for pair in pairs:
        column, sep, name = pair.rpartition("=")
        if not sep or not column.strip():
            raise ValidationFailed(f"--map {pair!r}: write it as COLUMN=FIELD (or COLUMN= to skip)")
        result[column.strip()] = name.strip()
    return result


def map_columns(
    spec: KindSpec, headers: list[str], overrides: Mapping[str, str] | None = None
) -> ColumnMapping:
    overrides = dict(overrides or {})
    names = set(spec.names)
    fields: dict[str, str] = {}
    problems: list[str] = []
    for column, name in overrides.items():
        if column not in headers:
            problems.append(f"--map names column {column!r}, which the file does not have")
        elif name and name not in names:
            problems.append(
                f"--map {column!r}={name!r}: {spec.kind.value} has no field {name!r} "
                f"(fields: {', '.join(spec.names)})"
            )
        elif name:
            if name in fields:
                problems.append(f"--map sends both {fields[name]!r} and {column!r} to {name!r}")
            fields[name] = column
    by_key = {key: f.name for f in spec.fields for key in f.keys}
    for column in headers:
        if column in overrides:
            continue
        found = by_key.get(header_key(column))
        if found is None:
            continue
        name = found
        if name in fields:
            if fields[name] in overrides:
                continue  # mapped by hand; this look-alike column is left out
            problems.append(
                f"columns {fields[name]!r} and {column!r} both look like {name!r}; "
                f"choose one with --map {column!r}= (to skip it) or --map {column!r}={name}"
            )
            continue
        fields[name] = column
    missing = [f.name for f in spec.fields if f.required and f.name not in fields]
    if missing:
        problems.append(
            f"no column for required field(s) {', '.join(missing)}; the file's columns are "
            f"{', '.join(repr(h) for h in headers)} (map one with --map COLUMN=FIELD)"
        )
    for group in spec.needs_one_of:
        if not any(name in fields for name in group):
            problems.append(f"{spec.kind.value} need a column for one of {', '.join(group)}")
    if problems:
        raise ValidationFailed("; ".join(problems))
    used = set(fields.values())
    skipped = {column for column, name in overrides.items() if not name}
    return ColumnMapping(fields, [h for h in headers if h not in used and h not in skipped])
