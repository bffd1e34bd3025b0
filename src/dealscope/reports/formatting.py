"""How report values are written: numbers by unit, and text made safe for spreadsheets.

Spreadsheet programs run a cell that starts with `=`, `+`, `-` or `@` (and, in some, a tab
or carriage return) as a formula, so a lead source named `=HYPERLINK(...)` typed into a CRM
could act when a report is opened. `neutralize` prefixes such text with an apostrophe, the
OWASP advice for CSV injection; numbers stay numbers.
"""

from __future__ import annotations

import datetime as dt

from dealscope.analytics.periods import Grain
from dealscope.analytics.specs import Unit

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

CURRENCY_SYMBOLS = {"USD": "$", "CAD": "$", "AUD": "$", "EUR": "€", "GBP": "£"}


def neutralize(text: str) -> str:
    """`text` as a spreadsheet shows it literally: prefixed with `'` when it would start a
    formula."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def currency_symbol(currency: str) -> str:
    return CURRENCY_SYMBOLS.get(currency.upper(), currency.upper() + " ")


def format_value(value: float | None, unit: Unit, currency: str = "USD") -> str:
    """A value for people: $1,234,567 / 1,234 / 12.3% / 4.5 min / 12.0 days; '–' for none."""
    if value is None:
        return "–"
    if unit == Unit.MONEY:
        sign = "-" if value < 0 else ""
        return f"{sign}{currency_symbol(currency)}{abs(value):,.0f}"
    if unit == Unit.COUNT:
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if unit == Unit.RATIO:
        return f"{value * 100:,.1f}%"
    if unit == Unit.DURATION_MINUTES:
        return f"{value:,.1f} min"
    if unit == Unit.DURATION_HOURS:
        return f"{value:,.1f} h"
    return f"{value:,.1f} days"


def format_compact(value: float | None, unit: Unit, currency: str = "USD") -> str:
    """A short form for chart labels and cards: $1.2M, 12.3K, 45.0%."""
    if value is None:
        return "–"
    if unit in (Unit.MONEY, Unit.COUNT) and abs(value) >= 1000:
        prefix = currency_symbol(currency) if unit == Unit.MONEY else ""
        sign = "-" if value < 0 else ""
        size = abs(value)
        for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
            if size >= limit:
                return f"{sign}{prefix}{size / limit:,.1f}{suffix}"
    return format_value(value, unit, currency)


def format_change(change_pct: float | None) -> str:
    """+12.3% / -4.0% / '–' when there is nothing to compare with."""
    if change_pct is None:
        return "–"
    return f"{change_pct * 100:+,.1f}%"


def excel_number_format(unit: Unit, currency: str = "USD") -> str:
    """The Excel number format of a unit, so cells keep their numbers and read well."""
    if unit == Unit.MONEY:
        symbol = currency_symbol(currency).strip()
        return f'"{symbol}"#,##0' if len(symbol) == 1 else f'"{symbol} "#,##0'
    if unit == Unit.COUNT:
        return "#,##0"
    if unit == Unit.RATIO:
        return "0.0%"
    return "#,##0.0"


def bucket_label(bucket: dt.date, grain: Grain | None) -> str:
    """A time bucket as people name it: 2025-03-04, week of 2025-03-03, Mar 2025, Q1 2025."""
    if grain == Grain.MONTH:
        return bucket.strftime("%b %Y")
    if grain == Grain.QUARTER:
        return f"Q{(bucket.month - 1) // 3 + 1} {bucket.year}"
    if grain == Grain.YEAR:
        return str(bucket.year)
    if grain == Grain.WEEK:
        return f"wk {bucket.isoformat()}"
    return bucket.isoformat()
