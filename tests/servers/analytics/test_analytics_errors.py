"""Bad input answers with a coded error a person can act on, never a traceback."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from servers.analytics.server import build_server

pytestmark = pytest.mark.anyio

DATED = ("get_daily_sales", "get_acos_alerts", "get_recent_reviews", "find_harvest_candidates", "find_wasted_spend",
         "get_budget_pacing", "get_cross_platform_report")
WEEKLY = ("get_sales_anomalies", "get_weekly_report_data")
TOOLS = (*DATED, *WEEKLY, "get_inventory_alerts")


async def error_text(cfg, tool: str, **arguments: Any) -> str:
    async with Client(build_server(cfg)) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error
    return result.content[0].text


@pytest.mark.parametrize("tool", TOOLS)
async def test_unknown_site(empty_server_config, tool):
    text = await error_text(empty_server_config, tool, site="mars")
    assert text.startswith("SITE_SCOPE_REQUIRED") and "mars" in text


@pytest.mark.parametrize("tool", DATED)
@pytest.mark.parametrize(("start", "end"), [("2026-02-30", None), ("2026-11-19", "2026-11-01"), ("yesterday", None)])
async def test_bad_dates(empty_server_config, tool, start, end):
    args = {"site": "us", "start_date": start, **({"end_date": end} if end else {})}
    assert (await error_text(empty_server_config, tool, **args)).startswith("VALIDATION_FAILED")


@pytest.mark.parametrize("tool", WEEKLY)
async def test_bad_week_end(empty_server_config, tool):
    assert (await error_text(empty_server_config, tool, site="us", week_end="19/11/2026")).startswith("VALIDATION_FAILED")


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("get_recent_reviews", {"min_rating": 4, "max_rating": 2}),
        ("get_recent_reviews", {"min_rating": 0}),
        ("get_daily_sales", {"limit": 0}),
        ("get_acos_alerts", {"limit": 501}),
        ("get_acos_alerts", {"sort_by": "bid"}),
        ("find_wasted_spend", {"offset": -1}),
        ("get_budget_pacing", {"status": "broken"}),
        ("get_sales_anomalies", {"group_by": "brand"}),
    ],
)
async def test_bad_arguments(server_config, tool, arguments):
    assert (await error_text(server_config, tool, site="us", **arguments)).startswith("VALIDATION_FAILED")


async def test_every_tool_is_read_only(server_config):
    async with Client(build_server(server_config)) as client:
        tools = (await client.list_tools()).tools
    assert {t.name for t in tools} >= set(TOOLS)
    for t in tools:
        assert t.annotations.read_only_hint is True and t.annotations.destructive_hint is False, t.name
        assert t.output_schema, t.name
        assert list(t.input_schema["properties"])[0] == "site", t.name
