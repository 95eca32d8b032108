"""The evidence behind a proposed change: one target's numbers over a window, in the shape approval cards render.

`get_target_evidence` answers for exactly one target (keyword, campaign, ad group, SKU, product, order or coupon);
the bridge files its answer with a proposal, under the rule or chat request that led to it. Query functions are
keyword-only, take a session and aggregate in SQL; the ratios come from `servers.market.metrics`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from servers.analytics.common import ad_sums, money, ratio, total_of
from servers.common.config import ServerConfig
from servers.common.errors import NotFound, ValidationFailed
from servers.common.inputs import Id
from servers.common.server import READ, MarketServer
from servers.market import metrics
from servers.market.db import MarketDB, parse_day, require_site
from servers.market.models import (
    AdGroup,
    Campaign,
    CampaignBudgetHour,
    CampaignDailyMetric,
    Coupon,
    InventoryLevel,
    Keyword,
    KeywordDailyMetric,
    Order,
    OrderItem,
    Product,
    ProductAd,
    Review,
    Variant,
)

EvidenceKind = Literal["keyword", "target", "campaign", "ad_group", "sku", "product", "order", "coupon"]
# The arguments that name a target, in the order a write's arguments are read by the bridge (most specific first).
TARGET_ARGUMENTS = ("keyword_id", "coupon_id", "order_id", "product_id", "variant_id", "sku", "ad_group_id", "campaign_id")
KEYWORD_MATCHES = frozenset({"exact", "phrase", "broad"})  # anything else is a targeting clause ("auto")
LOW_STAR_MAX = 2  # 1 and 2 stars count as low
EARLY_HOUR = 18  # the budget pacing finder's default: running out before 18:00 is early
OUT_SHARE = 0.99  # the finder's "ran out": cumulative spend reached 99% of the budget


# ---------------------------------------------------------------- the answer


class EvidenceWindow(BaseModel):
    start: dt.date
    end: dt.date
    days: int


class KeywordMetrics(BaseModel):
    impressions: int
    clicks: int
    spend: float
    orders: int
    sales: float
    acos: float | None = Field(description="spend / sales; null without sales")
    cpc: float | None
    ctr: float | None
    cvr: float | None


class CampaignMetrics(BaseModel):
    daily_budget: float
    utilisation: float | None = Field(description="Share of the budget spent per day (0..1), averaged over the window's days with hourly data")
    exhausted_hour: int | None = Field(description="Hour of day the budget typically ran out (10 = at 10:00); null if it never did")
    spend: float
    sales: float
    acos: float | None


class AdGroupMetrics(BaseModel):
    default_bid: float
    spend: float
    sales: float
    acos: float | None


class SkuMetrics(BaseModel):
    on_hand: int
    reserved: int
    inbound: int
    velocity_per_day: float
    days_of_supply: float | None = Field(description="(on hand − reserved) / velocity; 0 when nothing is available, null when it does not sell")
    lead_time_days: int | None


class ProductMetrics(BaseModel):
    rating: float | None = Field(description="Average star rating of every review; null without reviews")
    reviews: int
    low_star_reviews: int = Field(description="1- and 2-star reviews written in the window")
    live_ad_skus: int = Field(description="The product's SKUs advertised by an enabled ad in an enabled ad group and campaign")


class OrderLine(BaseModel):
    sku: str
    quantity: int
    unit_price: float


class OrderMetrics(BaseModel):
    status: str
    lines: list[OrderLine]
    total: float
    placed_at: dt.datetime


class CouponMetrics(BaseModel):
    kind: str
    value: float
    budget: float
    spent: float
    status: str


Metrics = KeywordMetrics | CampaignMetrics | AdGroupMetrics | SkuMetrics | ProductMetrics | OrderMetrics | CouponMetrics


class TargetEvidence(BaseModel):
    kind: EvidenceKind
    label: str = Field(description="The target as a person reads it, e.g. \"keyword 'yoga mat' (exact)\"")
    window: EvidenceWindow
    metrics: Metrics
    rule: dict[str, Any] | str | None = Field(None, description="The rule that flagged the target (filled in by whoever files the proposal)")
    rule_text: str | None = None
    currency: str


# ---------------------------------------------------------------- queries

Row = TypeVar("Row")


def _owned(s: Session, model: type[Row], row_id: int, site: str, noun: str, lister: str) -> Row:
    row = s.get(model, row_id)
    if row is None or getattr(row, "site_id", None) != site:
        raise NotFound(f"{noun} {row_id} does not exist on site {site}; {lister} shows the ids")
    return row


def _window(start: dt.date, end: dt.date) -> EvidenceWindow:
    return EvidenceWindow(start=start, end=end, days=(end - start).days + 1)


def _evidence(kind: EvidenceKind, label: str, start: dt.date, end: dt.date, metrics_: Metrics, currency: str) -> TargetEvidence:
    return TargetEvidence(kind=kind, label=label, window=_window(start, end), metrics=metrics_, currency=currency)


def keyword_evidence(s: Session, *, site: str, keyword_id: int, start: dt.date, end: dt.date) -> TargetEvidence:
    """A keyword's (or auto target's) traffic, spend and sales over the window."""
    cur = require_site(s, site).currency
    kw = _owned(s, Keyword, keyword_id, site, "keyword", "list_keywords")
    m = KeywordDailyMetric
    imp, clk, spend, sales, orders = s.execute(
        select(*ad_sums(m)).where(m.site_id == site, m.keyword_id == kw.id, m.date.between(start, end))).one()
    kind: EvidenceKind = "keyword" if kw.match_type in KEYWORD_MATCHES else "target"
    return _evidence(kind, f"{kind} '{kw.text}' ({kw.match_type})", start, end, KeywordMetrics(
        impressions=int(imp), clicks=int(clk), spend=money(spend, cur), orders=int(orders), sales=money(sales, cur),
        acos=ratio(metrics.acos(spend, sales)), cpc=ratio(metrics.cpc(spend, clk)),
        ctr=ratio(metrics.ctr(clk, imp), 6), cvr=ratio(metrics.cvr(orders, clk))), cur)


def campaign_evidence(s: Session, *, site: str, campaign_id: int, start: dt.date, end: dt.date) -> TargetEvidence:
    """A campaign's budget, how much of it was used per day and when it ran out, and its spend and sales."""
    cur = require_site(s, site).currency
    campaign = _owned(s, Campaign, campaign_id, site, "campaign", "list_campaigns")
    b = CampaignBudgetHour
    per_day = (select(func.max(b.cumulative_spend).label("spent"), func.max(b.budget).label("budget"),
                      func.min(case((b.cumulative_spend >= b.budget * OUT_SHARE, b.hour))).label("out_hour"))
               .where(b.site_id == site, b.campaign_id == campaign.id, b.date.between(start, end))
               .group_by(b.date).subquery())
    d = per_day.c
    # The typical hour counts the early days when there are any, as the pacing finder does, so both tell one story.
    utilisation, out_hour = s.execute(select(
        func.avg(metrics.ratio_sql(d.spent, d.budget)),
        func.coalesce(func.avg(case((d.out_hour < EARLY_HOUR, d.out_hour))), func.avg(d.out_hour)))).one()
    c = CampaignDailyMetric
    spend, sales = s.execute(select(total_of(c.spend), total_of(c.sales))
                             .where(c.site_id == site, c.campaign_id == campaign.id, c.date.between(start, end))).one()
    return _evidence("campaign", f"campaign '{campaign.name}'", start, end, CampaignMetrics(
        daily_budget=money(campaign.daily_budget, cur), utilisation=ratio(utilisation),
        exhausted_hour=None if out_hour is None else round(float(out_hour)) + 1,  # out during hour 9 = stopped at 10:00
        spend=money(spend, cur), sales=money(sales, cur), acos=ratio(metrics.acos(spend, sales))), cur)


