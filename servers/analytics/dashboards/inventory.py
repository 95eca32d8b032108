"""The inventory dashboard: days of supply, reorder suggestions, risk and live ads per SKU, in SQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Subquery, and_, case, func, or_, select
from sqlalchemy.orm import Session

from servers.analytics.dashboards.models import InventoryDashboard, InventoryRow, InventoryTotals
from servers.analytics.dashboards.sql import sum_of
from servers.market import metrics
from servers.market.db import require_site
from servers.market.models import (
    AdGroup,
    Campaign,
    Category,
    InventoryLevel,
    Product,
    ProductAd,
    Variant,
    VariantDailySales,
)


def _sold(site: str, today: dt.date) -> Subquery:
    """Units sold per variant in the 7 and 30 days before today, from the daily per-variant rollup."""
    v = VariantDailySales
    return (
        select(v.variant_id, sum_of(v.units, v.date >= today - dt.timedelta(days=7)).label("sold_7d"),
               sum_of(v.units).label("sold_30d"))
        .where(v.site_id == site, v.date >= today - dt.timedelta(days=30), v.date < today,
               v.order_status.in_(metrics.REVENUE_STATUSES))
        .group_by(v.variant_id).subquery()
    )


def inventory_dashboard(s: Session, *, site: str, today: dt.date, days_threshold: float = 14, safety_days: int = 7,
                        only_at_risk: bool = False, sort_by: str = "days_of_supply", descending: bool = False,
                        limit: int = 100, offset: int = 0) -> InventoryDashboard:
    """Stock per SKU with days of supply, reorder suggestion, risk flags, live ads and recent sales; totals over all SKUs."""
    currency = require_site(s, site).currency
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
    sold = _sold(site, today)
    sold_7d, sold_30d = func.coalesce(sold.c.sold_7d, 0), func.coalesce(sold.c.sold_30d, 0)
    # Totals over every SKU of the site as window sums, so the rows are read once.
    skus = (
        select(inv.variant_id, inv.on_hand, inv.reserved, inv.inbound, inv.velocity_per_day, inv.lead_time_days,
               Variant.sku, Product.title, Category.name.label("category"), available.label("available"),
               dos.label("dos"), reorder.label("reorder"), at_risk.label("at_risk"), out_of_stock.label("oos"),
               live_ads.label("live_ads"), sold_7d.label("sold_7d"), sold_30d.label("sold_30d"),
               func.count().over().label("t_skus"), func.sum(inv.on_hand).over().label("t_on_hand"),
               func.sum(inv.inbound).over().label("t_inbound"),
               func.sum(case((at_risk, 1), else_=0)).over().label("t_at_risk"),
               func.sum(case((out_of_stock, 1), else_=0)).over().label("t_oos"),
               func.sum(case((and_(out_of_stock, live_ads > 0), 1), else_=0)).over().label("t_oos_live"),
               func.sum(reorder).over().label("t_reorder"), func.sum(sold_30d).over().label("t_sold_30d"))
        .select_from(inv).join(Variant, Variant.id == inv.variant_id)
        .join(Product, Product.id == Variant.product_id).join(Category, Category.id == Product.category_id, isouter=True)
        .join(live, live.c.variant_id == inv.variant_id, isouter=True)
        .join(sold, sold.c.variant_id == inv.variant_id, isouter=True)
        .where(inv.site_id == site, Variant.status == "active")
        .subquery()
    )
    k = skus.c
    key = {"days_of_supply": k.dos, "reorder_quantity": k.reorder, "velocity_per_day": k.velocity_per_day,
           "available": k.available, "sku": k.sku, "sold_30d": k.sold_30d}[sort_by]
    page = select(skus, func.count().over().label("matched"))
    if only_at_risk:
        page = page.where(k.at_risk)
    rows = s.execute(page.order_by((key.desc() if descending else key.asc()).nulls_last(), k.sku)
                     .limit(limit).offset(offset)).all()
    # No row on this page (nothing at risk, or an offset past the end): the totals still count every SKU.
    first = rows[0] if rows else s.execute(select(skus).limit(1)).first()
    totals = InventoryTotals(**{name: int(getattr(first, column) or 0) if first else 0 for name, column in TOTALS.items()})
    items = [
        InventoryRow(variant_id=r.variant_id, sku=r.sku, title=r.title, category=r.category, on_hand=r.on_hand,
                     reserved=r.reserved, available=int(r.available), inbound=r.inbound,
                     velocity_per_day=r.velocity_per_day, lead_time_days=r.lead_time_days,
                     days_of_supply=None if r.dos is None else round(float(r.dos), 1), reorder_quantity=int(r.reorder),
                     at_risk=bool(r.at_risk), out_of_stock=bool(r.oos), live_ads=int(r.live_ads), sold_7d=int(r.sold_7d),
                     sold_30d=int(r.sold_30d), pace_change=_rounded(metrics.pace_change(r.sold_7d, r.velocity_per_day)))
        for r in rows
    ]
    return InventoryDashboard(site=site, currency=currency, sold_through=today - dt.timedelta(days=1), days_threshold=days_threshold,
                              safety_days=safety_days, totals=totals, total=rows[0].matched if rows else 0, items=items)


TOTALS = {"skus": "t_skus", "units_on_hand": "t_on_hand", "units_inbound": "t_inbound", "at_risk": "t_at_risk",
          "out_of_stock": "t_oos", "out_of_stock_with_live_ads": "t_oos_live", "reorder_units": "t_reorder",
          "units_sold_30d": "t_sold_30d"}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
