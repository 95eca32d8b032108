"""console.dashboards.data: the analytics tools as DataFrames and tiles, errors as the console's coded errors."""

from __future__ import annotations

import datetime as dt

import anyio
import pandas as pd
import pytest
from mcp import Client

from console import errors
from console.dashboards import data as dashboards
from console.dashboards import periods, search, tiles
from mcp_bridge.types import Caller, Source, ToolOutcome
from servers.ads.server import build_server as build_ads
from servers.analytics import dashboards as tools
from servers.commerce.server import build_server as build_commerce
from servers.common.config import ServerConfig
from servers.common.server import MarketServer
from tests.support.dashboards import END, START, TODAY, build_small_market

MANAGER = Caller("manager@demo.local", frozenset({"manager"}), frozenset({"us", "de"}))


class InProcessBridge:
    """Enough of Bridge.call for reads: the tools of in-process servers, by their `server__` prefix."""

    def __init__(self, servers: dict[str, MarketServer]) -> None:
        self.servers, self.calls = servers, []

    def call(self, caller: Caller, name: str, arguments: dict, *, source: Source) -> ToolOutcome:
        self.calls.append((name, arguments, source))
        if arguments.get("site") not in caller.sites:
            return ToolOutcome(name, "error", "SITE_SCOPE_REQUIRED: site 'jp' is outside your scope", code="SITE_SCOPE_REQUIRED")

        async def go():
            server, tool = name.split("__", 1)
            async with Client(self.servers[server]) as client:
                return await client.call_tool(tool, arguments)

        result = anyio.run(go)
        text = result.content[0].text if result.content else ""
        if result.is_error:
            return ToolOutcome(name, "error", text, code=text.split(":", 1)[0])
        return ToolOutcome(name, "ok", text, structured=result.structured_content)


@pytest.fixture(scope="module")
def bridge(tmp_path_factory) -> InProcessBridge:
    url = f"sqlite:///{tmp_path_factory.mktemp('dash-data') / 'market.db'}"
    db = build_small_market(url)
    config = ServerConfig(market_database_url=url, approval_secret="s", today_override=TODAY)
    mcp = MarketServer("analytics")
    tools.register(mcp, db, config)
    return InProcessBridge({"analytics": mcp, "ads": build_ads(config), "commerce": build_commerce(config)})


def test_ads_view_frames_and_tiles(bridge):
    view = dashboards.ads_dashboard(bridge, MANAGER, site="us", start=START, end=END, rank_by="acos")
    assert list(view.daily.columns) == ["date", "impressions", "clicks", "spend", "sales", "orders", "acos"]
    assert pd.api.types.is_datetime64_any_dtype(view.daily["date"]) and len(view.daily) == 7
    assert list(view.campaigns["id"]) == [1, 3, 2] and view.total_campaigns == 3
    assert list(view.platforms["platform"]) == ["amazon", "meta"]
    shown = {t.label: t for t in tiles.ads_tiles(view)}
    assert (shown["Spend"].value, shown["Spend"].delta, shown["Spend"].change.tone) == ("$105.00", "+110.0%", "neutral")
    # ACOS 50% → 34.4%: a change in points, and down is good
    assert (shown["ACOS"].value, shown["ACOS"].delta, shown["ACOS"].change.tone) == ("34.4%", "-15.6 pp", "good")
    assert shown["ROAS"].value == "2.90×" and shown["TACoS"].value == "13.1%"
    assert shown["Orders"].delta == "+275.0%" and shown["Orders"].help == "15 · Nov 7\u2009–\u200913, 2026: 4 · +275.0% (relative change)"
    name, arguments, source = bridge.calls[-1]
    assert name == "analytics__get_ads_dashboard" and source.kind == "ui"
    assert "platform" not in arguments  # None filters are not sent
    assert dashboards.to_csv(view.campaigns).decode().splitlines()[0].startswith("id,name,platform")


def test_drilldown_inventory_and_sales_views(bridge):
    drill = dashboards.campaign_drilldown(bridge, MANAGER, site="us", campaign_id=1, start=START, end=END)
    assert list(drill.keywords["name"]) == ["yoga mat", "thick mat"]
    assert "bid" not in drill.search_terms.columns
    inv = dashboards.inventory_dashboard(bridge, MANAGER, site="us")
    assert list(inv.items["sku"]) == ["K-1", "Y-1", "Y-2"]
    assert {t.label: t.value for t in tiles.inventory_tiles(inv)}["OOS with live ads"] == "1"
    sales = dashboards.sales_dashboard(bridge, MANAGER, site="us", start=START, end=END)
    assert len(sales.anomalies) == 2 and sales.by_category["anomaly"].tolist() == [False, True]
    assert {t.label: t.value for t in tiles.sales_tiles(sales)}["AOV"] == "$400.00"


def test_sales_by_site_skips_sites_outside_scope(bridge):
    frame = dashboards.sales_by_site(bridge, MANAGER, sites=["us", "de", "jp"], start=START, end=END)
    assert list(frame["site"]) == ["de", "us"]
    assert list(frame["revenue"]) == [0.0, 800.0] and list(frame["currency"]) == ["EUR", "USD"]


