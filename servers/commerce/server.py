"""The commerce server: the store backend (Shopify / SlimWeb style) behind the console."""

from __future__ import annotations

from servers.commerce import customers, imports, inventory, orders, products, promotions, returns
from servers.common.config import ServerConfig
from servers.common.server import MarketServer
from servers.market.db import MarketDB
from servers.market.writes import register_write_status

INSTRUCTIONS = (
    "The store backend of each site: products, variants, categories, inventory, orders, returns, customers, "
    "discount codes, coupons and product imports. Every tool takes the site first. Reads are free; writes "
    "need an approval token (call them with dry_run=true to see the before → after). Customer emails and "
    "phones are masked unless a pii_grant is passed."
)


def build_server(config: ServerConfig | None = None) -> MarketServer:
    config = (config or ServerConfig.from_env()).for_server("commerce")
    db = MarketDB(config.market_database_url)
    mcp = MarketServer("commerce", instructions=INSTRUCTIONS)
    for module in (products, inventory, orders, returns, customers, promotions, imports):
        module.register(mcp, db, config)
    register_write_status(mcp, db)
    return mcp
