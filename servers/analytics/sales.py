"""Store-side queries: daily sales with ad spend, week-over-week anomalies, stock alerts, recent reviews."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from servers.analytics.common import money, page, paged, ratio, total_of
from servers.analytics.models import (
    DailySales,
    InventoryAlert,
    InventoryAlerts,
    RecentReviews,
    ReviewItem,
    SalesAnomalies,
    SalesAnomaly,
    SalesDay,
)
from servers.common.errors import ValidationFailed
from servers.market import metrics
from servers.market.db import require_site
from servers.market.models import (
    AdGroup,
    Campaign,
    Category,
    InventoryLevel,
    KeywordDailyMetric,
    Order,
    OrderItem,
    Product,
    ProductAd,
    Review,
    Variant,
)

COUNTED = Order.status.in_(metrics.REVENUE_STATUSES)


def daily_sales(s: Session, *, site: str, start: dt.date, end: dt.date, sort_by: str = "date", descending: bool = False,
                limit: int = 100, offset: int = 0) -> DailySales:
    """Orders, units, revenue and AOV per day next to that day's ad spend and TACoS."""
    site_row = require_site(s, site)
    cur = site_row.currency
    counted = [Order.site_id == site, Order.placed_date.between(start, end), COUNTED]
    orders = (select(Order.placed_date.label("day"), func.count(Order.id).label("orders"), total_of(Order.total).label("revenue"))
              .where(*counted).group_by(Order.placed_date))
    units = (select(Order.placed_date.label("day"), total_of(OrderItem.quantity).label("units"))
             .join(Order, Order.id == OrderItem.order_id).where(*counted).group_by(Order.placed_date)).subquery()
    m = KeywordDailyMetric
    ads = (select(m.date.label("day"), total_of(m.spend).label("spend"), total_of(m.sales).label("ad_sales"))
           .where(m.site_id == site, m.date.between(start, end)).group_by(m.date))
    o, a = orders.subquery(), ads.subquery()
    day = func.coalesce(o.c.day, a.c.day)
    joined = (select(day.label("day"), func.coalesce(o.c.orders, 0).label("orders"), func.coalesce(units.c.units, 0).label("units"),
                     func.coalesce(o.c.revenue, 0).label("revenue"), func.coalesce(a.c.spend, 0).label("spend"),
                     func.coalesce(a.c.ad_sales, 0).label("ad_sales"))
              .select_from(o).join(a, a.c.day == o.c.day, full=True).join(units, units.c.day == o.c.day, isouter=True))
    j = joined.subquery()
    sums = s.execute(select(total_of(j.c.orders), total_of(j.c.units), total_of(j.c.revenue), total_of(j.c.spend),
                            func.count())).one()
    order = {"date": j.c.day, "revenue": j.c.revenue, "orders": j.c.orders, "ad_spend": j.c.spend,
             "tacos": metrics.tacos_sql(j.c.spend, j.c.revenue)}[sort_by]
    rows = s.execute(page(select(j), order, descending, limit, offset, j.c.day))
    days = [SalesDay(date=r.day if isinstance(r.day, dt.date) else dt.date.fromisoformat(str(r.day)), orders=int(r.orders),
                     units=int(r.units), revenue=money(r.revenue, cur), aov=ratio(metrics.aov(r.revenue, r.orders), 2),
                     ad_spend=money(r.spend, cur), ad_sales=money(r.ad_sales, cur),
                     tacos=ratio(metrics.tacos(r.spend, r.revenue))) for r in rows]
    n_orders, n_units, revenue, spend, n_days = sums
    return DailySales(site=site, currency=cur, start_date=start, end_date=end, orders=int(n_orders), units=int(n_units),
                      revenue=money(revenue, cur), aov=ratio(metrics.aov(revenue, n_orders), 2), ad_spend=money(spend, cur),
                      tacos=ratio(metrics.tacos(spend, revenue)), total=int(n_days), days=days)


