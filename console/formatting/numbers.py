"""Money, counts, decimals, percentages, percentage points, multiples and durations, written by Babel per locale."""

from __future__ import annotations

import copy
import decimal
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from babel import Locale
from babel.numbers import (
    NumberPattern,
    format_compact_currency,
    format_compact_decimal,
    format_currency,
    format_decimal,
    get_currency_precision,
    get_plus_sign_symbol,
)

from console.formatting.locales import reading_locale, site_currency, ui_language
from console.i18n import current

NONE = "—"  # what an undefined value reads as (ACOS with no sales, a missing cell)
# Kept for callers that label chart axes with a bare symbol.
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "JPY": "¥", "GBP": "£", "CNY": "¥"}
ZERO_DECIMAL = {"JPY"}
# A tile shows about this many characters before the browser cuts it off.
TILE_CHARS = 9
# Percentage points are a unit CLDR does not carry, so its word lives here with the UI languages (without `lang=`,
# the language of the run: console.i18n.current()).
POINTS_UNIT = {"en": "{} pp", "zh": "{}个百分点"}
LocaleLike = str | Locale | None


def finite(value: Any) -> float | None:
    """The value as a float, or None when it is missing, NaN, infinite or not a number (pandas NA included)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def missing(value: Any) -> bool:
    """True for None, NaN and pandas' missing markers (NA, NaT); False for any container or text."""
    if value is None:
        return True
    if isinstance(value, str | list | dict | tuple | set):
        return False
    if isinstance(value, float):  # numpy's float64 too
        return math.isnan(value)
    pandas = sys.modules.get("pandas")  # a pandas marker can only exist once pandas is imported
    return pandas is not None and bool(pandas.isna(value))


@contextmanager
def _half_up() -> Iterator[None]:
    # People expect 12.345 to read 12.35; Decimal's default (half-even) would write 12.34.
    with decimal.localcontext(rounding=decimal.ROUND_HALF_UP):
        yield


def _pattern(base: NumberPattern, loc: Locale, digits: int | None, *, signed: bool = False) -> NumberPattern:
    """The locale's own pattern with `digits` fraction digits and, if `signed`, the locale's plus sign in front."""
    pattern = copy.copy(base)
    if digits is not None:
        pattern.frac_prec = (digits, digits)
    if signed:
        pattern.prefix = (get_plus_sign_symbol(loc) + pattern.prefix[0], pattern.prefix[1])
    return pattern


def money(value: Any, currency: str | None = None, *, site: str | None = None, lang: str | None = None,
          locale: LocaleLike = None, digits: int | None = None, signed: bool = False) -> str:
    """`$1,234.50`, `1.234,50 €`, `￥1,235` in the currency's own decimals; an em dash when there is no value."""
    number = finite(value)
    if number is None:
        return NONE
    loc, cur = reading_locale(site=site, lang=lang, locale=locale), site_currency(site, currency)
    pattern = _pattern(loc.currency_formats["standard"], loc, digits, signed=signed and number > 0)
    with _half_up():
        return format_currency(number, cur, format=pattern, locale=loc, currency_digits=digits is None)


def money_compact(value: Any, currency: str | None = None, *, site: str | None = None, lang: str | None = None,
                  locale: LocaleLike = None) -> str:
    """A short amount for a tile: `$2.1M`, `2,1 Mio. €`, `￥210.6万`; unchanged when it is already short."""
    number = finite(value)
    if number is None:
        return NONE
    full = money(number, currency, site=site, lang=lang, locale=locale)
    if len(full) <= TILE_CHARS:
        return full
    loc, cur = reading_locale(site=site, lang=lang, locale=locale), site_currency(site, currency)
    with _half_up():
        return format_compact_currency(number, cur, locale=loc, fraction_digits=1)


