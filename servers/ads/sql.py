"""SQL building blocks of the ads reads: metric sums and ratios, ISO weeks, sorting and paging."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, Select, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FunctionElement

from servers.ads.models import METRIC_NAMES
from servers.market.metrics import acos_sql, cpc_sql, ctr_sql, cvr_sql, roas_sql

COUNTS = ("impressions", "clicks", "orders")
AMOUNTS = ("spend", "sales")
SUMMED = ("impressions", "clicks", "spend", "orders", "sales")


def sums(table: Any) -> list[ColumnElement[Any]]:
    """SUM() of the five additive metric columns of a daily-metrics table, labelled by name."""
    return [func.sum(getattr(table, name)).label(name) for name in SUMMED]


def metric_columns(source: Any) -> dict[str, ColumnElement[Any]]:
    """The ten metrics over `source` (a subquery holding the five sums): zeros for no rows, ratios per metrics.py."""
    totals = {name: func.coalesce(getattr(source.c, name), 0) for name in SUMMED}
    ratios = {
        "acos": acos_sql(totals["spend"], totals["sales"]),
        "roas": roas_sql(totals["sales"], totals["spend"]),
        "ctr": ctr_sql(totals["clicks"], totals["impressions"]),
        "cvr": cvr_sql(totals["orders"], totals["clicks"]),
        "cpc": cpc_sql(totals["spend"], totals["clicks"]),
    }
    return {name: expr.label(name) for name, expr in {**totals, **ratios}.items()}


def metric_values(row: Any) -> dict[str, Any]:
    """The metric fields of a result row, rounded for people (money to cents, ratios to 4 places)."""
    values: dict[str, Any] = {}
    for name in METRIC_NAMES:
        value = row[name]
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


def page(session: Session, stmt: Select[Any], *, limit: int, offset: int) -> tuple[int, list[Any]]:
    """(rows matching before paging, the rows of this page) of an ordered statement."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = list(session.execute(stmt.limit(limit).offset(offset)).mappings())
    return total, rows


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