def sales_anomalies(s: Session, *, site: str, week_end: dt.date, group_by: str = "category",
                    threshold: float = metrics.ANOMALY_THRESHOLD, min_revenue: float = 0.0, only_anomalies: bool = True,
                    limit: int = 50, offset: int = 0) -> SalesAnomalies:
    """Revenue of the 7 days to week_end vs the 7 before, per category, product or the whole site."""
    site_row = require_site(s, site)
    cur = site_row.currency
    this = (week_end - dt.timedelta(days=6), week_end)
    last = (week_end - dt.timedelta(days=13), week_end - dt.timedelta(days=7))
    in_this = Order.placed_date >= this[0]
    where = [Order.site_id == site, Order.placed_date.between(last[0], this[1]), COUNTED]
    if group_by == "site":
        key = Order.site_id
        value = Order.total
        base = select(Order.site_id.label("key"))
        joins = base.select_from(Order)
    else:
        key = Category.name if group_by == "category" else Product.title
        value = OrderItem.quantity * OrderItem.unit_price
        joins = (select(func.coalesce(key, "(uncategorised)").label("key")).select_from(OrderItem)
                 .join(Order, Order.id == OrderItem.order_id).join(Variant, Variant.id == OrderItem.variant_id)
                 .join(Product, Product.id == Variant.product_id)
                 .join(Category, Category.id == Product.category_id, isouter=True))
    now_rev = total_of(case((in_this, value), else_=0))
    before_rev = total_of(case((in_this, 0), else_=value))
    order_id = Order.id
    now_orders = func.count(func.distinct(case((in_this, order_id))))
    before_orders = func.count(func.distinct(case((~in_this, order_id))))
    grouped = (joins.add_columns(now_rev.label("now"), before_rev.label("before"), now_orders.label("now_orders"),
                                 before_orders.label("before_orders"))
               .where(*where).group_by(*([Product.id, Product.title] if group_by == "product" else [key])))
    g = grouped.subquery()
    change = metrics.ratio_sql(g.c.now - g.c.before, g.c.before)
    filters = [or_(g.c.now >= min_revenue, g.c.before >= min_revenue)]
    if only_anomalies:
        filters.append(and_(g.c.before > 0, func.abs(g.c.now - g.c.before) > threshold * g.c.before))
    query = select(g, change.label("change")).where(*filters)
    total, rows = paged(s, query, func.abs(change), True, limit, offset, g.c.key)
    items = []
    for r in rows:
        pct = metrics.pct_change(r.now, r.before)
        direction = "flat" if not metrics.is_anomaly(pct, threshold) else ("spike" if pct > 0 else "drop")
        items.append(SalesAnomaly(key=str(r.key), this_week=money(r.now, cur), last_week=money(r.before, cur),
                                  orders_this_week=int(r.now_orders), orders_last_week=int(r.before_orders),
                                  change=ratio(pct), direction=direction, anomaly=metrics.is_anomaly(pct, threshold)))
    return SalesAnomalies(site=site, currency=cur, group_by=group_by, threshold=threshold, this_week=this, last_week=last,
                          total=total, items=items)


