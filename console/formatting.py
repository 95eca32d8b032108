"""Readable numbers for people: currency, percentages, counts, durations. Pure functions."""

from __future__ import annotations

import math

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "JPY": "¥", "GBP": "£", "CNY": "¥"}
ZERO_DECIMAL = {"JPY"}


def money(value: float | None, currency: str = "USD") -> str:
    """`$1,234.50`, `€12.00`, `¥1,235`; an em dash when there is no value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    digits = 0 if currency in ZERO_DECIMAL else 2
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol}{abs(value):,.{digits}f}"


def percent(ratio: float | None, digits: int = 1) -> str:
    """A ratio as a percentage: 0.2345 → `23.5%`; None (undefined, e.g. ACOS with no sales) → em dash."""
    if ratio is None or (isinstance(ratio, float) and (math.isnan(ratio) or math.isinf(ratio))):
        return "—"
    return f"{ratio * 100:,.{digits}f}%"


def delta(ratio: float | None) -> str:
    """A week-over-week change: +12.3% / -4.0%."""
    if ratio is None or (isinstance(ratio, float) and (math.isnan(ratio) or math.isinf(ratio))):
        return "—"
    return f"{ratio * 100:+,.1f}%"


def count(value: int | float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}"


def multiple(value: float | None) -> str:
    """ROAS-style multiples: 3.42×."""
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return "—"
    return f"{value:,.2f}×"


def duration_ms(ms: float) -> str:
    return f"{ms:,.0f} ms" if ms < 1000 else f"{ms / 1000:,.1f} s"
