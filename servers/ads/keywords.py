"""Keywords and negative keywords: list them with their metrics, add them, change bids, pause and enable."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servers.ads.models import (
    Before,
    Bid,
    Descending,
    DryRun,
    EndDate,
    IdemKey,
    KeywordList,
    KeywordText,
    Limit,
    MatchType,
    MetricName,
    NegativeMatchType,
    Offset,
    Site,
    StartDate,
    State,
    TargetMatchType,
    Token,
)
from servers.ads.queries import KDM, STDM, contains, owned, query_keywords, window
from servers.ads.rules import check_bid, clean_text, inserting, manual_ad_group
from servers.common.config import ServerConfig
from servers.common.errors import Conflict, ValidationFailed
from servers.common.inputs import Id, clip
from servers.common.server import READ, WRITE_ADDITIVE, WRITE_IDEMPOTENT, MarketServer
from servers.market import metrics
from servers.market.db import MarketDB, require_site
from servers.market.models import AdGroup, Campaign, Keyword, NegativeKeyword
from servers.market.writes import Plan, WriteControl, WriteResult, run_write, write_control

KeywordId = Annotated[Id, Field(description="Keyword id (list_keywords shows them)")]


def _recent(s: Session, today: dt.date, *where: object) -> tuple[int, float]:
    """(clicks, spend) over the projection window (metrics.projection_window: the last complete week)."""
    start, end = metrics.projection_window(today)
    clicks, spend = s.execute(
        select(func.coalesce(func.sum(KDM.clicks), 0), func.coalesce(func.sum(KDM.spend), 0.0))
        .where(KDM.date.between(start, end), *where)
    ).one()
    return int(clicks), float(spend)


def _live_keyword(s: Session, keyword_id: int, site: str) -> Keyword:
    keyword = owned(s, Keyword, keyword_id, site, "list_keywords")
    if keyword.state == "archived":
        raise ValidationFailed(f"keyword {keyword_id} '{keyword.text}' is archived; archived keywords cannot change")
    return keyword


def _describe(keyword: Keyword) -> str:
    return f"keyword #{keyword.id} '{keyword.text}' ({keyword.match_type})"


def register(mcp: MarketServer, db: MarketDB, config: ServerConfig) -> None:
    def set_state(tool: str, site: str, keyword_id: int, state: str, control: WriteControl) -> WriteResult:
        """pause_keyword and enable_keyword: one field, from whatever it is to `state`."""

        def plan(s: Session) -> Plan:
            keyword = _live_keyword(s, keyword_id, site)
            impact: dict[str, float] = {}
            if state == "paused" and keyword.state == "enabled":
                _, spend = _recent(s, config.today(), KDM.keyword_id == keyword.id)
                impact["daily_spend_delta"] = metrics.spend_stopped_per_day(spend)

            def apply(s: Session) -> None:
                keyword.state = state

            return Plan(target=_describe(keyword), before={"state": keyword.state}, after={"state": state},
                        apply=apply, impact=impact)

        return run_write(db, config, tool=tool, site=site,
                         arguments={"site": site, "keyword_id": keyword_id}, control=control, plan=plan)

    @mcp.tool(annotations=READ)
    def list_keywords(
        site: Site,
        campaign_id: Annotated[Id | None, Field(description="Only this campaign's keywords")] = None,
        ad_group_id: Annotated[Id | None, Field(description="Only this ad group's keywords")] = None,
        state: State | None = None,
        match_type: Annotated[TargetMatchType | None, Field(description="exact, phrase, broad, or auto (an auto campaign's targeting clause)")] = None,
        text_contains: Annotated[str | None, Field(max_length=200, description="Case-insensitive substring of the keyword")] = None,
        min_acos: Annotated[float | None, Field(ge=0, description="Only ACOS at or above this (0.3 = 30%); keywords without sales have no ACOS")] = None,
        max_acos: Annotated[float | None, Field(ge=0, description="Only ACOS at or below this")] = None,
        min_spend: Annotated[float | None, Field(ge=0, description="Only spend at or above this over the range")] = None,
        zero_orders_only: Annotated[bool, Field(description="Only keywords with no orders over the range")] = False,
        start_date: StartDate = None,
        end_date: EndDate = None,
        sort_by: Annotated[MetricName, Field(description="Metric to sort on")] = "spend",
        descending: Descending = True,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> KeywordList:
        """List a site's keywords with bids and metrics over a date range; filter by ACOS, spend or zero orders."""
        if min_acos is not None and max_acos is not None and min_acos > max_acos:
            raise ValidationFailed(f"min_acos {min_acos} is above max_acos {max_acos}")
        start, end = window(config, start_date, end_date)
        with db.reader() as s:
            require_site(s, site)
            found = query_keywords(
                s, site=site, start=start, end=end, campaign_id=campaign_id, ad_group_id=ad_group_id, state=state,
                match_type=match_type, text_contains=text_contains, min_acos=min_acos, max_acos=max_acos,
                min_spend=min_spend, zero_orders_only=zero_orders_only, sort_by=sort_by, descending=descending,
                limit=limit, offset=offset,
            )
        return KeywordList(site=site, start_date=start.isoformat(), end_date=end.isoformat(), total=found.total,
                           totals=found.totals, keywords=found.rows)

    @mcp.tool(annotations=WRITE_ADDITIVE)
    def create_keyword(
        site: Site,
        ad_group_id: Annotated[Id, Field(description="Ad group of a manual campaign (list_ad_groups shows them)")],
        text: KeywordText,
        match_type: MatchType,
        bid: Annotated[Bid | None, Field(description="Bid per click (default: the ad group's default bid)")] = None,
        dry_run: DryRun = False,
        approval_token: Token = None,
        idempotency_key: IdemKey = None,
        expected_before: Before = None,
    ) -> WriteResult:
        """Add a keyword to an ad group of a manual campaign (a write: needs approval)."""
        arguments = {"site": site, "ad_group_id": ad_group_id, "text": text, "match_type": match_type, "bid": bid}

        def plan(s: Session) -> Plan:
            group, campaign = manual_ad_group(s, ad_group_id, site, takes="keywords",
                                              belongs="keywords go in manual campaigns")
            words = clean_text(text, "text")
            clash = s.scalar(select(Keyword.id).where(
                Keyword.ad_group_id == group.id, func.lower(Keyword.text) == words.lower(),
                Keyword.match_type == match_type, Keyword.state != "archived",
            ))
            if clash is not None:
                raise Conflict(f"ad group {group.id} already has keyword {clash} '{clip(words)}' ({match_type}); "
                               "change its bid with update_bid instead")
            fields = {"campaign_id": campaign.id, "ad_group_id": group.id, "text": words, "match_type": match_type,
                      "bid": check_bid(s, site, bid if bid is not None else group.default_bid), "state": "enabled"}

            return Plan(target=f"new keyword '{words}' ({match_type}) in ad group #{group.id} '{group.name}'",
                        before={}, after=fields, apply=inserting(Keyword, site, fields),
                        summary=f"add {match_type} keyword '{words}' at bid {fields['bid']:.2f}")

        return run_write(db, config, tool="create_keyword", site=site, arguments=arguments,
                         control=write_control(dry_run, approval_token, idempotency_key, expected_before), plan=plan)

    @mcp.tool(annotations=WRITE_IDEMPOTENT)
    def update_bid(
        site: Site,
        keyword_id: KeywordId,
        bid: Bid,
        dry_run: DryRun = False,
        approval_token: Token = None,
        idempotency_key: IdemKey = None,
        expected_before: Before = None,
    ) -> WriteResult:
        """Set a keyword's bid (a write: needs approval)."""
        arguments = {"site": site, "keyword_id": keyword_id, "bid": bid}

        def plan(s: Session) -> Plan:
            keyword = _live_keyword(s, keyword_id, site)
            new_bid = check_bid(s, site, bid)
            clicks, _ = _recent(s, config.today(), KDM.keyword_id == keyword.id)

            def apply(s: Session) -> None:
                keyword.bid = new_bid

            return Plan(
                target=_describe(keyword),
                before={"bid": keyword.bid},
                after={"bid": new_bid},
                summary=f"bid {keyword.bid:.2f} → {new_bid:.2f}",
                apply=apply,
                # Projection: last week's clicks per day, each costing the bid difference.
                impact={"daily_spend_delta": metrics.bid_change_per_day(clicks, keyword.bid, new_bid)},
            )

        return run_write(db, config, tool="update_bid", site=site, arguments=arguments,
                         control=write_control(dry_run, approval_token, idempotency_key, expected_before), plan=plan)

    @mcp.tool(annotations=WRITE_IDEMPOTENT)
    def pause_keyword(
        site: Site,
        keyword_id: KeywordId,
        dry_run: DryRun = False,
        approval_token: Token = None,
        idempotency_key: IdemKey = None,
        expected_before: Before = None,
    ) -> WriteResult:
        """Pause a keyword so it stops serving (a write: needs approval)."""
        control = write_control(dry_run, approval_token, idempotency_key, expected_before)
        return set_state("pause_keyword", site, keyword_id, "paused", control)

    @mcp.tool(annotations=WRITE_IDEMPOTENT)
    def enable_keyword(
        site: Site,
        keyword_id: KeywordId,
        dry_run: DryRun = False,
        approval_token: Token = None,
        idempotency_key: IdemKey = None,
        expected_before: Before = None,
    ) -> WriteResult:
        """Enable a paused keyword so it serves again (a write: needs approval)."""
        control = write_control(dry_run, approval_token, idempotency_key, expected_before)
        return set_state("enable_keyword", site, keyword_id, "enabled", control)

    @mcp.tool(annotations=WRITE_ADDITIVE)
    def create_negative(
        site: Site,
        campaign_id: Annotated[Id, Field(description="Campaign the negative belongs to (list_campaigns shows them)")],
        text: KeywordText,
        match_type: NegativeMatchType,
        ad_group_id: Annotated[Id | None, Field(description="Only this ad group of the campaign (default: the whole campaign)")] = None,
        dry_run: DryRun = False,
        approval_token: Token = None,
        idempotency_key: IdemKey = None,
        expected_before: Before = None,
    ) -> WriteResult:
        """Add a negative keyword to a campaign or one of its ad groups (a write: needs approval)."""
        arguments = {"site": site, "campaign_id": campaign_id, "text": text, "match_type": match_type,
                     "ad_group_id": ad_group_id}

        def plan(s: Session) -> Plan:
            campaign = owned(s, Campaign, campaign_id, site, "list_campaigns")
            scope = f"campaign #{campaign.id} '{campaign.name}'"
            if ad_group_id is not None:
                group = owned(s, AdGroup, ad_group_id, site, "list_ad_groups")
                if group.campaign_id != campaign.id:
                    raise ValidationFailed(f"ad group {group.id} belongs to campaign {group.campaign_id}, not {campaign.id}")
                scope = f"ad group #{group.id} '{group.name}' of {scope}"
            words = clean_text(text, "text")
            level = NegativeKeyword.ad_group_id.is_(None) if ad_group_id is None else NegativeKeyword.ad_group_id == ad_group_id
            clash = s.scalar(select(NegativeKeyword.id).where(
                NegativeKeyword.campaign_id == campaign.id, level, NegativeKeyword.match_type == match_type,
                func.lower(NegativeKeyword.text) == words.lower(),
            ))
            if clash is not None:
                raise Conflict(f"{scope} already has negative keyword {clash} '{clip(words)}' ({match_type})")
            # Projection: what the terms this negative blocks cost per day over the last week.
            matched = (func.lower(STDM.search_term) == words.lower() if match_type == "negative_exact"
                       else contains(STDM.search_term, words))
            start, end = metrics.projection_window(config.today())
            blocked = s.scalar(select(func.coalesce(func.sum(STDM.spend), 0.0)).where(
                STDM.campaign_id == campaign.id, matched, STDM.date.between(start, end),
                *([STDM.ad_group_id == ad_group_id] if ad_group_id is not None else []),
            ))
            fields = {"campaign_id": campaign.id, "ad_group_id": ad_group_id, "text": words, "match_type": match_type}

            def apply(s: Session) -> int:
                negative = NegativeKeyword(site_id=site, created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None), **fields)
                s.add(negative)
                s.flush()
                return negative.id

            return Plan(target=f"new negative '{words}' ({match_type}) in {scope}", before={}, after=fields,
                        apply=apply, summary=f"add {match_type} '{words}' to {scope}",
                        impact={"daily_spend_delta": metrics.spend_stopped_per_day(blocked or 0.0)})

        return run_write(db, config, tool="create_negative", site=site, arguments=arguments,
                         control=write_control(dry_run, approval_token, idempotency_key, expected_before), plan=plan)
