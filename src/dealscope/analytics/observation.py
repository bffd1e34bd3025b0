"""What a dashboard looks at: a period of the tenant's calendar, seen on `as_of`.

Periods are dates in the tenant's time zone; the warehouse keeps UTC. `Observation` turns
one into the other, and sets the cut-off: nothing that happened after the end of `as_of`
(local midnight) is counted, so a dashboard for a past day shows what was known then.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ibis
import pandas as pd

from dealscope.analytics.periods import Period
from dealscope.errors import ValidationFailed

if TYPE_CHECKING:
    import ibis.expr.types as ir


def local_midnight_utc(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The first instant of `day` in `zone`, in UTC."""
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)


def utc_offsets(
    zone: ZoneInfo, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.timedelta]]:
    """The offsets from UTC of `zone` over the instants `[start, end)`, in order, as
    (first instant, offset) pieces; the first piece begins at `start`. Changes are found
    by stepping six hours at a time and bisecting to the microsecond."""

    def offset(instant: dt.datetime) -> dt.timedelta:
        found = instant.astimezone(zone).utcoffset()
        assert found is not None
        return found

    pieces = [(start, offset(start))]
    step, tick = dt.timedelta(hours=6), dt.timedelta(microseconds=1)
    low = start
    while low < end:
        high = min(low + step, end)
        if offset(high) == pieces[-1][1]:
            low = high
            continue
        while high - low > tick:  # offset(low) is the current one, offset(high) is not
            middle = low + (high - low) // 2
            if offset(middle) == pieces[-1][1]:
                low = middle
            else:
                high = middle
        if high < end:
            pieces.append((high, offset(high)))
        low = high
    return pieces


@dataclass(frozen=True)
class Observation:
    period: Period
    as_of: dt.date
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationFailed(f"unknown time zone {self.timezone!r}") from None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def start_utc(self) -> dt.datetime:
        """The first instant of the period (local midnight of its first day), in UTC."""
        return local_midnight_utc(self.period.start, self.zone)

    @property
    def end_utc(self) -> dt.datetime:
        """The first instant after the period, or the cut-off if that comes first."""
        return min(local_midnight_utc(self.period.end, self.zone), self.cutoff_utc)

    @property
    def cutoff_utc(self) -> dt.datetime:
        """The end of `as_of` (the next local midnight), in UTC: later rows are not seen."""
        return local_midnight_utc(self.as_of + dt.timedelta(days=1), self.zone)

    def shifted(self, periods: int) -> Observation:
        """The period `periods` lengths earlier, seen as it was the same time after it
        (`as_of` moves back too), so its figures compare fairly with this one's."""
        delta = dt.timedelta(days=self.period.days * periods)
        earlier = Period(self.period.start - delta, self.period.end - delta)
        return Observation(earlier, self.as_of - delta, self.timezone)

    def offset_micros(
        self, instants: ir.TimestampValue, start: dt.datetime, end: dt.datetime
    ) -> ir.IntegerValue:
        """The zone's offset from UTC, in microseconds, at each of `instants` (an Ibis column
        of instants in `[start, end)`): worked out here, one CASE branch per change, so the
        database only adds it to the instant's microseconds since 1970 to get the tenant's
        wall-clock time (no calendar arithmetic on instants per row)."""
        pieces = utc_offsets(self.zone, start, end)

        def micros(offset: dt.timedelta) -> ir.IntegerScalar:
            return ibis.literal(offset // dt.timedelta(microseconds=1), "int64")

        if len(pieces) == 1:
            return micros(pieces[0][1])
        branches = [
            (instants < following, micros(offset))
            for (_, offset), (following, _) in itertools.pairwise(pieces)
        ]
        return ibis.cases(*branches, else_=micros(pieces[-1][1]))

    def local(self, instants: pd.Series) -> pd.Series:
        """UTC instants as wall-clock times of the tenant's zone."""
        return pd.to_datetime(instants, utc=True).dt.tz_convert(self.timezone)

    def local_dates(self, instants: pd.Series) -> pd.Series:
        """UTC instants as calendar dates of the tenant's zone (Python `date` objects)."""
        return self.local(instants).dt.date

    def days_before_as_of(self, instants: pd.Series) -> pd.Series:
        """Whole calendar days (tenant's zone) from each instant's date to `as_of`, as
        floats (0.0 for an instant on `as_of`; NaN stays NaN)."""
        local = self.local(instants).dt.tz_localize(None).dt.normalize()
        return ((pd.Timestamp(self.as_of) - local) / pd.Timedelta(days=1)).astype(float)
