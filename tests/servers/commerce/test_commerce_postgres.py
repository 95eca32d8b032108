"""The same known answers on PostgreSQL (the database the console uses at scale)."""

from __future__ import annotations

import pytest
from mcp import Client
from sqlalchemy import text

from servers.commerce.server import build_server
from servers.common.config import ServerConfig
from servers.market.db import MarketDB
from tests.servers.commerce.calls import approved, ok, refused
from tests.servers.commerce.conftest import SECRET, TODAY, build_store
from tests.servers.commerce.test_commerce_catalog import BLOCK, KNIFE, MAT, V1, V2
from tests.servers.commerce.test_commerce_customers import BOB, JANE
from tests.servers.commerce.test_commerce_imports import CLEAN, ROWS
from tests.servers.commerce.test_commerce_inventory import BLOCK as BLOCK_LEVEL
from tests.servers.commerce.test_commerce_inventory import MAT_BLU, MAT_RED
from tests.servers.commerce.test_commerce_orders import O1, O2, O3, O4

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

TABLES = ("categories", "products", "variants", "customers", "orders", "order_items", "returns", "discount_codes",
          "coupons", "reviews", "product_imports")


@pytest.fixture
def pg_config(postgres_url: str) -> ServerConfig:
    build_store(postgres_url)
    # The store was built with explicit ids; move each sequence past them so new rows get fresh ids.
    with MarketDB(postgres_url).session() as s:
        for table in TABLES:
            s.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"))
    return ServerConfig(market_database_url=postgres_url, approval_secret=SECRET, today_override=TODAY)


async def test_reads_on_postgres(pg_config):
    async with Client(build_server(pg_config)) as c:
        assert await ok(c, "list_products", site="us") == {"total": 3, "products": [MAT, BLOCK, KNIFE]}
        assert await ok(c, "list_products", site="us", search="YOGA", sort_by="min_price") == {
            "total": 2, "products": [BLOCK, MAT]}
        product = await ok(c, "get_product", site="us", product_id=1)
        assert (product["variants"], product["rating"]["average"]) == ([V1, V2], 3.75)
        assert await ok(c, "get_inventory_levels", site="us") == {"total": 3, "levels": [MAT_RED, MAT_BLU, BLOCK_LEVEL]}
        assert await ok(c, "list_orders", site="us") == {"total": 4, "orders": [O1, O2, O3, O4]}
        assert await ok(c, "list_customers", site="us", sort_by="total_spent", descending=True) == {
            "total": 2, "masked": True, "customers": [BOB, JANE]}
        assert await ok(c, "analyze_product_import", site="us", rows=ROWS) == CLEAN


async def test_writes_on_postgres(pg_config):
    async with Client(build_server(pg_config)) as c:
        code = {"site": "us", "code": "PG10", "kind": "percent", "value": 10}
        assert (await ok(c, "create_discount_code", **approved(SECRET, "create_discount_code", **code)))["created_id"] == 4
        await refused(c, "create_discount_code", "CONFLICT", **approved(SECRET, "create_discount_code", 2, **code))
        commit = await ok(c, "commit_product_import", **approved(SECRET, "commit_product_import", 3, site="us", rows=ROWS))
        assert commit["after"]["products_created"] == 2
        shipped = {"site": "us", "order_id": 2, "carrier": "UPS", "tracking_number": "1Z999AA1"}
        await ok(c, "mark_order_shipped", **approved(SECRET, "mark_order_shipped", 4, **shipped))
        assert (await ok(c, "get_order", site="us", order_id=2))["order"]["status"] == "shipped"
