"""Typed results of the dashboard tools (each becomes the tool's outputSchema)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


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
    sold_7d: int = Field(description="Units on paid, shipped, delivered or returned orders placed in the last 7 days")
    sold_30d: int = Field(description="The same, in the last 30 days")
    pace_change: float | None = Field(description="Last 7 days' daily sales ÷ velocity − 1 (+0.5 = selling 50% faster); "
                                                  "null when the velocity is 0")


class InventoryTotals(BaseModel):
    skus: int
    units_on_hand: int
    units_inbound: int
    at_risk: int
    out_of_stock: int
    out_of_stock_with_live_ads: int
    reorder_units: int
    units_sold_30d: int


class InventoryDashboard(BaseModel):
    site: str
    currency: str = ""
    sold_through: dt.date = Field(description="Last day counted in sold_7d and sold_30d (the day before today)")
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
