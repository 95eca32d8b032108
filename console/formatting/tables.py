"""Tables for download and for data grids: rounded CSV frames, text frames, and column descriptions per kind."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from console.formatting.dates import as_date, as_datetime, date_text
from console.formatting.labels import header, label
from console.formatting.locales import site_currency
from console.formatting.numbers import NONE, count, currency_digits, missing, money, multiple, number, percent

# What a column holds. money: an amount in the table's currency; ratio: 0.2345 for 23.45%; count: whole things;
# multiple: ROAS-like; decimal: a measured figure (days of supply); label: a stored code; date, datetime, text.
Kind = Literal["money", "ratio", "count", "multiple", "decimal", "label", "date", "datetime", "text"]
KINDS: tuple[str, ...] = ("money", "ratio", "count", "multiple", "decimal", "label", "date", "datetime", "text")
RATIO_PLACES = 4  # 0.2345 keeps its tenth of a percentage point
DECIMAL_PLACES = 2
# Data-grid presets that show the currency symbol themselves.
GRID_CURRENCY_PRESETS = {"USD": "dollar", "EUR": "euro", "JPY": "yen"}
GRID_FORMATS: dict[str, str] = {"ratio": "percent", "count": "localized", "multiple": "%.2f×", "decimal": "%.1f"}


@dataclass(frozen=True)
class ColumnSpec:
    """How a data grid shows one column: which column type, its header and its number format."""

    column: Literal["number", "text", "date", "datetime"]
    label: str
    format: str | None = None

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the grid's column constructor (number, text, date or datetime column)."""
        return {"label": self.label, **({"format": self.format} if self.format else {})}


def _currency_of(frame: pd.DataFrame, currency: str | None, site: str | None) -> str | pd.Series:
    """One currency for the table, or each row's own from a `currency` column when no site or currency is given."""
    if currency or site or "currency" not in frame.columns:
        return site_currency(site, currency)
    return frame["currency"].fillna(site_currency(None)).astype(str)


def _rounded_money(values: pd.Series, currency: str | pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    if isinstance(currency, str):
        places = currency_digits(currency)
        return numbers.round().astype("Int64") if places == 0 else numbers.round(places)
    places = currency.map(currency_digits)
    return pd.Series([round(v, int(p)) if pd.notna(v) else v for v, p in zip(numbers, places, strict=True)],
                     index=values.index, dtype="float64")


def _iso_date(value: Any) -> str:
    day = as_date(value)
    return day.isoformat() if day else ""


def _iso_datetime(value: Any) -> str:
    stamp = as_datetime(value)
    return stamp.isoformat(timespec="seconds") if stamp else ""


def csv_frame(frame: pd.DataFrame, kinds: Mapping[str, str], *, currency: str | None = None,
              site: str | None = None) -> pd.DataFrame:
    """A table ready for CSV: ratios to 4 places, money to the currency's decimals, counts as integers, labels, headers."""
    cur = _currency_of(frame, currency, site)
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        kind, values = kinds.get(column), frame[column]
        if kind == "money":
            out[header(column, currency=cur if isinstance(cur, str) else None)] = _rounded_money(values, cur)
            continue
        if kind == "ratio":
            values = pd.to_numeric(values, errors="coerce").round(RATIO_PLACES)
        elif kind == "count":
            values = pd.to_numeric(values, errors="coerce").round().astype("Int64")
        elif kind in ("multiple", "decimal"):
            values = pd.to_numeric(values, errors="coerce").round(DECIMAL_PLACES)
        elif kind == "label":
            values = values.map(lambda v: "" if missing(v) else label(v))
        elif kind == "date":
            values = values.map(_iso_date)
        elif kind == "datetime":
            values = values.map(_iso_datetime)
        elif kind is None and pd.api.types.is_float_dtype(values):
            values = values.round(RATIO_PLACES)  # undeclared floats still lose their sixteen digits
        out[header(column)] = values
    return out


def display_frame(frame: pd.DataFrame, kinds: Mapping[str, str], *, currency: str | None = None,
                  site: str | None = None, lang: str | None = None) -> pd.DataFrame:
    """A table as text for people: every cell through the formatting layer, in the site's currency, readable headers."""
    cur = _currency_of(frame, currency, site)
    where: dict[str, Any] = {"site": site, "lang": lang}
    writers: dict[str, Callable[[Any], str]] = {
        "ratio": lambda v: percent(v, **where), "count": lambda v: count(v, **where),
        "multiple": lambda v: multiple(v, **where), "decimal": lambda v: number(v, 1, **where),
        "label": label, "date": lambda v: date_text(v, **where), "datetime": lambda v: date_text(v, **where),
    }
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        kind, values = kinds.get(column), frame[column]
        if kind == "money":
            currencies = cur if isinstance(cur, pd.Series) else pd.Series(cur, index=frame.index)
            text = [money(v, c, **where) for v, c in zip(values, currencies, strict=True)]
        elif kind in writers:
            text = [writers[kind](v) for v in values]
        else:
            text = [NONE if missing(v) else str(v) for v in values]
        out[header(column)] = text
    return out


def column_spec(column: str, kind: str, *, currency: str | None = None, site: str | None = None) -> ColumnSpec:
    """One column's grid description: money in the site's currency, ratios as percentages, counts localised."""
    if kind == "money":
        cur = site_currency(site, currency)
        preset = GRID_CURRENCY_PRESETS.get(cur)
        return ColumnSpec("number", header(column, currency=None if preset else cur),
                          preset or f"%.{currency_digits(cur)}f")
    if kind in GRID_FORMATS:
        return ColumnSpec("number", header(column), GRID_FORMATS[kind])
    if kind in ("date", "datetime"):
        return ColumnSpec(kind, header(column), "localized")  # type: ignore[arg-type]
    return ColumnSpec("text", header(column))


def column_specs(kinds: Mapping[str, str], *, currency: str | None = None, site: str | None = None) -> dict[str, ColumnSpec]:
    """Every column's grid description, keyed by the frame's own column names."""
    return {column: column_spec(column, kind, currency=currency, site=site) for column, kind in kinds.items()}
