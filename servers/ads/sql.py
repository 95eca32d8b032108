"""SQL building blocks of the ads reads: metric sums and ratios, ISO weeks, sorting, paging with totals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, Select, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FunctionElement

from servers.ads.models import METRIC_NAMES, Metrics
from servers.market.metrics import acos_sql, cpc_sql, ctr_sql, cvr_sql, roas_sql

COUNTS = ("impressions", "clicks", "orders")
AMOUNTS = ("spend", "sales")
SUMMED = ("impressions", "clicks", "spend", "orders", "sales")
TOTAL = "total_"  # prefix of the window columns that carry a result's grand totals


def sums(table: Any) -> list[ColumnElement[Any]]:
    """SUM() of the five additive metric columns of a daily-metrics table, labelled by name."""
    return [func.sum(getattr(table, name)).label(name) for name in SUMMED]


def with_ratios(summed: dict[str, ColumnElement[Any]], prefix: str = "") -> dict[str, ColumnElement[Any]]:
    """The five sums and the five ratios of metrics.py over them, labelled `prefix + name`."""
    ratios = {
        "acos": acos_sql(summed["spend"], summed["sales"]),
        "roas": roas_sql(summed["sales"], summed["spend"]),
        "ctr": ctr_sql(summed["clicks"], summed["impressions"]),
        "cvr": cvr_sql(summed["orders"], summed["clicks"]),
        "cpc": cpc_sql(summed["spend"], summed["clicks"]),
    }
    return {name: expr.label(prefix + name) for name, expr in {**summed, **ratios}.items()}


def metric_columns(source: Any) -> dict[str, ColumnElement[Any]]:
    """The ten metrics over `source` (a subquery holding the five sums), zeros where it has no row."""
    return with_ratios({name: func.coalesce(getattr(source.c, name), 0) for name in SUMMED})


def metric_values(row: Any, prefix: str = "") -> dict[str, Any]:
    """The metric fields of a result row, rounded for people (money to cents, ratios to 4 places)."""
    values: dict[str, Any] = {}
    for name in METRIC_NAMES:
        value = row[prefix + name]
        if name in COUNTS:
            values[name] = int(value or 0)
        elif name in AMOUNTS:
            values[name] = round(float(value or 0), 2)
        else:
            values[name] = None if value is None else round(float(value), 4)
    return values


def order_by(column: ColumnElement[Any], descending: bool) -> ColumnElement[Any]:
    """Sort on one metric; rows without a value (a ratio with a zero divisor) always come last."""
    return (column.desc() if descending else column.asc()).nulls_last()


def grand_totals(metrics: dict[str, ColumnElement[Any]]) -> list[ColumnElement[Any]]:
    """Window columns carrying, on every row, the metrics summed over all rows of the result (before LIMIT)."""
    return list(with_ratios({name: func.sum(metrics[name]).over() for name in SUMMED}, prefix=TOTAL).values())


@dataclass
class Page:
    total: int  # rows matching, before paging
    totals: Metrics  # their metrics summed
    rows: list[Any]  # this page's rows (mappings)


def page(session: Session, stmt: Select[Any], metrics: dict[str, ColumnElement[Any]] | None, *, limit: int | None,
         offset: int) -> Page:
    """One page of an ordered statement, with the count (and metric totals) of all its rows, in one scan."""
    counted = stmt.add_columns(func.count().over().label("matching"), *(grand_totals(metrics) if metrics else []))
    rows = list(session.execute(counted.limit(limit).offset(offset)).mappings())
    # Paged past the end, no row carries the window columns: ask for the first row for them.
    carrier = rows[0] if rows else session.execute(counted.order_by(None).limit(1)).mappings().first() if offset else None
    if carrier is None:
        return Page(total=0, totals=Metrics(), rows=[])
    totals = Metrics(**metric_values(carrier, TOTAL)) if metrics else Metrics()
    return Page(total=carrier["matching"], totals=totals, rows=rows)


class week_start(FunctionElement[Any]):
    """The Monday starting the ISO week of a date column (portable across SQLite and PostgreSQL)."""

    type = Date()
    inherit_cache = True
    name = "week_start"


@compiles(week_start, "sqlite")
def _week_start_sqlite(element: week_start, compiler: Any, **kw: Any) -> str:
    # 'weekday 0' moves forward to Sunday (or stays on it); six days back is that week's Monday.
    return f"date({compiler.process(element.clauses, **kw)}, 'weekday 0', '-6 days')"


@compiles(week_start, "postgresql")
def _week_start_postgresql(element: week_start, compiler: Any, **kw: Any) -> str:
    return f"CAST(date_trunc('week', {compiler.process(element.clauses, **kw)}) AS DATE)"