def ad_group_evidence(s: Session, *, site: str, ad_group_id: int, start: dt.date, end: dt.date) -> TargetEvidence:
    """An ad group's default bid and its keywords' spend and sales over the window."""
    cur = require_site(s, site).currency
    group = _owned(s, AdGroup, ad_group_id, site, "ad group", "list_ad_groups")
    campaign_name = s.scalar(select(Campaign.name).where(Campaign.id == group.campaign_id))
    m = KeywordDailyMetric
    spend, sales = s.execute(select(total_of(m.spend), total_of(m.sales)).where(
        m.site_id == site, m.date.between(start, end),
        m.keyword_id.in_(select(Keyword.id).where(Keyword.ad_group_id == group.id)))).one()
    return _evidence("ad_group", f"ad group '{group.name}' in campaign '{campaign_name}'", start, end, AdGroupMetrics(
        default_bid=money(group.default_bid, cur), spend=money(spend, cur), sales=money(sales, cur),
        acos=ratio(metrics.acos(spend, sales))), cur)


def sku_evidence(s: Session, *, site: str, start: dt.date, end: dt.date, variant_id: int | None = None,
                 sku: str | None = None) -> TargetEvidence:
    """A SKU's stock, inbound units, sales velocity, days of supply and lead time (as they stand now)."""
    cur = require_site(s, site).currency
    if variant_id is not None:
        variant = _owned(s, Variant, variant_id, site, "variant", "list_variants")
    else:
        variant = s.scalar(select(Variant).where(Variant.site_id == site, Variant.sku == sku))
        if variant is None:
            raise NotFound(f"no SKU {str(sku)[:64]!r} on site {site}; list_variants shows them")
    inv = InventoryLevel
    available = inv.on_hand - inv.reserved
    row = s.execute(select(inv.on_hand, inv.reserved, inv.inbound, inv.velocity_per_day, inv.lead_time_days,
                           metrics.days_of_supply_sql(available, inv.velocity_per_day).label("dos"))
                    .where(inv.variant_id == variant.id)).one_or_none()
    title = s.scalar(select(Product.title).where(Product.id == variant.product_id))
    if row is None:  # never stocked: nothing on hand, nothing known about its pace
        stock = SkuMetrics(on_hand=0, reserved=0, inbound=0, velocity_per_day=0.0, days_of_supply=0.0, lead_time_days=None)
    else:
        stock = SkuMetrics(on_hand=row.on_hand, reserved=row.reserved, inbound=row.inbound,
                           velocity_per_day=round(float(row.velocity_per_day), 3),
                           days_of_supply=None if row.dos is None else round(float(row.dos), 1),
                           lead_time_days=row.lead_time_days)
    return _evidence("sku", f"SKU '{variant.sku}' ({title})", start, end, stock, cur)


