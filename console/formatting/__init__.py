"""One formatting layer for every number, amount, change, date and label people read in the console.

Usage: pass the value and where it is read: `site=` (us, de, jp) and `lang=` (the reader's UI language, `en` or
`zh`). `money(1234.5, site="de", lang="en")` → `€1,234.50`; `tile(2106123, "money", site="jp", lang="en")` →
`("¥2.1M", "¥2,106,123")`, a KPI tile's text and its tooltip; `percent(0.2345)` → `23.5%`; `points(0.097)` →
`+9.7 pp`; `change("acos", 0.397, 0.30)` → a `Change` (`+9.7 pp`, up, bad) whose `metric_kwargs()` go to a metric
tile, while `change("orders", 12, 12)` is flat, grey and has no arrow; also `count`, `compact`, `money_compact`,
`number`, `multiple`, `duration_ms`, `date_text`, `date_range`, `datetime_text`, `hour_text`. `label(value)` turns a
stored value (`under_utilised`, `succeeded`, None) into words and `header(column)` names a column; for tables,
`display_frame(df, kinds, site=, lang=)` writes every cell, `csv_frame(df, kinds, site=)` rounds for download and
`column_specs(kinds, site=)` describes the columns of a data grid (kinds: money, ratio, count, multiple, decimal,
label, date, datetime, text).

The rule: the site decides the currency (us USD, de EUR, jp JPY; `currency=` names another); the reader's UI
language decides the symbols and layout, so an English or a Chinese reader of the DE site both see `€1,234.50`
(a Chinese reader sees `US$` and `JP¥`, since `¥` alone means yuan to them, and compact amounts in 万). Without a
UI language the site's own locale writes it (`1.234,50 €`, `￥1,235`); with neither, en_US. `locale=` overrides all.
"""

from console.formatting.dates import date_range, date_text, datetime_text, hour_text
from console.formatting.deltas import (
    LOWER_IS_BETTER,
    RATIO_METRICS,
    Change,
    change,
    change_kind,
    delta,
    relative_change,
    tone_of,
)
from console.formatting.labels import LABELS, header, label
from console.formatting.locales import LANG_LOCALES, SITE_CURRENCIES, SITE_LOCALES, reading_locale, site_currency
from console.formatting.numbers import (
    CURRENCY_SYMBOLS,
    NONE,
    ZERO_DECIMAL,
    compact,
    count,
    currency_digits,
    duration_ms,
    finite,
    missing,
    money,
    money_compact,
    multiple,
    number,
    percent,
    points,
    tile,
)

# The table helpers need pandas (a quarter of a second to import): loaded on first use, so a command that formats a
# number or two starts without it.
_TABLES = frozenset({"KINDS", "ColumnSpec", "column_spec", "column_specs", "csv_frame", "display_frame"})


def __getattr__(name: str):
    if name in _TABLES:
        from console.formatting import tables

        return getattr(tables, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CURRENCY_SYMBOLS", "KINDS", "LABELS", "LANG_LOCALES", "LOWER_IS_BETTER", "NONE", "RATIO_METRICS",
    "SITE_CURRENCIES", "SITE_LOCALES", "ZERO_DECIMAL", "Change", "ColumnSpec", "change", "change_kind", "column_spec",
    "column_specs", "compact", "count", "csv_frame", "currency_digits", "date_range", "date_text", "datetime_text",
    "delta", "display_frame", "duration_ms", "finite", "header", "hour_text", "label", "missing", "money", "money_compact",
    "multiple", "number", "percent", "points", "reading_locale", "relative_change", "site_currency", "tile", "tone_of",
]
