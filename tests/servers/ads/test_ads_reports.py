"""get_performance, generate_report and list_product_ads against the hand-built market (answers in conftest.py)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.anyio

ZERO = {"impressions": 0, "clicks": 0, "spend": 0.0, "orders": 0, "sales": 0.0,
        "acos": None, "roas": None, "ctr": None, "cvr": None, "cpc": None}
US_TOTALS = {"impressions": 8500, "clicks": 165, "spend": 125.0, "orders": 11, "sales": 390.0,
             "acos": 0.3205, "roas": 3.12, "ctr": 0.0194, "cvr": 0.0667, "cpc": 0.7576}
NOV_18 = {"impressions": 5000, "clicks": 70, "spend": 50.0, "orders": 6, "sales": 250.0,
          "acos": 0.2, "roas": 5.0, "ctr": 0.014, "cvr": 0.0857, "cpc": 0.7143}
NOV_19 = {"impressions": 3500, "clicks": 95, "spend": 75.0, "orders": 5, "sales": 140.0,
          "acos": 0.5357, "roas": 1.8667, "ctr": 0.0271, "cvr": 0.0526, "cpc": 0.7895}


def point(key: str, label: str, metrics: dict) -> dict:
    return {"key": key, "label": label, **metrics}


async def test_get_performance_by_day_fills_days_without_data(ads):
    assert await ads.ok("get_performance", site="us", start_date="2026-11-17", end_date="2026-11-20") == {
        "site": "us", "currency": "USD", "start_date": "2026-11-17", "end_date": "2026-11-20", "group_by": "day",
        "totals": US_TOTALS,
        "series": [point("2026-11-17", "2026-11-17", ZERO), point("2026-11-18", "2026-11-18", NOV_18),
                   point("2026-11-19", "2026-11-19", NOV_19), point("2026-11-20", "2026-11-20", ZERO)],
    }


async def test_get_performance_defaults_to_thirty_days(ads):
    result = await ads.ok("get_performance", site="us")
    assert (len(result["series"]), result["series"][0]["key"], result["totals"]) == (30, "2026-10-22", US_TOTALS)


async def test_get_performance_by_iso_week(ads):
    result = await ads.ok("get_performance", site="us", group_by="week", start_date="2026-11-10", end_date="2026-11-20")
    assert result["series"] == [point("2026-11-09", "week of 2026-11-09", ZERO),
                                point("2026-11-16", "week of 2026-11-16", US_TOTALS)]


async def test_get_performance_by_campaign_sorted_by_spend(ads):
    result = await ads.ok("get_performance", site="us", group_by="campaign")
    assert [(p["key"], p["label"], p["spend"], p["acos"]) for p in result["series"]] == [
        ("1", "US Mats - Manual", 85.0, 0.2833), ("2", "US Mats - Auto", 30.0, 0.75), ("4", "US Meta Audience", 10.0, 0.2)]


async def test_get_performance_by_platform(ads):
    result = await ads.ok("get_performance", site="us", group_by="platform")
    assert result["series"] == [
        point("amazon", "amazon", {"impressions": 4500, "clicks": 145, "spend": 115.0, "orders": 10, "sales": 340.0,
                                   "acos": 0.3382, "roas": 2.9565, "ctr": 0.0322, "cvr": 0.069, "cpc": 0.7931}),
        point("meta", "meta", {"impressions": 4000, "clicks": 20, "spend": 10.0, "orders": 1, "sales": 50.0,
                               "acos": 0.2, "roas": 5.0, "ctr": 0.005, "cvr": 0.05, "cpc": 0.5}),
    ]
    assert result["totals"] == US_TOTALS


async def test_get_performance_of_one_keyword_and_one_platform(ads):
    kw1 = await ads.ok("get_performance", site="us", keyword_id=1, start_date="2026-11-18", end_date="2026-11-19")
    assert [(p["key"], p["spend"], p["orders"]) for p in kw1["series"]] == [("2026-11-18", 40.0, 5), ("2026-11-19", 20.0, 3)]
    assert kw1["totals"]["acos"] == 0.2
    meta = await ads.ok("get_performance", site="us", platform="meta", group_by="campaign")
    assert (meta["totals"]["spend"], [p["key"] for p in meta["series"]]) == (10.0, ["4"])
    one = await ads.ok("get_performance", site="us", campaign_id=2, group_by="platform")
    assert [(p["key"], p["spend"]) for p in one["series"]] == [("amazon", 30.0)]


@pytest.mark.parametrize(("arguments", "message"), [
    ({"group_by": "month"}, "VALIDATION_FAILED: get_performance: group_by: Input should be"),
    ({"keyword_id": 7}, "NOT_FOUND: keyword 7 does not exist on site us"),
    ({"campaign_id": 5}, "NOT_FOUND: campaign 5 does not exist on site us"),
    ({"start_date": "2020-01-01"}, "VALIDATION_FAILED: a date range may span at most two years"),
])
async def test_get_performance_refuses_bad_arguments(ads, arguments, message):
    assert (await ads.error("get_performance", site="us", **arguments)).startswith(message)


async def test_generate_campaigns_report(ads):
    report = await ads.ok("generate_report", site="us", report_type="campaigns", limit=2)
    rows = report.pop("rows")
    assert report == {"site": "us", "currency": "USD", "report_type": "campaigns", "start_date": "2026-10-22",
                      "end_date": "2026-11-20", "total": 4, "totals": US_TOTALS}
    assert [(r["id"], r["spend"], r["acos"]) for r in rows] == [(1, 85.0, 0.2833), (2, 30.0, 0.75)]


async def test_generate_keywords_report_sorted_by_acos(ads):
    report = await ads.ok("generate_report", site="us", report_type="keywords", sort_by="acos")
    assert (report["total"], report["totals"]) == (6, US_TOTALS)
    assert [(r["id"], r["text"], r["acos"]) for r in report["rows"]] == [
        (4, "close-match", 0.75), (1, "yoga mat", 0.2), (6, "yoga", 0.2),
        (2, "thick yoga mat", None), (3, "exercise mat", None), (5, "yoga mat bag", None)]


async def test_generate_search_terms_report_totals_the_search_terms(ads):
    report = await ads.ok("generate_report", site="us", report_type="search_terms", end_date="2026-11-19")
    assert report["totals"] == {"impressions": 1600, "clicks": 90, "spend": 70.0, "orders": 10, "sales": 300.0,
                                "acos": 0.2333, "roas": 4.2857, "ctr": 0.0563, "cvr": 0.1111, "cpc": 0.7778}
    assert [(r["search_term"], r["campaign_id"], r["in_manual_campaign"]) for r in report["rows"]] == [
        ("yoga mat", 1, True), ("cork yoga mat", 2, False), ("yoga mat", 2, True), ("free yoga", 2, False)]


async def test_generate_report_refuses_unknown_types(ads):
    assert (await ads.error("generate_report", site="us", report_type="orders")).startswith(
        "VALIDATION_FAILED: generate_report: report_type: Input should be 'campaigns', 'keywords' or 'search_terms'")


def product_ad(aid, sku, variant, cid, campaign_name, state, on_hand, available) -> dict:
    return {"id": aid, "sku": sku, "variant_id": variant, "campaign_id": cid, "campaign_name": campaign_name,
            "ad_group_id": cid, "state": state, "on_hand": on_hand, "available": available}


async def test_list_product_ads_shows_stock(ads):
    assert await ads.ok("list_product_ads", site="us") == {"site": "us", "total": 3, "product_ads": [
        product_ad(1, "MAT-BLUE", 1, 1, "US Mats - Manual", "enabled", 0, 0),
        product_ad(2, "MAT-BLUE", 1, 2, "US Mats - Auto", "enabled", 0, 0),
        product_ad(3, "MAT-RED", 2, 1, "US Mats - Manual", "enabled", 40, 35),
    ]}


@pytest.mark.parametrize(("filters", "ids"), [
    ({"out_of_stock_only": True}, [1, 2]),
    ({"sku": "MAT-RED"}, [3]),
    ({"campaign_id": 2}, [2]),
    ({"state": "paused"}, []),
    ({"limit": 1, "offset": 2}, [3]),
])
async def test_list_product_ads_filters(ads, filters, ids):
    result = await ads.ok("list_product_ads", site="us", **filters)
    assert [a["id"] for a in result["product_ads"]] == ids
