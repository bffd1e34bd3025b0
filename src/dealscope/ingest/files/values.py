"""Reading one cell of an imported file: text, money, numbers, dates, flags, rates.

Each parser takes what a reader produced (a string from CSV, a number, date or string from
Excel, a typed value from Parquet) and returns the warehouse value, or raises `BadValue` with
a reason a user can act on. Blank cells are None before a parser sees them.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
_MONEY_LIMIT = Decimal("1e12")  # DECIMAL(14, 2)
_EXCEL_EPOCH = dt.date(1899, 12, 30)


class BadValue(ValueError):
    """A cell that cannot be read as its field's type; the message says why."""


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN from Parquet/Excel
        return True
    return isinstance(value, str) and not value.strip()


def text(value: Any, limit: int) -> str:
    result = str(value).strip()
    if isinstance(value, float) and value.is_integer():  # Excel turns 78704 into 78704.0
        result = str(int(value))
    if len(result) > limit:
        raise BadValue(f"longer than {limit} characters")
    return result


_NUMBER_JUNK = re.compile(r"[\s$€£,]")


def decimal(value: Any, places: int | None = None) -> Decimal:
    """A number as written by people: `$1,250.50`, `(300)` for -300, `1 250`."""
    if isinstance(value, bool):
        raise BadValue(f"{value!r} is not a number")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        raw = str(value).strip()
        cleaned = _NUMBER_JUNK.sub("", raw)
        negative = cleaned.startswith("(") and cleaned.endswith(")")
        if negative:
            cleaned = cleaned[1:-1]
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            raise BadValue(f"{raw!r} is not a number") from None
        if negative:
            number = -number
    if not number.is_finite():
        raise BadValue(f"{value!r} is not a finite number")
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return number


def cents(amount: Decimal) -> Decimal:
    """Money rounded to the cent, halves up (as accountants and commission sheets do)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Any) -> Decimal:
    amount = decimal(value, 2)
    if abs(amount) >= _MONEY_LIMIT:
        raise BadValue(f"{value!r} is out of range (below one trillion)")
    return amount


def non_negative_money(value: Any) -> Decimal:
    amount = money(value)
    if amount < 0:
        raise BadValue(f"{value!r} is negative")
    return amount


def integer(value: Any) -> int:
    number = decimal(value)
    if number != number.to_integral_value():
        raise BadValue(f"{value!r} is not a whole number")
    if abs(number) >= 2**31:
        raise BadValue(f"{value!r} is out of range")
    return int(number)


def rate(value: Any) -> Decimal:
    """A share as a fraction: `0.7`, `70%`, `70` (read as percent), `70/30` (the first part)."""
    raw = str(value).strip() if not isinstance(value, int | float | Decimal) else value
    if isinstance(raw, str):
        split = re.fullmatch(r"(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)", raw)
        if split:
            first, second = Decimal(split.group(1)), Decimal(split.group(2))
            if first + second != 100:
                raise BadValue(f"{raw!r}: a split's parts must add up to 100")
            return (first / 100).quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP)
    if isinstance(raw, str) and raw.endswith("%"):
        number = decimal(raw[:-1]) / 100
    else:
        number = decimal(raw)
        if number > 1:
            number = number / 100
    if not Decimal(0) <= number <= 1:
        raise BadValue(f"{value!r} is not a share between 0 and 100%")
    return number.quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP)


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d", "%d-%b-%Y", "%b %d, %Y")


def date(value: Any) -> dt.date:
    """ISO dates, US `3/14/2025`, `14-Mar-2025`, Excel serial numbers, datetimes (their day)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20_000 <= value <= 80_000:  # an Excel serial day (1954..2118)
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise BadValue(f"{value!r} is not a date")
    raw = str(value).strip()
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    try:
        return dt.datetime.fromisoformat(raw.replace("Z", "+00:00")).date()
    except ValueError:
        raise BadValue(f"{raw!r} is not a date (use YYYY-MM-DD)") from None


def month(value: Any) -> dt.date:
    """The first day of a month: `2025-03`, `Mar 2025`, `March 2025` or any date in it."""
    if isinstance(value, str):
        raw = value.strip()
        for fmt in ("%Y-%m", "%Y/%m", "%b %Y", "%B %Y", "%m/%Y"):
            try:
                return dt.datetime.strptime(raw, fmt).date().replace(day=1)
            except ValueError:
                continue
    return date(value).replace(day=1)


def timestamp(value: Any) -> dt.datetime:
    """An instant in UTC; a date or a time without offset is taken as UTC."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time())
    else:
        raw = str(value).strip()
        try:
            parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            try:
                parsed = dt.datetime.combine(date(raw), dt.time())
            except BadValue:
                raise BadValue(f"{raw!r} is not a date-time (use ISO-8601)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


_TRUE = {"true", "yes", "y", "1", "t", "x"}
_FALSE = {"false", "no", "n", "0", "f", ""}


def flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raw = str(value).strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise BadValue(f"{value!r} is not yes/no")


_EMAIL = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[A-Za-z]{2,}")


def email(value: Any) -> str:
    raw = str(value).strip()
    if not _EMAIL.fullmatch(raw) or len(raw) > 254:
        raise BadValue(f"{raw!r} is not an email address")
    return raw.lower()


def phone(value: Any) -> str:
    """Digits with an optional leading +; 10 US digits become +1...; extensions refused."""
    raw = text(value, 40)
    digits = re.sub(r"\D", "", raw)
    if not 7 <= len(digits) <= 15:
        raise BadValue(f"{raw!r} is not a phone number")
    if raw.startswith("+"):
        return f"+{digits}"
    if len(digits) == 10:
        return f"+1{digits}"
    if len(digits) == 11 and digits.startswith("1"):
        return f"+{digits}"
    return digits


def choice(value: Any, allowed: dict[str, str]) -> str:
    """One of `allowed`'s values, looked up by a key of letters only, lower case."""
    raw = str(value).strip()
    key = re.sub(r"[^a-z0-9]", "", raw.lower())
    if key in allowed:
        return allowed[key]
    known = ", ".join(sorted(set(allowed.values())))
    raise BadValue(f"{raw!r} is not one of {known}")
