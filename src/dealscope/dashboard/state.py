"""What a view shows, as it travels in the URL: the period, the comparison and the filters.

`ViewState.from_query` reads a query string (as `st.query_params` gives it) and forgives
what it cannot read (a bad date falls back to the default, and `problems` says so);
`to_query` writes only what differs from the defaults, so a shared link is short."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from dealscope.client import Compare, Dimension, PeriodQuery, RangeName

FILTER_DIMENSIONS = (Dimension.TEAM, Dimension.OFFICE, Dimension.SOURCE)
RANGE_LABELS = {
    RangeName.TODAY: "Today",
    RangeName.LAST_7_DAYS: "7D",
    RangeName.LAST_30_DAYS: "30D",
    RangeName.LAST_90_DAYS: "90D",
    RangeName.QUARTER_TO_DATE: "QTD",
    RangeName.YEAR_TO_DATE: "YTD",
    RangeName.CUSTOM: "Custom",
}
COMPARE_LABELS = {
    Compare.PREVIOUS_PERIOD: "Previous period",
    Compare.PREVIOUS_YEAR: "Same period last year",
    Compare.TARGET: "Plan (target)",
}
DEFAULT_RANGE = RangeName.LAST_30_DAYS
DEFAULT_COMPARE = Compare.PREVIOUS_PERIOD


def _first(value: str | list[str] | None) -> str | None:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _date(value: str | None) -> dt.date | None:
    try:
        return None if not value else dt.date.fromisoformat(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class ViewState:
    range: RangeName = DEFAULT_RANGE
    start: dt.date | None = None
    end: dt.date | None = None
    compare: Compare = DEFAULT_COMPARE
    as_of: dt.date | None = None
    filters: Mapping[Dimension, tuple[str, ...]] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, query: Mapping[str, str | list[str]]) -> ViewState:
        problems: list[str] = []
        name = _first(query.get("range"))
        try:
            range_name = RangeName(name) if name else DEFAULT_RANGE
        except ValueError:
            problems.append(f"range {name!r} is not one of {', '.join(RANGE_LABELS.values())}")
            range_name = DEFAULT_RANGE
        compare_name = _first(query.get("compare"))
        try:
            compare = Compare(compare_name) if compare_name else DEFAULT_COMPARE
        except ValueError:
            problems.append(f"compare {compare_name!r} is not a comparison")
            compare = DEFAULT_COMPARE
        start, end = _date(_first(query.get("start"))), _date(_first(query.get("end")))
        if range_name == RangeName.CUSTOM and (start is None or end is None or end < start):
            problems.append("a custom range needs start and end dates (YYYY-MM-DD), in order")
            range_name, start, end = DEFAULT_RANGE, None, None
        if range_name != RangeName.CUSTOM:
            start = end = None
        as_of_text = _first(query.get("as_of"))
        as_of = _date(as_of_text)
        if as_of_text and as_of is None:
            problems.append(f"as_of {as_of_text!r} is not a date (YYYY-MM-DD)")
        filters: dict[Dimension, tuple[str, ...]] = {}
        for dimension in FILTER_DIMENSIONS:
            raw = query.get(dimension.value)
            values = raw if isinstance(raw, list) else (raw.split(",") if raw else [])
            kept = tuple(sorted({v.strip() for v in values if v.strip()}))
            if kept:
                filters[dimension] = kept
        return cls(range_name, start, end, compare, as_of, filters, tuple(problems))

    def to_query(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.range != DEFAULT_RANGE:
            out["range"] = self.range.value
        if self.range == RangeName.CUSTOM and self.start and self.end:
            out |= {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.compare != DEFAULT_COMPARE:
            out["compare"] = self.compare.value
        if self.as_of is not None:
            out["as_of"] = self.as_of.isoformat()
        for dimension, values in sorted(self.filters.items()):
            if values:
                out[dimension.value] = ",".join(values)
        return out

    @property
    def period(self) -> PeriodQuery:
        if self.range == RangeName.CUSTOM:
            return PeriodQuery(self.range, self.start, self.end, self.as_of)
        return PeriodQuery(self.range, as_of=self.as_of)

    def with_(self, **changes: object) -> ViewState:
        return replace(self, **changes)  # type: ignore[arg-type]

    def describe(self) -> str:
        """The period in words, e.g. 'Last 30 days' or '2026-01-01 – 2026-03-31'."""
        if self.range == RangeName.CUSTOM and self.start and self.end:
            return f"{self.start:%d %b %Y} – {self.end:%d %b %Y}"
        words = {
            RangeName.TODAY: "Today",
            RangeName.LAST_7_DAYS: "Last 7 days",
            RangeName.LAST_30_DAYS: "Last 30 days",
            RangeName.LAST_90_DAYS: "Last 90 days",
            RangeName.MONTH_TO_DATE: "Month to date",
            RangeName.QUARTER_TO_DATE: "Quarter to date",
            RangeName.YEAR_TO_DATE: "Year to date",
        }
        text = words.get(self.range, self.range.value)
        return text if self.as_of is None else f"{text} as of {self.as_of:%d %b %Y}"
