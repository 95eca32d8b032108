"""console.dashboards: the analytics tools as DataFrames and tiles, errors as the console's coded errors."""

from __future__ import annotations

import anyio
import pandas as pd
import pytest
from mcp import Client

from console import dashboards, errors
from mcp_bridge.types import Caller, Source, ToolOutcome
from servers.analytics import dashboards as tools
from servers.common.config import ServerConfig
from servers.common.server import MarketServer
from tests.support.dashboards import END, START, TODAY, build_small_market

MANAGER = Caller("manager@demo.local", frozenset({"manager"}), frozenset({"us", "de"}))


class InProcessBridge:
    """Enough of Bridge.call for reads: the dashboard tools of an in-process analytics server."""

    def __init__(self, server: MarketServer) -> None:
        self.server, self.calls = server, []

    def call(self, caller: Caller, name: str, arguments: dict, *, source: Source) -> ToolOutcome:
        self.calls.append((name, arguments, source))
        if arguments.get("site") not in caller.sites:
            return ToolOutcome(name, "error", "SITE_SCOPE_REQUIRED: site 'jp' is outside your scope", code="SITE_SCOPE_REQUIRED")

        async def go():
            async with Client(self.server) as client:
                return await client.call_tool(name.split("__", 1)[1], arguments)

        result = anyio.run(go)
        text = result.content[0].text if result.content else ""
        if result.is_error:
            return ToolOutcome(name, "error", text, code=text.split(":", 1)[0])
        return ToolOutcome(name, "ok", text, structured=result.structured_content)


@pytest.fixture(scope="module")
def bridge(tmp_path_factory) -> InProcessBridge:
    url = f"sqlite:///{tmp_path_factory.mktemp('dash-data') / 'market.db'}"
    db = build_small_market(url)
    mcp = MarketServer("analytics")
    tools.register(mcp, db, ServerConfig(market_database_url=url, approval_secret="s", today_override=TODAY))
    return InProcessBridge(mcp)


def test_ads_view_frames_and_tiles(bridge):
    view = dashboards.ads_dashboard(bridge, MANAGER, site="us", start=START, end=END, rank_by="acos")
    assert list(view.daily.columns) == ["date", "impressions", "clicks", "spend", "sales", "orders", "acos"]
    assert pd.api.types.is_datetime64_any_dtype(view.daily["date"]) and len(view.daily) == 7
    assert list(view.campaigns["id"]) == [1, 3, 2] and view.total_campaigns == 3
    assert list(view.platforms["platform"]) == ["amazon", "meta"]
    tiles = {t.label: t for t in view.tiles()}
    assert (tiles["Spend"].value, tiles["Spend"].change) == ("$105.00", "+110.0%")
    assert (tiles["ACOS"].value, tiles["ACOS"].better_when_lower) == ("34.4%", True)
    assert tiles["ROAS"].value == "2.90×" and tiles["TACoS"].value == "13.1%"
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
    assert {t.label: t.value for t in inv.tiles()}["OOS with live ads"] == "1"
    sales = dashboards.sales_dashboard(bridge, MANAGER, site="us", start=START, end=END)
    assert len(sales.anomalies) == 2 and sales.by_category["anomaly"].tolist() == [False, True]
    assert {t.label: t.value for t in sales.tiles()}["AOV"] == "$400.00"


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
    assert dashboards.last_days(TODAY, 7) == (START, END)
    assert dashboards.server_today(bridge, MANAGER, "us") == TODAY
