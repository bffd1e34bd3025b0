"""Market series (FRED and the like): observations by series and day, "." meaning missing.

Files come long (`series_id,date,value`) or as FRED's own download, one column per series
(`observation_date,MORTGAGE30US`, older files `DATE,MORTGAGE30US`), which is turned long.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import partial
from typing import Any

from dealscope.ingest.files import values as v
from dealscope.ingest.files.base import ImportContext
from dealscope.ingest.files.readers import RawTable
from dealscope.ingest.files.spec import Field, ImportKind, KindSpec, header_key
from dealscope.ingest.files.store import Counts, Key, load_existing, upsert_for
from dealscope.ingest.files.validate import BadRow, GoodRow
from dealscope.ingest.files.values import BadValue
from dealscope.warehouse.schema import market_series

_MISSING = {".", "NA", "N/A", "#N/A", "nan"}


def observation_value(value: Any) -> Decimal | None:
    """A FRED value: a decimal string, or "." for a missing observation (None)."""
    if isinstance(value, str) and value.strip() in _MISSING:
        return None
    number = v.decimal(value, 4)
    if abs(number) >= Decimal("1e12"):
        raise BadValue(f"{value!r} is out of range")
    return number


def _series_id(value: Any) -> str:
    raw = v.text(value, 64).upper()
    if not re.fullmatch(r"[A-Z0-9_.\-]+", raw):
        raise BadValue(f"{value!r} is not a series id (e.g. MORTGAGE30US)")
    return raw


SERIES_SPEC = KindSpec(
    ImportKind.SERIES,
    (
        Field("series_id", _series_id, required=True, synonyms=("series", "id", "symbol")),
        Field(
            "observed_on", v.date, required=True, synonyms=("date", "observation_date", "period")
        ),
        Field("value", observation_value, required=True, synonyms=("observation", "rate")),
        Field("source", partial(v.text, limit=16)),
    ),
)

_DATE_HEADERS = {"date", "observationdate"}


def widen_fred_download(table: RawTable) -> RawTable:
    """FRED's download (a date column, then one column per series) as long rows; any other
    table is returned as it is."""
    keys = [header_key(h) for h in table.headers]
    if not keys or keys[0] not in _DATE_HEADERS or "seriesid" in keys or "series" in keys:
        return table
    if len(keys) < 2 or "value" in keys:
        return table
    rows: list[tuple[int, list[Any]]] = []
    for line, cells in table.rows:
        for i, series in enumerate(table.headers[1:], start=1):
            cell = cells[i] if i < len(cells) else None
            rows.append((line, [series, cells[0], "." if v.is_blank(cell) else cell]))
    return RawTable(["series_id", "date", "value"], rows)


class SeriesWriter:
    key_label = "series and date"

    def __init__(self, source: str = "csv") -> None:
        self.source = source

    def key(self, values: dict[str, Any]) -> Key | None:
        return (values["series_id"], values["observed_on"])

    def prepare(self, ctx: ImportContext, rows: list[GoodRow]) -> list[BadRow]:
        self.rows = rows
        return []

    def apply(self, ctx: ImportContext) -> Counts:
        keys = ["series_id", "observed_on"]
        existing = load_existing(ctx.uow, market_series, ctx.tenant_id, keys, ["value", "source"])
        plan = upsert_for(ctx.uow, market_series, ctx.tenant_id, existing, len(self.rows))
        for row in self.rows:
            values = row.values
            key = (values["series_id"], values["observed_on"])
            plan.add(
                key,
                {"value": values.get("value"), "source": values.get("source") or self.source},
                create_only={"series_id": key[0], "observed_on": key[1]},
            )
        return plan.flush(ctx.uow)
