"""The sales dashboard: totals vs the previous range, series with anomaly markers, categories, products."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from servers.analytics.dashboards.models import BreakdownRow, ProductSales, SalesDashboard, SalesPoint, SalesTotals
from servers.analytics.dashboards.sql import as_date, changes, sum_of, week_start
from servers.market import metrics
from servers.market.db import require_site
from servers.market.models import Category, DailySales, Product, Variant, VariantDailySales


def _sales_halves(s: Session, site: str, start: dt.date, end: dt.date, prev_start: dt.date) -> dict[bool, SalesTotals]:
    """Totals of the current range (True) and the previous one (False), from the per-day sales rollup."""
    d = DailySales
    now, before = d.date >= start, d.date < start
    counted = d.order_status.in_(metrics.REVENUE_STATUSES)
    row = s.execute(
        select(*(sum_of(x, and_(half, counted)) for half in (now, before) for x in (d.revenue, d.orders, d.units)),
               sum_of(d.returned_units, now), sum_of(d.returned_units, before))  # returns count on any order status
        .where(d.site_id == site, d.date.between(prev_start, end))).one()

    def totals(revenue: Any, n: Any, sold: Any, back: Any) -> SalesTotals:
        return SalesTotals(revenue=round(float(revenue), 2), orders=int(n), units=int(sold), aov=metrics.aov(revenue, n),
                           returned_units=int(back), returns_rate=metrics.returns_rate(back, sold))

    return {True: totals(*row[0:3], row[6]), False: totals(*row[3:6], row[7])}


def sales_dashboard(s: Session, *, site: str, start: dt.date, end: dt.date, granularity: str = "day",
                    anomaly_threshold: float = metrics.ANOMALY_THRESHOLD, top_n: int = 5) -> SalesDashboard:
    """Revenue, orders, units, AOV by day or week with week-over-week anomaly markers; categories; products."""
    site_row = require_site(s, site)
    days = (end - start).days + 1
    prev_end = start - dt.timedelta(days=1)
    prev_start = prev_end - dt.timedelta(days=days - 1)
    # Everything here reads the daily rollups (per status-day and per variant-status-day), not the raw orders.
    d, v = DailySales, VariantDailySales

    # The series starts a week early so the first period has a week-ago value to compare with.
    period = (d.date if granularity == "day" else week_start(d.date)).label("period")
    first = start - dt.timedelta(days=7)
    if granularity == "week":
        first -= dt.timedelta(days=first.weekday())
    by_period = {as_date(p): (r, o, u) for p, r, o, u in s.execute(
        select(period, sum_of(d.revenue), sum_of(d.orders), sum_of(d.units))
        .where(d.site_id == site, d.order_status.in_(metrics.REVENUE_STATUSES), d.date.between(first, end))
        .group_by(period))}
    # Periods without orders are shown as zero (a gap in a chart would hide the drop).
    step = dt.timedelta(days=1 if granularity == "day" else 7)
    p = start if granularity == "day" else start - dt.timedelta(days=start.weekday())
    series = []
    while p <= end:
        revenue, orders, units = by_period.get(p, (0, 0, 0))
        change = metrics.week_over_week(revenue, by_period.get(p - dt.timedelta(days=7), (0, 0, 0))[0])
        series.append(SalesPoint(period=p, revenue=round(float(revenue), 2), orders=int(orders),
                                 units=int(units), aov=metrics.aov(revenue, orders), change=change,
                                 anomaly=metrics.is_anomaly(change, anomaly_threshold)))
        p += step

    # Variant-days summed per variant once: the range, plus the last two weeks for the categories' week-over-week
    # change. Categories and the ranked products are both built from it in one statement, a UNION ALL told apart
    # by `kind` (the CTE is read twice, computed once).
    week, week_before = end - dt.timedelta(days=6), end - dt.timedelta(days=13)
    in_range, in_week = v.date >= start, v.date >= week
    in_week_before = v.date.between(week_before, week - dt.timedelta(days=1))
    pv = (
        select(v.variant_id.label("variant_id"), sum_of(v.revenue, in_range).label("revenue"),
               sum_of(v.units, in_range).label("units"), sum_of(v.lines, in_range).label("lines"),
               sum_of(v.revenue, in_week).label("week"), sum_of(v.revenue, in_week_before).label("week_before"))
        .where(v.site_id == site, v.order_status.in_(metrics.REVENUE_STATUSES),
               v.date.between(min(start, week_before), end)).group_by(v.variant_id)
        .cte("per_variant").prefix_with("MATERIALIZED", dialect="sqlite")
    )
    cat_revenue = func.sum(pv.c.revenue)
    categories_q = (
        select(literal("category").label("kind"), func.coalesce(Category.name, "(uncategorised)").label("key"),
               literal(None).label("id"), literal(None).label("category"), cat_revenue.label("revenue"),
               func.sum(pv.c.units).label("units"), func.sum(pv.c.lines).label("lines"),
               func.sum(pv.c.week).label("week"), func.sum(pv.c.week_before).label("week_before"),
               literal(0).label("returned"), metrics.ratio_sql(cat_revenue, func.sum(cat_revenue).over()).label("share"),
               literal(0).label("top"), literal(0).label("bottom"))
        .select_from(pv).join(Variant, Variant.id == pv.c.variant_id)
        .join(Product, Product.id == Variant.product_id).join(Category, Category.id == Product.category_id, isouter=True)
        .group_by(Category.name)
    )
    sold = (
        select(Variant.product_id.label("product_id"), func.sum(pv.c.revenue).label("revenue"),
               func.sum(pv.c.units).label("units"))
        .select_from(pv).join(Variant, Variant.id == pv.c.variant_id).group_by(Variant.product_id).subquery()
    )
    returned = (  # returned units count on any order status, by the day the order was placed
        select(Variant.product_id.label("product_id"), sum_of(v.returned_units).label("units"))
        .select_from(v).join(Variant, Variant.id == v.variant_id)
        .where(v.site_id == site, v.date.between(start, end)).group_by(Variant.product_id).subquery()
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
                        literal(None), ranked.c.top, ranked.c.bottom).where(or_(ranked.c.top <= top_n, ranked.c.bottom <= top_n))
    rows = s.execute(union_all(categories_q, products_q)).all()
    halves = _sales_halves(s, site, start, end, prev_start)
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
