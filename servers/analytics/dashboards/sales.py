"""The sales dashboard: totals vs the previous range, series with anomaly markers, categories, products."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from servers.analytics.dashboards.models import BreakdownRow, ProductSales, SalesDashboard, SalesPoint, SalesTotals
from servers.analytics.dashboards.sql import as_date, changes, sum_of, week_start
from servers.market import metrics
from servers.market.db import require_site
from servers.market.models import Category, Order, OrderItem, Product, Return, Variant


def _sales_halves(s: Session, site: str, start: dt.date, end: dt.date, prev_start: dt.date,
                  current_units: Any) -> dict[bool, SalesTotals]:
    """Totals of the current range (True) and the previous one (False); current units come from the caller."""
    now, before = Order.placed_date >= start, Order.placed_date < start
    both = [Order.site_id == site, Order.placed_date.between(prev_start, end)]
    counted = [*both, Order.status.in_(metrics.REVENUE_STATUSES)]
    revenue_now, revenue_before, orders_now, orders_before = s.execute(
        select(sum_of(Order.total, now), sum_of(Order.total, before), sum_of(1, now), sum_of(1, before)).where(*counted)).one()
    units_before = s.scalar(select(sum_of(OrderItem.quantity)).select_from(Order).join(OrderItem, OrderItem.order_id == Order.id)
                            .where(*counted, before))
    back_now, back_before = s.execute(
        select(sum_of(Return.quantity, now), sum_of(Return.quantity, before)).select_from(Order)
        .join(Return, Return.order_id == Order.id).where(*both, Return.status != "rejected")).one()

    def totals(revenue: Any, n: Any, sold: Any, back: Any) -> SalesTotals:
        return SalesTotals(revenue=round(float(revenue), 2), orders=int(n), units=int(sold), aov=metrics.aov(revenue, n),
                           returned_units=int(back), returns_rate=metrics.returns_rate(back, sold))

    return {True: totals(revenue_now, orders_now, current_units, back_now),
            False: totals(revenue_before, orders_before, units_before, back_before)}


def sales_dashboard(s: Session, *, site: str, start: dt.date, end: dt.date, granularity: str = "day",
                    anomaly_threshold: float = metrics.ANOMALY_THRESHOLD, top_n: int = 5) -> SalesDashboard:
    """Revenue, orders, units, AOV by day or week with week-over-week anomaly markers; categories; products."""
    site_row = require_site(s, site)
    days = (end - start).days + 1
    prev_end = start - dt.timedelta(days=1)
    prev_start = prev_end - dt.timedelta(days=days - 1)
    counted = [Order.site_id == site, Order.status.in_(metrics.REVENUE_STATUSES)]

    # The series starts a week early so the first period has a week-ago value to compare with.
    period = (Order.placed_date if granularity == "day" else week_start(Order.placed_date)).label("period")
    first = start - dt.timedelta(days=7)
    if granularity == "week":
        first -= dt.timedelta(days=first.weekday())
    in_series = [*counted, Order.placed_date.between(first, end)]
    by_period = {as_date(p): (r, o) for p, r, o in s.execute(
        select(period, sum_of(Order.total), func.count(Order.id)).where(*in_series).group_by(period))}
    units_by_period = {as_date(p): u for p, u in s.execute(
        select(period, sum_of(OrderItem.quantity)).select_from(Order).join(OrderItem, OrderItem.order_id == Order.id)
        .where(*in_series).group_by(period))}
    # Periods without orders are shown as zero (a gap in a chart would hide the drop).
    step = dt.timedelta(days=1 if granularity == "day" else 7)
    p = start if granularity == "day" else start - dt.timedelta(days=start.weekday())
    series = []
    while p <= end:
        revenue, orders = by_period.get(p, (0, 0))
        change = metrics.week_over_week(revenue, by_period.get(p - dt.timedelta(days=7), (0, 0))[0])
        series.append(SalesPoint(period=p, revenue=round(float(revenue), 2), orders=int(orders),
                                 units=int(units_by_period.get(p, 0)), aov=metrics.aov(revenue, orders), change=change,
                                 anomaly=metrics.is_anomaly(change, anomaly_threshold)))
        p += step

    # Order lines summed per variant once: the range, plus the last two weeks for the categories' week-over-week
    # change. Categories and the ranked products are both built from it in one statement, a UNION ALL told apart
    # by `kind` (the CTE is read twice, computed once).
    week, week_before = end - dt.timedelta(days=6), end - dt.timedelta(days=13)
    in_range, in_week = Order.placed_date >= start, Order.placed_date >= week
    in_week_before = Order.placed_date.between(week_before, week - dt.timedelta(days=1))
    line = OrderItem.quantity * OrderItem.unit_price
    pv = (
        select(OrderItem.variant_id.label("variant_id"), sum_of(line, in_range).label("revenue"),
               sum_of(OrderItem.quantity, in_range).label("units"), sum_of(1, in_range).label("lines"),
               sum_of(line, in_week).label("week"), sum_of(line, in_week_before).label("week_before"))
        .select_from(Order).join(OrderItem, OrderItem.order_id == Order.id)
        .where(*counted, Order.placed_date.between(min(start, week_before), end)).group_by(OrderItem.variant_id)
        .cte("per_variant").prefix_with("MATERIALIZED", dialect="sqlite")
    )
    cat_revenue = func.sum(pv.c.revenue)
    categories_q = (
        select(literal("category").label("kind"), func.coalesce(Category.name, "(uncategorised)").label("key"),
               literal(None).label("id"), literal(None).label("category"), cat_revenue.label("revenue"),
               func.sum(pv.c.units).label("units"), func.sum(pv.c.lines).label("lines"),
               func.sum(pv.c.week).label("week"), func.sum(pv.c.week_before).label("week_before"),
               literal(0).label("returned"), metrics.ratio_sql(cat_revenue, func.sum(cat_revenue).over()).label("share"),
               literal(0).label("top"), literal(0).label("bottom"),
               func.sum(func.sum(pv.c.units)).over().label("all_units"))
        .select_from(pv).join(Variant, Variant.id == pv.c.variant_id)
        .join(Product, Product.id == Variant.product_id).join(Category, Category.id == Product.category_id, isouter=True)
        .group_by(Category.name)
    )
    sold = (
        select(Variant.product_id.label("product_id"), func.sum(pv.c.revenue).label("revenue"),
               func.sum(pv.c.units).label("units"))
        .select_from(pv).join(Variant, Variant.id == pv.c.variant_id).group_by(Variant.product_id).subquery()
    )
    returned = (
        select(Variant.product_id.label("product_id"), sum_of(Return.quantity).label("units"))
        .select_from(Return).join(Order, Order.id == Return.order_id).join(OrderItem, OrderItem.id == Return.order_item_id)
        .join(Variant, Variant.id == OrderItem.variant_id)
        .where(Order.site_id == site, Order.placed_date.between(start, end), Return.status != "rejected")
        .group_by(Variant.product_id).subquery()
    )
    revenue_col = func.coalesce(sold.c.revenue, 0)
    ranked = (
        select(Product.id.label("id"), Product.title.label("title"), Category.name.label("category"),
               revenue_col.label("revenue"), func.coalesce(sold.c.units, 0).label("units"),
               func.coalesce(returned.c.units, 0).label("returned"),
               func.row_number().over(order_by=(revenue_col.desc(), Product.id)).label("top"),
               func.row_number().over(order_by=(revenue_col.asc(), Product.id)).label("bottom"))
        .select_from(Product).join(sold, sold.c.product_id == Product.id, isouter=True)
        .join(returned, returned.c.product_id == Product.id, isouter=True)
        .join(Category, Category.id == Product.category_id, isouter=True)
        .where(Product.site_id == site, Product.status == "active").subquery()
    )
    products_q = select(literal("product").label("kind"), ranked.c.title, ranked.c.id, ranked.c.category,
                        ranked.c.revenue, ranked.c.units, literal(0), literal(0), literal(0), ranked.c.returned,
                        literal(None), ranked.c.top, ranked.c.bottom, literal(0)).where(or_(ranked.c.top <= top_n, ranked.c.bottom <= top_n))
    rows = s.execute(union_all(categories_q, products_q)).all()
    # Every category row carries the units of all categories, the range's units total.
    first = next((r for r in rows if r.kind == "category"), None)
    halves = _sales_halves(s, site, start, end, prev_start, first.all_units if first else 0)
    totals, previous = halves[True], halves[False]

    by_category = []
    for r in sorted((r for r in rows if r.kind == "category"), key=lambda r: (-r.revenue, r.key)):
        change = metrics.week_over_week(r.week, r.week_before)
        by_category.append(BreakdownRow(key=r.key, revenue=round(float(r.revenue), 2), lines=int(r.lines),
                                        units=int(r.units), share=r.share, week_revenue=round(float(r.week), 2),
                                        previous_week_revenue=round(float(r.week_before), 2), change=change,
                                        anomaly=metrics.is_anomaly(change, anomaly_threshold)))

    def products(rank: str) -> list[ProductSales]:
        picked = sorted((r for r in rows if r.kind == "product" and getattr(r, rank) <= top_n),
                        key=lambda r: getattr(r, rank))
        return [ProductSales(product_id=r.id, title=r.key, category=r.category, revenue=round(float(r.revenue), 2),
                             units=int(r.units), returned_units=int(r.returned),
                             returns_rate=metrics.returns_rate(r.returned, r.units)) for r in picked]

    return SalesDashboard(
        site=site, currency=site_row.currency, start_date=start, end_date=end, granularity=granularity,
        anomaly_threshold=anomaly_threshold, totals=totals, previous=previous,
        changes=changes(totals, previous, ("revenue", "orders", "units", "aov", "returns_rate")),
        series=series, anomalies=[p for p in series if p.anomaly], by_category=by_category,
        category_anomalies=[c for c in by_category if c.anomaly],
        top_products=products("top"), bottom_products=products("bottom"),
    )
