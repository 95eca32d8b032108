"""The daily rollups worked out independently of servers.market.rollups: plain Python over the raw rows.

`assert_rollups_true(url)` fails with the first differing rows when the stored rollups are not the sums of
the raw keyword metrics, orders, order lines and returns.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from sqlalchemy import select

from servers.market.db import MarketDB
from servers.market.models import (
    CampaignDailyMetric,
    DailySales,
    KeywordDailyMetric,
    Order,
    OrderItem,
    Return,
    VariantDailySales,
)

Table = dict[tuple[Any, ...], list[float]]


def _add(table: Table, key: tuple[Any, ...], *values: float) -> None:
    row = table.setdefault(key, [0] * len(values))
    for i, v in enumerate(values):
        row[i] += v


def expected_rollups(s: Any) -> dict[str, Table]:
    """The rollup rows the raw rows imply, keyed by each table's primary key."""
    campaigns: Table = {}
    for m in s.scalars(select(KeywordDailyMetric)):
        _add(campaigns, (m.site_id, m.date, m.campaign_id), m.impressions, m.clicks, m.spend, m.sales, m.orders, m.units)
    orders = {o.id: o for o in s.scalars(select(Order))}
    returned_by_item: dict[int, int] = defaultdict(int)
    for r in s.scalars(select(Return)):
        if r.status != "rejected":
            returned_by_item[r.order_item_id] += r.quantity
    days: Table = {}
    variants: Table = {}
    for o in orders.values():
        _add(days, (o.site_id, o.placed_date, o.status), 1, o.total, 0, 0)
    for i in s.scalars(select(OrderItem)):
        o = orders[i.order_id]
        back = returned_by_item.get(i.id, 0)
        _add(days, (o.site_id, o.placed_date, o.status), 0, 0, i.quantity, back)
        _add(variants, (o.site_id, o.placed_date, o.status, i.variant_id), 1, i.quantity, i.quantity * i.unit_price, back)
    return {"campaign_daily_metrics": campaigns, "daily_sales": days, "variant_daily_sales": variants}


def stored_rollups(s: Any) -> dict[str, Table]:
    campaigns = {(r.site_id, r.date, r.campaign_id): [r.impressions, r.clicks, r.spend, r.sales, r.orders, r.units]
                 for r in s.scalars(select(CampaignDailyMetric))}
    days = {(r.site_id, r.date, r.order_status): [r.orders, r.revenue, r.units, r.returned_units]
            for r in s.scalars(select(DailySales))}
    variants = {(r.site_id, r.date, r.order_status, r.variant_id): [r.lines, r.units, r.revenue, r.returned_units]
                for r in s.scalars(select(VariantDailySales))}
    return {"campaign_daily_metrics": campaigns, "daily_sales": days, "variant_daily_sales": variants}


def rollup_differences(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Per table, the keys whose stored row is missing, extra, or holds other sums than the raw rows."""
    db = MarketDB(url)
    try:
        with db.reader() as s:
            want, have = expected_rollups(s), stored_rollups(s)
    finally:
        db.engine.dispose()
    out = {}
    for name in want:
        keys = want[name].keys() | have[name].keys()
        out[name] = sorted((k for k in keys if not _close(want[name].get(k), have[name].get(k))), key=str)
    return out


def _close(a: list[float] | None, b: list[float] | None) -> bool:
    if a is None or b is None:
        return a is b
    return all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-6) for x, y in zip(a, b, strict=True))


def assert_rollups_true(url: str) -> None:
    differences = rollup_differences(url)
    assert differences == {name: [] for name in differences}, {k: v[:5] for k, v in differences.items() if v}
