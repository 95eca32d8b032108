"""The daily rollups equal the raw rows' sums: after the seed, after the migration's backfill, after every
write that changes the rows they sum, and after a repair; the dashboards that read them follow a write at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from alembic import command
from mcp import Client
from sqlalchemy import func, inspect, select, update

from servers.analytics.dashboards import ads_dashboard, sales_dashboard
from servers.commerce.server import build_server
from servers.common.config import ServerConfig
from servers.market.__main__ import main
from servers.market.db import MarketDB, alembic_config, migrate
from servers.market.models import DailySales, Order, OrderItem, Return
from tests.servers.commerce.calls import approved, ok
from tests.support.market import TODAY
from tests.support.rollups import assert_rollups_true

ROLLUP_TABLES = {"campaign_daily_metrics", "daily_sales", "variant_daily_sales"}


def test_seed_builds_rollups_equal_to_the_raw_rows(market_url: str) -> None:
    assert_rollups_true(market_url)


def test_migration_backfills_an_existing_database(market_url: str) -> None:
    command.downgrade(alembic_config(market_url), "0002")  # a database from before the rollups existed
    db = MarketDB(market_url)
    assert ROLLUP_TABLES.isdisjoint(inspect(db.engine).get_table_names())
    db.engine.dispose()
    migrate(market_url)
    assert_rollups_true(market_url)


def _one(url: str, query: Any) -> Any:
    db = MarketDB(url)
    try:
        with db.reader() as s:
            return s.execute(query).first()
    finally:
        db.engine.dispose()


def _order(status: str) -> Any:
    return select(Order.id).where(Order.site_id == "us", Order.status == status).order_by(Order.id)


def _return(status: str) -> Any:
    return select(Return.id).where(Return.site_id == "us", Return.status == status).order_by(Return.id)


# (tool, the row it acts on, the other arguments): every write tool that changes rows a rollup sums.
WRITES = {
    "pay a pending order": ("update_order_status", "order_id", _order("pending"), {"status": "paid"}),
    "cancel a paid order": ("update_order_status", "order_id", _order("paid"), {"status": "cancelled"}),
    "ship a paid order": ("mark_order_shipped", "order_id", _order("paid"), {"carrier": "UPS", "tracking_number": "1Z42"}),
    "deliver a shipped order": ("update_order_status", "order_id", _order("shipped"), {"status": "delivered"}),
    "a delivered order comes back": ("update_order_status", "order_id", _order("delivered"), {"status": "returned"}),
    "reject a return": ("confirm_return", "return_id", _return("requested"), {"decision": "rejected"}),
    "refund and restock a return": ("confirm_return", "return_id", _return("requested"),
                                    {"decision": "refunded", "restock": True}),
}


@pytest.mark.anyio
@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
async def test_every_write_keeps_the_rollups_true(market_url: str, write: tuple[str, str, Any, dict[str, Any]]) -> None:
    tool, id_name, target, rest = write
    arguments = {"site": "us", id_name: _one(market_url, target)[0], **rest}
    config = ServerConfig(market_database_url=market_url, approval_secret="test-secret", today_override=TODAY)
    async with Client(build_server(config)) as client:
        assert (await ok(client, tool, **approved("test-secret", tool, **arguments)))["applied"] is True
    assert_rollups_true(market_url)


@pytest.mark.anyio
async def test_dashboards_follow_a_cancelled_order_at_once(market_url: str) -> None:
    start, end = TODAY - dt.timedelta(days=29), TODAY
    db = MarketDB(market_url)
    with db.reader() as s:
        before_sales = sales_dashboard(s, site="us", start=start, end=end)
        before_ads = ads_dashboard(s, site="us", start=start, end=end)
        order = s.scalars(select(Order).where(Order.site_id == "us", Order.status == "paid",
                                              Order.placed_date.between(start, end)).order_by(Order.id)).first()
        units = s.scalar(select(func.sum(OrderItem.quantity)).where(OrderItem.order_id == order.id))
    config = ServerConfig(market_database_url=market_url, approval_secret="test-secret", today_override=TODAY)
    args = {"site": "us", "order_id": order.id, "status": "cancelled"}
    async with Client(build_server(config)) as client:
        await ok(client, "update_order_status", **approved("test-secret", "update_order_status", **args))
    with db.reader() as s:
        after_sales = sales_dashboard(s, site="us", start=start, end=end)
        after_ads = ads_dashboard(s, site="us", start=start, end=end)
    db.engine.dispose()
    assert (after_sales.totals.orders, after_sales.totals.units) == (before_sales.totals.orders - 1,
                                                                     before_sales.totals.units - units)
    assert after_sales.totals.revenue == pytest.approx(before_sales.totals.revenue - order.total, abs=0.01)
    assert after_ads.kpis.store_revenue == pytest.approx(before_ads.kpis.store_revenue - order.total, abs=0.01)
    day = next(p for p in after_sales.series if p.period == order.placed_date)
    assert day.orders == next(p for p in before_sales.series if p.period == order.placed_date).orders - 1


def test_cli_checks_and_rebuilds_the_rollups(market_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = MarketDB(market_url)
    with db.session() as s:  # damage one row, as a write outside the servers would
        s.execute(update(DailySales).where(DailySales.site_id == "us", DailySales.date == TODAY - dt.timedelta(days=3),
                                           DailySales.order_status == "delivered").values(revenue=DailySales.revenue + 1))
    db.engine.dispose()
    assert main(["rollups", "check", "--url", market_url]) == 1
    assert "daily_sales: 1 rows differ" in capsys.readouterr().out
    assert main(["rollups", "rebuild", "--url", market_url, "--site", "us"]) == 0
    assert capsys.readouterr().out.startswith("rebuilt campaign_daily_metrics ")
    assert main(["rollups", "check", "--url", market_url]) == 0
    assert_rollups_true(market_url)
