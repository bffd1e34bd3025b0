"""Named ranges, comparisons and grains at their edges (month ends, leap days, years)."""

from __future__ import annotations

import datetime as dt

import pytest

from dealscope.analytics.periods import (
    Compare,
    Grain,
    Period,
    RangeName,
    buckets,
    comparison_period,
    elapsed_share,
    resolve_range,
)
from dealscope.errors import ValidationFailed

D = dt.date


@pytest.mark.parametrize(
    ("name", "as_of", "start", "end"),
    [
        (RangeName.TODAY, D(2024, 2, 29), D(2024, 2, 29), D(2024, 3, 1)),
        (RangeName.LAST_7_DAYS, D(2024, 3, 3), D(2024, 2, 26), D(2024, 3, 4)),
        (RangeName.LAST_30_DAYS, D(2024, 3, 1), D(2024, 2, 1), D(2024, 3, 2)),
        (RangeName.LAST_90_DAYS, D(2025, 1, 15), D(2024, 10, 18), D(2025, 1, 16)),
        (RangeName.MONTH_TO_DATE, D(2024, 12, 31), D(2024, 12, 1), D(2025, 1, 1)),
        (RangeName.QUARTER_TO_DATE, D(2024, 5, 20), D(2024, 4, 1), D(2024, 5, 21)),
        (RangeName.YEAR_TO_DATE, D(2024, 1, 1), D(2024, 1, 1), D(2024, 1, 2)),
    ],
)
def test_named_ranges_include_as_of(
    name: RangeName, as_of: dt.date, start: dt.date, end: dt.date
) -> None:
    assert resolve_range(name, as_of) == Period(start, end)


def test_custom_range_is_inclusive_and_checked() -> None:
    assert resolve_range(RangeName.CUSTOM, D(2025, 1, 1), D(2024, 2, 1), D(2024, 2, 29)) == Period(
        D(2024, 2, 1), D(2024, 3, 1)
    )
    with pytest.raises(ValidationFailed, match="needs both start and end"):
        resolve_range(RangeName.CUSTOM, D(2025, 1, 1), D(2024, 2, 1))
    with pytest.raises(ValidationFailed, match="must end after it starts"):
        resolve_range(RangeName.CUSTOM, D(2025, 1, 1), D(2024, 2, 10), D(2024, 2, 1))
    with pytest.raises(ValidationFailed, match="go with range 'custom'"):
        resolve_range(RangeName.LAST_7_DAYS, D(2025, 1, 1), start=D(2024, 1, 1))


def test_comparisons() -> None:
    march = Period(D(2024, 3, 1), D(2024, 4, 1))  # 31 days
    assert comparison_period(march, Compare.PREVIOUS_PERIOD) == Period(
        D(2024, 1, 30), D(2024, 3, 1)
    )
    assert comparison_period(march, Compare.PREVIOUS_YEAR) == Period(D(2023, 3, 1), D(2023, 4, 1))
    leap = Period(D(2024, 2, 29), D(2024, 3, 1))
    assert comparison_period(leap, Compare.PREVIOUS_YEAR) == Period(D(2023, 2, 28), D(2023, 3, 1))
    assert comparison_period(march, Compare.TARGET) is None


def test_buckets_cover_the_period_including_empty_ones() -> None:
    period = Period(D(2024, 1, 15), D(2024, 4, 2))
    assert buckets(period, Grain.MONTH) == [
        D(2024, 1, 1),
        D(2024, 2, 1),
        D(2024, 3, 1),
        D(2024, 4, 1),
    ]
    assert buckets(period, Grain.QUARTER) == [D(2024, 1, 1), D(2024, 4, 1)]
    assert buckets(Period(D(2024, 12, 30), D(2025, 1, 7)), Grain.WEEK) == [
        D(2024, 12, 30),
        D(2025, 1, 6),
    ]
    assert buckets(Period(D(2023, 12, 31), D(2024, 1, 2)), Grain.YEAR) == [
        D(2023, 1, 1),
        D(2024, 1, 1),
    ]
    assert len(buckets(Period(D(2024, 2, 1), D(2024, 3, 1)), Grain.DAY)) == 29


def test_elapsed_share_for_pacing() -> None:
    q2 = Period(D(2024, 4, 1), D(2024, 7, 1))  # 91 days
    assert elapsed_share(q2, D(2024, 3, 31)) == 0.0
    assert elapsed_share(q2, D(2024, 4, 1)) == pytest.approx(1 / 91)
    assert elapsed_share(q2, D(2024, 5, 15)) == pytest.approx(45 / 91)
    assert elapsed_share(q2, D(2024, 8, 1)) == 1.0
