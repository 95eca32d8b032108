"""Search terms, performance series and reports: read-only views aggregated in SQL."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import select

from servers.ads.models import (
    Descending,
    EndDate,
    Limit,
    MetricName,
    Offset,
    Performance,
    PerformancePoint,
    Platform,
    Report,
    SearchTermList,
    Site,
    StartDate,
    Targeting,
)
from servers.ads.queries import (
    KDM,
    in_window,
    owned,
    query_campaigns,
    query_keywords,
    query_search_terms,
    window,
)
from servers.ads.sql import metric_columns, metric_values, order_by, page, sums, week_start
from servers.common.config import ServerConfig
from servers.common.inputs import Count, Id
from servers.common.server import READ, MarketServer
from servers.market.db import MarketDB, require_site
from servers.market.models import Campaign, Keyword

GroupBy = Literal["day", "week", "campaign", "platform"]
ReportType = Literal["campaigns", "keywords", "search_terms"]
SortBy = Annotated[MetricName, Field(description="Metric to sort on")]


def _calendar(group_by: str, start: dt.date, end: dt.date) -> list[dt.date]:
    """Every day (or every Monday) of the range, so a series has no silent gaps."""
    first = start if group_by == "day" else start - dt.timedelta(days=start.weekday())
    step = dt.timedelta(days=1 if group_by == "day" else 7)
    days = []
    while first <= end:
        days.append(first)
        first += step
    return days


def register(mcp: MarketServer, db: MarketDB, config: ServerConfig) -> None:
    @mcp.tool(annotations=READ)
    def get_search_terms(
        site: Site,
        campaign_id: Annotated[Id | None, Field(description="Only this campaign's search terms")] = None,
        ad_group_id: Annotated[Id | None, Field(description="Only this ad group's search terms")] = None,
        keyword_id: Annotated[Id | None, Field(description="Only terms this keyword matched")] = None,
        targeting: Annotated[Targeting | None, Field(description="Only auto or only manual campaigns")] = None,
        term_contains: Annotated[str | None, Field(max_length=200, description="Case-insensitive substring of the term")] = None,
        min_orders: Annotated[Count | None, Field(description="Only terms with at least this many orders")] = None,
        min_clicks: Annotated[Count | None, Field(description="Only terms with at least this many clicks")] = None,
        in_manual_campaign: Annotated[bool | None, Field(description="true: only terms already keywords of a manual campaign; false: only terms that are not")] = None,
        start_date: StartDate = None,
        end_date: EndDate = None,
        sort_by: SortBy = "spend",
        descending: Descending = True,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> SearchTermList:
        """List the shopper search terms that triggered ads, with metrics and whether a manual campaign targets them."""
        start, end = window(config, start_date, end_date)
        with db.reader() as s:
            require_site(s, site)
            found = query_search_terms(
                s, site=site, start=start, end=end, campaign_id=campaign_id, ad_group_id=ad_group_id,
                keyword_id=keyword_id, targeting=targeting, term_contains=term_contains, min_orders=min_orders,
                min_clicks=min_clicks, in_manual_campaign=in_manual_campaign, sort_by=sort_by,
                descending=descending, limit=limit, offset=offset,
            )
        return SearchTermList(site=site, start_date=start.isoformat(), end_date=end.isoformat(), total=found.total,
                              totals=found.totals,
                              search_terms=found.rows)

    @mcp.tool(annotations=READ)
    def get_performance(
        site: Site,
        group_by: Annotated[GroupBy, Field(description="One point per day, ISO week, campaign or platform")] = "day",
        campaign_id: Annotated[Id | None, Field(description="Only this campaign")] = None,
        keyword_id: Annotated[Id | None, Field(description="Only this keyword")] = None,
        platform: Platform | None = None,
        start_date: StartDate = None,
        end_date: EndDate = None,
    ) -> Performance:
        """Show ad totals and a series by day, week, campaign or platform for a site, campaign or keyword."""
        start, end = window(config, start_date, end_date)
        where: list[Any] = in_window(KDM, site, start, end)
        needs_campaign = platform is not None or group_by == "platform"
        with db.reader() as s:
            currency = require_site(s, site).currency
            if campaign_id is not None:
                owned(s, Campaign, campaign_id, site, "list_campaigns")
                where.append(KDM.campaign_id == campaign_id)
            if keyword_id is not None:
                owned(s, Keyword, keyword_id, site, "list_keywords")
                where.append(KDM.keyword_id == keyword_id)
            if platform is not None:
                where.append(Campaign.platform == platform)

            key = {"day": KDM.date, "week": week_start(KDM.date), "campaign": KDM.campaign_id,
                   "platform": Campaign.platform}[group_by]
            per_key = select(key.label("key"), *sums(KDM)).where(*where).group_by(key)
            if needs_campaign:
                per_key = per_key.join(Campaign, Campaign.id == KDM.campaign_id)
            points = per_key.subquery()
            metrics = metric_columns(points)
            stmt = select(points.c.key, *metrics.values())
            if group_by == "campaign":
                stmt = stmt.add_columns(Campaign.name.label("label")).join(Campaign, Campaign.id == points.c.key)
            stmt = stmt.order_by(points.c.key) if group_by in ("day", "week") else stmt.order_by(
                order_by(metrics["spend"], True), points.c.key)
            # One scan: the points, and (as window sums over them) the totals.
            found = page(s, stmt, metrics, limit=None, offset=0)

        if group_by in ("day", "week"):
            by_day = {r["key"]: r for r in found.rows}
            series = [
                PerformancePoint(key=day.isoformat(), label=day.isoformat() if group_by == "day" else f"week of {day}",
                                 **(metric_values(by_day[day]) if day in by_day else {}))
                for day in _calendar(group_by, start, end)
            ]
        else:
            series = [PerformancePoint(key=str(r["key"]), label=str(r.get("label") or r["key"]), **metric_values(r))
                      for r in found.rows]
        return Performance(site=site, currency=currency, start_date=start.isoformat(), end_date=end.isoformat(),
                           group_by=group_by, totals=found.totals, series=series)

    @mcp.tool(annotations=READ)
    def generate_report(
        site: Site,
        report_type: Annotated[ReportType, Field(description="campaigns, keywords or search_terms")],
        start_date: StartDate = None,
        end_date: EndDate = None,
        sort_by: SortBy = "spend",
        limit: Limit = 100,
    ) -> Report:
        """Build a campaigns, keywords or search-terms report over a date range: rows plus totals (read-only)."""
        start, end = window(config, start_date, end_date)
        scope: dict[str, Any] = {"site": site, "start": start, "end": end}
        with db.reader() as s:
            currency = require_site(s, site).currency
            query = {"campaigns": query_campaigns, "keywords": query_keywords, "search_terms": query_search_terms}
            found = query[report_type](s, **scope, sort_by=sort_by, limit=limit)
        return Report(site=site, currency=currency, report_type=report_type, start_date=start.isoformat(),
                      end_date=end.isoformat(), total=found.total, totals=found.totals, rows=found.rows)
