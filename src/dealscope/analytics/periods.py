"""Periods of time for analytics: named ranges, comparisons and grains.

Every period is a half-open range of dates `[start, end)` in the tenant's calendar, so a
month is `[2025-02-01, 2025-03-01)` and leap days need no special case. Nothing here reads
the clock: callers pass `as_of` (the API passes today in the tenant's time zone).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from dealscope.errors import ValidationFailed


class RangeName(StrEnum):
    TODAY = "today"
    LAST_7_DAYS = "7d"
    LAST_30_DAYS = "30d"
    LAST_90_DAYS = "90d"
    MONTH_TO_DATE = "mtd"
    QUARTER_TO_DATE = "qtd"
    YEAR_TO_DATE = "ytd"
    CUSTOM = "custom"


class Compare(StrEnum):
    PREVIOUS_PERIOD = "previous_period"
    PREVIOUS_YEAR = "previous_year"
    TARGET = "target"


class Grain(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@dataclass(frozen=True)
class Period:
    start: dt.date  # first day included
    end: dt.date  # first day not included

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValidationFailed(
                f"a period must end after it starts; got start {self.start} and end "
                f"{self.end - dt.timedelta(days=1)} (inclusive)"
            )

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day < self.end


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def shift_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def resolve_range(
    name: RangeName,
    as_of: dt.date,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Period:
    """The period a named range means on `as_of` (inclusive of `as_of`). `custom` takes
    `start` and `end`, both inclusive, as users write them."""
    tomorrow = as_of + dt.timedelta(days=1)
    if name == RangeName.CUSTOM:
        if start is None or end is None:
            raise ValidationFailed("range 'custom' needs both start and end (YYYY-MM-DD)")
        return Period(start, end + dt.timedelta(days=1))
    if start is not None or end is not None:
        raise ValidationFailed(f"start and end go with range 'custom', not {name.value!r}")
    firsts = {
        RangeName.TODAY: as_of,
        RangeName.LAST_7_DAYS: tomorrow - dt.timedelta(days=7),
        RangeName.LAST_30_DAYS: tomorrow - dt.timedelta(days=30),
        RangeName.LAST_90_DAYS: tomorrow - dt.timedelta(days=90),
        RangeName.MONTH_TO_DATE: as_of.replace(day=1),
        RangeName.QUARTER_TO_DATE: quarter_start(as_of),
        RangeName.YEAR_TO_DATE: as_of.replace(month=1, day=1),
    }
    return Period(firsts[name], tomorrow)


def comparison_period(period: Period, compare: Compare) -> Period | None:
    """The period to compare with: the same length just before, or the same dates a year
    earlier. None for `target`, which compares with plans, not with another period."""
    if compare == Compare.PREVIOUS_PERIOD:
        return Period(period.start - dt.timedelta(days=period.days), period.start)
    if compare == Compare.PREVIOUS_YEAR:
        return Period(shift_years(period.start, -1), shift_years(period.end, -1))
    return None


def grain_start(day: dt.date, grain: Grain) -> dt.date:
    """The first day of the grain bucket holding `day` (weeks start on Monday)."""
    if grain == Grain.DAY:
        return day
    if grain == Grain.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if grain == Grain.MONTH:
        return day.replace(day=1)
    if grain == Grain.QUARTER:
        return quarter_start(day)
    return day.replace(month=1, day=1)


def buckets(period: Period, grain: Grain) -> list[dt.date]:
    """The start of every grain bucket that overlaps `period`, in order (empty buckets too,
    so a chart has a point for every month even when nothing happened)."""
    starts = []
    day = grain_start(period.start, grain)
    while day < period.end:
        starts.append(day)
        day = _next_bucket(day, grain)
    return starts


def _next_bucket(day: dt.date, grain: Grain) -> dt.date:
    if grain == Grain.DAY:
        return day + dt.timedelta(days=1)
    if grain == Grain.WEEK:
        return day + dt.timedelta(days=7)
    months = {Grain.MONTH: 1, Grain.QUARTER: 3, Grain.YEAR: 12}[grain]
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def elapsed_share(period: Period, as_of: dt.date) -> float:
    """How much of `period` has passed by the end of `as_of` (0..1), for pacing."""
    if as_of < period.start:
        return 0.0
    return min(1.0, ((as_of - period.start).days + 1) / period.days)
