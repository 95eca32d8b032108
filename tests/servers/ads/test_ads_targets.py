"""Product targets (create_product_target) and a campaign created with its first ad group and SKUs (create_campaign)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from servers.market.models import AdGroup, Campaign, ProductAd, ProductTarget, SearchTermDailyMetric
from tests.servers.ads.test_ads_writes import proposal, set_state

pytestmark = pytest.mark.anyio


async def test_create_product_target_upper_cases_the_asin_and_takes_the_default_bid(ads, market):
    after = {"campaign_id": 1, "ad_group_id": 1, "asin": "B0CORKMAT1", "bid": 1.0, "state": "enabled"}
    arguments = {"site": "us", "ad_group_id": 1, "asin": "b0corkmat1"}
    assert await ads.ok("create_product_target", **arguments, dry_run=True) == proposal(
        "create_product_target", "new product target ASIN B0CORKMAT1 in ad group #1 'Mats'",
        "target ASIN B0CORKMAT1 at bid 1.00", {}, after, [(k, None, v) for k, v in after.items()])
    created = (await ads.approved("create_product_target", **arguments))["created_id"]
    with market.reader() as s:
        t = s.get(ProductTarget, created)
        assert (t.site_id, t.campaign_id, t.ad_group_id, t.asin, t.bid, t.state) == (
            "us", 1, 1, "B0CORKMAT1", 1.0, "enabled")
    assert await ads.error("create_product_target", site="us", ad_group_id=1, asin="B0CorkMat1", bid=0.5,
                           dry_run=True) == f"CONFLICT: ad group 1 already targets ASIN B0CORKMAT1 (product target {created})"


@pytest.mark.parametrize(("arguments", "message"), [
    ({"ad_group_id": 2}, "VALIDATION_FAILED: campaign 2 'US Mats - Auto' uses auto targeting; product targets go in "
                         "manual campaigns"),
    ({"ad_group_id": 5}, "NOT_FOUND: ad group 5 does not exist on site us; list_ad_groups shows the ids"),
    ({"bid": 0.01}, "VALIDATION_FAILED: a bid on site us must be between 0.02 and 1000 USD; got 0.01"),
    ({"asin": "yoga mat"}, "asin: String should match pattern '^[Bb]0[A-Za-z0-9]{8}$'"),
    ({"asin": "B0CORKMAT12"}, "asin: String should match pattern '^[Bb]0[A-Za-z0-9]{8}$'"),
])
async def test_create_product_target_refuses(ads, arguments, message):
    base = {"site": "us", "ad_group_id": 1, "asin": "B0CORKMAT1", "bid": 0.9}
    assert message in await ads.error("create_product_target", **{**base, **arguments}, dry_run=True)


async def test_create_product_target_refuses_an_archived_ad_group(ads, market):
    set_state(market, AdGroup, 1, "archived")
    assert await ads.error("create_product_target", site="us", ad_group_id=1, asin="B0CORKMAT1", dry_run=True) == (
        "VALIDATION_FAILED: ad group 1 or its campaign is archived; it takes no new targets")


async def test_create_campaign_with_its_first_ad_group_advertising_skus(ads, market):
    arguments = {"site": "us", "name": "US Mats - Manual exact", "targeting": "manual", "daily_budget": 15.0,
                 "ad_group_name": "Harvested exact", "default_bid": 0.9, "skus": ["MAT-RED", "MAT-BLUE", "MAT-RED"]}
    after = {"name": "US Mats - Manual exact", "platform": "amazon", "profile_id": 1, "campaign_type": "SP",
             "targeting": "manual", "state": "enabled", "daily_budget": 15.0, "start_date": "2026-11-20",
             "ad_group_name": "Harvested exact", "default_bid": 0.9, "skus": ["MAT-BLUE", "MAT-RED"]}
    with_group = " with ad group 'Harvested exact' advertising 2 SKUs"
    assert await ads.ok("create_campaign", **arguments, dry_run=True) == proposal(
        "create_campaign", f"new campaign 'US Mats - Manual exact' (SP, manual, amazon){with_group}",
        f"create enabled campaign 'US Mats - Manual exact' with daily budget 15.00{with_group}", {}, after,
        [(k, None, v) for k, v in after.items()], {"daily_budget_delta": 15.0})
    created = (await ads.approved("create_campaign", **arguments))["created_id"]
    with market.reader() as s:
        assert s.get(Campaign, created).name == "US Mats - Manual exact"
        group = s.scalars(select(AdGroup).where(AdGroup.campaign_id == created)).one()
        assert (group.site_id, group.name, group.default_bid, group.state) == ("us", "Harvested exact", 0.9, "enabled")
        ads_of = s.execute(select(ProductAd.sku, ProductAd.variant_id, ProductAd.ad_group_id, ProductAd.state)
                           .where(ProductAd.campaign_id == created).order_by(ProductAd.sku)).all()
        assert ads_of == [("MAT-BLUE", 1, group.id, "enabled"), ("MAT-RED", 2, group.id, "enabled")]


@pytest.mark.parametrize(("arguments", "message"), [
    ({"skus": ["MAT-BLUE"]}, "VALIDATION_FAILED: default_bid and skus describe the first ad group: give its "
                             "ad_group_name too"),
    ({"ad_group_name": "G"}, "VALIDATION_FAILED: the first ad group needs a default_bid"),
    ({"ad_group_name": "G", "default_bid": 0.5, "skus": ["MAT-BLUE", "MAT-GREEN"]},
     "NOT_FOUND: site us sells no SKU 'MAT-GREEN'; list_product_ads shows advertised SKUs"),
    ({"ad_group_name": "G", "default_bid": 0.001}, "VALIDATION_FAILED: a bid on site us must be between 0.02 and 1000 "
                                                   "USD; got 0.001"),
])
async def test_create_campaign_with_an_ad_group_refuses(ads, snapshot, arguments, message):
    before = snapshot()
    base = {"site": "us", "name": "New", "targeting": "manual", "daily_budget": 10}
    assert await ads.error("create_campaign", **{**base, **arguments}, dry_run=True) == message
    assert snapshot() == before


async def test_an_asin_search_term_is_in_a_manual_campaign_once_a_product_target_takes_it(ads, market):
    with market.session() as s:
        s.add(SearchTermDailyMetric(site_id="us", campaign_id=2, ad_group_id=2, keyword_id=None, search_term="b0corkmat1",
                                    date=dt.date(2026, 11, 19), impressions=100, clicks=10, spend=5.0, orders=3, units=3,
                                    sales=60.0))

    async def in_manual() -> list[tuple[str, bool]]:
        found = await ads.ok("get_search_terms", site="us", targeting="auto", term_contains="b0")
        return [(t["search_term"], t["in_manual_campaign"]) for t in found["search_terms"]]

    assert await in_manual() == [("b0corkmat1", False)]
    await ads.approved("create_product_target", site="us", ad_group_id=1, asin="B0CORKMAT1", bid=0.9)
    assert await in_manual() == [("b0corkmat1", True)]
