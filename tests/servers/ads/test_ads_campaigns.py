"""Reads of accounts, campaigns and ad groups against the hand-built market (answers in conftest.py)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.anyio

NO_METRICS = {"impressions": 0, "clicks": 0, "spend": 0.0, "orders": 0, "sales": 0.0,
              "acos": None, "roas": None, "ctr": None, "cvr": None, "cpc": None}
C1_METRICS = {"impressions": 2500, "clicks": 105, "spend": 85.0, "orders": 8, "sales": 300.0,
              "acos": 0.2833, "roas": 3.5294, "ctr": 0.042, "cvr": 0.0762, "cpc": 0.8095}
C2_METRICS = {"impressions": 2000, "clicks": 40, "spend": 30.0, "orders": 2, "sales": 40.0,
              "acos": 0.75, "roas": 1.3333, "ctr": 0.02, "cvr": 0.05, "cpc": 0.75}
US_TOTALS = {"impressions": 8500, "clicks": 165, "spend": 125.0, "orders": 11, "sales": 390.0,
             "acos": 0.3205, "roas": 3.12, "ctr": 0.0194, "cvr": 0.0667, "cpc": 0.7576}
C4_METRICS = {"impressions": 4000, "clicks": 20, "spend": 10.0, "orders": 1, "sales": 50.0,
              "acos": 0.2, "roas": 5.0, "ctr": 0.005, "cvr": 0.05, "cpc": 0.5}


def campaign(cid: int, name: str, platform: str, ctype: str, targeting: str, state: str, budget: float,
             profile: int, metrics: dict) -> dict:
    return {"id": cid, "name": name, "platform": platform, "campaign_type": ctype, "targeting": targeting,
            "state": state, "daily_budget": budget, "profile_id": profile, "start_date": "2026-09-01", **metrics}


C1 = campaign(1, "US Mats - Manual", "amazon", "SP", "manual", "enabled", 50.0, 1, C1_METRICS)
C2 = campaign(2, "US Mats - Auto", "amazon", "SP", "auto", "enabled", 30.0, 1, C2_METRICS)
C3 = campaign(3, "US Brand Video", "amazon", "SB", "manual", "paused", 20.0, 1, NO_METRICS)
C4 = campaign(4, "US Meta Audience", "meta", "SD", "manual", "enabled", 40.0, 2, C4_METRICS)


async def test_list_profiles_shows_only_the_sites_profiles(ads):
    assert await ads.ok("list_profiles", site="us") == {"profiles": [
        {"id": 1, "site": "us", "platform": "amazon", "account_name": "Acme US", "account_type": "seller"},
        {"id": 2, "site": "us", "platform": "meta", "account_name": "Acme Meta", "account_type": "seller"},
    ]}


async def test_get_regions_describes_the_site(ads):
    assert await ads.ok("get_regions", site="de") == {
        "site": "de", "name": "Germany", "marketplace": "amazon.de", "region": "EU",
        "api_endpoint": "advertising-api-eu.amazon.com", "currency": "EUR", "timezone": "Europe/Berlin",
        "acos_target": 0.3, "platforms": ["amazon"],
    }


@pytest.mark.parametrize("tool", ["list_profiles", "get_regions", "list_campaigns", "list_ad_groups"])
async def test_unknown_site_answers_site_scope_required(ads, tool):
    assert await ads.error(tool, site="fr") == "SITE_SCOPE_REQUIRED: unknown site 'fr'; pass one of: de, us"


async def test_a_read_without_a_site_answers_site_scope_required(ads):
    assert await ads.error("list_campaigns") == "SITE_SCOPE_REQUIRED: list_campaigns needs a site (e.g. 'us', 'de', 'jp')"


async def test_list_campaigns_aggregates_the_default_window_sorted_by_spend(ads):
    assert await ads.ok("list_campaigns", site="us") == {
        "site": "us", "start_date": "2026-10-22", "end_date": "2026-11-20", "total": 4, "totals": US_TOTALS,
        "campaigns": [C1, C2, C4, C3],
    }


@pytest.mark.parametrize(("filters", "ids"), [
    ({"platform": "meta"}, [4]),
    ({"campaign_type": "SP"}, [1, 2]),
    ({"targeting": "auto"}, [2]),
    ({"state": "paused"}, [3]),
    ({"name_contains": "mats -"}, [1, 2]),
    ({"name_contains": "%"}, []),
    ({"sort_by": "acos"}, [2, 1, 4, 3]),
    ({"sort_by": "acos", "descending": False}, [4, 1, 2, 3]),
    ({"sort_by": "ctr"}, [1, 2, 4, 3]),
    ({"limit": 2, "offset": 1}, [2, 4]),
])
async def test_list_campaigns_filters_sorts_and_pages(ads, filters, ids):
    result = await ads.ok("list_campaigns", site="us", **filters)
    assert [c["id"] for c in result["campaigns"]] == ids
    assert result["total"] == (4 if set(filters) <= {"sort_by", "descending", "limit", "offset"} else len(ids))


async def test_list_campaigns_over_an_explicit_range(ads):
    result = await ads.ok("list_campaigns", site="us", start_date="2026-10-01", end_date="2026-10-01")
    assert result["campaigns"][0] == campaign(1, "US Mats - Manual", "amazon", "SP", "manual", "enabled", 50.0, 1, {
        "impressions": 100, "clicks": 10, "spend": 10.0, "orders": 1, "sales": 20.0,
        "acos": 0.5, "roas": 2.0, "ctr": 0.1, "cvr": 0.1, "cpc": 1.0})
    assert [c["spend"] for c in result["campaigns"]] == [10.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize(("arguments", "message"), [
    ({"start_date": "21/11/2026"}, "VALIDATION_FAILED: start_date must look like 2026-11-21; got '21/11/2026'"),
    ({"start_date": "2026-11-20", "end_date": "2026-11-01"}, "VALIDATION_FAILED: start_date 2026-11-20 is after end_date"),
    ({"sort_by": "name"}, "VALIDATION_FAILED: list_campaigns: sort_by: Input should be"),
    ({"limit": 501}, "VALIDATION_FAILED: list_campaigns: limit: Input should be less than or equal to 500"),
    ({"platform": "tiktok"}, "VALIDATION_FAILED: list_campaigns: platform: Input should be"),
])
async def test_list_campaigns_refuses_bad_arguments(ads, arguments, message):
    assert (await ads.error("list_campaigns", site="us", **arguments)).startswith(message)


async def test_list_ad_groups_sums_their_keywords(ads):
    assert await ads.ok("list_ad_groups", site="us", campaign_id=1) == {
        "site": "us", "start_date": "2026-10-22", "end_date": "2026-11-20", "total": 1, "totals": C1_METRICS,
        "ad_groups": [{"id": 1, "campaign_id": 1, "campaign_name": "US Mats - Manual", "name": "Mats",
                       "default_bid": 1.0, "state": "enabled", **C1_METRICS}],
    }


async def test_list_ad_groups_sorts_and_filters(ads):
    result = await ads.ok("list_ad_groups", site="us", sort_by="impressions")
    assert [(g["id"], g["impressions"]) for g in result["ad_groups"]] == [(4, 4000), (1, 2500), (2, 2000), (3, 0)]
    assert (await ads.ok("list_ad_groups", site="us", name_contains="vid"))["total"] == 1


async def test_list_ad_groups_of_a_foreign_campaign_is_not_found(ads):
    assert await ads.error("list_ad_groups", site="us", campaign_id=5) == (
        "NOT_FOUND: campaign 5 does not exist on site us; list_campaigns shows the ids")
