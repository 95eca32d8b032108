"""Sanity bounds of the money amounts the servers write, shared by the tools that create and that update them.

A price, cost, budget or discount is rounded to its currency's precision before it is written, so an amount that
rounds to nothing (`1e-12` → 0.00) is refused rather than written as zero, and every amount has a ceiling. These are
bounds of the values themselves; how far one operation may move money on a site is the bridge's policy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from servers.common.errors import ValidationFailed
from servers.common.inputs import quote

ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "CLP", "VND", "ISK", "HUF"})


def digits(currency: str) -> int:
    """Decimal places of the currency's smallest unit (JPY 0, most others 2)."""
    return 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2


@dataclass(frozen=True)
class Bounds:
    noun: str  # for messages: "a price"
    high: float  # the largest amount accepted, in the site's currency
    zero_allowed: bool = False  # a cost may be nothing; a price, budget or discount may not


PRICE = Bounds("a price", 10_000_000)
COST = Bounds("a cost", 10_000_000, zero_allowed=True)
COUPON_BUDGET = Bounds("a coupon budget", 10_000_000)
DISCOUNT_AMOUNT = Bounds("a fixed discount", 1_000_000)
PERCENT_MAX = 100.0


def problem(value: float, bounds: Bounds, currency: str) -> str | None:
    """Why `value` cannot be written as this kind of amount in `currency`, or None when it can."""
    places = digits(currency)
    if not math.isfinite(value):
        return f"{bounds.noun} must be a finite number"
    if value < 0 or value > bounds.high:
        return f"{bounds.noun} must be between 0 and {bounds.high:,.0f} {currency}"
    if round(value, places) == 0 and not bounds.zero_allowed:
        smallest = 10.0**-places
        return (f"{bounds.noun} of {quote(value)} rounds to {0:.{places}f} {currency}; "
                f"the smallest is {smallest:.{places}f} {currency}")
    return None


def amount(value: float, bounds: Bounds, *, currency: str, argument: str) -> float:
    """`value` rounded to the currency's precision, or VALIDATION_FAILED naming the argument."""
    if (reason := problem(value, bounds, currency)) is not None:
        raise ValidationFailed(f"{argument}: {reason}")
    return round(value, digits(currency)) + 0.0


def percent(value: float, *, argument: str) -> float:
    """A percentage off, 0.01 to 100, rounded to hundredths; VALIDATION_FAILED naming the argument otherwise."""
    if not math.isfinite(value) or not 0 < round(value, 2) <= PERCENT_MAX:
        raise ValidationFailed(f"{argument}: a percent discount is at least 0.01 and at most {PERCENT_MAX:g}; got {quote(value)}")
    return round(value, 2)
