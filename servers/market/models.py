"""The simulated marketplace: the "external system" the bundled servers stand in front of."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Site(Base):
    __tablename__ = "sites"
    id: Mapped[str] = mapped_column(String(8), primary_key=True)  # us, de, jp
    name: Mapped[str] = mapped_column(String(80))
    marketplace: Mapped[str] = mapped_column(String(80))  # amazon.com, amazon.de ...
    region: Mapped[str] = mapped_column(String(4))  # NA, EU, FE
    currency: Mapped[str] = mapped_column(String(3))
    timezone: Mapped[str] = mapped_column(String(40))
    acos_target: Mapped[float] = mapped_column(Float, default=0.30)


class AdProfile(Base):
    __tablename__ = "ad_profiles"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))  # amazon, meta, google
    account_name: Mapped[str] = mapped_column(String(120))
    account_type: Mapped[str] = mapped_column(String(16), default="seller")


class Campaign(Base):
    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("ad_profiles.id"))
    platform: Mapped[str] = mapped_column(String(16))  # amazon, meta, google
    name: Mapped[str] = mapped_column(String(200))
    campaign_type: Mapped[str] = mapped_column(String(4))  # SP, SB, SD
    targeting: Mapped[str] = mapped_column(String(8))  # auto, manual
    state: Mapped[str] = mapped_column(String(12), default="enabled")  # enabled, paused, archived
    daily_budget: Mapped[float] = mapped_column(Float)
    start_date: Mapped[dt.date] = mapped_column(Date)


class AdGroup(Base):
    __tablename__ = "ad_groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    default_bid: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(12), default="enabled")


class Keyword(Base):
    __tablename__ = "keywords"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    ad_group_id: Mapped[int] = mapped_column(ForeignKey("ad_groups.id"), index=True)
    text: Mapped[str] = mapped_column(String(200))
    match_type: Mapped[str] = mapped_column(String(8))  # exact, phrase, broad
    bid: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(12), default="enabled")


class NegativeKeyword(Base):
    __tablename__ = "negative_keywords"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    ad_group_id: Mapped[int | None] = mapped_column(ForeignKey("ad_groups.id"))  # None: campaign level
    text: Mapped[str] = mapped_column(String(200))
    match_type: Mapped[str] = mapped_column(String(16))  # negative_exact, negative_phrase
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class KeywordDailyMetric(Base):
    __tablename__ = "keyword_daily_metrics"
    keyword_id: Mapped[int] = mapped_column(ForeignKey("keywords.id"), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    site_id: Mapped[str] = mapped_column(String(8))
    campaign_id: Mapped[int] = mapped_column(Integer)
    impressions: Mapped[int] = mapped_column(Integer)
    clicks: Mapped[int] = mapped_column(Integer)
    spend: Mapped[float] = mapped_column(Float)
    orders: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer)
    sales: Mapped[float] = mapped_column(Float)
    __table_args__ = (
        Index("ix_kdm_site_date", "site_id", "date"),
        Index("ix_kdm_campaign_date", "campaign_id", "date"),
        # Covering indexes: per-keyword and per-campaign aggregation over a date range reads only the index.
        Index("ix_kdm_site_keyword_cover", "site_id", "keyword_id", "date", "impressions", "clicks", "spend", "orders", "units", "sales"),
        Index("ix_kdm_site_campaign_cover", "site_id", "campaign_id", "date", "impressions", "clicks", "spend", "orders", "units", "sales"),
    )


class CampaignBudgetHour(Base):
    """Spend per hour of day, so 'the budget ran out at 14:00' is answerable."""

    __tablename__ = "campaign_budget_hours"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0..23, site local time
    site_id: Mapped[str] = mapped_column(String(8))
    budget: Mapped[float] = mapped_column(Float)
    spend: Mapped[float] = mapped_column(Float)
    cumulative_spend: Mapped[float] = mapped_column(Float)
    __table_args__ = (Index("ix_cbh_site_date", "site_id", "date"),)


class SearchTermDailyMetric(Base):
    __tablename__ = "search_term_daily_metrics"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(String(8))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    ad_group_id: Mapped[int] = mapped_column(ForeignKey("ad_groups.id"))
    keyword_id: Mapped[int | None] = mapped_column(ForeignKey("keywords.id"))  # None: auto targeting
    search_term: Mapped[str] = mapped_column(String(200))
    date: Mapped[dt.date] = mapped_column(Date)
    impressions: Mapped[int] = mapped_column(Integer)
    clicks: Mapped[int] = mapped_column(Integer)
    spend: Mapped[float] = mapped_column(Float)
    orders: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer)
    sales: Mapped[float] = mapped_column(Float)
    __table_args__ = (
        Index("ix_stdm_site_date", "site_id", "date"),
        Index("ix_stdm_campaign_term", "campaign_id", "search_term"),
    )


class Category(Base):
    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    title: Mapped[str] = mapped_column(String(300))
    brand: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="active")  # active, draft, archived
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Variant(Base):
    __tablename__ = "variants"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    asin: Mapped[str] = mapped_column(String(16))
    option: Mapped[str] = mapped_column(String(120), default="")  # "Red / M"
    price: Mapped[float] = mapped_column(Float)
    cost: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(12), default="active")  # active, inactive
    __table_args__ = (UniqueConstraint("site_id", "sku", name="uq_variant_site_sku"),)


class ProductAd(Base):
    """Which SKU an ad group advertises; out-of-stock SKUs with live ads are found through this."""

    __tablename__ = "product_ads"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    ad_group_id: Mapped[int] = mapped_column(ForeignKey("ad_groups.id"), index=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12), default="enabled")


class ProductTarget(Base):
    """A manual ad group's bid on shoppers viewing one product (an ASIN): Amazon's product targeting."""

    __tablename__ = "product_targets"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    ad_group_id: Mapped[int] = mapped_column(ForeignKey("ad_groups.id"), index=True)
    asin: Mapped[str] = mapped_column(String(16))  # upper case, e.g. B0CX23V2ZK
    bid: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(12), default="enabled")


class InventoryLevel(Base):
    __tablename__ = "inventory_levels"
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    on_hand: Mapped[int] = mapped_column(Integer)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    inbound: Mapped[int] = mapped_column(Integer, default=0)
    velocity_per_day: Mapped[float] = mapped_column(Float)  # units sold per day, trailing 30 days
    lead_time_days: Mapped[int] = mapped_column(Integer, default=14)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(40))
    country: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    # pending -> paid -> shipped -> delivered; pending/paid -> cancelled; delivered -> returned
    status: Mapped[str] = mapped_column(String(12))
    placed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    placed_date: Mapped[dt.date] = mapped_column(Date)  # denormalised for per-day aggregation in SQL
    total: Mapped[float] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(3))
    shipped_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    carrier: Mapped[str | None] = mapped_column(String(40))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (Index("ix_orders_site_date", "site_id", "placed_date"), Index("ix_orders_site_status", "site_id", "status"))


class OrderItem(Base):
    __tablename__ = "order_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    site_id: Mapped[str] = mapped_column(String(8))
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[float] = mapped_column(Float)


class Return(Base):
    __tablename__ = "returns"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    order_item_id: Mapped[int] = mapped_column(ForeignKey("order_items.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))  # requested, confirmed, rejected, refunded
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class DiscountCode(Base):
    __tablename__ = "discount_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))  # percent, fixed
    value: Mapped[float] = mapped_column(Float)
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ends_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    usage_limit: Mapped[int | None] = mapped_column(Integer)
    used_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default="active")  # active, disabled, expired
    __table_args__ = (UniqueConstraint("site_id", "code", name="uq_discount_site_code"),)


class Coupon(Base):
    """A marketplace coupon clipped on a product page (Amazon-style), with its own budget."""

    __tablename__ = "coupons"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"))
    kind: Mapped[str] = mapped_column(String(10))  # percent, fixed
    value: Mapped[float] = mapped_column(Float)
    budget: Mapped[float] = mapped_column(Float)
    spent: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(12), default="active")  # active, paused, ended
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ends_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Review(Base):
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    rating: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    __table_args__ = (Index("ix_reviews_site_created", "site_id", "created_at"),)


class ProductImport(Base):
    """A product import: `analyze` stores a draft, `commit` (approved) writes the products."""

    __tablename__ = "product_imports"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))  # draft, committed
    source_name: Mapped[str] = mapped_column(String(200))
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    problems: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    committed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


# ---------------------------------------------------------------- daily rollups (derived; see servers/market/rollups.py)
# Sums of the raw rows per day, kept in the same transaction as every write that changes those rows, so the
# dashboards read thousands of rows instead of a million. Clustered on (site, date, ...) as they are read.


class CampaignDailyMetric(Base):
    """keyword_daily_metrics summed per campaign and day."""

    __tablename__ = "campaign_daily_metrics"
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    impressions: Mapped[int] = mapped_column(Integer)
    clicks: Mapped[int] = mapped_column(Integer)
    spend: Mapped[float] = mapped_column(Float)
    sales: Mapped[float] = mapped_column(Float)
    orders: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer)
    __table_args__ = {"sqlite_with_rowid": False}


class DailySales(Base):
    """Orders per day placed and order status: count, order totals, units, and returned units (returns not rejected)."""

    __tablename__ = "daily_sales"
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # the orders' placed_date
    order_status: Mapped[str] = mapped_column(String(12), primary_key=True)
    orders: Mapped[int] = mapped_column(Integer)
    revenue: Mapped[float] = mapped_column(Float)  # sum of orders.total
    units: Mapped[int] = mapped_column(Integer)
    returned_units: Mapped[int] = mapped_column(Integer)
    __table_args__ = {"sqlite_with_rowid": False}


class VariantDailySales(Base):
    """Order lines per day placed, order status and variant: lines, units, line revenue, returned units."""

    __tablename__ = "variant_daily_sales"
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # the orders' placed_date
    order_status: Mapped[str] = mapped_column(String(12), primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"), primary_key=True)
    lines: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer)
    revenue: Mapped[float] = mapped_column(Float)  # sum of quantity × unit_price
    returned_units: Mapped[int] = mapped_column(Integer)
    __table_args__ = {"sqlite_with_rowid": False}


class AppliedWrite(Base):
    """Idempotency ledger: a write with a key already here is answered from here, not applied again."""

    __tablename__ = "applied_writes"
    idempotency_key: Mapped[str] = mapped_column(String(120), primary_key=True)
    tool: Mapped[str] = mapped_column(String(80))
    site_id: Mapped[str] = mapped_column(String(8))
    arguments_hash: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    applied_at: Mapped[dt.datetime] = mapped_column(DateTime)
    # "applied", or "refused" for an approved write the server turned down (its code and message in `result`):
    # either way the nonce is spent.
    outcome: Mapped[str] = mapped_column(String(16), default="applied", server_default="applied")
