"""Reading cells as people write them: money, shares, dates, phones; and header matching."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dealscope.errors import ValidationFailed
from dealscope.ingest.files import values as v
from dealscope.ingest.files.kinds import CRM_SPECS
from dealscope.ingest.files.mapping import map_columns, parse_overrides
from dealscope.ingest.files.readers import read_table
from dealscope.ingest.files.spec import ImportKind


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("$1,250.50", "1250.50"), ("(300)", "-300.00"), ("1 250", "1250.00"), (1250.5, "1250.50"),
     ("482500", "482500.00"), ("0.005", "0.01")],
)  # fmt: skip
def test_money(raw: object, expected: str) -> None:
    assert v.money(raw) == Decimal(expected)


@pytest.mark.parametrize("raw", ["abc", "1e13", True, "--5"])
def test_money_refused(raw: object) -> None:
    with pytest.raises(v.BadValue):
        v.money(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("70/30", "0.70000"), ("80%", "0.80000"), ("0.6", "0.60000"), (75, "0.75000"),
     ("2.5%", "0.02500")],
)  # fmt: skip
def test_rates(raw: object, expected: str) -> None:
    assert v.rate(raw) == Decimal(expected)


def test_rates_refused() -> None:
    with pytest.raises(v.BadValue, match="add up to 100"):
        v.rate("70/20")
    with pytest.raises(v.BadValue, match="between 0 and 100%"):
        v.rate("150%")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2025-03-14", dt.date(2025, 3, 14)), ("3/14/2025", dt.date(2025, 3, 14)),
     ("14-Mar-2025", dt.date(2025, 3, 14)), (45730, dt.date(2025, 3, 14)),
     (dt.datetime(2025, 3, 14, 23, 0), dt.date(2025, 3, 14))],
)  # fmt: skip
def test_dates(raw: object, expected: dt.date) -> None:
    assert v.date(raw) == expected


def test_months_timestamps_flags_phones_emails() -> None:
    assert v.month("Mar 2025") == v.month("2025-03") == v.month("2025-03-31") == dt.date(2025, 3, 1)
    assert v.timestamp("2025-03-01T10:00:00-05:00") == dt.datetime(2025, 3, 1, 15, tzinfo=dt.UTC)
    assert v.timestamp("2025-03-01") == dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    assert (v.flag("Yes"), v.flag("n"), v.flag(True)) == (True, False, True)
    assert v.phone("(512) 555-0101") == "+15125550101"
    assert v.phone("+44 20 7946 0958") == "+442079460958"
    assert v.email(" Ann@Example.COM ") == "ann@example.com"
    with pytest.raises(v.BadValue):
        v.email("ann@example")
    assert v.text(78704.0, 10) == "78704"  # a zip Excel stored as a number


def test_headers_match_by_name_and_synonym() -> None:
    spec = CRM_SPECS[ImportKind.TRANSACTIONS]
    headers = ["Close Price", "GCI", "Agent Name", "Closing Date", "Represented", "Memo"]
    mapping = map_columns(spec, headers)
    assert mapping.fields == {
        "sale_price": "Close Price", "gci": "GCI", "agent": "Agent Name",
        "close_date": "Closing Date", "side": "Represented",
    }  # fmt: skip
    assert mapping.ignored == ["Memo"]
    assert parse_overrides(["Lead Mail=email", "Notes="]) == {"Lead Mail": "email", "Notes": ""}
    with pytest.raises(ValidationFailed, match="COLUMN=FIELD"):
        parse_overrides(["email"])


def test_readers_number_lines_and_refuse_repeated_headers() -> None:
    table = read_table("x.csv", b"a;b\n1;2\n\n3;4\n")
    assert table.headers == ["a", "b"]
    assert table.rows == [(2, ["1", "2"]), (4, ["3", "4"])]
    with pytest.raises(ValidationFailed, match="appears twice"):
        read_table("x.csv", b"a,a\n1,2\n")
    with pytest.raises(ValidationFailed, match="not valid JSON"):
        read_table("x.json", b"{nope")
