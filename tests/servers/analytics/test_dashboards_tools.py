"""Known-answer tests of the dashboard tools on the hand-built market of tests/support/dashboards.py,
on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp import Client

from servers.analytics import dashboards
from servers.common.config import ServerConfig
from servers.common.server import MarketServer
from tests.support.dashboards import TODAY, build_small_market


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request, tmp_path_factory) -> MarketServer:
    """The dashboard tools on the hand-built market, on SQLite and on PostgreSQL (each dialect's own SQL)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('dash') / 'market.db'}"
    else:
        url = request.getfixturevalue("postgres_cluster").create_database("dashboards_known_answers")
    db = build_small_market(url)
    mcp = MarketServer("analytics-dashboards-test")
    dashboards.register(mcp, db, ServerConfig(market_database_url=url, approval_secret="s", today_override=TODAY))
    return mcp


def call(server: MarketServer, tool: str, **arguments: Any) -> dict[str, Any]:
    async def go():
        async with Client(server) as client:
            return await client.call_tool(tool, arguments)

    result = anyio.run(go)
    assert not result.is_error, result.content[0].text
    return result.structured_content


def call_error(server: MarketServer, tool: str, **arguments: Any) -> str:
    async def go():
        async with Client(server) as client:
            return await client.call_tool(tool, arguments)

    result = anyio.run(go)
    assert result.is_error
    return result.content[0].text


WEEK = {"start_date": "2026-11-14", "end_date": "2026-11-20"}


def test_ads_dashboard_kpis_and_previous_range(server):
    data = call(server, "get_ads_dashboard", site="us", **WEEK)
    k, p = data["kpis"], data["previous"]
    assert (k["impressions"], k["clicks"], k["spend"], k["sales"], k["orders"], k["units"]) == (7700, 155, 105, 305, 15, 15)
    assert k["acos"] == pytest.approx(105 / 305)
    assert k["roas"] == pytest.approx(305 / 105)
    assert k["ctr"] == pytest.approx(155 / 7700)
    assert k["cvr"] == pytest.approx(15 / 155)
    assert k["cpc"] == pytest.approx(105 / 155)
    assert k["store_revenue"] == 800  # the cancelled order does not count
    assert k["tacos"] == pytest.approx(105 / 800)
    assert (data["previous_start"], data["previous_end"]) == ("2026-11-07", "2026-11-13")
    assert (p["spend"], p["sales"], p["store_revenue"], p["acos"]) == (50, 100, 500, 0.5)
    assert data["changes"]["spend"] == pytest.approx(1.1)
    assert data["changes"]["acos"] == pytest.approx((105 / 305 - 0.5) / 0.5)
    assert (data["currency"], data["acos_target"]) == ("USD", 0.3)


def test_ads_dashboard_daily_series_platforms_and_ranking(server):
    data = call(server, "get_ads_dashboard", site="us", rank_by="acos", **WEEK)
    daily = {row["date"]: row for row in data["daily"]}
    assert len(daily) == 7
    assert (daily["2026-11-20"]["spend"], daily["2026-11-20"]["sales"]) == (40, 40)
    assert daily["2026-11-20"]["acos"] == 1.0
    assert daily["2026-11-15"]["acos"] == pytest.approx(15 / 65)
    platforms = {row["platform"]: row for row in data["platforms"]}
    assert (platforms["amazon"]["campaigns"], platforms["amazon"]["spend"], platforms["amazon"]["sales"]) == (2, 100, 280)
    assert (platforms["meta"]["spend"], platforms["meta"]["acos"]) == (5, 0.2)
    # Ranked by ACOS, highest first; campaign 2 has no sales (ACOS undefined) so it sorts last.
    assert [c["id"] for c in data["campaigns"]] == [1, 3, 2]
    assert data["campaigns"][0]["acos"] == 0.25
    assert data["campaigns"][2]["acos"] is None
    assert data["total_campaigns"] == 3


def test_ads_dashboard_filters_and_limit(server):
    data = call(server, "get_ads_dashboard", site="us", platform="amazon", state="enabled", limit=1, **WEEK)
    assert data["kpis"]["spend"] == 100
    assert [c["id"] for c in data["campaigns"]] == [1]  # by spend: 70 > 30
    assert data["total_campaigns"] == 2
    data = call(server, "get_ads_dashboard", site="us", campaign_type="SB", **WEEK)
    assert (data["kpis"]["spend"], data["kpis"]["sales"]) == (5, 25)


def test_ads_dashboard_site_and_dates_are_checked(server):
    assert call_error(server, "get_ads_dashboard", site="xx").startswith("SITE_SCOPE_REQUIRED")
    assert call_error(server, "get_ads_dashboard", site="us", start_date="2026-11-20", end_date="2026-11-01").startswith("VALIDATION_FAILED")
    assert call_error(server, "get_ads_dashboard", site="us", rank_by="bogus").startswith("VALIDATION_FAILED")
    empty = call(server, "get_ads_dashboard", site="de", **WEEK)
    assert (empty["kpis"]["spend"], empty["kpis"]["acos"], empty["campaigns"], empty["total_campaigns"]) == (0, None, [], 0)


def test_default_range_is_last_30_days_ending_today(server):
    data = call(server, "get_ads_dashboard", site="us")
    assert (data["start_date"], data["end_date"]) == ("2026-10-23", "2026-11-21")


def test_campaign_drilldown(server):
    data = call(server, "get_campaign_drilldown", site="us", campaign_id=1, **WEEK)
    assert data["campaign_name"] == "Yoga manual"
    assert [(g["id"], g["spend"], g["sales"]) for g in data["ad_groups"]] == [(1, 70, 280)]
    assert [(k["name"], k["spend"], k["bid"], k["detail"]) for k in data["keywords"]] == [
        ("yoga mat", 70, 1.2, "exact"), ("thick mat", 0, 0.9, "exact")]
    terms = {t["name"]: t for t in data["search_terms"]}
    assert (terms["yoga mat"]["spend"], terms["yoga mat"]["orders"], terms["yoga mat"]["clicks"]) == (7, 2, 14)
    assert terms["yoga mat"]["cvr"] == pytest.approx(2 / 14)
    assert terms["mat"]["acos"] is None
    narrowed = call(server, "get_campaign_drilldown", site="us", campaign_id=1, keyword_id=4, **WEEK)
    assert narrowed["search_terms"] == []
    assert call_error(server, "get_campaign_drilldown", site="us", campaign_id=99).startswith("NOT_FOUND")
    assert call_error(server, "get_campaign_drilldown", site="de", campaign_id=1).startswith("NOT_FOUND")


def test_inventory_dashboard(server):
    data = call(server, "get_inventory_dashboard", site="us")
    assert data["totals"] == {"skus": 3, "units_on_hand": 130, "units_inbound": 10, "at_risk": 2, "out_of_stock": 1,
                              "out_of_stock_with_live_ads": 1, "reorder_units": 57, "units_sold_30d": 44}
    assert data["sold_through"] == "2026-11-20"
    rows = {r["sku"]: r for r in data["items"]}
    assert [r["sku"] for r in data["items"]] == ["K-1", "Y-1", "Y-2"]  # shortest supply first, none last
    assert (rows["Y-1"]["days_of_supply"], rows["Y-1"]["reorder_quantity"], rows["Y-1"]["at_risk"], rows["Y-1"]["live_ads"]) == (10, 33, True, 0)
    assert (rows["K-1"]["days_of_supply"], rows["K-1"]["reorder_quantity"], rows["K-1"]["out_of_stock"], rows["K-1"]["live_ads"]) == (0, 24, True, 1)
    assert (rows["Y-2"]["days_of_supply"], rows["Y-2"]["available"], rows["Y-2"]["reorder_quantity"], rows["Y-2"]["at_risk"]) == (None, 90, 0, False)
    # Sold: the cancelled O2 never counts; O4 (11-10) and O5 (11-13) are in the 30 days but not the last 7.
    assert {sku: (r["sold_7d"], r["sold_30d"], r["pace_change"]) for sku, r in rows.items()} == {
        "Y-1": (5, 30, round(5 / 7 / 3 - 1, 4)), "K-1": (14, 14, 0.0), "Y-2": (0, 0, None)}


def test_inventory_dashboard_threshold_safety_and_sorting(server):
    data = call(server, "get_inventory_dashboard", site="us", days_threshold=5, safety_days=0, only_at_risk=True)
    assert [r["sku"] for r in data["items"]] == ["K-1"]
    assert data["total"] == 1
    assert data["totals"]["reorder_units"] == (3 * 14 - 30) + (2 * 10 - 10)
    by_reorder = call(server, "get_inventory_dashboard", site="us", sort_by="reorder_quantity", descending=True)
    assert [r["sku"] for r in by_reorder["items"]] == ["Y-1", "K-1", "Y-2"]
    by_sold = call(server, "get_inventory_dashboard", site="us", sort_by="sold_30d", descending=True)
    assert [(r["sku"], r["sold_30d"]) for r in by_sold["items"]] == [("Y-1", 30), ("K-1", 14), ("Y-2", 0)]


def test_sales_dashboard_daily(server):
    data = call(server, "get_sales_dashboard", site="us", **WEEK)
    assert data["totals"] == {"revenue": 800, "orders": 2, "units": 19, "aov": 400, "returned_units": 2,
                              "returns_rate": pytest.approx(2 / 19)}
    assert (data["previous"]["revenue"], data["previous"]["orders"], data["previous"]["units"]) == (500, 2, 25)
    assert data["changes"]["revenue"] == pytest.approx(0.6)
    series = {p["period"]: p for p in data["series"]}
    assert len(series) == 7 and series["2026-11-16"]["revenue"] == 0
    assert (series["2026-11-20"]["revenue"], series["2026-11-20"]["change"], series["2026-11-20"]["anomaly"]) == (500, 4.0, True)
    assert (series["2026-11-17"]["change"], series["2026-11-17"]["anomaly"]) == (-1.0, True)
    assert (series["2026-11-14"]["change"], series["2026-11-14"]["anomaly"]) == (None, False)
    assert [a["period"] for a in data["anomalies"]] == ["2026-11-17", "2026-11-20"]


def test_sales_dashboard_weekly_categories_and_products(server):
    data = call(server, "get_sales_dashboard", site="us", granularity="week", top_n=2, **WEEK)
    weeks = [(p["period"], p["revenue"], p["orders"], p["change"], p["anomaly"]) for p in data["series"]]
    assert weeks == [("2026-11-09", 800, 3, None, False), ("2026-11-16", 500, 1, -0.375, True)]
    assert [(c["key"], c["revenue"], c["units"], c["share"]) for c in data["by_category"]] == [
        ("Kitchen", 700, 14, 0.875), ("Yoga", 100, 5, 0.125)]
    # Week over week: Yoga sold 100 vs 400 + 100 (−80%, an anomaly); Kitchen sold nothing before (no change defined).
    assert [(c["key"], c["week_revenue"], c["previous_week_revenue"], c["change"], c["anomaly"])
            for c in data["by_category"]] == [("Kitchen", 700, 0, None, False), ("Yoga", 100, 500, -0.8, True)]
    assert [c["key"] for c in data["category_anomalies"]] == ["Yoga"]
    assert [(p["title"], p["revenue"]) for p in data["top_products"]] == [("Chef knife", 700), ("Yoga mat", 100)]
    assert [(p["title"], p["revenue"]) for p in data["bottom_products"]] == [("Yoga block", 0), ("Yoga mat", 100)]
    assert data["top_products"][0]["returns_rate"] == pytest.approx(2 / 14)


def test_sales_dashboard_threshold(server):
    data = call(server, "get_sales_dashboard", site="us", anomaly_threshold=5, **WEEK)
    assert data["anomalies"] == []
