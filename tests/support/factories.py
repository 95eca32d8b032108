"""Small row factories for hand-built market data: tests state only what their answer depends on.

Each takes an open session (`MarketDB(url).session()`), adds one row with sensible defaults,
flushes so the id is known, and returns the model object. Factories of rows the daily rollups sum
(keyword metrics, orders, returns) refresh the rollups of that day, as the servers' writes do.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from servers.market.models import (
    AdGroup,
    AdProfile,
    Campaign,
    CampaignBudgetHour,
    Category,
    Customer,
    InventoryLevel,
    Keyword,
    KeywordDailyMetric,
    NegativeKeyword,
    Order,
    OrderItem,
    Product,
    ProductAd,
    ProductTarget,
    Return,
    Review,
    SearchTermDailyMetric,
    Site,
    Variant,
)
from servers.market.rollups import refresh_rollups

DAY = dt.date(2026, 11, 19)  # the last full day when today is 2026-11-20
NOON = dt.datetime(2026, 11, 19, 12)
_order_numbers = itertools.count(1)


def _add(s: Session, row: Any) -> Any:
    s.add(row)
    s.flush()
    return row


def make_site(s: Session, id: str = "us", *, currency: str = "USD", acos_target: float = 0.30, **kw: Any) -> Site:
    values = {"name": f"Test {id}", "marketplace": f"{id}.example", "region": "NA", "timezone": "UTC", **kw}
    return _add(s, Site(id=id, currency=currency, acos_target=acos_target, **values))


def make_profile(s: Session, site: str = "us", *, platform: str = "amazon", **kw: Any) -> AdProfile:
    return _add(s, AdProfile(site_id=site, platform=platform, account_name=kw.pop("account_name", f"{platform} {site}"), **kw))


def make_campaign(s: Session, site: str = "us", *, name: str = "Test campaign", platform: str = "amazon",
                  campaign_type: str = "SP", targeting: str = "manual", state: str = "enabled",
                  daily_budget: float = 50.0, profile: AdProfile | None = None, **kw: Any) -> Campaign:
    profile = profile or make_profile(s, site, platform=platform)
    return _add(s, Campaign(site_id=site, profile_id=profile.id, platform=platform, name=name,
                            campaign_type=campaign_type, targeting=targeting, state=state, daily_budget=daily_budget,
                            start_date=kw.pop("start_date", dt.date(2026, 1, 1)), **kw))


def make_ad_group(s: Session, campaign: Campaign, *, name: str = "Test ad group", default_bid: float = 1.0,
                  state: str = "enabled") -> AdGroup:
    return _add(s, AdGroup(site_id=campaign.site_id, campaign_id=campaign.id, name=name, default_bid=default_bid, state=state))


def make_keyword(s: Session, campaign: Campaign, *, text: str = "yoga mat", match_type: str = "exact", bid: float = 1.0,
                 state: str = "enabled", ad_group: AdGroup | None = None) -> Keyword:
    ad_group = ad_group or make_ad_group(s, campaign)
    return _add(s, Keyword(site_id=campaign.site_id, campaign_id=campaign.id, ad_group_id=ad_group.id, text=text,
                           match_type=match_type, bid=bid, state=state))


def make_negative(s: Session, campaign: Campaign, *, text: str, match_type: str = "negative_exact",
                  ad_group: AdGroup | None = None) -> NegativeKeyword:
    return _add(s, NegativeKeyword(site_id=campaign.site_id, campaign_id=campaign.id,
                                   ad_group_id=ad_group.id if ad_group else None, text=text, match_type=match_type,
                                   created_at=NOON))


def add_keyword_metrics(s: Session, keyword: Keyword, *, date: dt.date = DAY, impressions: int = 1000, clicks: int = 10,
                        spend: float = 10.0, orders: int = 1, units: int | None = None, sales: float = 30.0) -> KeywordDailyMetric:
    row = _add(s, KeywordDailyMetric(keyword_id=keyword.id, date=date, site_id=keyword.site_id,
                                     campaign_id=keyword.campaign_id, impressions=impressions, clicks=clicks, spend=spend,
                                     orders=orders, units=orders if units is None else units, sales=sales))
    refresh_rollups(s, keyword.site_id, [date])
    return row


def add_search_term(s: Session, campaign: Campaign, ad_group: AdGroup, term: str, *, date: dt.date = DAY,
                    keyword: Keyword | None = None, impressions: int = 500, clicks: int = 10, spend: float = 8.0,
                    orders: int = 2, units: int | None = None, sales: float = 60.0) -> SearchTermDailyMetric:
    return _add(s, SearchTermDailyMetric(site_id=campaign.site_id, campaign_id=campaign.id, ad_group_id=ad_group.id,
                                         keyword_id=keyword.id if keyword else None, search_term=term, date=date,
                                         impressions=impressions, clicks=clicks, spend=spend, orders=orders,
                                         units=orders if units is None else units, sales=sales))


def add_budget_hours(s: Session, campaign: Campaign, hourly_spend: Sequence[float], *, date: dt.date = DAY,
                     budget: float | None = None) -> list[CampaignBudgetHour]:
    """24 hourly rows from a list of spends (shorter lists are padded with zero spend)."""
    budget = campaign.daily_budget if budget is None else budget
    rows, cumulative = [], 0.0
    for hour in range(24):
        spend = hourly_spend[hour] if hour < len(hourly_spend) else 0.0
        cumulative = round(cumulative + spend, 2)
        rows.append(CampaignBudgetHour(campaign_id=campaign.id, date=date, hour=hour, site_id=campaign.site_id,
                                       budget=budget, spend=spend, cumulative_spend=cumulative))
    s.add_all(rows)
    s.flush()
    return rows


def make_category(s: Session, site: str = "us", *, name: str = "Yoga", parent: Category | None = None) -> Category:
    return _add(s, Category(site_id=site, name=name, parent_id=parent.id if parent else None))


def make_product(s: Session, site: str = "us", *, title: str = "Test product", category: Category | None = None,
                 status: str = "active", description: str = "", brand: str = "Testbrand") -> Product:
    return _add(s, Product(site_id=site, category_id=category.id if category else None, title=title, brand=brand,
                           description=description, status=status, created_at=NOON))


def make_variant(s: Session, product: Product, *, sku: str = "SKU-1", price: float = 20.0, cost: float = 8.0,
                 status: str = "active", asin: str = "B000000001", option: str = "") -> Variant:
    return _add(s, Variant(site_id=product.site_id, product_id=product.id, sku=sku, asin=asin, option=option,
                           price=price, cost=cost, status=status))


def make_inventory(s: Session, variant: Variant, *, on_hand: int = 100, velocity_per_day: float = 1.0, reserved: int = 0,
                   inbound: int = 0, lead_time_days: int = 14) -> InventoryLevel:
    return _add(s, InventoryLevel(variant_id=variant.id, site_id=variant.site_id, on_hand=on_hand, reserved=reserved,
                                  inbound=inbound, velocity_per_day=velocity_per_day, lead_time_days=lead_time_days,
                                  updated_at=NOON))


def make_product_ad(s: Session, ad_group: AdGroup, variant: Variant, *, state: str = "enabled") -> ProductAd:
    return _add(s, ProductAd(site_id=ad_group.site_id, campaign_id=ad_group.campaign_id, ad_group_id=ad_group.id,
                             variant_id=variant.id, sku=variant.sku, state=state))


def make_customer(s: Session, site: str = "us", *, name: str = "Jane Doe", email: str = "jane.doe@example.com",
                  phone: str = "+1-555-010-1234", country: str = "US") -> Customer:
    return _add(s, Customer(site_id=site, name=name, email=email, phone=phone, country=country, created_at=NOON))


def make_order(s: Session, customer: Customer, items: Sequence[tuple[Variant, int]], *, status: str = "paid",
               placed_at: dt.datetime = NOON, number: str | None = None, currency: str = "USD") -> Order:
    """An order with one line per (variant, quantity) at the variant's price; total is their sum."""
    total = round(sum(v.price * q for v, q in items), 2)
    order = _add(s, Order(site_id=customer.site_id, number=number or f"T-{next(_order_numbers):06d}",
                          customer_id=customer.id, status=status, placed_at=placed_at, placed_date=placed_at.date(),
                          total=total, currency=currency))
    for v, q in items:
        s.add(OrderItem(order_id=order.id, site_id=customer.site_id, variant_id=v.id, sku=v.sku, quantity=q, unit_price=v.price))
    refresh_rollups(s, order.site_id, [order.placed_date])
    return order


