"""The ads server: the Amazon Ads MCP surface (profiles, campaigns, ad groups, keywords, reports)."""

from __future__ import annotations

from servers.ads import accounts, campaigns, keywords, product_ads, reports, targets
from servers.common.config import ServerConfig
from servers.common.server import MarketServer
from servers.market.db import MarketDB
from servers.market.writes import register_write_status

INSTRUCTIONS = (
    "Sponsored ads of the marketplace (Amazon Ads, plus Meta and Google as a platform field). "
    "Every tool takes the site it acts on. Reads are free; writes need an approval token, "
    "and dry_run=true shows the before → after without one. Ratios are fractions (acos 0.25 = 25%)."
)


def build_server(config: ServerConfig | None = None) -> MarketServer:
    config = (config or ServerConfig.from_env()).for_server("ads")
    db = MarketDB(config.market_database_url)
    mcp = MarketServer("ads", instructions=INSTRUCTIONS)
    for module in (accounts, campaigns, keywords, targets, product_ads, reports):
        module.register(mcp, db, config)
    register_write_status(mcp, db)
    return mcp
