"""Playbook finders over the ads data (DESIGN.md §6): ACOS alerts, harvest candidates, wasted spend, budget pacing.

Query functions are keyword-only, take a session and aggregate in SQL; Python only shapes the page.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_, select, union
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
    ProductTarget,
    SearchTermDailyMetric,
)

ASIN = re.compile(r"b0[a-z0-9]{8}", re.IGNORECASE)
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
            cpc=ratio(metrics.cpc(r.spend, r.clicks)), ctr=ratio(metrics.ctr(r.clicks, r.impressions), 6),
            cvr=ratio(metrics.cvr(r.orders, r.clicks)), direction="over" if is_over else "under",
            suggested_action=action, suggested_bid=suggested_bid))
    return AcosAlerts(site=site, currency=cur, acos_target=target, threshold=threshold, start_date=start, end_date=end,
                      total=total, items=items)


def _harvest_targets(site: str) -> Any:
    """Per auto campaign of the site, the manual ad group its harvested terms go to (one row each, or none).

    The ad group belongs to an enabled manual SP campaign of the same site and platform that advertises at least one
    SKU the auto campaign advertises; the campaign sharing the most SKUs wins (then the lowest id), and in it the
    enabled ad group advertising the most of them (then the lowest id).
    """
    src, dst = ProductAd.__table__.alias("src"), ProductAd.__table__.alias("dst")
    auto, manual = Campaign.__table__.alias("auto"), Campaign.__table__.alias("target")
    group = AdGroup.__table__.alias("target_group")
    pairs = (select(src.c.campaign_id.label("source"), dst.c.campaign_id.label("campaign"),
                    dst.c.ad_group_id.label("ad_group"), dst.c.variant_id.label("variant"))
             .select_from(src).join(auto, auto.c.id == src.c.campaign_id)
             .join(dst, dst.c.variant_id == src.c.variant_id).join(manual, manual.c.id == dst.c.campaign_id)
             .join(group, group.c.id == dst.c.ad_group_id)
             .where(src.c.site_id == site, auto.c.targeting == "auto", src.c.state != "archived",
                    dst.c.site_id == site, dst.c.state != "archived", manual.c.targeting == "manual",
                    manual.c.campaign_type == "SP", manual.c.state == "enabled", manual.c.platform == auto.c.platform,
                    group.c.state == "enabled")
             .distinct().subquery())
    p = pairs.c
    per_campaign = (select(p.source, p.campaign, func.count(func.distinct(p.variant)).label("campaign_shared"))
                    .group_by(p.source, p.campaign).subquery())
    per_group = (select(p.source, p.campaign, p.ad_group, func.count(func.distinct(p.variant)).label("shared"))
                 .group_by(p.source, p.campaign, p.ad_group).subquery())
    g, c = per_group.c, per_campaign.c
    rank = func.row_number().over(partition_by=g.source,
                                  order_by=(c.campaign_shared.desc(), g.campaign, g.shared.desc(), g.ad_group))
    ranked = (select(g.source, g.campaign, g.ad_group, g.shared, rank.label("rank"))
              .join(per_campaign, and_(c.source == g.source, c.campaign == g.campaign)).subquery())
    return select(ranked).where(ranked.c.rank == 1).subquery()


def _advertised_skus(s: Session, campaign_ids: set[int]) -> dict[int, list[str]]:
    """The SKUs each campaign advertises (product ads not archived), sorted."""
    rows = s.execute(select(ProductAd.campaign_id, ProductAd.sku).distinct()
                     .where(ProductAd.campaign_id.in_(campaign_ids), ProductAd.state != "archived")
                     .order_by(ProductAd.campaign_id, ProductAd.sku)).all() if campaign_ids else []
    out: dict[int, list[str]] = {cid: [] for cid in campaign_ids}
    for cid, sku in rows:
        out[cid].append(sku)
    return out


def is_asin(term: str) -> bool:
    """An Amazon product id typed or clicked as a search term: b0 and 8 letters or digits, any case."""
    return ASIN.fullmatch(term.strip()) is not None


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
                  st.search_term.label("search_term"), Campaign.name.label("campaign_name"),
                  Campaign.daily_budget.label("campaign_daily_budget"), *ad_sums(st))
           .join(Campaign, Campaign.id == st.campaign_id).where(*where)
           .group_by(st.campaign_id, st.search_term, Campaign.name, Campaign.daily_budget).subquery())
    manual = Campaign.__table__.alias("manual")
    # An uncorrelated IN list: the database builds it once (a correlated EXISTS rescans keywords per term).
    # An ASIN term is "in a manual campaign" as a product target, any term as a keyword.
    manual_texts = union(
        select(func.lower(Keyword.text)).join(manual, manual.c.id == Keyword.campaign_id)
        .where(Keyword.site_id == site, manual.c.targeting == "manual", Keyword.state != "archived"),
        select(func.lower(ProductTarget.asin)).join(manual, manual.c.id == ProductTarget.campaign_id)
        .where(ProductTarget.site_id == site, manual.c.targeting == "manual", ProductTarget.state != "archived"))
    in_manual = func.lower(agg.c.search_term).in_(select(manual_texts.subquery()))
    negative = exists(select(NegativeKeyword.id).where(
        NegativeKeyword.campaign_id == agg.c.campaign_id, NegativeKeyword.match_type == "negative_exact",
        func.lower(NegativeKeyword.text) == func.lower(agg.c.search_term)))
    target = _harvest_targets(site)
    target_campaign, target_group = Campaign.__table__.alias("target_campaign"), AdGroup.__table__.alias("target_ad_group")
    cvr = metrics.cvr_sql(agg.c.orders, agg.c.clicks)
    query = (select(agg, cvr.label("cvr"), negative.label("negative"), target.c.campaign.label("target_campaign"),
                    target.c.ad_group.label("target_group"), target.c.shared.label("shared"),
                    target_campaign.c.name.label("target_campaign_name"), target_group.c.name.label("target_group_name"))
             .outerjoin(target, target.c.source == agg.c.campaign_id)
             .outerjoin(target_campaign, target_campaign.c.id == target.c.campaign)
             .outerjoin(target_group, target_group.c.id == target.c.ad_group)
             .where(cvr > min_cvr, agg.c.orders >= min_orders, ~in_manual))
    order = {"orders": agg.c.orders, "cvr": cvr, "sales": agg.c.sales, "clicks": agg.c.clicks, "spend": agg.c.spend}[sort_by]
    total, rows = paged(s, query, order, descending, limit, offset, agg.c.campaign_id, agg.c.search_term)
    skus = _advertised_skus(s, {r.campaign_id for r in rows})
    items = []
    for r in rows:
        cpc = metrics.cpc(r.spend, r.clicks)
        items.append(HarvestCandidate(
            campaign_id=r.campaign_id, campaign_name=r.campaign_name, campaign_daily_budget=r.campaign_daily_budget,
            ad_group_id=r.ad_group_id, search_term=r.search_term,
            harvest_as="product_target" if is_asin(r.search_term) else "exact_keyword",
            impressions=int(r.impressions), clicks=int(r.clicks), spend=money(r.spend, cur), orders=int(r.orders),
            sales=money(r.sales, cur), ctr=ratio(metrics.ctr(r.clicks, r.impressions), 6), cvr=ratio(r.cvr),
            acos=ratio(metrics.acos(r.spend, r.sales)), avg_cpc=ratio(cpc),
            suggested_bid=None if cpc is None else round(1.2 * cpc, money_digits(cur)),
            target_campaign_id=r.target_campaign, target_campaign_name=r.target_campaign_name,
            target_ad_group_id=r.target_group, target_ad_group_name=r.target_group_name, shared_skus=int(r.shared or 0),
            needs_manual_campaign=r.target_group is None, source_skus=skus[r.campaign_id],
            negative_in_auto=bool(r.negative)))
    return HarvestCandidates(site=site, currency=cur, start_date=start, end_date=end, min_cvr=min_cvr,
                             min_orders=min_orders, total=total, items=items)


def _recent_keywords(site: str, today: dt.date) -> Any:
    """Clicks and spend per keyword over the projection window (the ads server's impact reads the same)."""
    first, last = metrics.projection_window(today)
    m = KeywordDailyMetric
    return (select(m.keyword_id.label("id"), total_of(m.clicks).label("clicks"), total_of(m.spend).label("spend"))
            .where(m.site_id == site, m.date.between(first, last)).group_by(m.keyword_id).subquery())


def _recent_terms(site: str, today: dt.date) -> Any:
    """Clicks and spend per campaign and search term (any case) over the projection window."""
    first, last = metrics.projection_window(today)
    st = SearchTermDailyMetric
    text = func.lower(st.search_term)
    return (select(st.campaign_id.label("cid"), text.label("text"), total_of(st.clicks).label("clicks"),
                   total_of(st.spend).label("spend"))
            .where(st.site_id == site, st.date.between(first, last)).group_by(st.campaign_id, text).subquery())


def half_bid(bid: float, currency: str) -> float:
    """Half a bid, rounded up to the currency's smallest unit: a cut of "50%" never becomes 50.3%."""
    unit = 10 ** money_digits(currency)
    return math.ceil(round(bid * 0.5 * unit, 6)) / unit


def wasted_spend(s: Session, *, site: str, start: dt.date, end: dt.date, today: dt.date | None = None,
                 level: str = "keyword", min_spend: float | None = None, max_acos: float = 1.0,
                 platform: str | None = None, campaign_id: int | None = None, sort_by: str = "spend",
                 descending: bool = True, limit: int = 50, offset: int = 0) -> WastedSpendReport:
    """Keywords (or search terms) with spend over min_spend and no orders, or ACOS over max_acos.

    `daily_savings` projects each action over the week before `today` (default: the day after `end`) exactly as the
    ads server's `impact.daily_spend_delta` of the write does: one number on the alert, in chat and on the card.
    """
    site_row = require_site(s, site)
    cur = site_row.currency
    min_spend = usd(20.0, cur) if min_spend is None else min_spend
    today = today or end + dt.timedelta(days=1)
    if level == "keyword":
        agg = _keyword_sums(site, start, end)
        recent = _recent_keywords(site, today)
        query = (select(Keyword.id.label("keyword_id"), Keyword.text, Keyword.match_type, Keyword.bid,
                        Keyword.ad_group_id, Campaign.id.label("campaign_id"), Campaign.name.label("campaign_name"),
                        *_sums_of(agg), func.coalesce(recent.c.clicks, 0).label("recent_clicks"),
                        func.coalesce(recent.c.spend, 0).label("recent_spend"))
                 .join(agg, agg.c.keyword_id == Keyword.id).join(Campaign, Campaign.id == Keyword.campaign_id)
                 .outerjoin(recent, recent.c.id == Keyword.id)
                 .where(Keyword.state == "enabled"))
        tiebreak = [Keyword.id]
    else:
        st = SearchTermDailyMetric
        agg = (select(st.campaign_id.label("cid"), func.min(st.ad_group_id).label("ad_group_id"),
                      st.search_term.label("text"), *ad_sums(st))
               .where(st.site_id == site, st.date.between(start, end)).group_by(st.campaign_id, st.search_term).subquery())
        recent = _recent_terms(site, today)
        negative = exists(select(NegativeKeyword.id).where(
            NegativeKeyword.campaign_id == agg.c.cid, func.lower(NegativeKeyword.text) == func.lower(agg.c.text)))
        query = (select(literal(None).label("keyword_id"), literal(None).label("match_type"), literal(None).label("bid"),
                        Campaign.id.label("campaign_id"), Campaign.name.label("campaign_name"), agg,
                        func.coalesce(recent.c.clicks, 0).label("recent_clicks"),
                        func.coalesce(recent.c.spend, 0).label("recent_spend"))
                 .join(agg, agg.c.cid == Campaign.id)
                 .outerjoin(recent, and_(recent.c.cid == agg.c.cid, recent.c.text == func.lower(agg.c.text)))
                 .where(~negative))
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
            action, bid, delta = "negative", None, metrics.spend_stopped_per_day(r.recent_spend)
        elif reason == "no_orders":
            action, bid, delta = "pause", None, metrics.spend_stopped_per_day(r.recent_spend)
        else:
            bid = half_bid(r.bid, cur)
            action, delta = "cut_bid", metrics.bid_change_per_day(r.recent_clicks, r.bid, bid)
        items.append(WastedSpend(
            level=level, keyword_id=r.keyword_id, text=r.text, match_type=r.match_type, campaign_id=r.campaign_id,
            campaign_name=r.campaign_name, ad_group_id=r.ad_group_id, bid=r.bid, impressions=int(r.impressions),
            clicks=int(r.clicks), spend=money(r.spend, cur), orders=int(r.orders), sales=money(r.sales, cur),
            acos=ratio(r.acos), cpc=ratio(metrics.cpc(r.spend, r.clicks)), ctr=ratio(metrics.ctr(r.clicks, r.impressions), 6),
            cvr=ratio(metrics.cvr(r.orders, r.clicks)), reason=reason, suggested_action=action, suggested_bid=bid,
            daily_savings=-delta + 0.0))
    first, last = metrics.projection_window(today)
    return WastedSpendReport(site=site, currency=cur, start_date=start, end_date=end, min_spend=min_spend,
                             max_acos=max_acos, savings_start_date=first, savings_end_date=last,
                             wasted_total=money(wasted_total, cur), total=total, items=items)


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
    m = KeywordDailyMetric
    ads = (select(m.campaign_id.label("cid"), total_of(m.spend).label("spend"), total_of(m.sales).label("sales"))
           .where(m.site_id == site, m.date.between(start, end)).group_by(m.campaign_id).subquery())
    query = (select(Campaign.id, Campaign.name, Campaign.platform, Campaign.state, Campaign.daily_budget, agg,
                    state.label("status"), suggested.label("suggested"), func.coalesce(ads.c.spend, 0).label("ad_spend"),
                    func.coalesce(ads.c.sales, 0).label("ad_sales"))
             .join(agg, a.cid == Campaign.id).outerjoin(ads, ads.c.cid == Campaign.id).where(*where))
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
            days=r.days, avg_spend=money(r.avg_spend, cur), spend=money(r.ad_spend, cur), sales=money(r.ad_sales, cur),
            acos=ratio(metrics.acos(r.ad_spend, r.ad_sales)), utilisation=ratio(r.utilisation),
            days_exhausted=int(r.days_exhausted), days_exhausted_early=int(r.days_early),
            typical_ran_out_at=None if r.out_hour is None else f"{round(r.out_hour) + 1:02d}:00",
            status=r.status, suggested_budget=None if r.suggested is None else float(max(step, round(r.suggested / step) * step))))
    return BudgetPacingReport(site=site, currency=cur, start_date=start, end_date=end, early_hour=early_hour,
                              under_threshold=under_threshold, budget_needed=money(needed, cur),
                              budget_freed=money(freed, cur), total=total, items=items)
