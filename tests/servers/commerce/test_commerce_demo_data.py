"""The commerce tools on the seeded demo market (tests/support/market.py): real shapes, consistent answers."""

from __future__ import annotations

import pytest
from mcp import Client
from sqlalchemy import func, select

from servers.commerce.server import build_server
from servers.common.approval import sign_approval
from servers.common.config import ServerConfig
from servers.market.db import MarketDB
from servers.market.metrics import days_of_supply
from servers.market.models import OrderItem, Product
from tests.servers.commerce.calls import ok

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("site", ["us", "de", "jp"])
async def test_every_read_answers_on_every_demo_site(server_config: ServerConfig, site: str):
    async with Client(build_server(server_config)) as c:
        products = await ok(c, "list_products", site=site, limit=1)
        orders = await ok(c, "list_orders", site=site, limit=1)
        customers = await ok(c, "list_customers", site=site, limit=1)
        assert products["total"] > 0 and orders["total"] > 0 and customers["total"] > 0
        product_id, order_id = products["products"][0]["id"], orders["orders"][0]["id"]
        assert (await ok(c, "get_product", site=site, product_id=product_id))["variants"]
        assert (await ok(c, "get_order", site=site, order_id=order_id))["items"]
        customer = await ok(c, "get_customer", site=site, customer_id=customers["customers"][0]["id"])
        assert customer["masked"] and "***" in customer["customer"]["email"]
        for tool in ("list_variants", "list_categories", "get_inventory_levels", "list_returns", "list_discount_codes",
                     "list_coupons"):
            await ok(c, tool, site=site)


async def test_demo_aggregates_match_the_database(server_config: ServerConfig):
    db = MarketDB(server_config.market_database_url)
    async with Client(build_server(server_config)) as c:
        products = await ok(c, "list_products", site="us", limit=500)
        orders = await ok(c, "list_orders", site="us", limit=20, sort_by="total")
        levels = await ok(c, "get_inventory_levels", site="us", limit=500)
    with db.reader() as s:
        assert products["total"] == s.scalar(select(func.count()).select_from(Product).where(Product.site_id == "us"))
        for order in orders["orders"]:
            units = s.scalar(select(func.sum(OrderItem.quantity)).where(OrderItem.order_id == order["id"]))
            assert order["item_count"] == units
    assert [o["total"] for o in orders["orders"]] == sorted((o["total"] for o in orders["orders"]), reverse=True)
    for level in levels["levels"]:
        expected = days_of_supply(level["available"], level["velocity_per_day"])
        assert level["days_of_supply"] == (round(expected, 1) if expected is not None else None)
    # Most urgent first: out-of-stock SKUs lead, SKUs that never sell come last.
    urgency = [lv["days_of_supply"] if lv["days_of_supply"] is not None else float("inf") for lv in levels["levels"]]
    assert urgency == sorted(urgency)


async def test_ship_todays_first_paid_order_on_demo_data(server_config: ServerConfig):
    """Playbook 7: today's paid orders → mark one shipped, through the approval token."""
    async with Client(build_server(server_config)) as c:
        paid = await ok(c, "list_orders", site="us", status="paid", start_date="2026-11-20", limit=1)
        assert paid["total"] > 0
        order = paid["orders"][0]
        args = {"site": "us", "order_id": order["id"], "carrier": "UPS", "tracking_number": "1Z000DEMO1"}
        token = sign_approval(server_config.approval_secret, audience="commerce", operation_id=9, tool="mark_order_shipped", arguments=args)
        result = await ok(c, "mark_order_shipped", **args, approval_token=token,
                          expected_before={"status": "paid", "carrier": None, "tracking_number": None})
        assert result["applied"] and result["target"] == f"order #{order['id']} {order['number']}"
        detail = await ok(c, "get_order", site="us", order_id=order["id"])
        assert (detail["order"]["status"], detail["order"]["tracking_number"], detail["next_statuses"]) == (
            "shipped", "1Z000DEMO1", ["delivered"])
