"""The ads list queries, shared by the list tools and generate_report: filter, aggregate, sort, page in SQL."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, func, select, union
from sqlalchemy.orm import Session

from servers.ads.models import AdGroupRow, CampaignRow, KeywordRow, SearchTermRow
from servers.ads.sql import Page, metric_columns, metric_values, order_by, page, sums
from servers.common.config import ServerConfig
from servers.common.errors import NotFound
from servers.market.db import parse_date_range
from servers.market.models import (
    AdGroup,
    Base,
    Campaign,
    Keyword,
    KeywordDailyMetric,
    NegativeKeyword,
    ProductTarget,
    SearchTermDailyMetric,
)

Row = TypeVar("Row", bound=Base)
KDM = KeywordDailyMetric
STDM = SearchTermDailyMetric


def window(config: ServerConfig, start_date: str | None, end_date: str | None) -> tuple[dt.date, dt.date]:
    """The inclusive date range of a read: the last 30 days ending today unless given."""
    return parse_date_range(start_date, end_date, today=config.today())


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """Case-insensitive substring match that treats % and _ in the text literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def in_window(table: Any, site: str, start: dt.date, end: dt.date) -> list[ColumnElement[bool]]:
    return [table.site_id == site, table.date >= start, table.date <= end]


def owned(session: Session, model: type[Row], object_id: int, site: str, lister: str) -> Row:
    """The row with this id on this site, or NOT_FOUND naming the tool that lists valid ids."""
    row = session.get(model, object_id)
    if row is None or getattr(row, "site_id", None) != site:
        noun = str(model.__tablename__).rstrip("s").replace("_", " ")
        raise NotFound(f"{noun} {object_id} does not exist on site {site}; {lister} shows the ids")
    return row


def query_campaigns(
    session: Session, *, site: str, start: dt.date, end: dt.date, platform: str | None = None,
    campaign_type: str | None = None, targeting: str | None = None, state: str | None = None,
    name_contains: str | None = None, sort_by: str = "spend", descending: bool = True, limit: int = 50, offset: int = 0,
) -> Page:
    """Campaigns of a site with their metrics over the window."""
    per_campaign = (
        select(KDM.campaign_id, *sums(KDM)).where(*in_window(KDM, site, start, end)).group_by(KDM.campaign_id).subquery()
    )
    metrics = metric_columns(per_campaign)
    stmt = (
        select(Campaign, *metrics.values())
        .outerjoin(per_campaign, per_campaign.c.campaign_id == Campaign.id)
        .where(Campaign.site_id == site)
        .order_by(order_by(metrics[sort_by], descending), Campaign.id)
    )
    for column, value in ((Campaign.platform, platform), (Campaign.campaign_type, campaign_type),
                          (Campaign.targeting, targeting), (Campaign.state, state)):
        if value is not None:
            stmt = stmt.where(column == value)
    if name_contains:
        stmt = stmt.where(contains(Campaign.name, name_contains))
    found = page(session, stmt, metrics, limit=limit, offset=offset)
    return Page(found.total, found.totals, [
        CampaignRow(
            id=c.id, name=c.name, platform=c.platform, campaign_type=c.campaign_type, targeting=c.targeting,
            state=c.state, daily_budget=c.daily_budget, profile_id=c.profile_id, start_date=c.start_date.isoformat(),
            **metric_values(r),
        )
        for r in found.rows
        for c in [r["Campaign"]]
    ])


