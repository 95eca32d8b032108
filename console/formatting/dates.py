"""Dates, date ranges and timestamps for people, written by Babel in the reading locale."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from babel.dates import format_date, format_datetime, format_interval, format_time, get_timezone

from console.formatting.locales import reading_locale
from console.formatting.numbers import NONE, LocaleLike, finite, missing

Length = Literal["short", "medium", "long", "full"]
RANGE_SKELETON = "yMMMd"  # a CLDR skeleton: each locale picks its own layout for "14–20 Nov 2026"


def as_date(value: Any) -> dt.date | None:
    """A date from a date, a datetime or an ISO string; None when there is none."""
    if missing(value) or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.datetime.fromisoformat(str(value)).date()
    except ValueError:
        return None


def as_datetime(value: Any) -> dt.datetime | None:
    """A datetime from a datetime or an ISO string (naive values are UTC, as the console stores them)."""
    if isinstance(value, dt.datetime):
        stamp = value
    elif missing(value) or value == "" or isinstance(value, dt.date):
        return None
    else:
        try:
            stamp = dt.datetime.fromisoformat(str(value))
        except ValueError:
            return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def date_text(value: Any, length: Length = "medium", *, site: str | None = None, lang: str | None = None,
              locale: LocaleLike = None) -> str:
    """`Nov 20, 2026`, `20.11.2026`, `2026年11月20日`; an em dash when there is no date."""
    day = as_date(value)
    if day is None:
        return NONE
    return format_date(day, length, locale=reading_locale(site=site, lang=lang, locale=locale))


def date_range(start: Any, end: Any, *, site: str | None = None, lang: str | None = None, locale: LocaleLike = None) -> str:
    """`Nov 14 – 20, 2026`, `14.–20. Nov. 2026`, `2026年11月14日～20日`: each locale's own way to join them."""
    first, last = as_date(start), as_date(end)
    if first is None or last is None:
        return NONE
    loc = reading_locale(site=site, lang=lang, locale=locale)
    if first == last:
        return format_date(first, "medium", locale=loc)
    return format_interval(first, last, RANGE_SKELETON, locale=loc)


def datetime_text(value: Any, length: Length | None = None, *, tz: str = "UTC", site: str | None = None,
                  lang: str | None = None, locale: LocaleLike = None) -> str:
    """A timestamp in `tz`: by default the medium date and the short time (`Nov 19, 2026, 10:30 AM`); em dash if none."""
    stamp = as_datetime(value)
    if stamp is None:
        return NONE
    loc, zone = reading_locale(site=site, lang=lang, locale=locale), get_timezone(tz)
    if length:
        return format_datetime(stamp, length, tzinfo=zone, locale=loc)
    # The locale's own glue of a date and a time ("{1}, {0}"), so seconds stay out without a hand-made pattern.
    glue = str(loc.datetime_formats["medium"])
    return glue.replace("{1}", format_date(stamp.astimezone(zone), "medium", locale=loc)).replace(
        "{0}", format_time(stamp, "short", tzinfo=zone, locale=loc))


def hour_text(hour: Any, *, site: str | None = None, lang: str | None = None, locale: LocaleLike = None) -> str:
    """An hour of the day (0–23) as the locale writes a time: `6:00 AM`, `06:00`."""
    figure = finite(hour)
    if figure is None or not 0 <= figure < 24:
        return NONE
    return format_time(dt.time(int(figure)), "short", locale=reading_locale(site=site, lang=lang, locale=locale))
