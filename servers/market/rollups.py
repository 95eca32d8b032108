"""Daily rollups of the raw metric and order rows: how they are computed, refreshed, rebuilt and checked.

The rollup tables (models `CampaignDailyMetric`, `DailySales`, `VariantDailySales`) hold plain sums of raw rows
per site and day, grouped by what the dashboards filter on (campaign; order status; variant), so every rule about
*which* rows count (REVENUE_STATUSES, a campaign's platform or state, a product's category) still applies at read
time and gives the same answer as the raw rows. A day is always recomputed whole from the raw rows (delete, then
INSERT … SELECT … GROUP BY), never adjusted by deltas: a refreshed day cannot drift.

Every write that changes the raw rows calls `refresh_rollups` for the days it touched, in its own transaction;
the seed and `python -m servers.market rollups rebuild` call `rebuild_rollups`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, delete, func, insert, select
from sqlalchemy.orm import Session

from servers.market.models import (
    CampaignDailyMetric,
    DailySales,
    KeywordDailyMetric,
    Order,
    OrderItem,
    Return,
    Site,
    VariantDailySales,
)

# Returned units count every return but a rejected one (the sales dashboard's returns rate).
NOT_RETURNED = "rejected"
ROLLUPS = (CampaignDailyMetric, DailySales, VariantDailySales)


def _campaign_days(site: str | None, dates: list[dt.date] | None) -> Select[Any]:
    m = KeywordDailyMetric
    where = _scope(m.site_id, m.date, site, dates)
    return (select(m.site_id, m.date, m.campaign_id, func.sum(m.impressions), func.sum(m.clicks), func.sum(m.spend),
                   func.sum(m.sales), func.sum(m.orders), func.sum(m.units))
            .where(*where).group_by(m.site_id, m.date, m.campaign_id))


def _order_days(site: str | None, dates: list[dt.date] | None) -> Select[Any]:
    # Units and returns per order as correlated subqueries: each is an index lookup by order id, so refreshing
    # one day reads only that day's orders.
    units = select(func.coalesce(func.sum(OrderItem.quantity), 0)).where(OrderItem.order_id == Order.id).scalar_subquery()
    returned = (select(func.coalesce(func.sum(Return.quantity), 0))
                .where(Return.order_id == Order.id, Return.status != NOT_RETURNED).scalar_subquery())
    per_order = (select(Order.site_id, Order.placed_date, Order.status, Order.total, units.label("units"),
                        returned.label("returned"))
                 .where(*_scope(Order.site_id, Order.placed_date, site, dates)).subquery())
    o = per_order.c
    return (select(o.site_id, o.placed_date, o.status, func.count(), func.sum(o.total), func.sum(o.units),
                   func.sum(o.returned))
            .group_by(o.site_id, o.placed_date, o.status))


def _variant_days(site: str | None, dates: list[dt.date] | None) -> Select[Any]:
    returned = (select(func.coalesce(func.sum(Return.quantity), 0))
                .where(Return.order_id == OrderItem.order_id, Return.order_item_id == OrderItem.id,
                       Return.status != NOT_RETURNED).scalar_subquery())
    per_line = (select(Order.site_id, Order.placed_date, Order.status, OrderItem.variant_id, OrderItem.quantity,
                       (OrderItem.quantity * OrderItem.unit_price).label("revenue"), returned.label("returned"))
                .join(OrderItem, OrderItem.order_id == Order.id)
                .where(*_scope(Order.site_id, Order.placed_date, site, dates)).subquery())
    x = per_line.c
    return (select(x.site_id, x.placed_date, x.status, x.variant_id, func.count(), func.sum(x.quantity),
                   func.sum(x.revenue), func.sum(x.returned))
            .group_by(x.site_id, x.placed_date, x.status, x.variant_id))


def _scope(site_col: Any, date_col: Any, site: str | None, dates: list[dt.date] | None) -> list[ColumnElement[bool]]:
    where = [] if site is None else [site_col == site]
    return where if dates is None else [*where, date_col.in_(dates)]


SOURCES = {CampaignDailyMetric: _campaign_days, DailySales: _order_days, VariantDailySales: _variant_days}
COLUMNS = {
    CampaignDailyMetric: ("site_id", "date", "campaign_id", "impressions", "clicks", "spend", "sales", "orders", "units"),
    DailySales: ("site_id", "date", "order_status", "orders", "revenue", "units", "returned_units"),
    VariantDailySales: ("site_id", "date", "order_status", "variant_id", "lines", "units", "revenue", "returned_units"),
}


def _recompute(target: Session | Connection, site: str | None, dates: list[dt.date] | None) -> dict[str, int]:
    written = {}
    for model in ROLLUPS:
        table = model.__table__
        target.execute(delete(table).where(*_scope(table.c.site_id, table.c.date, site, dates)))
        result = target.execute(insert(table).from_select(list(COLUMNS[model]), SOURCES[model](site, dates)))
        written[table.name] = result.rowcount
    return written


def refresh_rollups(session: Session, site: str, dates: Iterable[dt.date]) -> None:
    """Recompute the site's rollup rows of these days from the raw rows, inside the caller's transaction."""
    days = sorted(set(dates))
    if not days:
        return
    session.flush()  # the raw changes of this transaction must be visible to the INSERT … SELECT
    # One refresher per site at a time (PostgreSQL; SQLite has a single writer anyway): two transactions
    # recomputing the same day would otherwise both insert it. NO KEY UPDATE leaves foreign-key checks alone.
    session.execute(select(Site.id).where(Site.id == site).with_for_update(key_share=True))
    _recompute(session, site, days)


def rebuild_rollups(target: Session | Connection, site: str | None = None) -> dict[str, int]:
    """Recompute every rollup row (of one site, or all) from the raw rows; answers the rows written per table."""
    if isinstance(target, Session):
        target.flush()
    return _recompute(target, site, None)


def rollup_drift(target: Session | Connection, site: str | None = None) -> dict[str, int]:
    """Per rollup table, how many rows differ from the raw rows' sums (missing, extra or other values)."""
    out = {}
    for model in ROLLUPS:
        table, names = model.__table__, COLUMNS[model]
        keys = len(table.primary_key.columns)
        stored_q = select(*(table.c[n] for n in names)).where(*_scope(table.c.site_id, table.c.date, site, None))
        stored = {tuple(r[:keys]): r[keys:] for r in target.execute(stored_q)}
        fresh = {tuple(r[:keys]): r[keys:] for r in target.execute(SOURCES[model](site, None))}
        out[table.name] = sum(
            not _same_values(stored.get(k), fresh.get(k)) for k in stored.keys() | fresh.keys()
        )
    return out


def _same_values(a: tuple[Any, ...] | None, b: tuple[Any, ...] | None) -> bool:
    if a is None or b is None:
        return a is b
    # Sums of floats may differ in the last bits with the order they were added in; cents may not.
    return all(math.isclose(float(x), float(y), rel_tol=1e-9, abs_tol=1e-6) for x, y in zip(a, b, strict=True))


__all__ = ["NOT_RETURNED", "ROLLUPS", "rebuild_rollups", "refresh_rollups", "rollup_drift"]