def test_errors_become_coded_console_errors(bridge):
    with pytest.raises(errors.SiteScopeRequired):
        dashboards.ads_dashboard(bridge, MANAGER.__class__("x", frozenset(), frozenset({"us"})), site="jp")
    with pytest.raises(errors.NotFound, match="campaign 99 does not exist"):
        dashboards.campaign_drilldown(bridge, MANAGER, site="us", campaign_id=99)
    with pytest.raises(errors.ValidationFailed):
        dashboards.sales_dashboard(bridge, MANAGER, site="us", start="2026-11-20", end="2026-11-01")


def test_last_days_and_server_today(bridge):
    assert periods.last_days(TODAY, 7) == (START, END)
    assert dashboards.server_today(bridge, MANAGER, "us") == TODAY


def test_weeks_cut_by_the_range_are_partial_and_never_anomalies(bridge):
    # 11-14 is a Saturday, 11-20 a Friday: the week of 11-09 starts before the range, the week of 11-16 ends after
    # it. The last one ($500 in five days vs $800 a week earlier, −37.5%) passes the 30% threshold only because
    # it is cut short.
    sales = dashboards.sales_dashboard(bridge, MANAGER, site="us", start=START, end=END, granularity="week")
    assert [p.date() for p in sales.series["period"]] == [dt.date(2026, 11, 9), dt.date(2026, 11, 16)]
    assert sales.series["partial"].tolist() == [True, True]
    assert sales.series["anomaly"].tolist() == [False, False] and sales.anomalies.empty
    whole = dashboards.sales_dashboard(bridge, MANAGER, site="us", start=dt.date(2026, 11, 9),
                                       end=dt.date(2026, 11, 15), granularity="week")
    assert whole.series["partial"].tolist() == [False]
    days = dashboards.sales_dashboard(bridge, MANAGER, site="us", start=START, end=END)
    assert not days.series["partial"].any() and len(days.anomalies) == 2  # a day is never cut by the range


def test_kpis_against_a_period_of_choice(bridge):
    before = len(bridge.calls)
    same = dashboards.ads_dashboard(bridge, MANAGER, site="us", start=START, end=END,
                                    compare=periods.Period(dt.date(2026, 11, 7), dt.date(2026, 11, 13)))
    assert len(bridge.calls) == before + 1  # the days just before come with the range's own answer
    assert same.changes["spend"] == pytest.approx(1.1) and same.changes["acos"] == pytest.approx(105 / 305 - 0.5)
    last_year = periods.comparison_period(periods.Period(START, END), "last_year")
    assert last_year == periods.Period(dt.date(2025, 11, 14), dt.date(2025, 11, 20))
    view = dashboards.ads_dashboard(bridge, MANAGER, site="us", start=START, end=END, compare=last_year)
    name, arguments, _ = bridge.calls[-1]
    assert (arguments["start_date"], arguments["end_date"], arguments["limit"]) == ("2025-11-14", "2025-11-20", 1)
    assert view.compared_to == last_year and view.changes["spend"] is None  # nothing was spent a year earlier
    spend = tiles.ads_tiles(view)[0]
    assert spend.delta == "" and spend.help == "$105.00 · nothing to compare with in Nov 14\u2009–\u200920, 2025"

    sales = dashboards.sales_dashboard(bridge, MANAGER, site="us", start=START, end=END,
                                       compare=periods.Period(dt.date(2026, 11, 10), dt.date(2026, 11, 10)))
    assert sales.previous["revenue"] == 400 and sales.changes["revenue"] == pytest.approx(1.0)
    by_site = dashboards.sales_by_site(bridge, MANAGER, sites=["us"], start=START, end=END,
                                       compare=periods.Period(dt.date(2026, 11, 10), dt.date(2026, 11, 10)))
    assert by_site["revenue_change"].tolist() == [pytest.approx(1.0)]


def test_search_finds_campaigns_by_keyword_sku_asin_and_products_by_code(bridge):
    view = dashboards.ads_dashboard(bridge, MANAGER, site="us", start=START, end=END)
    found = search.keywords(bridge, MANAGER, site="us", start=START, end=END)
    assert set(found["text"]) == {"yoga mat", "*", "brand", "thick mat"}
    skus = search.variants(bridge, MANAGER, site="us")
    ads = search.product_ads(bridge, MANAGER, site="us", skus=skus)
    assert sorted(ads["sku"]) == ["K-1", "Y-1"] and set(ads["title"]) == {"Chef knife", "Yoga mat"}
    assert search.campaigns_matching("YOGA", view.campaigns, found, ads) == {1, 2, 3}  # names, and Y-1's ad in 3
    assert search.campaigns_matching("thick", view.campaigns, found, ads) == {1}  # a keyword of campaign 1
    assert search.campaigns_matching("k-1", view.campaigns, found, ads) == {1}  # the knife's ad
    assert set(skus["asin"]) == {"B000000001"}  # the factory's one ASIN: both advertised SKUs have it
    assert search.campaigns_matching("b000000001", view.campaigns, found, ads) == {1, 3}
    sales = dashboards.sales_dashboard(bridge, MANAGER, site="us", start=START, end=END, top_n=50)
    assert search.products_matching("k-1", sales.top_products, skus)["title"].tolist() == ["Chef knife"]
    assert search.products_matching("kitchen", sales.top_products, skus)["title"].tolist() == ["Chef knife"]
