"""Playbook finders over the ads data (DESIGN.md §6): ACOS alerts, harvest candidates, wasted spend, budget pacing.

Query functions are keyword-only, take a session and aggregate in SQL; Python only shapes the page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from servers.analytics.common import ad_sums, money, money_digits, paged, ratio, total_of, usd
from servers.analytics.models import (
    AcosAlert,
    AcosAlerts,
    BudgetPacing,
    BudgetPacingReport,
    HarvestCandidate,
    HarvestCandidates,
    WastedSpend,
    WastedSpendReport,
)
from servers.market import metrics
from servers.market.db import require_site
from servers.market.models import (
    AdGroup,
    Campaign,
    CampaignBudgetHour,
    Keyword,
    KeywordDailyMetric,
    NegativeKeyword,
    ProductAd,
    SearchTermDailyMetric,
)

UNDER_TARGET = 0.5  # ACOS under half the target (with a few orders) is room to bid up
RAISE_STEP = 1.15


def _sums_of(agg: Any) -> list[Any]:
    return [agg.c.impressions, agg.c.clicks, agg.c.spend, agg.c.sales, agg.c.orders]


def _keyword_sums(site: str, start: dt.date, end: dt.date) -> Any:
    m = KeywordDailyMetric
    return (select(m.keyword_id.label("keyword_id"), *ad_sums(m))
            .where(m.site_id == site, m.date.between(start, end)).group_by(m.keyword_id).subquery())


def acos_alerts(s: Session, *, site: str, start: dt.date, end: dt.date, level: str = "keyword",
                threshold: float | None = None, direction: str = "over", min_spend: float = 0.0,
                platform: str | None = None, campaign_id: int | None = None, include_paused: bool = False,
                sort_by: str = "acos", descending: bool = True, limit: int = 50, offset: int = 0) -> AcosAlerts:
    """Keywords (or campaigns) whose ACOS is over the threshold (default: the site's target) or far under it."""
    site_row = require_site(s, site)
    target, cur = site_row.acos_target, site_row.currency
    threshold = target if threshold is None else threshold
    m = KeywordDailyMetric
    if level == "keyword":
        agg = _keyword_sums(site, start, end)
        base = (select(Keyword.id, Keyword.text, Keyword.match_type, Keyword.state, Keyword.bid, Keyword.campaign_id,
                       Campaign.name.label("campaign_name"), *_sums_of(agg))
                .join(agg, agg.c.keyword_id == Keyword.id).join(Campaign, Campaign.id == Keyword.campaign_id))
        live = [Keyword.state == "enabled", Campaign.state == "enabled"]
        tiebreak = Keyword.id
    else:
        agg = (select(m.campaign_id.label("cid"), *ad_sums(m)).where(m.site_id == site, m.date.between(start, end))
               .group_by(m.campaign_id).subquery())
        base = (select(Campaign.id, Campaign.name.label("text"), literal(None).label("match_type"), Campaign.state,
                       literal(None).label("bid"), Campaign.id.label("campaign_id"), Campaign.name.label("campaign_name"),
                       *_sums_of(agg)).join(agg, agg.c.cid == Campaign.id))
        live = [Campaign.state == "enabled"]
        tiebreak = Campaign.id
    acos = metrics.acos_sql(agg.c.spend, agg.c.sales)
    over = and_(agg.c.sales > 0, acos > threshold, agg.c.spend >= min_spend)
    under = and_(agg.c.orders >= 3, acos < target * UNDER_TARGET)
    wanted = {"over": over, "under": under, "both": or_(over, under)}[direction]
    where = [Campaign.site_id == site, wanted, *([] if include_paused else live)]
    if platform:
        where.append(Campaign.platform == platform)
    if campaign_id is not None:
        where.append(Campaign.id == campaign_id)
    query = base.where(*where)
    order = {"acos": acos, "spend": agg.c.spend, "sales": agg.c.sales, "orders": agg.c.orders, "clicks": agg.c.clicks}[sort_by]
    total, rows = paged(s, query.add_columns(acos.label("acos")), order, descending, limit, offset, tiebreak)
    items = []
    for r in rows:
        is_over = r.acos is not None and r.acos > threshold
        suggested_bid, action = None, "review"
        if level == "keyword" and r.bid:
            if is_over:  # same conversion at a lower price per click lands on target; never more than halve
                suggested_bid, action = max(r.bid * target / r.acos, r.bid * 0.5), "lower_bid"
            else:
                suggested_bid, action = r.bid * RAISE_STEP, "raise_bid"
            suggested_bid = round(suggested_bid, money_digits(cur))
        items.append(AcosAlert(
            level=level, id=r.id, name=r.text, campaign_id=r.campaign_id, campaign_name=r.campaign_name,
            match_type=r.match_type, state=r.state, bid=r.bid, impressions=int(r.impressions), clicks=int(r.clicks),
            spend=money(r.spend, cur), sales=money(r.sales, cur), orders=int(r.orders), acos=ratio(r.acos),
            cpc=ratio(metrics.cpc(r.spend, r.clicks)), direction="over" if is_over else "under",
            suggested_action=action, suggested_bid=suggested_bid))
    return AcosAlerts(site=site, currency=cur, acos_target=target, threshold=threshold, start_date=start, end_date=end,
                      total=total, items=items)


def harvest_candidates(s: Session, *, site: str, start: dt.date, end: dt.date, min_cvr: float = 0.10,
                       min_orders: int = 3, campaign_id: int | None = None, sort_by: str = "orders",
                       descending: bool = True, limit: int = 50, offset: int = 0) -> HarvestCandidates:
    """Auto-campaign search terms with CVR over min_cvr and at least min_orders that no manual campaign has yet."""
    site_row = require_site(s, site)
    cur = site_row.currency
    st = SearchTermDailyMetric
    where = [st.site_id == site, st.date.between(start, end), Campaign.targeting == "auto"]
    if campaign_id is not None:
        where.append(st.campaign_id == campaign_id)
    agg = (select(st.campaign_id.label("campaign_id"), func.min(st.ad_group_id).label("ad_group_id"),
                  st.search_term.label("search_term"), Campaign.name.label("campaign_name"), *ad_sums(st))
           .join(Campaign, Campaign.id == st.campaign_id).where(*where)
           .group_by(st.campaign_id, st.search_term, Campaign.name).subquery())
    manual = Campaign.__table__.alias("manual")
    # An uncorrelated IN list: the database builds it once (a correlated EXISTS rescans keywords per term).
    manual_texts = (select(func.lower(Keyword.text)).join(manual, manual.c.id == Keyword.campaign_id)
                    .where(Keyword.site_id == site, manual.c.targeting == "manual", Keyword.state != "archived"))
    in_manual = func.lower(agg.c.search_term).in_(manual_texts)
    negative = exists(select(NegativeKeyword.id).where(
        NegativeKeyword.campaign_id == agg.c.campaign_id, NegativeKeyword.match_type == "negative_exact",
        func.lower(NegativeKeyword.text) == func.lower(agg.c.search_term)))
    # The manual SP campaign that advertises a product the auto campaign advertises: where the keyword goes.
    mine, theirs = ProductAd.__table__.alias("mine"), ProductAd.__table__.alias("theirs")
    target_campaign = (select(func.min(theirs.c.campaign_id)).select_from(mine)
                       .join(theirs, theirs.c.variant_id == mine.c.variant_id)
                       .join(manual, manual.c.id == theirs.c.campaign_id)
                       .where(mine.c.campaign_id == agg.c.campaign_id, manual.c.targeting == "manual",
                              manual.c.campaign_type == "SP", manual.c.state == "enabled")
                       .scalar_subquery())
    target_group = (select(func.min(AdGroup.id)).where(AdGroup.campaign_id == target_campaign, AdGroup.state == "enabled")
                    .scalar_subquery())
    cvr = metrics.cvr_sql(agg.c.orders, agg.c.clicks)
    query = select(agg, cvr.label("cvr"), negative.label("negative"), target_campaign.label("target_campaign"),
                   target_group.label("target_group")).where(cvr > min_cvr, agg.c.orders >= min_orders, ~in_manual)
    order = {"orders": agg.c.orders, "cvr": cvr, "sales": agg.c.sales, "clicks": agg.c.clicks, "spend": agg.c.spend}[sort_by]
    total, rows = paged(s, query, order, descending, limit, offset, agg.c.campaign_id, agg.c.search_term)
    items = []
    for r in rows:
        cpc = metrics.cpc(r.spend, r.clicks)
        items.append(HarvestCandidate(
            campaign_id=r.campaign_id, campaign_name=r.campaign_name, ad_group_id=r.ad_group_id, search_term=r.search_term,
            impressions=int(r.impressions), clicks=int(r.clicks), spend=money(r.spend, cur), orders=int(r.orders),
            sales=money(r.sales, cur), cvr=ratio(r.cvr), acos=ratio(metrics.acos(r.spend, r.sales)), avg_cpc=ratio(cpc),
            suggested_bid=None if cpc is None else round(1.2 * cpc, money_digits(cur)),
            target_campaign_id=r.target_campaign, target_ad_group_id=r.target_group, negative_in_auto=bool(r.negative)))
    return HarvestCandidates(site=site, currency=cur, start_date=start, end_date=end, min_cvr=min_cvr,
                             min_orders=min_orders, total=total, items=items)


def wasted_spend(s: Session, *, site: str, start: dt.date, end: dt.date, level: str = "keyword",
                 min_spend: float | None = None, max_acos: float = 1.0, platform: str | None = None,
                 campaign_id: int | None = None, sort_by: str = "spend", descending: bool = True, limit: int = 50,
                 offset: int = 0) -> WastedSpendReport:
    """Keywords (or search terms) with spend over min_spend and no orders, or ACOS over max_acos."""
    site_row = require_site(s, site)
    cur = site_row.currency
    min_spend = usd(20.0, cur) if min_spend is None else min_spend
    days = (end - start).days + 1
    if level == "keyword":
        agg = _keyword_sums(site, start, end)
        query = (select(Keyword.id.label("keyword_id"), Keyword.text, Keyword.match_type, Keyword.bid,
                        Keyword.ad_group_id, Campaign.id.label("campaign_id"), Campaign.name.label("campaign_name"),
                        *_sums_of(agg))
                 .join(agg, agg.c.keyword_id == Keyword.id).join(Campaign, Campaign.id == Keyword.campaign_id)
                 .where(Keyword.state == "enabled"))
        tiebreak = [Keyword.id]
    else:
        st = SearchTermDailyMetric
        agg = (select(st.campaign_id.label("cid"), func.min(st.ad_group_id).label("ad_group_id"),
                      st.search_term.label("text"), *ad_sums(st))
               .where(st.site_id == site, st.date.between(start, end)).group_by(st.campaign_id, st.search_term).subquery())
        negative = exists(select(NegativeKeyword.id).where(
            NegativeKeyword.campaign_id == agg.c.cid, func.lower(NegativeKeyword.text) == func.lower(agg.c.text)))
        query = (select(literal(None).label("keyword_id"), literal(None).label("match_type"), literal(None).label("bid"),
                        Campaign.id.label("campaign_id"), Campaign.name.label("campaign_name"), agg)
                 .join(agg, agg.c.cid == Campaign.id).where(~negative))
        tiebreak = [agg.c.cid, agg.c.text]
    acos = metrics.acos_sql(agg.c.spend, agg.c.sales)
    no_orders = and_(agg.c.orders == 0, agg.c.spend > min_spend)
    where = [Campaign.site_id == site, Campaign.state == "enabled", or_(no_orders, and_(agg.c.sales > 0, acos > max_acos))]
    if platform:
        where.append(Campaign.platform == platform)
    if campaign_id is not None:
        where.append(Campaign.id == campaign_id)
    query = query.where(*where)
    order = {"spend": agg.c.spend, "acos": acos, "clicks": agg.c.clicks}[sort_by]
    total, rows = paged(s, query.add_columns(acos.label("acos"), func.sum(agg.c.spend).over().label("wasted")), order,
                        descending, limit, offset, *tiebreak)
    wasted_total = rows[0].wasted if rows else s.scalar(select(total_of(query.subquery().c.spend))) if offset else 0
    items = []
    for r in rows:
        reason = "no_orders" if r.orders == 0 else "acos_over_max"
        if level == "search_term":
            action, bid, savings = "negative", None, r.spend / days
        elif reason == "no_orders":
            action, bid, savings = "pause", None, r.spend / days
        else:
            action, bid, savings = "cut_bid", round(r.bid * 0.5, money_digits(cur)), r.spend / days / 2
        items.append(WastedSpend(
            level=level, keyword_id=r.keyword_id, text=r.text, match_type=r.match_type, campaign_id=r.campaign_id,
            campaign_name=r.campaign_name, ad_group_id=r.ad_group_id, bid=r.bid, clicks=int(r.clicks),
            spend=money(r.spend, cur), orders=int(r.orders), sales=money(r.sales, cur), acos=ratio(r.acos),
            reason=reason, suggested_action=action, suggested_bid=bid, daily_savings=money(savings, cur)))
    return WastedSpendReport(site=site, currency=cur, start_date=start, end_date=end, min_spend=min_spend,
                             max_acos=max_acos, wasted_total=money(wasted_total, cur), total=total, items=items)


def budget_pacing(s: Session, *, site: str, start: dt.date, end: dt.date, early_hour: int = 18,
                  exhausted_share: float = 0.5, under_threshold: float = 0.5, status: str | None = None,
                  platform: str | None = None, sort_by: str = "utilisation", descending: bool = True,
                  limit: int = 50, offset: int = 0) -> BudgetPacingReport:
    """Per campaign: utilisation, days the budget ran out (before early_hour), and a class with a budget to move to."""
    site_row = require_site(s, site)
    cur = site_row.currency
    b = CampaignBudgetHour
    per_day = (select(b.campaign_id.label("cid"), b.date, func.max(b.cumulative_spend).label("spent"),
                      func.max(b.budget).label("budget"),
                      func.min(case((b.cumulative_spend >= b.budget * 0.99, b.hour))).label("out_hour"))
               .where(b.site_id == site, b.date.between(start, end)).group_by(b.campaign_id, b.date).subquery())
    d = per_day.c
    agg = (select(d.cid, func.count().label("days"), func.avg(d.spent).label("avg_spend"),
                  func.avg(metrics.ratio_sql(d.spent, d.budget)).label("utilisation"),
                  total_of(case((d.out_hour.is_not(None), 1), else_=0)).label("days_exhausted"),
                  total_of(case((d.out_hour < early_hour, 1), else_=0)).label("days_early"),
                  # the typical hour counts the early days when there are any, so it matches the class
                  func.coalesce(func.avg(case((d.out_hour < early_hour, d.out_hour))), func.avg(d.out_hour)).label("out_hour"))
           .group_by(d.cid).subquery())
    a = agg.c
    state = case((a.days_early * 1.0 / a.days >= exhausted_share, "exhausted_early"),
                 (a.utilisation < under_threshold, "under_utilised"), else_="ok")
    suggested = case((state == "exhausted_early", Campaign.daily_budget * 1.5),
                     (state == "under_utilised", a.avg_spend * 1.2), else_=None)
    where = [Campaign.site_id == site, Campaign.state == "enabled"]
    if platform:
        where.append(Campaign.platform == platform)
    if status:
        where.append(state == status)
    query = (select(Campaign.id, Campaign.name, Campaign.platform, Campaign.state, Campaign.daily_budget, agg,
                    state.label("status"), suggested.label("suggested"))
             .join(agg, a.cid == Campaign.id).where(*where))
    sub = query.subquery()
    needed, freed = s.execute(select(
        total_of(case((sub.c.status == "exhausted_early", sub.c.suggested - sub.c.daily_budget), else_=0)),
        total_of(case((sub.c.status == "under_utilised", sub.c.daily_budget - sub.c.suggested), else_=0)))).one()
    order = {"utilisation": a.utilisation, "days_exhausted_early": a.days_early, "avg_spend": a.avg_spend,
             "daily_budget": Campaign.daily_budget}[sort_by]
    step = 100 if money_digits(cur) == 0 else 1
    total, rows = paged(s, query, order, descending, limit, offset, Campaign.id)
    items = []
    for r in rows:
        items.append(BudgetPacing(
            campaign_id=r.id, campaign_name=r.name, platform=r.platform, state=r.state, daily_budget=r.daily_budget,
            days=r.days, avg_spend=money(r.avg_spend, cur), utilisation=ratio(r.utilisation),
            days_exhausted=int(r.days_exhausted), days_exhausted_early=int(r.days_early),
            typical_ran_out_at=None if r.out_hour is None else f"{round(r.out_hour) + 1:02d}:00",
            status=r.status, suggested_budget=None if r.suggested is None else float(max(step, round(r.suggested / step) * step))))
    return BudgetPacingReport(site=site, currency=cur, start_date=start, end_date=end, early_hour=early_hour,
                              under_threshold=under_threshold, budget_needed=money(needed, cur),
                              budget_freed=money(freed, cur), total=total, items=items)