def query_ad_groups(
    session: Session, *, site: str, start: dt.date, end: dt.date, campaign_id: int | None = None,
    state: str | None = None, name_contains: str | None = None, sort_by: str = "spend", descending: bool = True,
    limit: int = 50, offset: int = 0,
) -> Page:
    """Ad groups of a site with their keywords' metrics over the window."""
    per_group = (
        select(Keyword.ad_group_id, *sums(KDM))
        .join(Keyword, Keyword.id == KDM.keyword_id)
        .where(*in_window(KDM, site, start, end))
        .group_by(Keyword.ad_group_id)
        .subquery()
    )
    metrics = metric_columns(per_group)
    stmt = (
        select(AdGroup, Campaign.name.label("campaign_name"), *metrics.values())
        .join(Campaign, Campaign.id == AdGroup.campaign_id)
        .outerjoin(per_group, per_group.c.ad_group_id == AdGroup.id)
        .where(AdGroup.site_id == site)
        .order_by(order_by(metrics[sort_by], descending), AdGroup.id)
    )
    if campaign_id is not None:
        owned(session, Campaign, campaign_id, site, "list_campaigns")
        stmt = stmt.where(AdGroup.campaign_id == campaign_id)
    if state is not None:
        stmt = stmt.where(AdGroup.state == state)
    if name_contains:
        stmt = stmt.where(contains(AdGroup.name, name_contains))
    found = page(session, stmt, metrics, limit=limit, offset=offset)
    return Page(found.total, found.totals, [
        AdGroupRow(id=g.id, campaign_id=g.campaign_id, campaign_name=r["campaign_name"], name=g.name,
                   default_bid=g.default_bid, state=g.state, **metric_values(r))
        for r in found.rows
        for g in [r["AdGroup"]]
    ])


def query_keywords(
    session: Session, *, site: str, start: dt.date, end: dt.date, campaign_id: int | None = None,
    ad_group_id: int | None = None, state: str | None = None, match_type: str | None = None,
    text_contains: str | None = None, min_acos: float | None = None, max_acos: float | None = None,
    min_spend: float | None = None, zero_orders_only: bool = False, sort_by: str = "spend",
    descending: bool = True, limit: int = 50, offset: int = 0,
) -> Page:
    """Keywords of a site with their metrics over the window; metric filters apply to the window's sums."""
    per_keyword = (
        select(KDM.keyword_id, *sums(KDM)).where(*in_window(KDM, site, start, end)).group_by(KDM.keyword_id).subquery()
    )
    metrics = metric_columns(per_keyword)
    stmt = (
        select(Keyword, Campaign.name.label("campaign_name"), *metrics.values())
        .join(Campaign, Campaign.id == Keyword.campaign_id)
        .outerjoin(per_keyword, per_keyword.c.keyword_id == Keyword.id)
        .where(Keyword.site_id == site)
        .order_by(order_by(metrics[sort_by], descending), Keyword.id)
    )
    if campaign_id is not None:
        owned(session, Campaign, campaign_id, site, "list_campaigns")
        stmt = stmt.where(Keyword.campaign_id == campaign_id)
    if ad_group_id is not None:
        owned(session, AdGroup, ad_group_id, site, "list_ad_groups")
        stmt = stmt.where(Keyword.ad_group_id == ad_group_id)
    for column, value in ((Keyword.state, state), (Keyword.match_type, match_type)):
        if value is not None:
            stmt = stmt.where(column == value)
    if text_contains:
        stmt = stmt.where(contains(Keyword.text, text_contains))
    if min_acos is not None:
        stmt = stmt.where(metrics["acos"] >= min_acos)
    if max_acos is not None:
        stmt = stmt.where(metrics["acos"] <= max_acos)
    if min_spend is not None:
        stmt = stmt.where(metrics["spend"] >= min_spend)
    if zero_orders_only:
        stmt = stmt.where(metrics["orders"] == 0)
    found = page(session, stmt, metrics, limit=limit, offset=offset)
    return Page(found.total, found.totals, [
        KeywordRow(id=k.id, campaign_id=k.campaign_id, campaign_name=r["campaign_name"], ad_group_id=k.ad_group_id,
                   text=k.text, match_type=k.match_type, bid=k.bid, state=k.state, **metric_values(r))
        for r in found.rows
        for k in [r["Keyword"]]
    ])


