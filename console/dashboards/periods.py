"""Date ranges of the dashboards: presets, custom ranges, the period they are compared with, weeks cut by a range."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from console import formatting
from console.i18n import N_, _, ngettext

# The labels are also the options' values (compared in code): shown through `_()` (a select box's format_func).
RANGES = {N_("Last 7 days"): 7, N_("Last 14 days"): 14, N_("Last 30 days"): 30, N_("Last 90 days"): 90}
CUSTOM = N_("Custom range")
Comparison = Literal["previous", "last_year", "custom"]
COMPARISONS: dict[str, str] = {"previous": N_("Previous period"), "last_year": N_("Same period last year"),
                               "custom": N_("Custom period")}
MAX_DAYS = 366  # the servers bound a range to a year


@dataclass(frozen=True)
class Period:
    """A range of whole days, first and last included."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"a period ends ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def text(self, *, site: str | None = None, lang: str | None = None) -> str:
        """`Oct 22 – Nov 20, 2026` in the reader's locale."""
        return formatting.date_range(self.start, self.end, site=site, lang=lang)


def last_days(today: dt.date, days: int) -> tuple[dt.date, dt.date]:
    """The `days` complete days before `today` (today's figures are still coming in)."""
    end = today - dt.timedelta(days=1)
    return end - dt.timedelta(days=days - 1), end


def preset(today: dt.date, label: str) -> Period:
    """A preset range by its label (`Last 30 days`), ending yesterday."""
    return Period(*last_days(today, RANGES[label]))


def chosen_range(today: dt.date, label: str, picked: Iterable[dt.date] = ()) -> Period | None:
    """The preset, or the custom range picked in a date input; None while only its first day is picked."""
    if label != CUSTOM:
        return preset(today, label)
    days = sorted(picked)
    if len(days) < 2:
        return None
    return Period(days[0], days[-1])


def previous_period(period: Period) -> Period:
    """The same number of days just before."""
    end = period.start - dt.timedelta(days=1)
    return Period(end - dt.timedelta(days=period.days - 1), end)


def year_before(day: dt.date) -> dt.date:
    """The same day a year earlier (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def comparison_period(period: Period, mode: str, custom: Period | None = None) -> Period:
    """The period the range is compared with: the one just before, the same days last year, or one picked."""
    if mode == "last_year":
        return Period(year_before(period.start), year_before(period.end))
    if mode == "custom" and custom is not None:
        return custom
    return previous_period(period)


def comparison_text(mode: str, compared: Period, *, site: str | None = None, lang: str | None = None) -> str:
    """`vs the previous 30 days (Sep 22 – Oct 21, 2026)` for a caption."""
    dates = compared.text(site=site, lang=lang)
    if mode == "previous":
        text = ngettext("vs the previous {days} day ({dates})", "vs the previous {days} days ({dates})", compared.days)
    elif mode == "last_year":
        text = _("vs the same days last year ({dates})")
    else:
        text = ngettext("vs {days} day picked ({dates})", "vs {days} days picked ({dates})", compared.days)
    return text.format(days=compared.days, dates=dates)


def week_cut_by(monday: dt.date, start: dt.date, end: dt.date) -> bool:
    """True when the week starting `monday` is not wholly inside the range (the range starts or ends within it)."""
    return monday < start or monday + dt.timedelta(days=6) > end
