"""FRED: the observations endpoint on a loopback server (values as strings, "." missing,
limit/offset paging, 429), and FRED's CSV download imported as a file."""

from __future__ import annotations

import datetime as dt
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
from dealscope.ingest.files.service import ImportRejected, import_file
from dealscope.ingest.files.spec import ImportKind
from dealscope.ingest.fred import import_fred_series
from dealscope.ingest.reso import FeedFailed
from dealscope.warehouse.engine import Warehouse, open_warehouse
from dealscope.warehouse.schema import market_series

KEY = "abcdefghijklmnopqrstuvwxyz123456"
WEEKS = [("2025-01-02", "6.91"), ("2025-01-09", "6.93"), ("2025-01-16", "."),
         ("2025-01-23", "6.96"), ("2025-01-30", "6.95")]  # fmt: skip


class FredServer:
    """`/fred/series/observations`, pages of at most 2 whatever `limit` says."""

    def __init__(self) -> None:
        self.weeks = list(WEEKS)
        self.throttle_next = 0

    def __call__(self, request: Request) -> tuple[int, dict[str, str], Any]:
        if request.path != "/fred/series/observations":
            return 404, {}, {"error_code": 404, "error_message": "Not Found"}
        if request.param("api_key") != KEY:
            return 400, {}, {"error_code": 400, "error_message": "Bad Request.  The value for "
                             "variable api_key is not registered."}  # fmt: skip
        if self.throttle_next:
            self.throttle_next -= 1
            return 429, {}, {"error_code": 429, "error_message": "Too Many Requests."}
        assert request.param("series_id") == "MORTGAGE30US"
        assert request.param("file_type") == "json"
        offset = int(request.param("offset") or 0)
        page = self.weeks[offset : offset + min(2, int(request.param("limit") or 100000))]
        return 200, {}, {
            "realtime_start": "2025-03-06", "realtime_end": "2025-03-06", "units": "lin",
            "count": len(self.weeks), "offset": offset, "limit": 100000,
            "observations": [
                {"realtime_start": "2025-03-06", "realtime_end": "2025-03-06", "date": d,
                 "value": v} for d, v in page
            ],
        }  # fmt: skip


def test_observations_with_missing_values_and_paging(warehouse: Warehouse) -> None:
    shop = add_shop(warehouse)
    server = FredServer()
    server.throttle_next = 1
    waits: list[float] = []
    with serve(server) as fake, httpx.Client() as client:
        base = f"{fake.url}/fred"
        result = import_fred_series(warehouse, shop.tenant_id, "mortgage30us", KEY, CIPHER,
                                    client=client, base_url=base, sleep=waits.append)  # fmt: skip
        assert waits == [1.0]  # no Retry-After: a first short pause
        assert [r.param("offset") for r in fake.requests] == ["0", "0", "2", "4"]
        assert result.counts.inserted == 5
        assert rows(warehouse, market_series, "series_id", "observed_on", "value", "source",
                    order="observed_on") == [
            ("MORTGAGE30US", dt.date(2025, 1, 2), Decimal("6.9100"), "fred"),
            ("MORTGAGE30US", dt.date(2025, 1, 9), Decimal("6.9300"), "fred"),
            ("MORTGAGE30US", dt.date(2025, 1, 16), None, "fred"),
            ("MORTGAGE30US", dt.date(2025, 1, 23), Decimal("6.9600"), "fred"),
            ("MORTGAGE30US", dt.date(2025, 1, 30), Decimal("6.9500"), "fred"),
        ]  # fmt: skip
        assert data_version(warehouse, shop.tenant_id) == 1
        # FRED fills the missing week and publishes a new one: one update, one insert.
        server.weeks[2] = ("2025-01-16", "7.04")
        server.weeks.append(("2025-02-06", "6.89"))
        again = import_fred_series(warehouse, shop.tenant_id, "MORTGAGE30US", KEY, CIPHER,
                                   client=client, base_url=base)  # fmt: skip
        assert (again.counts.inserted, again.counts.updated, again.counts.unchanged) == (1, 1, 4)
        assert rows(warehouse, market_series, "value", order="observed_on")[2] == (
            Decimal("7.0400"),
        )
        refused = r"answered 400: Bad Request\.  The value for variable api_key is not"
        with pytest.raises(FeedFailed, match=refused):
            import_fred_series(warehouse, shop.tenant_id, "MORTGAGE30US", "wrong", CIPHER,
                               client=client, base_url=base)  # fmt: skip
    assert count(warehouse, market_series) == 6


def test_fred_csv_download_and_long_files(warehouse: Warehouse) -> None:
    shop = add_shop(warehouse)
    download = (b"observation_date,MORTGAGE30US,MORTGAGE15US\n"
                b"2025-01-02,6.91,6.13\n2025-01-09,6.93,\n2025-01-16,.,6.16\n")  # fmt: skip
    result = import_file(warehouse, shop.tenant_id, ImportKind.SERIES, "fred.csv", download,
                         CIPHER)  # fmt: skip
    assert result.counts.inserted == 6
    assert rows(warehouse, market_series, "series_id", "observed_on", "value", "source",
                order="id") == [
        ("MORTGAGE30US", dt.date(2025, 1, 2), Decimal("6.9100"), "csv"),
        ("MORTGAGE15US", dt.date(2025, 1, 2), Decimal("6.1300"), "csv"),
        ("MORTGAGE30US", dt.date(2025, 1, 9), Decimal("6.9300"), "csv"),
        ("MORTGAGE15US", dt.date(2025, 1, 9), None, "csv"),
        ("MORTGAGE30US", dt.date(2025, 1, 16), None, "csv"),
        ("MORTGAGE15US", dt.date(2025, 1, 16), Decimal("6.1600"), "csv"),
    ]  # fmt: skip
    long_file = b"series,date,value\nUNRATE,2025-01-01,4.0\nUNRATE,2025-02-01,four\n"
    with pytest.raises(ImportRejected) as rejected:
        import_file(warehouse, shop.tenant_id, ImportKind.SERIES, "unrate.csv", long_file, CIPHER)
    assert [(b.line, b.reason) for b in rejected.value.bad_rows] == [
        (3, "value: 'four' is not a number")
    ]
    assert count(warehouse, market_series) == 6


def test_the_fred_command(
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
    with serve(FredServer()) as fake:
        monkeypatch.setenv("DEALSCOPE_FRED_URL", f"{fake.url}/fred")
        shown = CliRunner().invoke(app, ["ingest", "fred", "--api-key", KEY])
        assert shown.exit_code == 0, shown.output
        assert "Imported FRED MORTGAGE30US as series: 5 rows read, 5 new" in shown.output
        refused = CliRunner().invoke(app, ["ingest", "fred", "--api-key", "nope"])
        assert refused.exit_code == 1
        assert "answered 400: Bad Request." in refused.output
    with open_warehouse(f"duckdb:///{path}") as warehouse:
        assert count(warehouse, market_series) == 5
