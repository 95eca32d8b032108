"""What each ads write proposes (whole dry-run results), what it applies, and the rules it enforces."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from servers.market.models import AdGroup, Campaign, Keyword, NegativeKeyword, ProductAd

pytestmark = pytest.mark.anyio


def proposal(tool, target, summary, before, after, changes, impact=None) -> dict:
    return {"tool": tool, "site": "us", "target": target, "summary": summary, "dry_run": True, "applied": False,
            "replayed": False, "before": before, "after": after,
            "changes": [{"field": f, "before": b, "after": a} for f, b, a in changes],
            "created_id": None, "impact": impact or {}}


def set_state(market, model, object_id, state) -> None:
    with market.session() as s:
        s.get(model, object_id).state = state


async def test_update_bid_projects_spend_from_last_weeks_clicks(ads, market):
    # kw1 had 80 clicks over 11-13..11-19: 80/7 a day, each 0.20 cheaper.
    assert await ads.ok("update_bid", site="us", keyword_id=1, bid=1.0, dry_run=True) == proposal(
        "update_bid", "keyword #1 'yoga mat' (exact)", "bid 1.20 → 1.00", {"bid": 1.2}, {"bid": 1.0},
        [("bid", 1.2, 1.0)], {"daily_spend_delta": -2.29})
    await ads.approved("update_bid", site="us", keyword_id=1, bid=1.004)
    with market.reader() as s:
        assert s.get(Keyword, 1).bid == 1.0


@pytest.mark.parametrize(("bid", "message"), [
    (5000, "VALIDATION_FAILED: a bid on site us must be between 0.02 and 1000 USD; got 5000.0"),
    (0.01, "VALIDATION_FAILED: a bid on site us must be between 0.02 and 1000 USD; got 0.01"),
])
async def test_update_bid_keeps_to_the_marketplace_range(ads, bid, message):
    assert await ads.error("update_bid", site="us", keyword_id=1, bid=bid, dry_run=True) == message


async def test_archived_keywords_cannot_change(ads, market):
    set_state(market, Keyword, 2, "archived")
    for tool, extra in [("update_bid", {"bid": 1.0}), ("pause_keyword", {}), ("enable_keyword", {})]:
        assert await ads.error(tool, site="us", keyword_id=2, dry_run=True, **extra) == (
            "VALIDATION_FAILED: keyword 2 'thick yoga mat' is archived; archived keywords cannot change")


async def test_pause_keyword_projects_the_spend_it_stops(ads, market):
    assert await ads.ok("pause_keyword", site="us", keyword_id=1, dry_run=True) == proposal(
        "pause_keyword", "keyword #1 'yoga mat' (exact)", "state: enabled → paused", {"state": "enabled"},
        {"state": "paused"}, [("state", "enabled", "paused")], {"daily_spend_delta": -8.57})
    await ads.approved("pause_keyword", site="us", keyword_id=1)
    with market.reader() as s:
        assert s.get(Keyword, 1).state == "paused"
    # Pausing again is a no-op, not an error: the tool is idempotent.
    again = await ads.approved("pause_keyword", operation_id=2, site="us", keyword_id=1)
    assert (again["applied"], again["changes"], again["impact"]) == (True, [], {})


async def test_enable_keyword(ads, market):
    assert await ads.ok("enable_keyword", site="us", keyword_id=3, dry_run=True) == proposal(
        "enable_keyword", "keyword #3 'exercise mat' (broad)", "state: paused → enabled", {"state": "paused"},
        {"state": "enabled"}, [("state", "paused", "enabled")])
    await ads.approved("enable_keyword", site="us", keyword_id=3)
    with market.reader() as s:
        assert s.get(Keyword, 3).state == "enabled"


async def test_update_campaign_changes_several_fields_at_once(ads, market):
    arguments = {"site": "us", "campaign_id": 1, "daily_budget": 35.0, "state": "paused", "name": "US Mats - Exact"}
    assert await ads.ok("update_campaign", **arguments, dry_run=True) == proposal(
        "update_campaign", "campaign #1 'US Mats - Manual'",
        "state: enabled → paused; daily_budget: 50.0 → 35.0; name: US Mats - Manual → US Mats - Exact",
        {"state": "enabled", "daily_budget": 50.0, "name": "US Mats - Manual"},
        {"state": "paused", "daily_budget": 35.0, "name": "US Mats - Exact"},
        [("state", "enabled", "paused"), ("daily_budget", 50.0, 35.0), ("name", "US Mats - Manual", "US Mats - Exact")],
        {"daily_budget_delta": -15.0})
    await ads.approved("update_campaign", **arguments)
    with market.reader() as s:
        c = s.get(Campaign, 1)
        assert (c.state, c.daily_budget, c.name) == ("paused", 35.0, "US Mats - Exact")


@pytest.mark.parametrize(("arguments", "message"), [
    ({}, "VALIDATION_FAILED: update_campaign needs at least one of state, daily_budget, name"),
    ({"daily_budget": 0.5}, "VALIDATION_FAILED: a daily budget on site us must be between 1 and 1000000 USD; got 0.5"),
    ({"name": "  "}, "VALIDATION_FAILED: name must not be blank"),
    ({"name": "us mats - auto"}, "CONFLICT: campaign 2 on profile 1 is already named 'us mats - auto'; choose another name"),
])
async def test_update_campaign_refuses(ads, arguments, message):
    assert await ads.error("update_campaign", site="us", campaign_id=1, dry_run=True, **arguments) == message


async def test_archived_campaigns_take_no_changes_and_no_ad_groups(ads, market):
    set_state(market, Campaign, 3, "archived")
    message = "VALIDATION_FAILED: campaign 3 'US Brand Video' is archived; archived campaigns cannot change"
    assert await ads.error("update_campaign", site="us", campaign_id=3, state="enabled", dry_run=True) == message
    assert await ads.error("create_ad_group", site="us", campaign_id=3, name="More", default_bid=1, dry_run=True) == message


async def test_create_campaign_uses_the_sites_profile_and_today(ads, market):
    arguments = {"site": "us", "name": "  US Cork   - Manual ", "targeting": "manual", "daily_budget": 15.0}
    after = {"name": "US Cork - Manual", "platform": "amazon", "profile_id": 1, "campaign_type": "SP",
             "targeting": "manual", "state": "enabled", "daily_budget": 15.0, "start_date": "2026-11-20"}
    assert await ads.ok("create_campaign", **arguments, dry_run=True) == proposal(
        "create_campaign", "new campaign 'US Cork - Manual' (SP, manual, amazon)",
        "create enabled campaign 'US Cork - Manual' with daily budget 15.00", {}, after,
        [(k, None, v) for k, v in after.items()], {"daily_budget_delta": 15.0})
    created = (await ads.approved("create_campaign", **arguments))["created_id"]
    with market.reader() as s:
        c = s.get(Campaign, created)
        assert (c.site_id, c.name, c.profile_id, c.daily_budget, c.state, str(c.start_date)) == (
            "us", "US Cork - Manual", 1, 15.0, "enabled", "2026-11-20")


async def test_create_campaign_on_another_platform_paused(ads):
    result = await ads.ok("create_campaign", site="us", name="Meta Retarget", targeting="manual", daily_budget=20,
                          platform="meta", campaign_type="SD", state="paused", start_date="2026-12-01", dry_run=True)
    assert (result["after"]["profile_id"], result["after"]["start_date"], result["impact"]) == (
        2, "2026-12-01", {"daily_budget_delta": 0.0})


@pytest.mark.parametrize(("arguments", "message"), [
    ({"name": "US Mats - Auto"}, "CONFLICT: campaign 2 on profile 1 is already named 'US Mats - Auto'; choose another name"),
    ({"platform": "google"}, "NOT_FOUND: site us has no google advertising profile; list_profiles shows the profiles"),
    ({"platform": "meta", "profile_id": 1}, "VALIDATION_FAILED: profile 1 is a amazon profile, not meta"),
    ({"start_date": "next week"}, "VALIDATION_FAILED: start_date must look like 2026-11-21; got 'next week'"),
    ({"daily_budget": 2_000_000}, "VALIDATION_FAILED: a daily budget on site us must be between 1 and 1000000 USD; got 2000000.0"),
])
async def test_create_campaign_refuses(ads, arguments, message):
    base = {"site": "us", "name": "New", "targeting": "manual", "daily_budget": 10}
    assert await ads.error("create_campaign", **{**base, **arguments}, dry_run=True) == message


async def test_create_ad_group(ads, market):
    arguments = {"site": "us", "campaign_id": 1, "name": "Cork", "default_bid": 0.75}
    after = {"campaign_id": 1, "name": "Cork", "default_bid": 0.75, "state": "enabled"}
    assert await ads.ok("create_ad_group", **arguments, dry_run=True) == proposal(
        "create_ad_group", "new ad group 'Cork' in campaign #1 'US Mats - Manual'",
        "create ad group 'Cork' with default bid 0.75", {}, after, [(k, None, v) for k, v in after.items()])
    created = (await ads.approved("create_ad_group", **arguments))["created_id"]
    with market.reader() as s:
        g = s.get(AdGroup, created)
        assert (g.site_id, g.campaign_id, g.name, g.default_bid, g.state) == ("us", 1, "Cork", 0.75, "enabled")
    assert await ads.error("create_ad_group", **{**arguments, "name": "CORK"}, dry_run=True) == (
        f"CONFLICT: ad group {created} of campaign 1 is already named 'CORK'; choose another name")


async def test_create_keyword_takes_the_ad_groups_default_bid(ads, market):
    after = {"campaign_id": 1, "ad_group_id": 1, "text": "cork yoga mat", "match_type": "exact", "bid": 1.0,
             "state": "enabled"}
    arguments = {"site": "us", "ad_group_id": 1, "text": "cork  yoga mat", "match_type": "exact"}
    assert await ads.ok("create_keyword", **arguments, dry_run=True) == proposal(
        "create_keyword", "new keyword 'cork yoga mat' (exact) in ad group #1 'Mats'",
        "add exact keyword 'cork yoga mat' at bid 1.00", {}, after, [(k, None, v) for k, v in after.items()])
    created = (await ads.approved("create_keyword", **arguments))["created_id"]
    with market.reader() as s:
        k = s.get(Keyword, created)
        assert (k.site_id, k.ad_group_id, k.text, k.match_type, k.bid, k.state) == (
            "us", 1, "cork yoga mat", "exact", 1.0, "enabled")


@pytest.mark.parametrize(("arguments", "message"), [
    ({"text": "Yoga Mat", "match_type": "exact"},
     "CONFLICT: ad group 1 already has keyword 1 'Yoga Mat' (exact); change its bid with update_bid instead"),
    ({"ad_group_id": 2}, "VALIDATION_FAILED: campaign 2 'US Mats - Auto' uses auto targeting; keywords go in manual campaigns"),
    ({"bid": 2000}, "VALIDATION_FAILED: a bid on site us must be between 0.02 and 1000 USD; got 2000.0"),
])
async def test_create_keyword_refuses(ads, arguments, message):
    base = {"site": "us", "ad_group_id": 1, "text": "cork yoga mat", "match_type": "exact"}
    assert await ads.error("create_keyword", **{**base, **arguments}, dry_run=True) == message


async def test_create_keyword_allows_the_same_text_with_another_match_type(ads):
    result = await ads.ok("create_keyword", site="us", ad_group_id=1, text="yoga mat", match_type="phrase", dry_run=True)
    assert result["after"]["match_type"] == "phrase"


async def test_create_negative_projects_the_spend_it_blocks(ads, market):
    # 'cork yoga mat' cost 15.00 in campaign 2 over the last 7 days.
    after = {"campaign_id": 2, "ad_group_id": None, "text": "cork yoga mat", "match_type": "negative_exact"}
    arguments = {"site": "us", "campaign_id": 2, "text": "cork yoga mat", "match_type": "negative_exact"}
    assert await ads.ok("create_negative", **arguments, dry_run=True) == proposal(
        "create_negative", "new negative 'cork yoga mat' (negative_exact) in campaign #2 'US Mats - Auto'",
        "add negative_exact 'cork yoga mat' to campaign #2 'US Mats - Auto'", {}, after,
        [(k, None, v) for k, v in after.items() if v is not None], {"daily_spend_delta": -2.14})
    created = (await ads.approved("create_negative", **arguments))["created_id"]
    with market.reader() as s:
        n = s.get(NegativeKeyword, created)
        assert (n.site_id, n.campaign_id, n.ad_group_id, n.text, n.match_type) == (
            "us", 2, None, "cork yoga mat", "negative_exact")


async def test_create_negative_phrase_at_ad_group_level(ads):
    # 'yoga' as a phrase blocks all three auto terms: 15 + 8 + 7 = 30.00 a week.
    result = await ads.ok("create_negative", site="us", campaign_id=2, ad_group_id=2, text="yoga",
                          match_type="negative_phrase", dry_run=True)
    assert (result["target"], result["impact"]) == (
        "new negative 'yoga' (negative_phrase) in ad group #2 'Auto' of campaign #2 'US Mats - Auto'",
        {"daily_spend_delta": -4.29})


@pytest.mark.parametrize(("arguments", "message"), [
    ({"text": "FREE yoga"}, "CONFLICT: campaign #2 'US Mats - Auto' already has negative keyword 1 'FREE yoga' (negative_exact)"),
    ({"ad_group_id": 1}, "VALIDATION_FAILED: ad group 1 belongs to campaign 1, not 2"),
    ({"ad_group_id": 5}, "NOT_FOUND: ad group 5 does not exist on site us; list_ad_groups shows the ids"),
])
async def test_create_negative_refuses(ads, arguments, message):
    base = {"site": "us", "campaign_id": 2, "text": "free yoga", "match_type": "negative_exact"}
    assert await ads.error("create_negative", **{**base, **arguments}, dry_run=True) == message


async def test_create_negative_allows_the_same_text_at_another_level(ads):
    result = await ads.ok("create_negative", site="us", campaign_id=2, ad_group_id=2, text="free yoga",
                          match_type="negative_exact", dry_run=True)
    assert result["after"]["ad_group_id"] == 2


async def test_pause_product_ads_pauses_every_ad_of_the_sku_on_the_site(ads, market):
    assert await ads.ok("pause_product_ads", site="us", sku="MAT-BLUE", dry_run=True) == proposal(
        "pause_product_ads", "product ads of SKU MAT-BLUE (2 ads, 0 on hand)",
        "pause 2 live product ads of SKU MAT-BLUE (0 on hand)",
        {"product_ad #1 state": "enabled", "product_ad #2 state": "enabled"},
        {"product_ad #1 state": "paused", "product_ad #2 state": "paused"},
        [("product_ad #1 state", "enabled", "paused"), ("product_ad #2 state", "enabled", "paused")],
        {"product_ads_paused": 2.0})
    await ads.approved("pause_product_ads", site="us", sku="MAT-BLUE")
    with market.reader() as s:
        assert list(s.execute(select(ProductAd.id, ProductAd.state).order_by(ProductAd.id))) == [
            (1, "paused"), (2, "paused"), (3, "enabled"), (4, "enabled")]
    again = await ads.ok("pause_product_ads", site="us", sku="MAT-BLUE", dry_run=True)
    assert (again["changes"], again["impact"]) == ([], {"product_ads_paused": 0.0})


async def test_a_token_covers_the_arguments_as_the_bridge_sent_them(ads, market):
    # The model writes 60, validation makes it 60.0, and an omitted optional stays omitted: the token still fits.
    arguments = {"site": "us", "campaign_id": 1, "daily_budget": 60}
    result = await ads.approved("update_campaign", **arguments)
    assert (result["applied"], result["after"]) == (True, {"daily_budget": 60.0})
    created = await ads.approved("create_keyword", operation_id=2, site="us", ad_group_id=1, text="cork mat",
                                 match_type="exact", bid=1)
    with market.reader() as s:
        assert s.get(Keyword, created["created_id"]).bid == 1.0