def make_return(s: Session, order: Order, *, variant: Variant | None = None, quantity: int = 1, status: str = "requested",
                reason: str = "changed mind", created_at: dt.datetime = NOON) -> Return:
    """A return of `quantity` units of the order's line for `variant` (default: its first line)."""
    lines = s.scalars(select(OrderItem).where(OrderItem.order_id == order.id).order_by(OrderItem.id)).all()
    item = next(i for i in lines if variant is None or i.variant_id == variant.id)
    row = _add(s, Return(site_id=order.site_id, order_id=order.id, order_item_id=item.id, quantity=quantity, reason=reason,
                         status=status, created_at=created_at))
    refresh_rollups(s, order.site_id, [order.placed_date])
    return row


def make_review(s: Session, product: Product, *, rating: int = 5, title: str = "Nice", body: str = "Works well.",
                author: str = "A. Tester", created_at: dt.datetime = NOON) -> Review:
    return _add(s, Review(site_id=product.site_id, product_id=product.id, rating=rating, title=title, body=body,
                          author=author, created_at=created_at))


def make_product_target(s: Session, ad_group: AdGroup, *, asin: str, bid: float = 1.0,
                        state: str = "enabled") -> ProductTarget:
    return _add(s, ProductTarget(site_id=ad_group.site_id, campaign_id=ad_group.campaign_id, ad_group_id=ad_group.id,
                                 asin=asin.upper(), bid=bid, state=state))
