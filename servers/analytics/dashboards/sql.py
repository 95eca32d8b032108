"""SQL building blocks of the dashboards: sums, ISO weeks in each dialect, ratios from the one set of metrics."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Date, case, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from servers.analytics.dashboards.models import AdKpis
from servers.market import metrics
from servers.market.models import Campaign, CampaignDailyMetric, KeywordDailyMetric


class week_start(FunctionElement):  # a SQL function, named like one
    """The Monday of a date's ISO week, in the database's own dialect."""

    type = Date()
    inherit_cache = True


@compiles(week_start, "sqlite")
def _week_start_sqlite(element, compiler, **kw):  # back 6 days, then forward to Monday: a Monday stays put
    return f"date({compiler.process(element.clauses, **kw)}, '-6 days', 'weekday 1')"


@compiles(week_start)
def _week_start_default(element, compiler, **kw):
    return f"CAST(date_trunc('week', {compiler.process(element.clauses, **kw)}) AS DATE)"


def sum_of(col: Any, when: ColumnElement[bool] | None = None) -> ColumnElement[Any]:
    """SUM that answers 0 for no rows; optionally only over rows matching `when`."""
    value = col if when is None else case((when, col), else_=0)
    return func.coalesce(func.sum(value), 0)


AD_SUMS = ("impressions", "clicks", "spend", "sales", "orders")


def ad_sums(when: ColumnElement[bool] | None = None, *,
            source: type[KeywordDailyMetric] | type[CampaignDailyMetric] = KeywordDailyMetric) -> list[ColumnElement[Any]]:
    """Sums of impressions, clicks, spend, sales, orders, units over keyword rows or their per-campaign rollup."""
    m = source
    return [sum_of(m.impressions, when), sum_of(m.clicks, when), sum_of(m.spend, when), sum_of(m.sales, when),
            sum_of(m.orders, when), sum_of(m.units, when)]


def campaign_filters(platform: str | None, campaign_type: str | None, state: str | None) -> list[ColumnElement[bool]]:
    out = []
    if platform:
        out.append(Campaign.platform == platform)
    if campaign_type:
        out.append(Campaign.campaign_type == campaign_type)
    if state:
        out.append(Campaign.state == state)
    return out


def ratios(impressions: float, clicks: float, spend: float, sales: float, orders: float) -> dict[str, float | None]:
    return {
        "acos": metrics.acos(spend, sales),
        "roas": metrics.roas(sales, spend),
        "ctr": metrics.ctr(clicks, impressions),
        "cvr": metrics.cvr(orders, clicks),
        "cpc": metrics.cpc(spend, clicks),
    }


def ad_kpis(row: Any, store_revenue: float) -> AdKpis:
    impressions, clicks, spend, sales, orders, units = (row[i] for i in range(6))
    return AdKpis(
        impressions=int(impressions), clicks=int(clicks), spend=round(float(spend), 2), sales=round(float(sales), 2),
        orders=int(orders), units=int(units), store_revenue=round(float(store_revenue), 2),
        tacos=metrics.tacos(spend, store_revenue), **ratios(impressions, clicks, spend, sales, orders),
    )


def changes(now: BaseModel, before: BaseModel, names: tuple[str, ...]) -> dict[str, float | None]:
    return {n: metrics.pct_change(getattr(now, n), getattr(before, n)) for n in names}


def rank_expression(rank_by: str, imp: Any, clk: Any, spend: Any, sales: Any, orders: Any) -> ColumnElement[Any]:
    """The ORDER BY of the campaign table; ratios divide in SQL (NULL when the divisor is 0)."""
    return {
        "spend": spend, "sales": sales, "orders": orders, "clicks": clk, "impressions": imp,
        "acos": metrics.acos_sql(spend, sales), "roas": metrics.roas_sql(sales, spend), "ctr": metrics.ctr_sql(clk, imp),
        "cvr": metrics.cvr_sql(orders, clk), "cpc": metrics.cpc_sql(spend, clk),
    }[rank_by]


def as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
