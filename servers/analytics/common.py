"""SQL building blocks shared by the analytics queries: sums, money rounding, paging, totals."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from servers.analytics.models import AdTotals
from servers.market import metrics
from servers.market.models import KeywordDailyMetric

# "Spend over $20" in each currency: the finders' defaults are stated in USD and converted.
CURRENCY_PER_USD = {"USD": 1.0, "EUR": 1.0, "JPY": 150.0}


def money_digits(currency: str) -> int:
    return 0 if currency == "JPY" else 2


def money(value: Any, currency: str) -> float:
    return round(float(value or 0), money_digits(currency))


def usd(amount: float, currency: str) -> float:
    """An amount stated in USD, in the site's currency."""
    return amount * CURRENCY_PER_USD.get(currency, 1.0)


def ratio(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def total_of(column: Any) -> ColumnElement[Any]:
    """SUM that answers 0 (not NULL) for no rows."""
    return func.coalesce(func.sum(column), 0)


def ad_sums(m: Any = KeywordDailyMetric) -> list[ColumnElement[Any]]:
    """impressions, clicks, spend, sales, orders summed over a metrics table (labelled)."""
    return [total_of(m.impressions).label("impressions"), total_of(m.clicks).label("clicks"),
            total_of(m.spend).label("spend"), total_of(m.sales).label("sales"), total_of(m.orders).label("orders")]


def ad_totals(impressions: Any, clicks: Any, spend: Any, sales: Any, orders: Any, currency: str) -> AdTotals:
    """Totals and their ratios, with the one set of metric definitions."""
    return AdTotals(
        impressions=int(impressions or 0), clicks=int(clicks or 0), spend=money(spend, currency),
        sales=money(sales, currency), orders=int(orders or 0),
        acos=ratio(metrics.acos(spend or 0, sales or 0)), roas=ratio(metrics.roas(sales or 0, spend or 0)),
        ctr=ratio(metrics.ctr(clicks or 0, impressions or 0), 6), cvr=ratio(metrics.cvr(orders or 0, clicks or 0)),
        cpc=ratio(metrics.cpc(spend or 0, clicks or 0), 4),
    )


def count_rows(s: Session, query: Select[Any]) -> int:
    """How many rows a (filtered, grouped) query returns, counted by the database."""
    return int(s.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)


def paged(s: Session, query: Select[Any], order: ColumnElement[Any], descending: bool, limit: int, offset: int,
          *tiebreak: Any) -> tuple[int, list[Any]]:
    """(total rows, this page): the total rides along as a window count, so the query runs once."""
    rows = s.execute(page(query.add_columns(func.count().over().label("total_rows")), order, descending, limit, offset,
                          *tiebreak)).all()
    if rows:
        return int(rows[0].total_rows), rows
    return (count_rows(s, query) if offset else 0), rows


def page(query: Select[Any], order: ColumnElement[Any], descending: bool, limit: int, offset: int,
         *tiebreak: Any) -> Select[Any]:
    """ORDER BY the sort column (NULLs last either way), then stable tie-breakers, then LIMIT/OFFSET."""
    key = order.desc() if descending else order.asc()
    return query.order_by(key.nulls_last(), *tiebreak).limit(limit).offset(offset)
