"""A small hand-built store whose answers are worked out by hand (commerce tests; today is 2026-11-20).

Sites us (USD) and de (EUR). Ids are fixed so results can be asserted whole.
  categories  1 us Yoga · 2 us Kitchen · 3 de Yoga
  products    1 us "Yoga Mat Pro" (Yoga, active) · 2 us "Cork Yoga Block" (Yoga, draft)
              3 us "Chef Knife 8in" (Kitchen, archived) · 4 de "Yogamatte" (Yoga, active)
  variants    1 MAT-BLU 25.00 · 2 MAT-RED 27.00 (product 1) · 3 BLK-1 12.00 · 4 KNF-8 60.00 inactive, no inventory
              5 de MAT-BLU 24.00 (the same SKU on another site)
  inventory   v1 on 40 res 4 in 0 vel 6 → 6.0 days · v2 on 5 res 5 in 20 vel 2 → 0.0 (out of stock)
              v3 on 30 vel 0 → None · v5 on 10 vel 1 → 10.0
  reviews     product 1: 5, 5, 4, 1 → 4 reviews, average 3.75
  customers   1 us Jane Doe jane@example.com · 2 us Bob Ray · 3 de Hans Meier
  orders      1 US-1001 Jane pending 11-19 25 (v1) · 2 US-1002 Jane paid 11-18 52 (v1+v2)
              3 US-1003 Bob shipped 11-10 12 (v3) · 4 US-1004 Bob delivered 11-01 50 (2 × v1)
              5 US-1005 Jane cancelled 10-01 27 (v2; outside the default 30 days) · 6 DE-2001 Hans paid 11-15 24
  returns     1 order 4, 2 × MAT-BLU, requested · 2 order 3 BLK-1 rejected · 3 de order 6 requested
  discounts   1 us WELCOME10 10% active · 2 us OLD5 5.00 disabled · 3 de HALLO10 10% active
  coupons     1 us v1 15% budget 100 spent 40 active · 2 de v5 2.00 budget 50 active
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from mcp import Client

from servers.commerce.server import build_server
from servers.common.config import ServerConfig
from servers.common.server import MarketServer
from servers.market.db import MarketDB, migrate
from servers.market.models import (
    Category,
    Coupon,
    Customer,
    DiscountCode,
    InventoryLevel,
    Order,
    OrderItem,
    Product,
    Return,
    Review,
    Site,
    Variant,
)

TODAY = dt.date(2026, 11, 20)
SECRET = "commerce-test-secret"
T = dt.datetime


def build_store(url: str) -> None:
    migrate(url)
    db = MarketDB(url)
    with db.session() as s:
        s.add_all([
            Site(id="us", name="United States", marketplace="amazon.com", region="NA", currency="USD", timezone="America/New_York"),
            Site(id="de", name="Germany", marketplace="amazon.de", region="EU", currency="EUR", timezone="Europe/Berlin"),
        ])
        s.flush()
        s.add_all([
            Category(id=1, site_id="us", name="Yoga"), Category(id=2, site_id="us", name="Kitchen"),
            Category(id=3, site_id="de", name="Yoga"),
        ])
        s.flush()
        s.add_all([
            Product(id=1, site_id="us", category_id=1, title="Yoga Mat Pro", brand="Zenfit", description="6 mm", status="active", created_at=T(2026, 1, 1)),
            Product(id=2, site_id="us", category_id=1, title="Cork Yoga Block", brand="Zenfit", description="", status="draft", created_at=T(2026, 2, 1)),
            Product(id=3, site_id="us", category_id=2, title="Chef Knife 8in", brand="Edge", description="", status="archived", created_at=T(2026, 3, 1)),
            Product(id=4, site_id="de", category_id=3, title="Yogamatte", brand="Zenfit", description="", status="active", created_at=T(2026, 1, 5)),
        ])
        s.flush()
        s.add_all([
            Variant(id=1, site_id="us", product_id=1, sku="MAT-BLU", asin="B000MAT1", option="Blue", price=25.0, cost=10.0),
            Variant(id=2, site_id="us", product_id=1, sku="MAT-RED", asin="B000MAT2", option="Red", price=27.0, cost=10.0),
            Variant(id=3, site_id="us", product_id=2, sku="BLK-1", asin="B000BLK1", option="", price=12.0, cost=4.0),
            Variant(id=4, site_id="us", product_id=3, sku="KNF-8", asin="B000KNF8", option="", price=60.0, cost=22.0, status="inactive"),
            Variant(id=5, site_id="de", product_id=4, sku="MAT-BLU", asin="B000MAT9", option="Blau", price=24.0, cost=9.0),
        ])
        s.flush()
        stamp = T(2026, 11, 19, 6)
        s.add_all([
            InventoryLevel(variant_id=1, site_id="us", on_hand=40, reserved=4, inbound=0, velocity_per_day=6.0, lead_time_days=14, updated_at=stamp),
            InventoryLevel(variant_id=2, site_id="us", on_hand=5, reserved=5, inbound=20, velocity_per_day=2.0, lead_time_days=10, updated_at=stamp),
            InventoryLevel(variant_id=3, site_id="us", on_hand=30, reserved=0, inbound=0, velocity_per_day=0.0, lead_time_days=14, updated_at=stamp),
            InventoryLevel(variant_id=5, site_id="de", on_hand=10, reserved=0, inbound=0, velocity_per_day=1.0, lead_time_days=14, updated_at=stamp),
        ])
        s.add_all([
            Review(site_id="us", product_id=1, rating=r, title="t", body="b", author="a", created_at=T(2026, 11, d))
            for r, d in ((5, 1), (5, 2), (4, 3), (1, 4))
        ])
        s.add_all([
            Customer(id=1, site_id="us", name="Jane Doe", email="jane@example.com", phone="+1 (555) 010-1234", country="US", created_at=T(2025, 6, 1)),
            Customer(id=2, site_id="us", name="Bob Ray", email="bob.ray@mail.test", phone="555 010 9876", country="CA", created_at=T(2025, 7, 1)),
            Customer(id=3, site_id="de", name="Hans Meier", email="hans@beispiel.de", phone="+49 30 1234567", country="DE", created_at=T(2025, 8, 1)),
        ])
        s.flush()
        orders = [
            (1, "us", "US-1001", 1, "pending", T(2026, 11, 19, 10), 25.0, "USD"),
            (2, "us", "US-1002", 1, "paid", T(2026, 11, 18, 9), 52.0, "USD"),
            (3, "us", "US-1003", 2, "shipped", T(2026, 11, 10, 8), 12.0, "USD"),
            (4, "us", "US-1004", 2, "delivered", T(2026, 11, 1, 12), 50.0, "USD"),
            (5, "us", "US-1005", 1, "cancelled", T(2026, 10, 1, 12), 27.0, "USD"),
            (6, "de", "DE-2001", 3, "paid", T(2026, 11, 15, 12), 24.0, "EUR"),
        ]
        for oid, site, number, cid, status, placed, total, currency in orders:
            shipped = status in ("shipped", "delivered")
            s.add(Order(id=oid, site_id=site, number=number, customer_id=cid, status=status, placed_at=placed,
                        placed_date=placed.date(), total=total, currency=currency,
                        shipped_at=placed + dt.timedelta(days=1) if shipped else None,
                        carrier="UPS" if shipped else None, tracking_number=f"1Z{oid:04d}" if shipped else None))
        s.flush()
        s.add_all([
            OrderItem(id=1, order_id=1, site_id="us", variant_id=1, sku="MAT-BLU", quantity=1, unit_price=25.0),
            OrderItem(id=2, order_id=2, site_id="us", variant_id=1, sku="MAT-BLU", quantity=1, unit_price=25.0),
            OrderItem(id=3, order_id=2, site_id="us", variant_id=2, sku="MAT-RED", quantity=1, unit_price=27.0),
            OrderItem(id=4, order_id=3, site_id="us", variant_id=3, sku="BLK-1", quantity=1, unit_price=12.0),
            OrderItem(id=5, order_id=4, site_id="us", variant_id=1, sku="MAT-BLU", quantity=2, unit_price=25.0),
            OrderItem(id=6, order_id=5, site_id="us", variant_id=2, sku="MAT-RED", quantity=1, unit_price=27.0),
            OrderItem(id=7, order_id=6, site_id="de", variant_id=5, sku="MAT-BLU", quantity=1, unit_price=24.0),
        ])
        s.flush()
        s.add_all([
            Return(id=1, site_id="us", order_id=4, order_item_id=5, quantity=2, reason="damaged", status="requested", created_at=T(2026, 11, 5, 9), resolved_at=None),
            Return(id=2, site_id="us", order_id=3, order_item_id=4, quantity=1, reason="changed mind", status="rejected", created_at=T(2026, 11, 12, 9), resolved_at=T(2026, 11, 13, 9)),
            Return(id=3, site_id="de", order_id=6, order_item_id=7, quantity=1, reason="zu klein", status="requested", created_at=T(2026, 11, 17, 9), resolved_at=None),
        ])
        s.add_all([
            DiscountCode(id=1, site_id="us", code="WELCOME10", kind="percent", value=10.0, starts_at=T(2026, 1, 1), ends_at=None, usage_limit=None, used_count=12, status="active"),
            DiscountCode(id=2, site_id="us", code="OLD5", kind="fixed", value=5.0, starts_at=T(2025, 1, 1), ends_at=T(2025, 12, 31), usage_limit=100, used_count=100, status="disabled"),
            DiscountCode(id=3, site_id="de", code="HALLO10", kind="percent", value=10.0, starts_at=T(2026, 1, 1), ends_at=None, usage_limit=None, used_count=3, status="active"),
        ])
        s.add_all([
            Coupon(id=1, site_id="us", variant_id=1, kind="percent", value=15.0, budget=100.0, spent=40.0, status="active", starts_at=T(2026, 11, 1), ends_at=T(2026, 11, 30)),
            Coupon(id=2, site_id="de", variant_id=5, kind="fixed", value=2.0, budget=50.0, spent=0.0, status="active", starts_at=T(2026, 11, 1), ends_at=None),
        ])
    db.engine.dispose()


@pytest.fixture(scope="session")
def commerce_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("commerce") / "template.db"
    build_store(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def commerce_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("commerce-live") / "market.db"


@pytest.fixture
def commerce_url(commerce_template: Path, commerce_path: Path) -> str:
    """The store restored from the template before every test, so writes never leak between tests.

    The file stays where it is (one server serves every test; see `commerce_server`): the template is
    copied into it with SQLite's backup API, which open connections then see.
    """
    with sqlite3.connect(commerce_template) as src, sqlite3.connect(commerce_path) as dst:
        src.backup(dst)
    return f"sqlite:///{commerce_path}"


@pytest.fixture(scope="session")
def commerce_server(commerce_path: Path) -> MarketServer:
    """Built once: registering two dozen tools costs more than every call of a test together."""
    config = ServerConfig(market_database_url=f"sqlite:///{commerce_path}", approval_secret=SECRET, today_override=TODAY)
    return build_server(config)


@pytest.fixture
def store(commerce_url: str) -> Iterator[MarketDB]:
    """The market database behind the server, for checking what a write did (or did not) change."""
    db = MarketDB(commerce_url)
    yield db
    db.engine.dispose()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def commerce(commerce_url: str, commerce_server: MarketServer) -> AsyncIterator[Client]:
    async with Client(commerce_server) as client:
        yield client
