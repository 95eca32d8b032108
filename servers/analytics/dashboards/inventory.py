"""The inventory dashboard: days of supply, reorder suggestions, risk and live ads per SKU, in SQL."""

from __future__ import annotations

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from servers.analytics.dashboards.models import InventoryDashboard, InventoryRow, InventoryTotals
from servers.analytics.dashboards.sql import sum_of
from servers.market import metrics
from servers.market.db import require_site
from servers.market.models import AdGroup, Campaign, Category, InventoryLevel, Product, ProductAd, Variant


def inventory_dashboard(s: Session, *, site: str, days_threshold: float = 14, safety_days: int = 7,
                        only_at_risk: bool = False, sort_by: str = "days_of_supply", descending: bool = False,
                        limit: int = 100, offset: int = 0) -> InventoryDashboard:
    """Stock per SKU with days of supply, reorder suggestion, risk flags and live ads; totals over all SKUs."""
    require_site(s, site)
    inv = InventoryLevel
    available = inv.on_hand - inv.reserved
    dos = metrics.days_of_supply_sql(available, inv.velocity_per_day)
    reorder = metrics.reorder_quantity_sql(inv.velocity_per_day, inv.lead_time_days, safety_days, inv.on_hand, inv.inbound)
    out_of_stock = available <= 0
    at_risk = or_(out_of_stock, and_(dos.is_not(None), dos < days_threshold))
    live = (
        select(ProductAd.variant_id, func.count().label("live_ads"))
        .join(AdGroup, AdGroup.id == ProductAd.ad_group_id).join(Campaign, Campaign.id == ProductAd.campaign_id)
        .where(ProductAd.site_id == site, ProductAd.state == "enabled", AdGroup.state == "enabled",
               Campaign.state == "enabled")
        .group_by(ProductAd.variant_id).subquery()
    )
    live_ads = func.coalesce(live.c.live_ads, 0)
    where = [inv.site_id == site, Variant.status == "active"]
    joined = (
        select().select_from(inv).join(Variant, Variant.id == inv.variant_id)
        .join(live, live.c.variant_id == inv.variant_id, isouter=True)
    )
    t = s.execute(
        joined.add_columns(
            func.count(), sum_of(inv.on_hand), sum_of(inv.inbound), sum_of(case((at_risk, 1), else_=0)),
            sum_of(case((out_of_stock, 1), else_=0)), sum_of(case((and_(out_of_stock, live_ads > 0), 1), else_=0)),
            sum_of(reorder),
        ).where(*where)
    ).one()
    totals = InventoryTotals(skus=t[0], units_on_hand=int(t[1]), units_inbound=int(t[2]), at_risk=int(t[3]),
                             out_of_stock=int(t[4]), out_of_stock_with_live_ads=int(t[5]), reorder_units=int(t[6]))
    if only_at_risk:
        where.append(at_risk)
    key = {"days_of_supply": dos, "reorder_quantity": reorder, "velocity_per_day": inv.velocity_per_day,
           "available": available, "sku": Variant.sku}[sort_by]
    rows = s.execute(
        joined.add_columns(inv, Variant.sku, Product.title, Category.name, available, dos, reorder, at_risk,
                           out_of_stock, live_ads, func.count().over())
        .join(Product, Product.id == Variant.product_id).join(Category, Category.id == Product.category_id, isouter=True)
        .where(*where).order_by((key.desc() if descending else key.asc()).nulls_last(), Variant.sku)
        .limit(limit).offset(offset)
    ).all()
    items = [
        InventoryRow(variant_id=r.variant_id, sku=sku, title=title, category=cat, on_hand=r.on_hand, reserved=r.reserved,
                     available=int(av), inbound=r.inbound, velocity_per_day=r.velocity_per_day,
                     lead_time_days=r.lead_time_days, days_of_supply=None if d is None else round(float(d), 1),
                     reorder_quantity=int(rq), at_risk=bool(risk), out_of_stock=bool(oos), live_ads=int(la))
        for r, sku, title, cat, av, d, rq, risk, oos, la, _ in rows
    ]
    return InventoryDashboard(site=site, days_threshold=days_threshold, safety_days=safety_days, totals=totals,
                              total=rows[0][-1] if rows else 0, items=items)
