"""MLS listings in RESO Data Dictionary 2.0 terms: fields, StandardStatus, price per sq ft.

Headers may be RESO's own names (`ListPrice`, `StandardStatus`) or our snake_case columns
(`list_price`): both reduce to the same key. JSON files in OData's shape import the same way.
A stored listing is replaced only by a record at least as new (`ModificationTimestamp`), so
an old export imported after a newer feed changes nothing.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import partial
from typing import Any

from dealscope.ingest.files import values as v
from dealscope.ingest.files.base import ImportContext
from dealscope.ingest.files.spec import Field, ImportKind, KindSpec
from dealscope.ingest.files.store import Counts, Key, load_existing, upsert_for
from dealscope.ingest.files.validate import BadRow, GoodRow
from dealscope.ingest.files.values import BadValue, cents
from dealscope.warehouse.schema import listings

T = partial

# RESO StandardStatus, by its key form lower-cased, plus spellings seen in exports.
STANDARD_STATUSES = ("Active", "ActiveUnderContract", "ComingSoon", "Pending", "Closed", "Hold",
                     "Withdrawn", "Canceled", "Expired", "Delete", "Incomplete")  # fmt: skip
_STATUS_ALIASES = {s.lower(): s for s in STANDARD_STATUSES} | {
    "cancelled": "Canceled",
    "sold": "Closed",
    "undercontract": "ActiveUnderContract",
    "activecontingent": "ActiveUnderContract",
    "contingent": "ActiveUnderContract",
    "backuponly": "ActiveUnderContract",
    "temporarilyoffmarket": "Hold",
    "deleted": "Delete",
}
SQUARE_FEET_PER_SQUARE_METRE = Decimal("10.7639104")


def normalise_status(value: Any) -> str:
    """RESO's StandardStatus key form for a lookup display name or a spelling variant:
    "Active Under Contract" -> ActiveUnderContract, "cancelled" -> Canceled."""
    key = re.sub(r"[\s_\-]+", "", str(value)).lower()
    if key in _STATUS_ALIASES:
        return _STATUS_ALIASES[key]
    raise BadValue(f"{value!r} is not a RESO StandardStatus ({', '.join(STANDARD_STATUSES)})")


def price_per_square_foot(
    close_price: Decimal | None,
    list_price: Decimal | None,
    living_area: Decimal | None,
    units: str | None = None,
) -> Decimal | None:
    """Close price (list price while unsold) per square foot of living area, to the cent;
    None without a price or an area. Areas in square metres are converted."""
    price = close_price if close_price is not None else list_price
    if price is None or living_area is None or living_area <= 0:
        return None
    area = living_area
    if units and "met" in units.lower():
        area = living_area * SQUARE_FEET_PER_SQUARE_METRE
    return cents(price / area)


def _coordinate(value: Any) -> Decimal:
    number = v.decimal(value, 8)
    if abs(number) > 180:
        raise BadValue(f"{value!r} is not a coordinate")
    return number


def _state(value: Any) -> str:
    raw = v.text(value, 2).upper()
    if not re.fullmatch(r"[A-Z]{2}", raw):
        raise BadValue(f"{value!r} is not a two-letter state code")
    return raw


def _area(value: Any) -> Decimal:
    number = v.decimal(value, 2)
    if number < 0:
        raise BadValue(f"{value!r} is negative")
    return number


def _f(name: str, parse: Any, reso: str, *more: str, required: bool = False) -> Field:
    return Field(name, parse, required=required, synonyms=(reso, *more))


LISTINGS_SPEC = KindSpec(
    ImportKind.LISTINGS,
    (
        _f("listing_key", T(v.text, limit=255), "ListingKey", required=True),
        _f("listing_id", T(v.text, limit=255), "ListingId", "MLS Number", "MLS #"),
        _f("originating_system_name", T(v.text, limit=100), "OriginatingSystemName"),
        _f("standard_status", normalise_status, "StandardStatus", "Status", required=True),
        _f("mls_status", T(v.text, limit=64), "MlsStatus"),
        _f("property_type", T(v.text, limit=32), "PropertyType"),
        _f("property_sub_type", T(v.text, limit=32), "PropertySubType"),
        _f("list_price", v.non_negative_money, "ListPrice"),
        _f("original_list_price", v.non_negative_money, "OriginalListPrice"),
        _f("close_price", v.non_negative_money, "ClosePrice", "Sold Price"),
        _f("listing_contract_date", v.date, "ListingContractDate"),
        _f("on_market_date", v.date, "OnMarketDate"),
        _f("purchase_contract_date", v.date, "PurchaseContractDate"),
        _f("close_date", v.date, "CloseDate"),
        _f("off_market_date", v.date, "OffMarketDate"),
        _f("days_on_market", v.integer, "DaysOnMarket", "DOM"),
        _f("unparsed_address", T(v.text, limit=255), "UnparsedAddress", "Address"),
        _f("city", T(v.text, limit=100), "City"),
        _f("state_or_province", _state, "StateOrProvince", "State"),
        _f("postal_code", T(v.text, limit=10), "PostalCode", "Zip"),
        _f("latitude", _coordinate, "Latitude"),
        _f("longitude", _coordinate, "Longitude"),
        _f("living_area", _area, "LivingArea", "Square Feet", "SqFt"),
        _f("living_area_units", T(v.text, limit=32), "LivingAreaUnits"),
        _f("bedrooms_total", v.integer, "BedroomsTotal", "Beds"),
        _f("bathrooms_total_integer", v.integer, "BathroomsTotalInteger", "Baths"),
        _f("year_built", v.integer, "YearBuilt"),
        _f("list_agent_full_name", T(v.text, limit=200), "ListAgentFullName"),
        _f("list_office_name", T(v.text, limit=200), "ListOfficeName"),
        _f("buyer_agent_full_name", T(v.text, limit=200), "BuyerAgentFullName"),
        _f("buyer_office_name", T(v.text, limit=200), "BuyerOfficeName"),
        _f("modification_timestamp", v.timestamp, "ModificationTimestamp", required=True),
    ),
)

_COLUMNS = tuple(f.name for f in LISTINGS_SPEC.fields if f.name not in ("living_area_units",))


class ListingsWriter:
    key_label = "ListingKey"

    def key(self, values: dict[str, Any]) -> Key | None:
        return (values["listing_key"],)

    def prepare(self, ctx: ImportContext, rows: list[GoodRow]) -> list[BadRow]:
        self.rows = rows
        return []

    def apply(self, ctx: ImportContext) -> Counts:
        columns = (*_COLUMNS, "price_per_square_foot")
        existing = load_existing(ctx.uow, listings, ctx.tenant_id, ["listing_key"], columns)
        plan = upsert_for(ctx.uow, listings, ctx.tenant_id, existing, len(self.rows))
        stale = 0
        for row in self.rows:
            values = {k: row.values.get(k) for k in _COLUMNS}
            stored = existing.get((values["listing_key"],))
            if (
                stored is not None
                and stored["modification_timestamp"] > values["modification_timestamp"]
            ):
                stale += 1  # an older state of a listing we hold newer
                continue
            values["price_per_square_foot"] = price_per_square_foot(
                values["close_price"],
                values["list_price"],
                values["living_area"],
                row.values.get("living_area_units"),
            )
            plan.add((values["listing_key"],), values)
        counts = plan.flush(ctx.uow)
        counts.unchanged += stale
        return counts