def query_search_terms(
    session: Session, *, site: str, start: dt.date, end: dt.date, campaign_id: int | None = None,
    ad_group_id: int | None = None, keyword_id: int | None = None, targeting: str | None = None,
    term_contains: str | None = None, min_orders: int | None = None, min_clicks: int | None = None,
    in_manual_campaign: bool | None = None, sort_by: str = "spend", descending: bool = True,
    limit: int = 50, offset: int = 0,
) -> Page:
    """Search terms per campaign, ad group and keyword, with their metrics over the window."""
    where = in_window(STDM, site, start, end)
    if campaign_id is not None:
        owned(session, Campaign, campaign_id, site, "list_campaigns")
        where.append(STDM.campaign_id == campaign_id)
    if ad_group_id is not None:
        owned(session, AdGroup, ad_group_id, site, "list_ad_groups")
        where.append(STDM.ad_group_id == ad_group_id)
    if keyword_id is not None:
        owned(session, Keyword, keyword_id, site, "list_keywords")
        where.append(STDM.keyword_id == keyword_id)
    if term_contains:
        where.append(contains(STDM.search_term, term_contains))
    keys = (STDM.campaign_id, STDM.ad_group_id, STDM.keyword_id, STDM.search_term)
    per_term = select(*keys, *sums(STDM)).where(*where).group_by(*keys).subquery()
    metrics = metric_columns(per_term)
    # Joined once per query (not correlated per row): the texts already targeted by manual keywords (an ASIN also
    # by a product target), and the texts each campaign already excludes.
    manual_texts = union(
        select(func.lower(Keyword.text).label("text"))
        .join(Campaign, Campaign.id == Keyword.campaign_id)
        .where(Keyword.site_id == site, Keyword.state != "archived", Campaign.targeting == "manual"),
        select(func.lower(ProductTarget.asin).label("text"))
        .join(Campaign, Campaign.id == ProductTarget.campaign_id)
        .where(ProductTarget.site_id == site, ProductTarget.state != "archived", Campaign.targeting == "manual"),
    ).subquery()
    negated_texts = (
        select(NegativeKeyword.campaign_id, func.lower(NegativeKeyword.text).label("text"))
        .where(NegativeKeyword.site_id == site)
        .distinct()
        .subquery()
    )
    term = func.lower(per_term.c.search_term)
    in_manual = manual_texts.c.text.is_not(None)
    stmt = (
        select(per_term.c.campaign_id, per_term.c.ad_group_id, per_term.c.keyword_id, per_term.c.search_term,
               Campaign.name.label("campaign_name"), Campaign.targeting, Keyword.text.label("keyword_text"),
               in_manual.label("in_manual_campaign"), negated_texts.c.text.is_not(None).label("negated_in_campaign"),
               *metrics.values())
        .join(Campaign, Campaign.id == per_term.c.campaign_id)
        .outerjoin(Keyword, Keyword.id == per_term.c.keyword_id)
        .outerjoin(manual_texts, manual_texts.c.text == term)
        .outerjoin(negated_texts, and_(negated_texts.c.campaign_id == per_term.c.campaign_id, negated_texts.c.text == term))
        .order_by(order_by(metrics[sort_by], descending), per_term.c.search_term, per_term.c.campaign_id,
                  per_term.c.ad_group_id, per_term.c.keyword_id)
    )
    if targeting is not None:
        stmt = stmt.where(Campaign.targeting == targeting)
    if min_orders is not None:
        stmt = stmt.where(metrics["orders"] >= min_orders)
    if min_clicks is not None:
        stmt = stmt.where(metrics["clicks"] >= min_clicks)
    if in_manual_campaign is not None:
        stmt = stmt.where(in_manual if in_manual_campaign else manual_texts.c.text.is_(None))
    found = page(session, stmt, metrics, limit=limit, offset=offset)
    return Page(found.total, found.totals, [
        SearchTermRow(search_term=r["search_term"], campaign_id=r["campaign_id"], campaign_name=r["campaign_name"],
                      targeting=r["targeting"], ad_group_id=r["ad_group_id"], keyword_id=r["keyword_id"],
                      keyword_text=r["keyword_text"], in_manual_campaign=bool(r["in_manual_campaign"]),
                      negated_in_campaign=bool(r["negated_in_campaign"]), **metric_values(r))
        for r in found.rows
    ])
