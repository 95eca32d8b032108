"""Dashboard read tools of the analytics server: ads, campaign drill-down, inventory and sales, aggregated in SQL."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field

from servers.analytics.dashboards.ads import ads_dashboard, campaign_drilldown
from servers.analytics.dashboards.inventory import inventory_dashboard
from servers.analytics.dashboards.models import AdsDashboard, CampaignDrilldown, InventoryDashboard, SalesDashboard
from servers.analytics.dashboards.sales import sales_dashboard
from servers.common.config import ServerConfig
from servers.common.inputs import INT_MAX, Id
from servers.common.server import READ, MarketServer
from servers.market import metrics
from servers.market.db import MarketDB, parse_date_range

Site = Annotated[str, Field(description="Site id the call acts on, e.g. 'us', 'de', 'jp'")]
StartDate = Annotated[str | None, Field(description="First day, ISO date (default: 30 days before end_date)")]
EndDate = Annotated[str | None, Field(description="Last day, ISO date (default: today)")]
Limit = Annotated[int, Field(ge=1, le=500, description="Most rows to return")]
RankBy = Literal["spend", "sales", "orders", "clicks", "impressions", "acos", "roas", "ctr", "cvr", "cpc"]


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
        campaign_id: Annotated[Id, Field(description="The campaign (get_ads_dashboard lists them)")],
        ad_group_id: Annotated[Id | None, Field(description="Narrow keywords and search terms to this ad group")] = None,
        keyword_id: Annotated[Id | None, Field(description="Narrow search terms to this keyword")] = None,
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
        sort_by: Annotated[Literal["days_of_supply", "reorder_quantity", "velocity_per_day", "available", "sku", "sold_30d"],
                           Field(description="Column the SKU list is sorted by")] = "days_of_supply",
        descending: bool = False,
        limit: Limit = 100,
        offset: Annotated[int, Field(ge=0, le=INT_MAX)] = 0,
    ) -> InventoryDashboard:
        """Stock, days of supply, velocity, units sold (7/30 days) and reorder suggestions per SKU; at-risk and out-of-stock SKUs with live ads."""
        with db.reader() as s:
            return inventory_dashboard(s, site=site, today=config.today(), days_threshold=days_threshold, safety_days=safety_days,
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


__all__ = ["ads_dashboard", "campaign_drilldown", "inventory_dashboard", "register", "sales_dashboard"]
