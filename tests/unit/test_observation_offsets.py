"""The time zone's offsets from UTC over a span (analytics.observation.utc_offsets), which the
dashboards hand to the database to turn instants into the tenant's wall-clock time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from dealscope.analytics.observation import utc_offsets

UTC = dt.UTC
H = dt.timedelta(hours=1)


def test_a_zone_without_changes_has_one_piece() -> None:
    start, end = dt.datetime(2025, 1, 1, tzinfo=UTC), dt.datetime(2026, 1, 1, tzinfo=UTC)
    assert utc_offsets(ZoneInfo("Asia/Kolkata"), start, end) == [(start, 5.5 * H)]
    assert utc_offsets(ZoneInfo("UTC"), start, end) == [(start, 0 * H)]


def test_changes_are_found_at_the_exact_instant() -> None:
    start, end = dt.datetime(2025, 1, 1, tzinfo=UTC), dt.datetime(2026, 1, 1, tzinfo=UTC)
    # Chicago: CDT from 2 a.m. CST on 9 March (08:00 UTC) to 2 a.m. CDT on 2 November.
    assert utc_offsets(ZoneInfo("America/Chicago"), start, end) == [
        (start, -6 * H),
        (dt.datetime(2025, 3, 9, 8, tzinfo=UTC), -5 * H),
        (dt.datetime(2025, 11, 2, 7, tzinfo=UTC), -6 * H),
    ]
    # Lord Howe Island moves by half an hour.
    howe = utc_offsets(ZoneInfo("Australia/Lord_Howe"), start, end)
    assert [offset for _, offset in howe] == [11 * H, 10.5 * H, 11 * H]


def test_a_change_at_the_end_is_left_out_and_one_at_the_start_is_the_first_piece() -> None:
    chicago = ZoneInfo("America/Chicago")
    change = dt.datetime(2025, 3, 9, 8, tzinfo=UTC)
    assert utc_offsets(chicago, change - 24 * H, change) == [(change - 24 * H, -6 * H)]
    assert utc_offsets(chicago, change, change + 24 * H) == [(change, -5 * H)]


@pytest.mark.parametrize("zone", ["America/St_Johns", "Europe/London", "Pacific/Auckland"])
def test_every_instant_gets_the_zones_offset(zone: str) -> None:
    start, end = dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2025, 1, 1, tzinfo=UTC)
    pieces = utc_offsets(ZoneInfo(zone), start, end)
    instant = start
    while instant < end:  # every 97 minutes over a leap year
        offset = next(o for first, o in reversed(pieces) if first <= instant)
        assert offset == instant.astimezone(ZoneInfo(zone)).utcoffset(), instant
        instant += dt.timedelta(minutes=97)