def inventory_alerts(s: Session, *, site: str, days_threshold: float = 14, safety_days: int = 7,
                     only_out_of_stock_with_ads: bool = False, sort_by: str = "days_of_supply", descending: bool = False,
                     limit: int = 100, offset: int = 0) -> InventoryAlerts:
    """SKUs under days_threshold of supply or out of stock, with a reorder quantity and their live ads."""
    require_site(s, site)
    inv = InventoryLevel
    available = inv.on_hand - inv.reserved
    dos = metrics.days_of_supply_sql(available, inv.velocity_per_day)
    reorder = metrics.reorder_quantity_sql(inv.velocity_per_day, inv.lead_time_days, safety_days, inv.on_hand, inv.inbound)
    live = (select(ProductAd.variant_id, func.count().label("n"))
            .join(AdGroup, AdGroup.id == ProductAd.ad_group_id).join(Campaign, Campaign.id == ProductAd.campaign_id)
            .where(ProductAd.site_id == site, ProductAd.state == "enabled", AdGroup.state == "enabled",
                   Campaign.state == "enabled").group_by(ProductAd.variant_id).subquery())
    live_ads = func.coalesce(live.c.n, 0)
    out_of_stock = available <= 0
    where = [inv.site_id == site, Variant.status == "active", or_(out_of_stock, and_(dos.is_not(None), dos < days_threshold))]
    if only_out_of_stock_with_ads:
        where += [out_of_stock, live_ads > 0]
    query = (select(inv, Variant.sku, Product.title, available.label("available"), dos.label("dos"),
                    reorder.label("reorder"), live_ads.label("live_ads"))
             .join(Variant, Variant.id == inv.variant_id).join(Product, Product.id == Variant.product_id)
             .join(live, live.c.variant_id == inv.variant_id, isouter=True).where(*where))
    order = {"days_of_supply": dos, "reorder_quantity": reorder, "velocity_per_day": inv.velocity_per_day,
             "sku": Variant.sku}[sort_by]
    total, rows = paged(s, query, order, descending, limit, offset, Variant.sku)
    items = []
    for r in rows:
        level, oos = r[0], r.available <= 0
        action = "pause_ads_and_reorder" if oos and r.live_ads else "reorder" if r.reorder > 0 else "watch"
        items.append(InventoryAlert(
            variant_id=level.variant_id, sku=r.sku, title=r.title, on_hand=level.on_hand, reserved=level.reserved,
            available=int(r.available), inbound=level.inbound, velocity_per_day=level.velocity_per_day,
            lead_time_days=level.lead_time_days, days_of_supply=None if r.dos is None else round(float(r.dos), 1),
            out_of_stock=oos, live_ads=int(r.live_ads), reorder_quantity=int(r.reorder), suggested_action=action))
    return InventoryAlerts(site=site, days_threshold=days_threshold, safety_days=safety_days, total=total, items=items)


def recent_reviews(s: Session, *, site: str, start: dt.date, end: dt.date, min_rating: int = 1, max_rating: int = 5,
                   product_id: int | None = None, sort_by: str = "created_at", descending: bool = True, limit: int = 50,
                   offset: int = 0) -> RecentReviews:
    """Reviews written in the range with ratings between min_rating and max_rating, newest first."""
    currency = require_site(s, site).currency
    if min_rating > max_rating:
        raise ValidationFailed(f"min_rating {min_rating} is above max_rating {max_rating}")
    in_range = [Review.site_id == site, Review.created_at >= dt.datetime.combine(start, dt.time()),
                Review.created_at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time())]
    if product_id is not None:
        in_range.append(Review.product_id == product_id)
    counts = dict(s.execute(select(Review.rating, func.count()).where(*in_range).group_by(Review.rating)).all())
    average = s.scalar(select(func.avg(Review.rating)).where(*in_range))
    # The product's standing: every review of it written up to the range's end.
    ever = aliased(Review)
    standing = (select(ever.product_id, func.avg(ever.rating).label("rating"))
                .where(ever.site_id == site, ever.created_at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))
                .group_by(ever.product_id).subquery())
    query = (select(Review, Product.title, standing.c.rating).join(Product, Product.id == Review.product_id)
             .outerjoin(standing, standing.c.product_id == Review.product_id)
             .where(*in_range, Review.rating.between(min_rating, max_rating)))
    order = {"created_at": Review.created_at, "rating": Review.rating}[sort_by]
    total, rows = paged(s, query, order, descending, limit, offset, Review.id)
    items = [ReviewItem(id=r.id, product_id=r.product_id, product_title=title, product_rating=ratio(rating, 2),
                        rating=r.rating, title=r.title, body=r.body, author=r.author, created_at=r.created_at)
             for r, title, rating, _ in rows]
    return RecentReviews(site=site, currency=currency, start_date=start, end_date=end, average_rating=ratio(average, 2),
                         rating_counts={int(k): int(v) for k, v in sorted(counts.items())}, total=total, items=items)
