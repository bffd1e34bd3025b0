"""The API's vocabularies (periods, comparisons, units, sorts), as the client names them.

Kept in step with the server's enums by `tests/api/test_client.py`."""

from __future__ import annotations

from enum import StrEnum


class RangeName(StrEnum):
    """A named period, resolved by the API on `as_of` in the tenant's calendar."""

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


class Unit(StrEnum):
    """How to read a metric's value."""

    COUNT = "count"
    MONEY = "money"
    RATIO = "ratio"
    DURATION_MINUTES = "duration_minutes"
    DURATION_HOURS = "duration_hours"
    DAYS = "days"


class Dimension(StrEnum):
    """What a metric can be split or filtered by; agent, team and office values are ids."""

    AGENT = "agent"
    TEAM = "team"
    OFFICE = "office"
    SOURCE = "source"
    MEDIUM = "medium"
    CAMPAIGN = "campaign"
    PROPERTY_TYPE = "property_type"
    ZIP = "zip"
    STAGE = "stage"


class SortBy(StrEnum):
    """What the leaderboard ranks agents by."""

    GCI = "gci"
    DEALS = "deals"
    CONVERSION = "conversion"
    SPEED_TO_LEAD = "speed_to_lead"


class FunnelOrder(StrEnum):
    STRICT = "strict"
    ANY = "any"


class FunnelBreakdown(StrEnum):
    SOURCE = "source"
    AGENT = "agent"
    MONTH = "month"