def product_evidence(s: Session, *, site: str, product_id: int, start: dt.date, end: dt.date) -> TargetEvidence:
    """A product's rating and reviews, its low-star reviews in the window, and how many of its SKUs advertise."""
    cur = require_site(s, site).currency
    product = _owned(s, Product, product_id, site, "product", "list_products")
    since, until = dt.datetime.combine(start, dt.time()), dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
    in_window = (Review.created_at >= since) & (Review.created_at < until)
    rating, reviews, low = s.execute(select(
        func.avg(Review.rating), func.count(Review.id),
        total_of(case((in_window & (Review.rating <= LOW_STAR_MAX), 1), else_=0)))
        .where(Review.site_id == site, Review.product_id == product.id)).one()
    live = s.scalar(select(func.count(func.distinct(ProductAd.variant_id)))
                    .join(Variant, Variant.id == ProductAd.variant_id)
                    .join(AdGroup, AdGroup.id == ProductAd.ad_group_id).join(Campaign, Campaign.id == ProductAd.campaign_id)
                    .where(ProductAd.site_id == site, Variant.product_id == product.id, ProductAd.state == "enabled",
                           AdGroup.state == "enabled", Campaign.state == "enabled"))
    return _evidence("product", f"product '{product.title}'", start, end, ProductMetrics(
        rating=ratio(rating, 2), reviews=int(reviews), low_star_reviews=int(low), live_ad_skus=int(live or 0)), cur)


def order_evidence(s: Session, *, site: str, order_id: int, start: dt.date, end: dt.date) -> TargetEvidence:
    """An order's status, lines, total and when it was placed."""
    cur = require_site(s, site).currency
    order = _owned(s, Order, order_id, site, "order", "list_orders")
    lines = [OrderLine(sku=sku, quantity=int(q), unit_price=money(p, order.currency)) for sku, q, p in s.execute(
        select(OrderItem.sku, OrderItem.quantity, OrderItem.unit_price)
        .where(OrderItem.order_id == order.id).order_by(OrderItem.id))]
    return _evidence("order", f"order {order.number}", start, end, OrderMetrics(
        status=order.status, lines=lines, total=money(order.total, order.currency), placed_at=order.placed_at), order.currency or cur)


