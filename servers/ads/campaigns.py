"""Campaigns and ad groups: list them with their metrics, create them, change state, budget or name."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servers.ads.models import (
    AdGroupList,
    Before,
    Bid,
    Budget,
    CampaignList,
    CampaignType,
    Descending,
    DryRun,
    EndDate,
    IdemKey,
    Limit,
    LiveState,
    MetricName,
    Name,
    NameContains,
    Offset,
    Platform,
    Site,
    StartDate,
    State,
    Targeting,
    Token,
)
from servers.ads.queries import owned, query_ad_groups, query_campaigns, window
from servers.ads.rules import check_bid, check_budget, clean_text, money, parse_day
from servers.common.config import ServerConfig
from servers.common.errors import Conflict, NotFound, ValidationFailed
from servers.common.inputs import Id, quote
from servers.common.server import READ, WRITE_ADDITIVE, WRITE_IDEMPOTENT, MarketServer
from servers.market.db import MarketDB, require_site
from servers.market.models import AdGroup, AdProfile, Campaign, ProductAd, Variant
from servers.market.writes import Plan, WriteResult, run_write, write_control

SortBy = Annotated[MetricName, Field(description="Metric to sort on")]
CampaignId = Annotated[Id, Field(description="Campaign id (list_campaigns shows them)")]
Sku = Annotated[str, Field(min_length=1, max_length=64, description="Seller SKU, e.g. 'YM-BLUE-6MM'")]
MAX_SKUS = 50
CAMPAIGN_FIELDS = ("name", "platform", "profile_id", "campaign_type", "targeting", "state", "daily_budget")


def _live_campaign(s: Session, campaign_id: int, site: str) -> Campaign:
    campaign = owned(s, Campaign, campaign_id, site, "list_campaigns")
    if campaign.state == "archived":
        raise ValidationFailed(f"campaign {campaign_id} '{campaign.name}' is archived; archived campaigns cannot change")
    return campaign


def _profile_for(s: Session, site: str, platform: str | None, profile_id: int | None) -> AdProfile:
    if profile_id is not None:
        profile = owned(s, AdProfile, profile_id, site, "list_profiles")
        if platform is not None and profile.platform != platform:
            raise ValidationFailed(f"profile {profile_id} is a {profile.platform} profile, not {platform}")
        return profile
    platform = platform or "amazon"
    found = s.scalars(
        select(AdProfile).where(AdProfile.site_id == site, AdProfile.platform == platform).order_by(AdProfile.id)
    ).first()
    if found is None:
        raise NotFound(f"site {site} has no {platform} advertising profile; list_profiles shows the profiles")
    return found


def _variants(s: Session, site: str, skus: list[str]) -> list[Variant]:
    """The site's variants of these SKUs, or NOT_FOUND naming the ones it does not sell."""
    found = list(s.scalars(select(Variant).where(Variant.site_id == site, Variant.sku.in_(skus)))) if skus else []
    missing = sorted(set(skus) - {v.sku for v in found})
    if missing:
        raise NotFound(f"site {site} sells no SKU {', '.join(quote(m, 40) for m in missing[:3])}"
                       f"{' and more' if len(missing) > 3 else ''}; list_product_ads shows advertised SKUs")
    return found


def _first_ad_group(s: Session, site: str, name: str | None, default_bid: float | None,
                    skus: list[str] | None) -> dict[str, Any]:
    """The fields of a campaign's first ad group (nothing when none is asked for), checked."""
    if name is None or default_bid is None:
        return {}
    return {"ad_group_name": clean_text(name, "ad_group_name"), "default_bid": check_bid(s, site, default_bid),
            "skus": sorted(set(skus or []))}


def _refuse_duplicate_name(s: Session, site: str, profile_id: int, name: str, *, except_id: int | None = None) -> None:
    clash = s.scalar(
        select(Campaign.id).where(
            Campaign.site_id == site, Campaign.profile_id == profile_id, func.lower(Campaign.name) == name.lower(),
            Campaign.id != (except_id or 0),
        )
    )
    if clash is not None:
        raise Conflict(f"campaign {clash} on profile {profile_id} is already named {quote(name)}; choose another name")


