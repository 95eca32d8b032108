"""Report queries over the ads data: platforms side by side, and the weekly report's numbers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from servers.analytics import ads_finders
from servers.analytics.common import ad_sums, ad_totals, money, ratio, total_of
from servers.analytics.models import AppliedAction, CrossPlatformReport, KeywordLine, PlatformReport, WeeklyReportData
from servers.market import metrics
from servers.market.db import require_site
from servers.market.models import AppliedWrite, Campaign, Keyword, KeywordDailyMetric, Order


def cross_platform(s: Session, *, site: str, start: dt.date, end: dt.date, by_campaign_type: bool = False) -> CrossPlatformReport:
    """Amazon, Meta and Google (optionally split by campaign type) side by side, with shares of spend and sales."""
    site_row = require_site(s, site)
    cur = site_row.currency
    m = KeywordDailyMetric
    keys = [Campaign.platform, *([Campaign.campaign_type] if by_campaign_type else [])]
    rows = s.execute(
        select(*keys, func.count(func.distinct(Campaign.id)), *ad_sums(m))
        .select_from(m).join(Campaign, Campaign.id == m.campaign_id)
        .where(m.site_id == site, m.date.between(start, end)).group_by(*keys).order_by(*keys)
    ).all()
    overall = s.execute(select(*ad_sums(m)).where(m.site_id == site, m.date.between(start, end))).one()
    totals = ad_totals(*overall, cur)
    platforms = []
    for r in rows:
        platform, ctype = r[0], (r[1] if by_campaign_type else None)
        n, imp, clk, spend, sales, orders = r[len(keys):]
        platforms.append(PlatformReport(
            platform=platform, campaign_type=ctype, campaigns=int(n), totals=ad_totals(imp, clk, spend, sales, orders, cur),
            share_of_spend=ratio(metrics.safe_ratio(spend, overall.spend)),
            share_of_sales=ratio(metrics.safe_ratio(sales, overall.sales))))
    return CrossPlatformReport(site=site, currency=cur, start_date=start, end_date=end, totals=totals, platforms=platforms)


def _keyword_lines(s: Session, site: str, start: dt.date, end: dt.date, *, top: bool, target: float, n: int) -> list[KeywordLine]:
    m = KeywordDailyMetric
    spend, sales, orders = total_of(m.spend), total_of(m.sales), total_of(m.orders)
    query = (select(Keyword.id, Keyword.text, Keyword.match_type, Campaign.name, spend, sales, orders)
             .join(m, m.keyword_id == Keyword.id).join(Campaign, Campaign.id == Keyword.campaign_id)
             .where(m.site_id == site, m.date.between(start, end)).group_by(Keyword.id, Campaign.name))
    if top:  # the best sellers
        query = query.having(sales > 0).order_by(sales.desc(), Keyword.id)
    else:  # the biggest spenders that miss the target (or sell nothing)
        query = query.having(or_(and_(spend > 0, orders == 0), metrics.acos_sql(spend, sales) > target)).order_by(spend.desc(), Keyword.id)
    cur = require_site(s, site).currency
    return [KeywordLine(keyword_id=i, text=t, match_type=mt, campaign_name=c, spend=money(sp, cur), sales=money(sa, cur),
                        orders=int(o), acos=ratio(metrics.acos(sp, sa)))
            for i, t, mt, c, sp, sa, o in s.execute(query.limit(n))]


def weekly_report(s: Session, *, site: str, week_end: dt.date, top_n: int = 5) -> WeeklyReportData:
    """This week (7 days to week_end) vs the week before: KPIs, top and bottom keywords, actions taken, next actions."""
    site_row = require_site(s, site)
    cur, target = site_row.currency, site_row.acos_target
    this = (week_end - dt.timedelta(days=6), week_end)
    last = (week_end - dt.timedelta(days=13), week_end - dt.timedelta(days=7))
    m = KeywordDailyMetric

    def totals(span: tuple[dt.date, dt.date]):
        return ad_totals(*s.execute(select(*ad_sums(m)).where(m.site_id == site, m.date.between(*span))).one(), cur)

    current, previous = totals(this), totals(last)
    revenue = s.scalar(select(total_of(Order.total)).where(
        Order.site_id == site, Order.placed_date.between(*this), Order.status.in_(metrics.REVENUE_STATUSES)))
    changes = {k: ratio(metrics.week_over_week(getattr(current, k), getattr(previous, k)))
               for k in ("spend", "sales", "orders", "clicks", "impressions", "acos", "roas", "ctr", "cvr", "cpc")}
    applied = s.execute(
        select(AppliedWrite.tool, AppliedWrite.applied_at, AppliedWrite.result)
        .where(AppliedWrite.site_id == site,
               AppliedWrite.applied_at >= dt.datetime.combine(this[0], dt.time()),
               AppliedWrite.applied_at < dt.datetime.combine(week_end + dt.timedelta(days=1), dt.time()))
        .order_by(AppliedWrite.applied_at).limit(200))
    actions = [AppliedAction(tool=t, applied_at=at, summary=str((res or {}).get("summary", ""))) for t, at, res in applied]
    month = (week_end - dt.timedelta(days=29), week_end)
    next_actions = {
        "harvest_candidates": ads_finders.harvest_candidates(s, site=site, start=month[0], end=month[1], limit=1).total,
        "wasted_keywords": ads_finders.wasted_spend(s, site=site, start=month[0], end=month[1], limit=1).total,
        "acos_over_target": ads_finders.acos_alerts(s, site=site, start=this[0], end=this[1], limit=1).total,
        "budget_exhausted_early": ads_finders.budget_pacing(s, site=site, start=this[0], end=this[1],
                                                            status="exhausted_early", limit=1).total,
        "budget_under_utilised": ads_finders.budget_pacing(s, site=site, start=this[0], end=this[1],
                                                           status="under_utilised", limit=1).total,
    }
    return WeeklyReportData(
        site=site, currency=cur, acos_target=target, this_week=this, last_week=last, current=current, previous=previous,
        store_revenue=money(revenue, cur), tacos=ratio(metrics.tacos(current.spend, float(revenue or 0))),
        changes=changes, top_keywords=_keyword_lines(s, site, *this, top=True, target=target, n=top_n),
        bottom_keywords=_keyword_lines(s, site, *this, top=False, target=target, n=top_n),
        actions_taken=actions, next_actions=next_actions)
