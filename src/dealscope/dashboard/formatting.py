"""Numbers as people read them: currency, percentages, compact thousands, durations.

Pure functions (no Streamlit), so pages and charts format the same way and tests can check
them directly. Missing values read "—" (an em dash), never "nan" or "None"."""

from __future__ import annotations

import math

from dealscope.client import Unit

MISSING = "—"
_SYMBOLS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "EUR": "€", "GBP": "£"}


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def symbol(currency: str) -> str:
    """The sign of `currency` ($ for USD), or its code and a space for others."""
    return _SYMBOLS.get(currency, f"{currency} ")


def compact(value: float | None, digits: int = 1) -> str:
    """1234 -> 1.2K, 2_500_000 -> 2.5M, 950 -> 950; trailing .0 dropped."""
    if _missing(value):
        return MISSING
    assert value is not None
    size = abs(value)
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if size >= limit:
            text = f"{value / limit:.{digits}f}".rstrip("0").rstrip(".")
            # 999_950 rounds to "1000K": say 1M instead.
            if abs(float(text)) >= 1000 and suffix != "T":
                return compact(math.copysign(1000 * limit, value), digits)
            return f"{text}{suffix}"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def money(value: float | None, currency: str = "USD", exact: bool = False) -> str:
    """$1.2M (compact), or $1,234,567 with `exact`; negatives as -$1.2K."""
    if _missing(value):
        return MISSING
    assert value is not None
    sign = "-" if value < 0 else ""
    body = f"{abs(value):,.0f}" if exact else compact(abs(value))
    return f"{sign}{symbol(currency)}{body}"


def percent(value: float | None, digits: int = 1) -> str:
    """A fraction as a percentage: 0.1234 -> 12.3%."""
    if _missing(value):
        return MISSING
    assert value is not None
    return f"{100 * value:.{digits}f}%"


def signed_percent(value: float | None, digits: int = 1) -> str:
    """A change as +12.3% / -4.0%."""
    if _missing(value):
        return MISSING
    assert value is not None
    return f"{100 * value:+.{digits}f}%"


def minutes(value: float | None) -> str:
    """A duration in minutes: 45 s, 12.5 min, 3.2 h, 2.1 d."""
    if _missing(value):
        return MISSING
    assert value is not None
    if value < 1:
        return f"{value * 60:.0f} s"
    if value < 60:
        return f"{value:.1f} min"
    if value < 24 * 60:
        return f"{value / 60:.1f} h"
    return f"{value / 1440:.1f} d"


def days(value: float | None) -> str:
    if _missing(value):
        return MISSING
    assert value is not None
    return f"{value:.1f} d"


def count(value: float | None) -> str:
    """A count with thousands separators (compact from a million)."""
    if _missing(value):
        return MISSING
    assert value is not None
    return compact(value) if abs(value) >= 1e6 else f"{value:,.0f}"


def by_unit(value: float | None, unit: Unit, currency: str = "USD") -> str:
    """`value` formatted for a metric of `unit`."""
    if unit == Unit.MONEY:
        return money(value, currency)
    if unit == Unit.RATIO:
        return percent(value)
    if unit == Unit.DURATION_MINUTES:
        return minutes(value)
    if unit == Unit.DURATION_HOURS:
        return minutes(None if value is None else value * 60)
    if unit == Unit.DAYS:
        return days(value)
    return count(value)


def ago(seconds: float) -> str:
    """How long ago, in words: 'just now', '12 s ago', '3 min ago', '2 h ago'."""
    if seconds < 2:
        return "just now"
    if seconds < 60:
        return f"{seconds:.0f} s ago"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min ago"
    return f"{seconds // 3600:.0f} h ago"


def label(key: str) -> str:
    """A snake_case key as a label: 'closed_won' -> 'Closed won'."""
    text = key.replace("_", " ").strip()
    return text[:1].upper() + text[1:]