def register(mcp: MarketServer, db: MarketDB, config: ServerConfig) -> None:
    @mcp.tool(annotations=READ)
    def list_campaigns(
        site: Site,
        platform: Platform | None = None,
        campaign_type: CampaignType | None = None,
        targeting: Targeting | None = None,
        state: State | None = None,
        name_contains: NameContains = None,
        start_date: StartDate = None,
        end_date: EndDate = None,
        sort_by: SortBy = "spend",
        descending: Descending = True,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> CampaignList:
        """List a site's campaigns with spend, sales, orders, ACOS, ROAS, CTR, CVR and CPC over a date range."""
        start, end = window(config, start_date, end_date)
        with db.reader() as s:
            require_site(s, site)
            found = query_campaigns(
                s, site=site, start=start, end=end, platform=platform, campaign_type=campaign_type,
                targeting=targeting, state=state, name_contains=name_contains, sort_by=sort_by,
                descending=descending, limit=limit, offset=offset,
            )
        return CampaignList(site=site, start_date=start.isoformat(), end_date=end.isoformat(), total=found.total,
                            totals=found.totals, campaigns=found.rows)

    @mcp.tool(annotations=READ)
    def list_ad_groups(
        site: Site,
        campaign_id: Annotated[Id | None, Field(description="Only this campaign's ad groups")] = None,
        state: State | None = None,
        name_contains: NameContains = None,
        start_date: StartDate = None,
        end_date: EndDate = None,
        sort_by: SortBy = "spend",
        descending: Descending = True,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> AdGroupList:
        """List a site's ad groups with their keywords' metrics over a date range."""
        start, end = window(config, start_date, end_date)
        with db.reader() as s:
            require_site(s, site)
            found = query_ad_groups(
                s, site=site, start=start, end=end, campaign_id=campaign_id, state=state,
                name_contains=name_contains, sort_by=sort_by, descending=descending, limit=limit, offset=offset,
            )
        return AdGroupList(site=site, start_date=start.isoformat(), end_date=end.isoformat(), total=found.total,
                           totals=found.totals, ad_groups=found.rows)

    @mcp.tool(annotations=WRITE_ADDITIVE)
    def create_campaign(
        site: Site,
        name: Name,
        targeting: Targeting,
        daily_budget: Budget,
        campaign_type: Annotated[CampaignType | None, Field(description="SP (default), SB or SD")] = None,
        platform: Annotated[Platform | None, Field(description="Ad platform (default amazon)")] = None,
        profile_id: Annotated[Id | None, Field(description="Profile to create it in (default: the site's first profile of the platform)")] = None,
        state: Annotated[LiveState | None, Field(description="enabled (default) or paused")] = None,
        start_date: Annotated[str | None, Field(description="First day it may run, ISO date (default today)")] = None,
        ad_group_name: Annotated[Name | None, Field(description="Also create this first ad group in it")] = None,
        default_bid: Annotated[Bid | None, Field(description="The first ad group's default bid (with ad_group_name)")] = None,
        skus: Annotated[list[Sku] | None, Field(max_length=MAX_SKUS, description="SKUs the first ad group advertises (with ad_group_name)")] = None,
        dry_run: DryRun = False,
        approval_token: Token = None,
        idempotency_key: IdemKey = None,
        expected_before: Before = None,
    ) -> WriteResult:
        """Create a campaign, optionally with its first ad group and the SKUs it advertises (a write: needs approval)."""
        arguments = {"site": site, "name": name, "targeting": targeting, "daily_budget": daily_budget,
                     "campaign_type": campaign_type, "platform": platform, "profile_id": profile_id,
                     "state": state, "start_date": start_date, "ad_group_name": ad_group_name,
                     "default_bid": default_bid, "skus": skus}
        if ad_group_name is None and (default_bid is not None or skus):
            raise ValidationFailed("default_bid and skus describe the first ad group: give its ad_group_name too")
        if ad_group_name is not None and default_bid is None:
            raise ValidationFailed("the first ad group needs a default_bid")

        def plan(s: Session) -> Plan:
            title = clean_text(name, "name")
            profile = _profile_for(s, site, platform, profile_id)
            _refuse_duplicate_name(s, site, profile.id, title)
            budget = check_budget(s, site, daily_budget)
            first_day = parse_day(start_date, config.today(), "start_date")
            fields: dict[str, Any] = {
                "name": title, "platform": profile.platform, "profile_id": profile.id,
                "campaign_type": campaign_type or "SP", "targeting": targeting, "state": state or "enabled",
                "daily_budget": budget, "start_date": first_day.isoformat()}
            group = _first_ad_group(s, site, ad_group_name, default_bid, skus)
            fields.update(group)
            variants = {v.sku: v.id for v in _variants(s, site, group.get("skus", []))}

            def apply(s: Session) -> int:
                campaign = Campaign(site_id=site, **{k: fields[k] for k in CAMPAIGN_FIELDS}, start_date=first_day)
                s.add(campaign)
                s.flush()
                if group:
                    ad_group = AdGroup(site_id=site, campaign_id=campaign.id, name=group["ad_group_name"],
                                       default_bid=group["default_bid"], state="enabled")
                    s.add(ad_group)
                    s.flush()
                    s.add_all(ProductAd(site_id=site, campaign_id=campaign.id, ad_group_id=ad_group.id,
                                        variant_id=variants[sku], sku=sku, state="enabled") for sku in group["skus"])
                return campaign.id

            with_group = (f" with ad group '{group['ad_group_name']}' advertising {len(group['skus'])} SKUs"
                          if group else "")
            return Plan(
                target=f"new campaign '{title}' ({fields['campaign_type']}, {targeting}, {profile.platform}){with_group}",
                before={}, after=fields, apply=apply,
                summary=f"create {fields['state']} campaign '{title}' with daily budget {budget:.2f}{with_group}",
                impact={"daily_budget_delta": budget if fields["state"] == "enabled" else 0.0},
            )

        return run_write(db, config, tool="create_campaign", site=site, arguments=arguments,
                         control=write_control(dry_run, approval_token, idempotency_key, expected_before), plan=plan)

    @mcp.tool(annotations=WRITE_IDEMPOTENT)
    def update_campaign(
        site: Site,
        campaign_id: CampaignId,
        state: Annotated[LiveState | None, Field(description="enabled or paused")] = None,
        daily_budget: Annotated[Budget | None, Field(description="New daily budget in the site's currency")] = None,
        name: Annotated[Name | None, Field(description="New name")] = None,
        dry_run: DryRun = False,
        approval_token: Token = None,
        idempotency_key: IdemKey = None,
        expected_before: Before = None,
    ) -> WriteResult:
        """Change a campaign's state, daily budget or name (a write: needs approval)."""
        arguments = {"site": site, "campaign_id": campaign_id, "state": state, "daily_budget": daily_budget, "name": name}
        if state is None and daily_budget is None and name is None:
            raise ValidationFailed("update_campaign needs at least one of state, daily_budget, name")

        def plan(s: Session) -> Plan:
            campaign = _live_campaign(s, campaign_id, site)
            after: dict[str, Any] = {}
            impact: dict[str, float] = {}
            if state is not None:
                after["state"] = state
            if daily_budget is not None:
                after["daily_budget"] = budget = check_budget(s, site, daily_budget)
                impact["daily_budget_delta"] = money(budget - campaign.daily_budget)
            if name is not None:
                after["name"] = title = clean_text(name, "name")
                _refuse_duplicate_name(s, site, campaign.profile_id, title, except_id=campaign.id)
            before = {field: getattr(campaign, field) for field in after}

            def apply(s: Session) -> None:
                for field, value in after.items():
                    setattr(campaign, field, value)

            return Plan(target=f"campaign #{campaign.id} '{campaign.name}'", before=before, after=after,
                        apply=apply, impact=impact)

        return run_write(db, config, tool="update_campaign", site=site, arguments=arguments,
                         control=write_control(dry_run, approval_token, idempotency_key, expected_before), plan=plan)

    @mcp.tool(annotations=WRITE_ADDITIVE)
    def create_ad_group(
        site: Site,
        campaign_id: CampaignId,
        name: Name,
        default_bid: Bid,
        state: Annotated[LiveState | None, Field(description="enabled (default) or paused")] = None,
        dry_run: DryRun = False,
        approval_token: Token = None,
        idempotency_key: IdemKey = None,
        expected_before: Before = None,
    ) -> WriteResult:
        """Create an ad group in a campaign (a write: needs approval)."""
        arguments = {"site": site, "campaign_id": campaign_id, "name": name, "default_bid": default_bid, "state": state}

        def plan(s: Session) -> Plan:
            campaign = _live_campaign(s, campaign_id, site)
            title = clean_text(name, "name")
            clash = s.scalar(select(AdGroup.id).where(AdGroup.campaign_id == campaign.id,
                                                      func.lower(AdGroup.name) == title.lower()))
            if clash is not None:
                raise Conflict(f"ad group {clash} of campaign {campaign.id} is already named {quote(title)}; choose another name")
            fields = {"campaign_id": campaign.id, "name": title, "default_bid": check_bid(s, site, default_bid),
                      "state": state or "enabled"}

            def apply(s: Session) -> int:
                group = AdGroup(site_id=site, **fields)
                s.add(group)
                s.flush()
                return group.id

            return Plan(target=f"new ad group '{title}' in campaign #{campaign.id} '{campaign.name}'", before={},
                        after=fields, apply=apply,
                        summary=f"create ad group '{title}' with default bid {fields['default_bid']:.2f}")

        return run_write(db, config, tool="create_ad_group", site=site, arguments=arguments,
                         control=write_control(dry_run, approval_token, idempotency_key, expected_before), plan=plan)
