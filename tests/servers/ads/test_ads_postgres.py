"""The same answers from PostgreSQL as from SQLite: week starts, NULLS LAST, window totals, ILIKE, writes."""

from __future__ import annotations

import pytest
from mcp import Client

from servers.ads.server import build_server
from servers.common.config import ServerConfig

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

READS = [
    ("list_profiles", {"site": "us"}),
    ("get_regions", {"site": "de"}),
    ("list_campaigns", {"site": "us", "sort_by": "acos"}),
    ("list_campaigns", {"site": "us", "name_contains": "mats -", "limit": 1, "offset": 1}),
    ("list_ad_groups", {"site": "us", "sort_by": "ctr", "descending": False}),
    ("list_keywords", {"site": "us", "sort_by": "cvr"}),
    ("list_keywords", {"site": "us", "min_acos": 0.1, "max_acos": 0.5, "text_contains": "YOGA"}),
    ("list_keywords", {"site": "us", "zero_orders_only": True, "offset": 10}),
    ("get_search_terms", {"site": "us"}),
    ("get_search_terms", {"site": "us", "targeting": "auto", "min_orders": 3, "in_manual_campaign": False}),
    ("get_performance", {"site": "us", "start_date": "2026-11-17"}),
    ("get_performance", {"site": "us", "group_by": "week", "start_date": "2026-11-01"}),
    ("get_performance", {"site": "us", "group_by": "campaign"}),
    ("get_performance", {"site": "us", "group_by": "platform"}),
    ("generate_report", {"site": "us", "report_type": "search_terms"}),
    ("list_product_ads", {"site": "us", "out_of_stock_only": True}),
]


async def test_postgresql_answers_like_sqlite(ads, ads_config, fill_market, postgres_url):
    fill_market(postgres_url)
    config = ServerConfig(market_database_url=postgres_url, approval_secret=ads_config.approval_secret,
                          today_override=ads_config.today_override)
    async with Client(build_server(config)) as client:
        pg = type(ads)(client)
        for tool, arguments in READS:
            assert await pg.ok(tool, **arguments) == await ads.ok(tool, **arguments), (tool, arguments)
        for operation_id, (tool, arguments) in enumerate([
            ("create_campaign", {"site": "us", "name": "US Cork", "targeting": "manual", "daily_budget": 15.0}),
            ("create_negative", {"site": "us", "campaign_id": 2, "text": "yoga", "match_type": "negative_phrase"}),
            ("update_bid", {"site": "us", "keyword_id": 1, "bid": 1.0}),
        ], start=1):
            assert await pg.approved(tool, operation_id, **arguments) == await ads.approved(
                tool, operation_id, **arguments), tool
