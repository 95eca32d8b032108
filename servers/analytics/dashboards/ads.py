"""The ads dashboard and the campaign drill-down, aggregated in SQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, String, and_, cast, func, literal, select, union_all
from sqlalchemy.orm import Session

from servers.analytics.dashboards.models import (
    AdDay,
    AdsDashboard,
    CampaignDrilldown,
    CampaignRow,
    DrillRow,
    PlatformRow,
)
from servers.analytics.dashboards.sql import (
    AD_SUMS,
    ad_kpis,
    ad_sums,
    campaign_filters,
    changes,
    rank_expression,
    ratios,
    sum_of,
)
from servers.common.errors import NotFound
from servers.market import metrics
from servers.market.db import require_site
from servers.market.models import (
    AdGroup,
    Campaign,
    CampaignDailyMetric,
    DailySales,
    Keyword,
    KeywordDailyMetric,
    SearchTermDailyMetric,
)


def ads_dashboard(s: Session, *, site: str, start: dt.date, end: dt.date, platform: str | None = None,
                  campaign_type: str | None = None, state: str | None = None, rank_by: str = "spend",
                  descending: bool = True, limit: int = 20) -> AdsDashboard:
    """KPIs for the range and the one before it, the daily series, platforms side by side, ranked campaigns."""
    site_row = require_site(s, site)
    # Everything here reads the daily rollups (one row per campaign-day, per status-day), not the raw rows.
    m = CampaignDailyMetric
    days = (end - start).days + 1
    prev_end = start - dt.timedelta(days=1)
    prev_start = prev_end - dt.timedelta(days=days - 1)
    filters = campaign_filters(platform, campaign_type, state)

    def scan(*columns: Any) -> Select[Any]:
        """Campaign-day rows of the site; joined to campaigns only when a campaign filter needs it."""
        stmt = select(*columns).select_from(m).where(m.site_id == site)
        return stmt.join(Campaign, Campaign.id == m.campaign_id).where(*filters) if filters else stmt

    # The previous range in one plain pass; the current range comes from the per-campaign aggregate below.
    before = s.execute(scan(*ad_sums(source=m)).where(m.date.between(prev_start, prev_end))).one()
    sold = DailySales
    now_revenue, before_revenue = s.execute(
        select(sum_of(sold.revenue, sold.date >= start), sum_of(sold.revenue, sold.date < start))
        .where(sold.site_id == site, sold.date.between(prev_start, end),
               sold.order_status.in_(metrics.REVENUE_STATUSES))).one()

    daily_rows = s.execute(scan(m.date, *ad_sums(source=m)[:5]).where(m.date.between(start, end)).group_by(m.date).order_by(m.date))
    daily = [AdDay(date=d, impressions=int(i), clicks=int(c), spend=round(sp, 2), sales=round(sa, 2), orders=int(o),
                   acos=metrics.acos(sp, sa)) for d, i, c, sp, sa, o in daily_rows]

    # One aggregate per campaign (computed once), read three ways in one statement told apart by `kind`:
    # the ranked campaign rows, the platform rows, and (as window sums on every platform row) the range totals.
    per = (
        select(m.campaign_id.label("campaign_id"), *(x.label(n) for x, n in zip(ad_sums(source=m), (*AD_SUMS, "units"), strict=True)))
        .where(m.site_id == site, m.date.between(start, end)).group_by(m.campaign_id)
        .cte("per_campaign").prefix_with("MATERIALIZED", dialect="sqlite")
    )
    totals = [func.coalesce(per.c[n], 0) for n in AD_SUMS]
    joined = select().select_from(Campaign).join(per, per.c.campaign_id == Campaign.id, isouter=True).where(
        Campaign.site_id == site, *filters)
    rank = rank_expression(rank_by, *totals)
    ranked = joined.add_columns(
        Campaign.id.label("id"), *totals, func.count().over().label("total"),
        func.row_number().over(order_by=((rank.desc() if descending else rank.asc()).nulls_last(), Campaign.id)).label("rn"),
    ).subquery()
    campaign_part = select(literal("campaign").label("kind"), cast(ranked.c.id, String).label("key"), *list(ranked.c)[1:6],
                           ranked.c.total, ranked.c.rn, *(literal(0) for _ in range(6))).where(ranked.c.rn <= limit)
    platform_sums = [func.sum(x) for x in (*totals, func.coalesce(per.c.units, 0))]
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
    kpis = ad_kpis(current, now_revenue)
    previous = ad_kpis(before, before_revenue)

    ranked_rows = sorted((r for r in rows if r.kind == "campaign"), key=lambda r: r.rn)
    by_id = {c.id: c for c in s.scalars(select(Campaign).where(Campaign.id.in_([int(r.key) for r in ranked_rows])))}
    campaign_rows = [(by_id[int(r.key)], *r[2:7], r.total) for r in ranked_rows]
    campaigns = [
        CampaignRow(id=c.id, name=c.name, platform=c.platform, campaign_type=c.campaign_type, targeting=c.targeting,
                    state=c.state, daily_budget=c.daily_budget, impressions=int(i), clicks=int(k), spend=round(sp, 2),
                    sales=round(sa, 2), orders=int(o), **ratios(i, k, sp, sa, o))
        for c, i, k, sp, sa, o, _ in campaign_rows
    ]
    total = campaign_rows[0][-1] if campaign_rows else 0
    return AdsDashboard(
        site=site, currency=site_row.currency, acos_target=site_row.acos_target, start_date=start, end_date=end,
        previous_start=prev_start, previous_end=prev_end, kpis=kpis, previous=previous,
        changes=changes(kpis, previous, ("spend", "sales", "orders", "acos", "roas", "tacos", "ctr", "cvr", "cpc")),
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
    sums = ad_sums()[:5]

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
    st_sums = [sum_of(st.impressions), sum_of(st.clicks), sum_of(st.spend), sum_of(st.sales), sum_of(st.orders)]
    terms = s.execute(
        select(st.search_term, *st_sums).where(*st_where).group_by(st.search_term)
        .order_by(st_sums[2].desc(), st.search_term).limit(limit)
    )
    search_terms = [_drill_row(None, t, *v) for t, *v in terms]
    return CampaignDrilldown(site=site, campaign_id=campaign_id, campaign_name=campaign.name, ad_group_id=ad_group_id,
                             keyword_id=keyword_id, start_date=start, end_date=end, ad_groups=ad_groups,
                             keywords=keywords, search_terms=search_terms)
