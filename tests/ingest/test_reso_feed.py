"""RESO Web API replication against a loopback OData server: nextLink paging with short
pages, the ModificationTimestamp cursor, StandardStatus spellings, price per square foot,
429 back-off; listing files (JSON in OData's shape, CSV with RESO headers)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from import_kit import CIPHER, Request, add_shop, count, data_version, rows, serve
from typer.testing import CliRunner

from dealscope.cli import app
from dealscope.config import get_settings
from dealscope.ingest.files.listings import normalise_status, price_per_square_foot
from dealscope.ingest.files.service import import_file
from dealscope.ingest.files.spec import ImportKind
from dealscope.ingest.files.values import BadValue
from dealscope.ingest.reso import FeedFailed, last_cursor, replicate_listings
from dealscope.warehouse.engine import Warehouse, open_warehouse
from dealscope.warehouse.schema import import_runs, listings

TOKEN = "test-token"
UTC = dt.UTC


def _listing(key: str, status: str, modified: str, **fields: Any) -> dict[str, Any]:
    return {
        "ListingKey": key,
        "ListingId": f"MLS-{key}",
        "StandardStatus": status,
        "City": "Austin",
        "StateOrProvince": "TX",
        "PostalCode": "78704",
        "ModificationTimestamp": modified,
        **fields,
    }


def _dataset() -> list[dict[str, Any]]:
    return [
        _listing("L1", "Closed", "2025-03-03T19:20:11.123Z", MlsStatus="Sold",
                 ListPrice=489000.00, ClosePrice=482500.00, LivingArea=1840.00,
                 CloseDate="2025-03-03", DaysOnMarket=24, BedroomsTotal=3),
        _listing("L2", "Active Under Contract", "2025-03-04T08:00:00Z", ListPrice=350000,
                 LivingArea=1400),
        _listing("L3", "cancelled", "2025-03-05T08:00:00Z", ListPrice=500000, LivingArea=100,
                 LivingAreaUnits="Square Meters"),
        _listing("L4", "Coming Soon", "2025-03-06T08:00:00Z", ListPrice=275000),
        _listing("L5", "Sold-ish", "2025-03-07T08:00:00Z", ListPrice=1),
        _listing("L6", "ACTIVE", "2025-03-08T08:00:00.500Z", ListPrice=410000, LivingArea=2050,
                 Latitude=30.24511, Longitude=-97.76933),
    ]  # fmt: skip


class ODataServer:
    """A Property resource: `$filter=ModificationTimestamp gt X`, `$orderby`, and pages of at
    most 2 records (fewer than asked) linked by `@odata.nextLink` with a skip token."""

    def __init__(self) -> None:
        self.records = _dataset()
        self.throttle_next = 0

    def __call__(self, request: Request) -> tuple[int, dict[str, str], Any]:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {}, {"error": {"code": "401", "message": "token required"}}
        if self.throttle_next:
            self.throttle_next -= 1
            return 429, {"Retry-After": "0"}, {"error": {"code": "429", "message": "slow down"}}
        token = request.param("$skiptoken")
        if token is None:
            since = None
            expression = request.param("$filter") or ""
            if "ModificationTimestamp gt " in expression:
                since = expression.split("ModificationTimestamp gt ")[1].split(" ")[0]
            offset = 0
        else:
            since, offset = (json.loads(token)["since"], json.loads(token)["offset"])
        chosen = sorted(
            (r for r in self.records if since is None or _ts(r) > _ts_text(since)),
            key=_ts,
        )
        page = chosen[offset : offset + 2]
        body: dict[str, Any] = {"@odata.context": "$metadata#Property", "value": page}
        if offset + 2 < len(chosen):
            skip = json.dumps({"since": since, "offset": offset + 2})
            body["@odata.nextLink"] = f"{self.base}/odata/Property?$skiptoken={skip}"
        return 200, {}, body

    base = ""


def _ts_text(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _ts(record: dict[str, Any]) -> dt.datetime:
    return _ts_text(record["ModificationTimestamp"])


def test_status_spellings_and_price_per_square_foot() -> None:
    assert normalise_status("Active Under Contract") == "ActiveUnderContract"
    assert normalise_status("active_under_contract") == "ActiveUnderContract"
    assert normalise_status("Cancelled") == "Canceled"
    assert normalise_status("COMING SOON") == "ComingSoon"
    with pytest.raises(BadValue, match="not a RESO StandardStatus"):
        normalise_status("Sold-ish")
    assert price_per_square_foot(Decimal("482500"), None, Decimal("1840")) == Decimal("262.23")
    assert price_per_square_foot(None, Decimal("350000"), Decimal("1400")) == Decimal("250.00")
    # 100 m2 = 1,076.39104 sq ft
    assert price_per_square_foot(
        None, Decimal("500000"), Decimal("100"), "Square Meters"
    ) == Decimal("464.52")
    assert price_per_square_foot(Decimal("1"), None, None) is None


def test_replication_follows_next_links_and_the_cursor(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    shop = add_shop(warehouse)
    server = ODataServer()
    server.throttle_next = 1
    waits: list[float] = []
    with (
        serve(server) as fake,
        httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as client,
    ):
        server.base = fake.url
        url = f"{fake.url}/odata/Property"
        first = replicate_listings(
            warehouse, shop.tenant_id, url, CIPHER, client=client, page_size=50,
            reject_dir=tmp_path, sleep=waits.append,
        )  # fmt: skip
        # One 429 waited out, then 3 pages of 2 (the server caps pages below $top=50).
        assert waits == [0.0]
        assert [r.param("$skiptoken") is None for r in fake.requests] == [True, True, False, False]
        assert fake.requests[1].param("$top") == "50"
        assert fake.requests[1].param("$orderby") == "ModificationTimestamp asc"
        assert fake.requests[1].param("$filter") is None  # a first run takes everything
        assert (first.counts.inserted, len(first.bad_rows)) == (5, 1)
        assert first.bad_rows[0].line == 5
        assert "'Sold-ish' is not a RESO StandardStatus" in first.bad_rows[0].reason
        assert first.reject_path is not None and first.reject_path.exists()
        assert rows(warehouse, listings, "listing_key", "standard_status", "mls_status",
                    "list_price", "close_price", "living_area", "price_per_square_foot",
                    "modification_timestamp", order="listing_key") == [
            ("L1", "Closed", "Sold", Decimal("489000.00"), Decimal("482500.00"),
             Decimal("1840.00"), Decimal("262.23"),
             dt.datetime(2025, 3, 3, 19, 20, 11, 123000, tzinfo=UTC)),
            ("L2", "ActiveUnderContract", None, Decimal("350000.00"), None, Decimal("1400.00"),
             Decimal("250.00"), dt.datetime(2025, 3, 4, 8, tzinfo=UTC)),
            ("L3", "Canceled", None, Decimal("500000.00"), None, Decimal("100.00"),
             Decimal("464.52"), dt.datetime(2025, 3, 5, 8, tzinfo=UTC)),
            ("L4", "ComingSoon", None, Decimal("275000.00"), None, None, None,
             dt.datetime(2025, 3, 6, 8, tzinfo=UTC)),
            ("L6", "Active", None, Decimal("410000.00"), None, Decimal("2050.00"),
             Decimal("200.00"), dt.datetime(2025, 3, 8, 8, 0, 0, 500000, tzinfo=UTC)),
        ]  # fmt: skip
        assert rows(warehouse, listings, "latitude", "longitude", order="listing_key")[-1] == (
            Decimal("30.24511000"), Decimal("-97.76933000"),
        )  # fmt: skip
        cursor = dt.datetime(2025, 3, 8, 8, 0, 0, 500000, tzinfo=UTC)
        assert last_cursor(warehouse, shop.tenant_id, url) == cursor
        assert data_version(warehouse, shop.tenant_id) == 1

        # The MLS changes L2's price and adds L7: the next run asks only for what is newer.
        server.records[1] = _listing("L2", "Pending", "2025-03-09T10:00:00Z",
                                     ListPrice=345000, LivingArea=1400)  # fmt: skip
        server.records.append(_listing("L7", "Active", "2025-03-09T11:00:00Z", ListPrice=1))
        fake.requests.clear()
        second = replicate_listings(
            warehouse, shop.tenant_id, url, CIPHER, client=client, reject_dir=tmp_path
        )
        assert fake.requests[0].param("$filter") == (
            "ModificationTimestamp gt 2025-03-08T08:00:00.500Z"
        )
        assert (second.counts.inserted, second.counts.updated, second.bad_rows) == (1, 1, [])
        assert rows(warehouse, listings, "standard_status", "list_price",
                    "price_per_square_foot", order="listing_key")[1] == (
            "Pending", Decimal("345000.00"), Decimal("246.43"),
        )  # fmt: skip
        assert last_cursor(warehouse, shop.tenant_id, url) == dt.datetime(
            2025, 3, 9, 11, tzinfo=UTC
        )
        # Nothing new: an empty page, the cursor stays, nothing changes.
        third = replicate_listings(warehouse, shop.tenant_id, url, CIPHER, client=client)
        assert third.rows_read == 0
        assert last_cursor(warehouse, shop.tenant_id, url) == dt.datetime(
            2025, 3, 9, 11, tzinfo=UTC
        )
        assert count(warehouse, listings) == 6
        assert data_version(warehouse, shop.tenant_id) == 2
    assert rows(warehouse, import_runs, "source", "status", "rows_read", "rows_inserted",
                "rows_updated", "rows_rejected") == [
        ("reso", "imported", 6, 5, 0, 1), ("reso", "imported", 2, 1, 1, 0),
        ("reso", "imported", 0, 0, 0, 0),
    ]  # fmt: skip


def test_a_feed_that_refuses_says_why(warehouse: Warehouse) -> None:
    shop = add_shop(warehouse)
    with (
        serve(ODataServer()) as fake,
        httpx.Client() as client,
        pytest.raises(FeedFailed, match="answered 401: token required"),
    ):
        replicate_listings(
            warehouse, shop.tenant_id, f"{fake.url}/odata/Property", CIPHER, client=client
        )
    assert count(warehouse, listings) == 0


def test_listing_files_json_and_csv(warehouse: Warehouse) -> None:
    shop = add_shop(warehouse)
    page = {"@odata.context": "x", "value": _dataset()[:2]}
    result = import_file(warehouse, shop.tenant_id, ImportKind.LISTINGS, "page.json",
                         json.dumps(page).encode(), CIPHER)  # fmt: skip
    assert result.counts.inserted == 2
    # An older export of L1 changes nothing; a newer CSV row with RESO headers does.
    csv = (b"ListingKey,StandardStatus,ListPrice,ClosePrice,LivingArea,ModificationTimestamp\n"
           b"L1,Active,1,,,2025-01-01T00:00:00Z\n"
           b"L2,Pending,340000,,1360,2025-03-10T00:00:00Z\n")  # fmt: skip
    again = import_file(warehouse, shop.tenant_id, ImportKind.LISTINGS, "export.csv", csv, CIPHER)
    assert (again.counts.inserted, again.counts.updated, again.counts.unchanged) == (0, 1, 1)
    assert rows(warehouse, listings, "listing_key", "standard_status", "list_price",
                "price_per_square_foot", order="listing_key") == [
        ("L1", "Closed", Decimal("489000.00"), Decimal("262.23")),
        ("L2", "Pending", Decimal("340000.00"), Decimal("250.00")),
    ]  # fmt: skip


def test_the_mls_command(
    _migrated_duckdb_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(_migrated_duckdb_file, path)
    with open_warehouse(f"duckdb:///{path}") as warehouse:
        add_shop(warehouse)
    monkeypatch.setenv("DEALSCOPE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DEALSCOPE_ENVIRONMENT", "test")
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    server = ODataServer()
    with serve(server) as fake:
        server.base = fake.url
        url = f"{fake.url}/odata/Property"
        first = CliRunner().invoke(app, ["ingest", "mls", "--url", url, "--token", TOKEN])
        assert first.exit_code == 0, first.output
        assert "6 rows read, 5 new, 0 updated, 0 unchanged, 1 skipped" in first.output
        assert f"Skipped rows, with their reasons: {tmp_path}/rejects/Property.rejects-" in (
            first.output
        )
        again = CliRunner().invoke(app, ["ingest", "mls", "--url", url, "--token", TOKEN])
        assert "0 rows read" in again.output
        unauthorised = CliRunner().invoke(app, ["ingest", "mls", "--url", url])
        assert unauthorised.exit_code == 1
        assert "answered 401: token required" in unauthorised.output
    with open_warehouse(f"duckdb:///{path}") as warehouse:
        assert count(warehouse, listings) == 5
