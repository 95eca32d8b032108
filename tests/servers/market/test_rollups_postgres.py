"""The daily rollups on PostgreSQL: the seed builds them, the migration backfills them, writes keep them true,
and two transactions refreshing the same day one after the other both commit."""

from __future__ import annotations

import threading
import time

import pytest
from alembic import command
from mcp import Client
from sqlalchemy import select, text

from servers.commerce.server import build_server
from servers.common.config import ServerConfig
from servers.market.db import MarketDB, alembic_config, migrate
from servers.market.models import Order, Return
from servers.market.rollups import refresh_rollups
from servers.market.seed import seed_market
from tests.servers.commerce.calls import approved, ok
from tests.support.market import SEED, TODAY
from tests.support.rollups import assert_rollups_true

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def pg_market(postgres_url: str) -> str:
    seed_market(postgres_url, scale="demo", seed=SEED, today=TODAY)
    return postgres_url


def _first(url: str, query) -> int:
    db = MarketDB(url)
    try:
        with db.reader() as s:
            return s.scalars(query).first()
    finally:
        db.engine.dispose()


@pytest.mark.anyio
async def test_seed_backfill_and_writes_on_postgres(pg_market: str) -> None:
    assert_rollups_true(pg_market)
    command.downgrade(alembic_config(pg_market), "0002")
    migrate(pg_market)  # backfills with the migration's own SQL
    assert_rollups_true(pg_market)

    order = _first(pg_market, select(Order.id).where(Order.site_id == "us", Order.status == "paid").order_by(Order.id))
    ret = _first(pg_market, select(Return.id).where(Return.site_id == "us", Return.status == "requested").order_by(Return.id))
    config = ServerConfig(market_database_url=pg_market, approval_secret="test-secret", today_override=TODAY)
    async with Client(build_server(config)) as client:
        cancel = {"site": "us", "order_id": order, "status": "cancelled"}
        await ok(client, "update_order_status", **approved("test-secret", "update_order_status", 1, **cancel))
        reject = {"site": "us", "return_id": ret, "decision": "rejected"}
        await ok(client, "confirm_return", **approved("test-secret", "confirm_return", 2, **reject))
    assert_rollups_true(pg_market)


def _until_a_backend_waits_for_a_lock(db: MarketDB, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    with db.engine.connect() as conn:
        while time.monotonic() < deadline:
            if conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")):
                return True
            conn.rollback()
            time.sleep(0.05)
    return False


def test_concurrent_refreshes_of_one_day_both_commit(pg_market: str) -> None:
    db = MarketDB(pg_market)
    with db.reader() as s:
        day = s.scalar(select(Order.placed_date).where(Order.site_id == "us", Order.status == "paid").order_by(Order.id))
        first, second = s.scalars(select(Order.id).where(Order.site_id == "us", Order.placed_date == day,
                                                         Order.status == "paid").order_by(Order.id).limit(2)).all()
    errors: list[Exception] = []

    def ship_second() -> None:
        try:
            with db.session() as s:
                s.get_one(Order, second).status = "shipped"
                refresh_rollups(s, "us", [day])  # waits for the first transaction's lock on site us
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    with db.session() as s:
        s.get_one(Order, first).status = "cancelled"
        refresh_rollups(s, "us", [day])
        other = threading.Thread(target=ship_second)
        other.start()
        assert _until_a_backend_waits_for_a_lock(db), "the second refresh never waited for the first"
    other.join(30)
    db.engine.dispose()
    assert errors == [] and not other.is_alive()
    assert_rollups_true(pg_market)
