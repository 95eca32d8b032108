"""The seeded demo data gives every playbook (DESIGN.md §6) something to find, on every site."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from servers.analytics.server import build_server

pytestmark = pytest.mark.anyio
SITES = ("us", "de", "jp")


@pytest.fixture
async def calls(server_config):
    """A function calling one analytics tool on the demo data (one in-memory session per test)."""
    async with Client(build_server(server_config)) as client:

        async def call(tool: str, **arguments: Any) -> dict[str, Any]:
            result = await client.call_tool(tool, arguments)
            assert not result.is_error, result.content
            return result.structured_content

        yield call


@pytest.mark.parametrize("site", SITES)
async def test_every_playbook_finds_something(calls, site):
    harvest = await calls("find_harvest_candidates", site=site)
    assert harvest["total"] >= 3 and all(r["cvr"] > 0.10 and r["orders"] >= 3 for r in harvest["items"])
    assert all(r["suggested_bid"] and r["target_campaign_id"] for r in harvest["items"])

    wasted = await calls("find_wasted_spend", site=site)
    reasons = {r["reason"] for r in wasted["items"]}
    assert reasons == {"no_orders", "acos_over_max"}

    pacing = await calls("get_budget_pacing", site=site)
    assert {r["status"] for r in pacing["items"]} == {"exhausted_early", "under_utilised", "ok"}
    early = [r for r in pacing["items"] if r["status"] == "exhausted_early"]
    assert all(r["typical_ran_out_at"] <= "18:00" for r in early)

    acos = await calls("get_acos_alerts", site=site, level="campaign")
    assert any(r["acos"] > 0.6 for r in acos["items"])
    under = await calls("get_acos_alerts", site=site, direction="under")
    assert under["total"] > 0

    stock = await calls("get_inventory_alerts", site=site)
    actions = {r["suggested_action"] for r in stock["items"]}
    assert "pause_ads_and_reorder" in actions
    assert any(r["days_of_supply"] and 2 <= r["days_of_supply"] <= 6 for r in stock["items"])

    reviews = await calls("get_recent_reviews", site=site, start_date="2026-11-14", max_rating=2)
    assert reviews["total"] >= 3

    weekly = await calls("get_weekly_report_data", site=site)
    assert all(n > 0 for n in weekly["next_actions"].values()), weekly["next_actions"]
    assert weekly["top_keywords"] and weekly["bottom_keywords"]


async def test_most_campaigns_are_healthy(calls):
    over = await calls("get_acos_alerts", site="us", level="campaign")
    platforms = await calls("get_cross_platform_report", site="us")
    assert [p["platform"] for p in platforms["platforms"]] == ["amazon", "google", "meta"]
    campaigns = sum(p["campaigns"] for p in platforms["platforms"])
    # Healthy = not clearly over target (ACOS within 1.5× the 30% target); a few points over is a watch item.
    clearly_bad = [r for r in over["items"] if r["acos"] > 0.30 * 1.5]
    assert over["total"] <= campaigns / 2 and len(clearly_bad) < campaigns / 3


@pytest.mark.parametrize(("site", "category", "direction"), [("us", "Kitchen Tools", "drop"), ("jp", "Cat Supplies", "spike")])
async def test_planted_week_over_week_anomaly(calls, site, category, direction):
    out = await calls("get_sales_anomalies", site=site)
    assert [(r["key"], r["direction"]) for r in out["items"]] == [(category, direction)]
    assert abs(out["items"][0]["change"]) > 0.3


async def test_daily_sales_have_a_weekly_rhythm_and_today(calls):
    out = await calls("get_daily_sales", site="us", start_date="2026-10-01", end_date="2026-11-20", limit=500)
    days = out["days"]
    assert days[-1]["date"] == "2026-11-20" and days[-1]["ad_spend"] == 0  # today: orders so far, no ad report yet
    saturdays = [d["orders"] for d in days[:-1] if d["date"] in ("2026-10-17", "2026-10-24", "2026-10-31")]
    sundays = [d["orders"] for d in days[:-1] if d["date"] in ("2026-10-18", "2026-10-25", "2026-11-01")]
    assert sum(sundays) > sum(saturdays)