def coupon_evidence(s: Session, *, site: str, coupon_id: int, start: dt.date, end: dt.date) -> TargetEvidence:
    """A coupon's discount, budget, how much of it is spent, and its status."""
    cur = require_site(s, site).currency
    coupon = _owned(s, Coupon, coupon_id, site, "coupon", "list_coupons")
    sku = s.scalar(select(Variant.sku).where(Variant.id == coupon.variant_id))
    return _evidence("coupon", f"coupon #{coupon.id} on SKU '{sku}'", start, end, CouponMetrics(
        kind=coupon.kind, value=money(coupon.value, cur), budget=money(coupon.budget, cur), spent=money(coupon.spent, cur),
        status=coupon.status), cur)


def target_evidence(s: Session, *, site: str, start: dt.date, end: dt.date, **target: Any) -> TargetEvidence:
    """The evidence of the one target named in `target` (one of TARGET_ARGUMENTS, the others None)."""
    named = {k: v for k, v in target.items() if v is not None}
    if len(named) != 1 or not set(named) <= set(TARGET_ARGUMENTS):
        given = ", ".join(sorted(named)) or "none"
        raise ValidationFailed(f"name exactly one target of {', '.join(TARGET_ARGUMENTS)}; got {given}")
    (argument, value), = named.items()
    if argument in ("variant_id", "sku"):
        return sku_evidence(s, site=site, start=start, end=end, **{argument: value})
    finder = {"keyword_id": keyword_evidence, "campaign_id": campaign_evidence, "ad_group_id": ad_group_evidence,
              "product_id": product_evidence, "order_id": order_evidence, "coupon_id": coupon_evidence}[argument]
    return finder(s, site=site, start=start, end=end, **{argument: value})


# ---------------------------------------------------------------- the tool


def _target(what: str) -> Any:
    return Field(description=f"The {what} (name exactly one target)")


Site = Annotated[str, Field(description="Site id the call acts on, e.g. 'us', 'de', 'jp'")]
KeywordTarget = Annotated[Id | None, _target("keyword or auto target")]
CampaignTarget = Annotated[Id | None, _target("campaign")]
AdGroupTarget = Annotated[Id | None, _target("ad group")]
VariantTarget = Annotated[Id | None, _target("variant (a SKU by its id)")]
SkuTarget = Annotated[str | None, Field(min_length=1, max_length=64, description="The SKU by its code (name exactly one target)")]
OrderTarget = Annotated[Id | None, _target("order")]
ProductTarget = Annotated[Id | None, _target("product")]
CouponTarget = Annotated[Id | None, _target("coupon")]
Days = Annotated[int, Field(ge=1, le=365, description="Length of the window in days, ending at end_date")]
WindowEnd = Annotated[str | None, Field(description="Last day of the window, ISO date (default: today)")]


def register(mcp: MarketServer, db: MarketDB, config: ServerConfig) -> None:
    """Add `get_target_evidence` to the analytics server."""

    @mcp.tool(annotations=READ)
    def get_target_evidence(
        site: Site, keyword_id: KeywordTarget = None, campaign_id: CampaignTarget = None,
        ad_group_id: AdGroupTarget = None, variant_id: VariantTarget = None, sku: SkuTarget = None,
        order_id: OrderTarget = None, product_id: ProductTarget = None, coupon_id: CouponTarget = None,
        days: Days = 30, end_date: WindowEnd = None,
    ) -> TargetEvidence:
        """One target's evidence for an approver: its metrics over a window (keyword, campaign, ad group, SKU, product, order, coupon)."""
        end = parse_day(end_date, "end_date") if end_date else config.today()
        start = end - dt.timedelta(days=days - 1)
        with db.reader() as s:
            return target_evidence(s, site=site, start=start, end=end, keyword_id=keyword_id, campaign_id=campaign_id,
                                   ad_group_id=ad_group_id, variant_id=variant_id, sku=sku, order_id=order_id,
                                   product_id=product_id, coupon_id=coupon_id)
