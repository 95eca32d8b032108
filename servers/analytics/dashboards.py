"""Dashboard read tools of the analytics server: ads, campaign drill-down, inventory and sales, aggregated in SQL."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Date, Select, String, and_, case, cast, func, literal, or_, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from servers.common.config import ServerConfig
from servers.common.errors import NotFound
from servers.common.server import READ, MarketServer
from servers.market import metrics
from servers.market.db import MarketDB, parse_date_range, require_site
from servers.market.models import (
    AdGroup,
    Campaign,
    Category,
    InventoryLevel,
    Keyword,
    KeywordDailyMetric,
    Order,
    OrderItem,
    Product,
    ProductAd,
    Return,
    SearchTermDailyMetric,
    Variant,
)

Site = Annotated[str, Field(description="Site id the call acts on, e.g. 'us', 'de', 'jp'")]
StartDate = Annotated[str | None, Field(description="First day, ISO date (default: 30 days before end_date)")]
EndDate = Annotated[str | None, Field(description="Last day, ISO date (default: today)")]
Limit = Annotated[int, Field(ge=1, le=500, description="Most rows to return")]

CAMPAIGN_METRICS = ("spend", "sales", "orders", "clicks", "impressions", "acos", "roas", "ctr", "cvr", "cpc")
RankBy = Literal["spend", "sales", "orders", "clicks", "impressions", "acos", "roas", "ctr", "cvr", "cpc"]


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


# ---------------------------------------------------------------- result models


class AdKpis(BaseModel):
    impressions: int
    clicks: int
    spend: float
    sales: float
    orders: int
    units: int
    store_revenue: float = Field(description="All store revenue (orders) in the range; the TACoS divisor")
    acos: float | None
    roas: float | None
    tacos: float | None
    ctr: float | None
    cvr: float | None
    cpc: float | None


class AdDay(BaseModel):
    date: dt.date
    impressions: int
    clicks: int
    spend: float
    sales: float
    orders: int
    acos: float | None


class CampaignRow(BaseModel):
    id: int
    name: str
    platform: str
    campaign_type: str
    targeting: str
    state: str
    daily_budget: float
    impressions: int
    clicks: int
    spend: float
    sales: float
    orders: int
    acos: float | None
    roas: float | None
    ctr: float | None
    cvr: float | None
    cpc: float | None


class PlatformRow(BaseModel):
    platform: str
    campaigns: int
    impressions: int
    clicks: int
    spend: float
    sales: float
    orders: int
    acos: float | None
    roas: float | None
    cpc: float | None


class AdsDashboard(BaseModel):
    site: str
    currency: str
    acos_target: float
    start_date: dt.date
    end_date: dt.date
    previous_start: dt.date
    previous_end: dt.date
    kpis: AdKpis
    previous: AdKpis
    changes: dict[str, float | None] = Field(description="Relative change of each KPI against the previous range")
    daily: list[AdDay]
    platforms: list[PlatformRow]
    rank_by: str
    total_campaigns: int
    campaigns: list[CampaignRow]


class DrillRow(BaseModel):
    id: int | None
    name: str
    detail: str = ""
    state: str = ""
    bid: float | None = None
    impressions: int
    clicks: int
    spend: float
    sales: float
    orders: int
    acos: float | None
    cvr: float | None
    cpc: float | None


class CampaignDrilldown(BaseModel):
    site: str
    campaign_id: int
    campaign_name: str
    ad_group_id: int | None
    keyword_id: int | None
    start_date: dt.date
    end_date: dt.date
    ad_groups: list[DrillRow]
    keywords: list[DrillRow]
    search_terms: list[DrillRow]


class InventoryRow(BaseModel):
    variant_id: int
    sku: str
    title: str
    category: str | None
    on_hand: int
    reserved: int
    available: int
    inbound: int
    velocity_per_day: float
    lead_time_days: int
    days_of_supply: float | None = Field(description="available / velocity; null when nothing sells")
    reorder_quantity: int = Field(description="velocity × (lead time + safety days) − on hand − inbound, at least 0")
    at_risk: bool = Field(description="Days of supply under the threshold (or out of stock)")
    out_of_stock: bool
    live_ads: int = Field(description="Enabled product ads in enabled ad groups of enabled campaigns")


class InventoryTotals(BaseModel):
    skus: int
    units_on_hand: int
    units_inbound: int
    at_risk: int
    out_of_stock: int
    out_of_stock_with_live_ads: int
    reorder_units: int


class InventoryDashboard(BaseModel):
    site: str
    days_threshold: float
    safety_days: int
    totals: InventoryTotals
    total: int
    items: list[InventoryRow]


class SalesPoint(BaseModel):
    period: dt.date = Field(description="The day, or the Monday of the week (weeks overlapping the range count whole)")
    revenue: float
    orders: int
    units: int
    aov: float | None
    change: float | None = Field(description="Revenue change against the same period a week earlier")
    anomaly: bool


class SalesTotals(BaseModel):
    revenue: float
    orders: int
    units: int
    aov: float | None
    returned_units: int
    returns_rate: float | None


class BreakdownRow(BaseModel):
    key: str
    revenue: float
    lines: int = Field(description="Order lines with the category's items")
    units: int
    share: float | None = Field(description="Share of the range's item revenue")
    week_revenue: float = Field(description="Revenue in the last 7 days of the range")
    previous_week_revenue: float = Field(description="Revenue in the 7 days before those")
    change: float | None = Field(description="Week-over-week change of the category's revenue")
    anomaly: bool = Field(description="The week-over-week change passes the anomaly threshold")


class ProductSales(BaseModel):
    product_id: int
    title: str
    category: str | None
    revenue: float
    units: int
    returned_units: int
    returns_rate: float | None


class SalesDashboard(BaseModel):
    site: str
    currency: str
    start_date: dt.date
    end_date: dt.date
    granularity: str
    anomaly_threshold: float
    totals: SalesTotals
    previous: SalesTotals
    changes: dict[str, float | None]
    series: list[SalesPoint]
    anomalies: list[SalesPoint]
    category_anomalies: list[BreakdownRow]
    by_category: list[BreakdownRow]
    top_products: list[ProductSales]
    bottom_products: list[ProductSales]


# ---------------------------------------------------------------- SQL building blocks


def _sum(col: Any, when: ColumnElement[bool] | None = None) -> ColumnElement[Any]:
    """SUM that answers 0 for no rows; optionally only over rows matching `when`."""
    value = col if when is None else case((when, col), else_=0)
    return func.coalesce(func.sum(value), 0)


AD_SUMS = ("impressions", "clicks", "spend", "sales", "orders")


def _ad_sums(when: ColumnElement[bool] | None = None) -> list[ColumnElement[Any]]:
    m = KeywordDailyMetric
    return [_sum(m.impressions, when), _sum(m.clicks, when), _sum(m.spend, when), _sum(m.sales, when),
            _sum(m.orders, when), _sum(m.units, when)]


def _campaign_filters(platform: str | None, campaign_type: str | None, state: str | None) -> list[ColumnElement[bool]]:
    out = []
    if platform:
        out.append(Campaign.platform == platform)
    if campaign_type:
        out.append(Campaign.campaign_type == campaign_type)
    if state:
        out.append(Campaign.state == state)
    return out


def _ratios(impressions: float, clicks: float, spend: float, sales: float, orders: float) -> dict[str, float | None]:
    return {
        "acos": metrics.acos(spend, sales),
        "roas": metrics.roas(sales, spend),
        "ctr": metrics.ctr(clicks, impressions),
        "cvr": metrics.cvr(orders, clicks),
        "cpc": metrics.cpc(spend, clicks),
    }


def _kpis(row: Any, store_revenue: float) -> AdKpis:
    impressions, clicks, spend, sales, orders, units = (row[i] for i in range(6))
    return AdKpis(
        impressions=int(impressions), clicks=int(clicks), spend=round(float(spend), 2), sales=round(float(sales), 2),
        orders=int(orders), units=int(units), store_revenue=round(float(store_revenue), 2),
        tacos=metrics.tacos(spend, store_revenue), **_ratios(impressions, clicks, spend, sales, orders),
    )


def _changes(now: BaseModel, before: BaseModel, names: tuple[str, ...]) -> dict[str, float | None]:
    return {n: metrics.pct_change(getattr(now, n), getattr(before, n)) for n in names}


def _rank_expression(rank_by: str, imp: Any, clk: Any, spend: Any, sales: Any, orders: Any) -> ColumnElement[Any]:
    """The ORDER BY of the campaign table; ratios divide in SQL (NULL when the divisor is 0)."""
    return {
        "spend": spend, "sales": sales, "orders": orders, "clicks": clk, "impressions": imp,
        "acos": metrics.acos_sql(spend, sales), "roas": metrics.roas_sql(sales, spend), "ctr": metrics.ctr_sql(clk, imp),
        "cvr": metrics.cvr_sql(orders, clk), "cpc": metrics.cpc_sql(spend, clk),
    }[rank_by]


def _store_revenue(s: Session, site: str, start: dt.date, end: dt.date) -> float:
    return float(s.scalar(
        select(_sum(Order.total)).where(
            Order.site_id == site, Order.placed_date.between(start, end), Order.status.in_(metrics.REVENUE_STATUSES)
        )
    ))


# ---------------------------------------------------------------- queries (keyword-only, take a session)


def ads_dashboard(s: Session, *, site: str, start: dt.date, end: dt.date, platform: str | None = None,
                  campaign_type: str | None = None, state: str | None = None, rank_by: str = "spend",
                  descending: bool = True, limit: int = 20) -> AdsDashboard:
    """KPIs for the range and the one before it, the daily series, platforms side by side, ranked campaigns."""
    site_row = require_site(s, site)
    m = KeywordDailyMetric
    days = (end - start).days + 1
    prev_end = start - dt.timedelta(days=1)
    prev_start = prev_end - dt.timedelta(days=days - 1)
    filters = _campaign_filters(platform, campaign_type, state)

    def scan(*columns: Any) -> Select[Any]:
        """Metric rows of the site; joined to campaigns only when a campaign filter needs it (2M rows at scale)."""
        stmt = select(*columns).select_from(m).where(m.site_id == site)
        return stmt.join(Campaign, Campaign.id == m.campaign_id).where(*filters) if filters else stmt

    # The previous range in one plain pass; the current range comes from the per-campaign aggregate below.
    before = s.execute(scan(*_ad_sums()).where(m.date.between(prev_start, prev_end))).one()
    now_revenue, before_revenue = s.execute(
        select(_sum(Order.total, Order.placed_date >= start), _sum(Order.total, Order.placed_date < start))
        .where(Order.site_id == site, Order.placed_date.between(prev_start, end),
               Order.status.in_(metrics.REVENUE_STATUSES))).one()

    daily_rows = s.execute(scan(m.date, *_ad_sums()[:5]).where(m.date.between(start, end)).group_by(m.date).order_by(m.date))
    daily = [AdDay(date=d, impressions=int(i), clicks=int(c), spend=round(sp, 2), sales=round(sa, 2), orders=int(o),
                   acos=metrics.acos(sp, sa)) for d, i, c, sp, sa, o in daily_rows]

    # One aggregate per campaign (computed once), read three ways in one statement told apart by `kind`:
    # the ranked campaign rows, the platform rows, and (as window sums on every platform row) the range totals.
    per = (
        select(m.campaign_id.label("campaign_id"), *(x.label(n) for x, n in zip(_ad_sums(), (*AD_SUMS, "units"), strict=True)))
        .where(m.site_id == site, m.date.between(start, end)).group_by(m.campaign_id)
        .cte("per_campaign").prefix_with("MATERIALIZED", dialect="sqlite")
    )
    sums = [func.coalesce(per.c[n], 0) for n in AD_SUMS]
    joined = select().select_from(Campaign).join(per, per.c.campaign_id == Campaign.id, isouter=True).where(
        Campaign.site_id == site, *filters)
    rank = _rank_expression(rank_by, *sums)
    ranked = joined.add_columns(
        Campaign.id.label("id"), *sums, func.count().over().label("total"),
        func.row_number().over(order_by=((rank.desc() if descending else rank.asc()).nulls_last(), Campaign.id)).label("rn"),
    ).subquery()
    campaign_part = select(literal("campaign").label("kind"), cast(ranked.c.id, String).label("key"), *list(ranked.c)[1:6],
                           ranked.c.total, ranked.c.rn, *(literal(0) for _ in range(6))).where(ranked.c.rn <= limit)
    platform_sums = [func.sum(x) for x in (*sums, func.coalesce(per.c.units, 0))]
    platform_part = joined.add_columns(
        literal("platform"), Campaign.platform, *platform_sums[:5], func.count(Campaign.id), literal(0),
        *(func.sum(x).over() for x in platform_sums),
    ).group_by(Campaign.platform)
    rows = s.execute(union_all(campaign_part, platform_part)).all()
    platforms = [PlatformRow(platform=r.key, campaigns=r.total, impressions=int(r[2]), clicks=int(r[3]),
                             spend=round(r[4], 2), sales=round(r[5], 2), orders=int(r[6]),
                             acos=metrics.acos(r[4], r[5]), roas=metrics.roas(r[5], r[4]), cpc=metrics.cpc(r[4], r[3]))
                 for r in sorted((r for r in rows if r.kind == "platform"), key=lambda r: r.key)]
    current = next((r[-6:] for r in rows if r.kind == "platform"), (0,) * 6)
    kpis = _kpis(current, now_revenue)
    previous = _kpis(before, before_revenue)

    ranked_rows = sorted((r for r in rows if r.kind == "campaign"), key=lambda r: r.rn)
    by_id = {c.id: c for c in s.scalars(select(Campaign).where(Campaign.id.in_([int(r.key) for r in ranked_rows])))}
    campaign_rows = [(by_id[int(r.key)], *r[2:7], r.total) for r in ranked_rows]
    campaigns = [
        CampaignRow(id=c.id, name=c.name, platform=c.platform, campaign_type=c.campaign_type, targeting=c.targeting,
                    state=c.state, daily_budget=c.daily_budget, impressions=int(i), clicks=int(k), spend=round(sp, 2),
                    sales=round(sa, 2), orders=int(o), **_ratios(i, k, sp, sa, o))
        for c, i, k, sp, sa, o, _ in campaign_rows
    ]
    total = campaign_rows[0][-1] if campaign_rows else 0
    return AdsDashboard(
        site=site, currency=site_row.currency, acos_target=site_row.acos_target, start_date=start, end_date=end,
        previous_start=prev_start, previous_end=prev_end, kpis=kpis, previous=previous,
        changes=_changes(kpis, previous, ("spend", "sales", "orders", "acos", "roas", "tacos", "ctr", "cvr", "cpc")),
        daily=daily, platforms=platforms, rank_by=rank_by, total_campaigns=total, campaigns=campaigns,
    )


def _drill_row(id_: int | None, name: str, i: Any, c: Any, sp: Any, sa: Any, o: Any, **extra: Any) -> DrillRow:
    return DrillRow(id=id_, name=name, impressions=int(i), clicks=int(c), spend=round(sp, 2), sales=round(sa, 2),
                    orders=int(o), acos=metrics.acos(sp, sa), cvr=metrics.cvr(o, c), cpc=metrics.cpc(sp, c), **extra)


def campaign_drilldown(s: Session, *, site: str, campaign_id: int, ad_group_id: int | None, keyword_id: int | None,
                       start: dt.date, end: dt.date, limit: int = 50) -> CampaignDrilldown:
    """Ad groups of a campaign, keywords of the campaign (or ad group), search terms of the narrowest level."""
    require_site(s, site)
    campaign = s.get(Campaign, campaign_id)
    if campaign is None or campaign.site_id != site:
        raise NotFound(f"campaign {campaign_id} does not exist on site {site}; get_ads_dashboard lists campaigns")
    m, st = KeywordDailyMetric, SearchTermDailyMetric
    in_range = m.date.between(start, end)
    sums = _ad_sums()[:5]

    groups = s.execute(
        select(AdGroup.id, AdGroup.name, AdGroup.state, AdGroup.default_bid, *sums)
        .select_from(AdGroup).join(Keyword, Keyword.ad_group_id == AdGroup.id, isouter=True)
        .join(m, and_(m.keyword_id == Keyword.id, in_range), isouter=True)
        .where(AdGroup.campaign_id == campaign_id).group_by(AdGroup.id).order_by(sums[2].desc(), AdGroup.id)
    )
    ad_groups = [_drill_row(g, n, *v, state=state, bid=bid) for g, n, state, bid, *v in groups]

    kw_where = [Keyword.campaign_id == campaign_id]
    if ad_group_id is not None:
        kw_where.append(Keyword.ad_group_id == ad_group_id)
    keywords_q = s.execute(
        select(Keyword.id, Keyword.text, Keyword.match_type, Keyword.state, Keyword.bid, *sums)
        .select_from(Keyword).join(m, and_(m.keyword_id == Keyword.id, in_range), isouter=True)
        .where(*kw_where).group_by(Keyword.id).order_by(sums[2].desc(), Keyword.id).limit(limit)
    )
    keywords = [_drill_row(k, t, *v, detail=mt, state=state, bid=bid) for k, t, mt, state, bid, *v in keywords_q]

    st_where = [st.campaign_id == campaign_id, st.date.between(start, end)]
    if ad_group_id is not None:
        st_where.append(st.ad_group_id == ad_group_id)
    if keyword_id is not None:
        st_where.append(st.keyword_id == keyword_id)
    st_sums = [_sum(st.impressions), _sum(st.clicks), _sum(st.spend), _sum(st.sales), _sum(st.orders)]
    terms = s.execute(
        select(st.search_term, *st_sums).where(*st_where).group_by(st.search_term)
        .order_by(st_sums[2].desc(), st.search_term).limit(limit)
    )
    search_terms = [_drill_row(None, t, *v) for t, *v in terms]
    return CampaignDrilldown(site=site, campaign_id=campaign_id, campaign_name=campaign.name, ad_group_id=ad_group_id,
                             keyword_id=keyword_id, start_date=start, end_date=end, ad_groups=ad_groups,
                             keywords=keywords, search_terms=search_terms)


INVENTORY_SORT = ("days_of_supply", "reorder_quantity", "velocity_per_day", "available", "sku")


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
            func.count(), _sum(inv.on_hand), _sum(inv.inbound), _sum(case((at_risk, 1), else_=0)),
            _sum(case((out_of_stock, 1), else_=0)), _sum(case((and_(out_of_stock, live_ads > 0), 1), else_=0)),
            _sum(reorder),
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


def _sales_halves(s: Session, site: str, start: dt.date, end: dt.date, prev_start: dt.date,
                  current_units: Any) -> dict[bool, SalesTotals]:
    """Totals of the current range (True) and the previous one (False); current units come from the caller."""
    now, before = Order.placed_date >= start, Order.placed_date < start
    both = [Order.site_id == site, Order.placed_date.between(prev_start, end)]
    counted = [*both, Order.status.in_(metrics.REVENUE_STATUSES)]
    revenue_now, revenue_before, orders_now, orders_before = s.execute(
        select(_sum(Order.total, now), _sum(Order.total, before), _sum(1, now), _sum(1, before)).where(*counted)).one()
    units_before = s.scalar(select(_sum(OrderItem.quantity)).select_from(Order).join(OrderItem, OrderItem.order_id == Order.id)
                            .where(*counted, before))
    back_now, back_before = s.execute(
        select(_sum(Return.quantity, now), _sum(Return.quantity, before)).select_from(Order)
        .join(Return, Return.order_id == Order.id).where(*both, Return.status != "rejected")).one()

    def totals(revenue: Any, n: Any, sold: Any, back: Any) -> SalesTotals:
        return SalesTotals(revenue=round(float(revenue), 2), orders=int(n), units=int(sold), aov=metrics.aov(revenue, n),
                           returned_units=int(back), returns_rate=metrics.returns_rate(back, sold))

    return {True: totals(revenue_now, orders_now, current_units, back_now),
            False: totals(revenue_before, orders_before, units_before, back_before)}


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


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
    by_period = {_as_date(p): (r, o) for p, r, o in s.execute(
        select(period, _sum(Order.total), func.count(Order.id)).where(*in_series).group_by(period))}
    units_by_period = {_as_date(p): u for p, u in s.execute(
        select(period, _sum(OrderItem.quantity)).select_from(Order).join(OrderItem, OrderItem.order_id == Order.id)
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
        select(OrderItem.variant_id.label("variant_id"), _sum(line, in_range).label("revenue"),
               _sum(OrderItem.quantity, in_range).label("units"), _sum(1, in_range).label("lines"),
               _sum(line, in_week).label("week"), _sum(line, in_week_before).label("week_before"))
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
        select(Variant.product_id.label("product_id"), _sum(Return.quantity).label("units"))
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
        changes=_changes(totals, previous, ("revenue", "orders", "units", "aov", "returns_rate")),
        series=series, anomalies=[p for p in series if p.anomaly], by_category=by_category,
        category_anomalies=[c for c in by_category if c.anomaly],
        top_products=products("top"), bottom_products=products("bottom"),
    )


# ---------------------------------------------------------------- tools


def register(mcp: MarketServer, db: MarketDB, config: ServerConfig) -> None:
    """Add the dashboard read tools to the analytics server."""

    def dates(start_date: str | None, end_date: str | None) -> tuple[dt.date, dt.date]:
        return parse_date_range(start_date, end_date, today=config.today())

    @mcp.tool(annotations=READ)
    def get_ads_dashboard(
        site: Site,
        start_date: StartDate = None,
        end_date: EndDate = None,
        platform: Annotated[str | None, Field(description="Only this ad platform: amazon, meta, google")] = None,
        campaign_type: Annotated[str | None, Field(description="Only this campaign type: SP, SB, SD")] = None,
        state: Annotated[str | None, Field(description="Only campaigns in this state: enabled, paused, archived")] = None,
        rank_by: Annotated[RankBy, Field(description="Metric the campaign table is ranked by")] = "spend",
        descending: bool = True,
        limit: Limit = 20,
    ) -> AdsDashboard:
        """Ads KPIs (spend, sales, ACOS, ROAS, TACoS, CTR, CVR, CPC, orders) vs the previous range, daily trend, platforms and ranked campaigns."""
        start, end = dates(start_date, end_date)
        with db.reader() as s:
            return ads_dashboard(s, site=site, start=start, end=end, platform=platform, campaign_type=campaign_type,
                                 state=state, rank_by=rank_by, descending=descending, limit=limit)

    @mcp.tool(annotations=READ)
    def get_campaign_drilldown(
        site: Site,
        campaign_id: int,
        ad_group_id: Annotated[int | None, Field(description="Narrow keywords and search terms to this ad group")] = None,
        keyword_id: Annotated[int | None, Field(description="Narrow search terms to this keyword")] = None,
        start_date: StartDate = None,
        end_date: EndDate = None,
        limit: Limit = 50,
    ) -> CampaignDrilldown:
        """A campaign's ad groups, keywords and search terms with spend, sales, ACOS, CVR and CPC for the range."""
        start, end = dates(start_date, end_date)
        with db.reader() as s:
            return campaign_drilldown(s, site=site, campaign_id=campaign_id, ad_group_id=ad_group_id,
                                      keyword_id=keyword_id, start=start, end=end, limit=limit)

    @mcp.tool(annotations=READ)
    def get_inventory_dashboard(
        site: Site,
        days_threshold: Annotated[float, Field(gt=0, le=365, description="A SKU is at risk under this many days of supply")] = 14,
        safety_days: Annotated[int, Field(ge=0, le=180, description="Safety stock in days added to the lead time")] = 7,
        only_at_risk: bool = False,
        sort_by: Annotated[Literal["days_of_supply", "reorder_quantity", "velocity_per_day", "available", "sku"],
                           Field(description="Column the SKU list is sorted by")] = "days_of_supply",
        descending: bool = False,
        limit: Limit = 100,
        offset: Annotated[int, Field(ge=0)] = 0,
    ) -> InventoryDashboard:
        """Stock, days of supply, velocity and reorder suggestions per SKU; at-risk and out-of-stock SKUs with live ads."""
        with db.reader() as s:
            return inventory_dashboard(s, site=site, days_threshold=days_threshold, safety_days=safety_days,
                                       only_at_risk=only_at_risk, sort_by=sort_by, descending=descending,
                                       limit=limit, offset=offset)

    @mcp.tool(annotations=READ)
    def get_sales_dashboard(
        site: Site,
        start_date: StartDate = None,
        end_date: EndDate = None,
        granularity: Annotated[Literal["day", "week"], Field(description="Series by day or by ISO week")] = "day",
        anomaly_threshold: Annotated[float, Field(gt=0, le=10, description="Week-over-week change that marks an anomaly, 0.3 = 30%")] = metrics.ANOMALY_THRESHOLD,
        top_n: Annotated[int, Field(ge=1, le=50, description="How many top and bottom products")] = 5,
    ) -> SalesDashboard:
        """Revenue, orders, units, AOV and returns by day or week vs the previous range, anomalies, categories, top/bottom products."""
        start, end = dates(start_date, end_date)
        with db.reader() as s:
            return sales_dashboard(s, site=site, start=start, end=end, granularity=granularity,
                                   anomaly_threshold=anomaly_threshold, top_n=top_n)


__all__ = ["register", "ads_dashboard", "campaign_drilldown", "inventory_dashboard", "sales_dashboard"]