def number(value: Any, digits: int | None = None, *, site: str | None = None, lang: str | None = None,
           locale: LocaleLike = None, signed: bool = False) -> str:
    """A plain decimal with the locale's separators: `1,234.5`, `1.234,5`; `digits` fixes the decimals."""
    figure = finite(value)
    if figure is None:
        return NONE
    loc = reading_locale(site=site, lang=lang, locale=locale)
    pattern = _pattern(loc.decimal_formats[None], loc, digits, signed=signed and figure > 0)
    with _half_up():
        return format_decimal(figure, format=pattern, locale=loc)


def count(value: Any, *, site: str | None = None, lang: str | None = None, locale: LocaleLike = None) -> str:
    """A whole number with the locale's grouping: `1,234,567`, `1.234.567`."""
    return number(value, 0, site=site, lang=lang, locale=locale)


def compact(value: Any, *, site: str | None = None, lang: str | None = None, locale: LocaleLike = None) -> str:
    """A short count for a tile: `2.1M`, `2,1 Mio.`, `210.6万`; unchanged when it is already short."""
    figure = finite(value)
    if figure is None:
        return NONE
    full = count(figure, site=site, lang=lang, locale=locale)
    if len(full) <= TILE_CHARS:
        return full
    with _half_up():
        return format_compact_decimal(figure, locale=reading_locale(site=site, lang=lang, locale=locale),
                                      fraction_digits=1)


def percent(ratio: Any, digits: int = 1, *, site: str | None = None, lang: str | None = None,
            locale: LocaleLike = None, signed: bool = False) -> str:
    """A ratio as a percentage: 0.2345 → `23.5%` (`23,5 %` in German); None (undefined) → em dash."""
    figure = finite(ratio)
    if figure is None:
        return NONE
    loc = reading_locale(site=site, lang=lang, locale=locale)
    pattern = _pattern(loc.percent_formats[None], loc, digits, signed=signed and figure > 0)
    with _half_up():
        return pattern.apply(figure, loc)


def points(difference: Any, digits: int = 1, *, site: str | None = None, lang: str | None = None,
           locale: LocaleLike = None, signed: bool = True) -> str:
    """A difference of two ratios in percentage points: 0.097 → `+9.7 pp` (`+9.7个百分点`)."""
    figure = finite(difference)
    if figure is None:
        return NONE
    text = number(figure * 100, digits, site=site, lang=lang, locale=locale, signed=signed)
    return POINTS_UNIT[ui_language(lang) or ui_language(current()) or "en"].format(text)


def multiple(value: Any, digits: int = 2, *, site: str | None = None, lang: str | None = None,
             locale: LocaleLike = None) -> str:
    """ROAS-style multiples: `3.42×` (`3,42×` in German)."""
    text = number(value, digits, site=site, lang=lang, locale=locale)
    return text if text == NONE else text + "×"


def duration_ms(ms: float, *, site: str | None = None, lang: str | None = None, locale: LocaleLike = None) -> str:
    """A duration for people: `12 ms` under a second, `2.5 s` from there."""
    if finite(ms) is None:
        return NONE
    if ms < 1000:
        return number(ms, 0, site=site, lang=lang, locale=locale) + " ms"
    return number(ms / 1000, 1, site=site, lang=lang, locale=locale) + " s"


def tile(value: Any, kind: str = "money", *, currency: str | None = None, site: str | None = None,
         lang: str | None = None, locale: LocaleLike = None) -> tuple[str, str]:
    """What a KPI tile shows and the full figure for its tooltip: `("¥2.1M", "¥2,106,123")`; ratios as percentages."""
    where: dict[str, Any] = {"site": site, "lang": lang, "locale": locale}
    if kind == "money":
        return money_compact(value, currency, **where), money(value, currency, **where)
    if kind == "count":
        return compact(value, **where), count(value, **where)
    text = percent(value, **where) if kind == "ratio" else multiple(value, **where) if kind == "multiple" else number(
        value, 2, **where)
    return text, text


def currency_digits(currency: str) -> int:
    """How many decimals the currency is written with (JPY 0, USD and EUR 2)."""
    return get_currency_precision(currency.upper())
