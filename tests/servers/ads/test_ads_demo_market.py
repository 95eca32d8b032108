"""The ads tools over the seeded demo market: the playbooks find their cases, and the numbers agree."""

from __future__ import annotations

import pytest

from servers.market import metrics

pytestmark = pytest.mark.anyio

RATIOS = {"acos": (metrics.acos, "spend", "sales"), "roas": (metrics.roas, "sales", "spend"),
          "ctr": (metrics.ctr, "clicks", "impressions"), "cvr": (metrics.cvr, "orders", "clicks"),
          "cpc": (metrics.cpc, "spend", "clicks")}


def assert_metric_definitions(row: dict) -> None:
    """The SQL ratios equal metrics.py's on the row's own sums (up to the rounding of amounts)."""
    for name, (formula, numerator, denominator) in RATIOS.items():
        expected = formula(row[numerator], row[denominator])
        if expected is None:
            assert row[name] is None, (name, row)
        else:
            assert row[name] == pytest.approx(expected, rel=1e-3, abs=1e-4), (name, row)


@pytest.mark.parametrize("site", ["us", "de", "jp"])
async def test_every_playbook_finds_its_case(demo_ads, site):
    wasted = await demo_ads.ok("list_keywords", site=site, zero_orders_only=True, min_spend=20, state="enabled")
    over_target = await demo_ads.ok("list_campaigns", site=site, state="enabled", sort_by="acos")
    harvest = await demo_ads.ok("get_search_terms", site=site, targeting="auto", min_orders=3, in_manual_campaign=False)
    out_of_stock = await demo_ads.ok("list_product_ads", site=site, out_of_stock_only=True, state="enabled")
    assert wasted["total"] > 0 and all(k["orders"] == 0 and k["spend"] >= 20 for k in wasted["keywords"])
    assert over_target["campaigns"][0]["acos"] > 0.6
    assert harvest["total"] > 0 and not any(t["in_manual_campaign"] for t in harvest["search_terms"])
    assert out_of_stock["total"] > 0 and all(a["available"] <= 0 for a in out_of_stock["product_ads"])


async def test_totals_agree_across_tools_and_with_metrics_py(demo_ads):
    performance = await demo_ads.ok("get_performance", site="us")
    report = await demo_ads.ok("generate_report", site="us", report_type="campaigns", limit=500)
    campaigns = await demo_ads.ok("list_campaigns", site="us", limit=500)
    keywords = await demo_ads.ok("list_keywords", site="us", limit=500)
    assert performance["totals"] == report["totals"]
    assert_metric_definitions(performance["totals"])
    for rows in (campaigns["campaigns"], keywords["keywords"], performance["series"]):
        for field in ("impressions", "clicks", "orders"):
            assert sum(r[field] for r in rows) == performance["totals"][field]
        assert sum(r["spend"] for r in rows) == pytest.approx(performance["totals"]["spend"], abs=0.01 * len(rows))
        for row in rows:
            assert_metric_definitions(row)


async def test_weekly_and_platform_series_add_up(demo_ads):
    weekly = await demo_ads.ok("get_performance", site="de", group_by="week", start_date="2026-09-07",
                               end_date="2026-11-15")
    by_platform = await demo_ads.ok("get_performance", site="de", group_by="platform", start_date="2026-09-07",
                                    end_date="2026-11-15")
    assert len(weekly["series"]) == 10 and weekly["series"][0]["key"] == "2026-09-07"
    assert weekly["totals"] == by_platform["totals"]
    assert sum(p["orders"] for p in weekly["series"]) == sum(p["orders"] for p in by_platform["series"])


async def test_cutting_a_wasteful_bid_end_to_end(demo_ads):
    worst = (await demo_ads.ok("list_keywords", site="us", zero_orders_only=True, min_spend=20, limit=1))["keywords"][0]
    arguments = {"site": "us", "keyword_id": worst["id"], "bid": round(worst["bid"] / 2, 2)}
    preview = await demo_ads.ok("update_bid", **arguments, dry_run=True)
    assert preview["before"] == {"bid": worst["bid"]} and preview["impact"]["daily_spend_delta"] < 0
    applied = await demo_ads.approved("update_bid", **arguments, expected_before=preview["before"])
    assert applied["applied"] is True
    after = await demo_ads.ok("list_keywords", site="us", campaign_id=worst["campaign_id"], text_contains=worst["text"])
    assert {k["id"]: k["bid"] for k in after["keywords"]}[worst["id"]] == arguments["bid"]
