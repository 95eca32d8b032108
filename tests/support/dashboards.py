"""A small hand-built market whose dashboard answers are worked out by hand (dashboards helper's fixture).

Today is 2026-11-21; the "current" range is 2026-11-14..20 (7 days), the previous one 2026-11-07..13.

Ads (keyword_daily_metrics)
  kw1 (campaign 1, amazon SP manual, enabled): every day 11-14..20: 1000 impr, 20 clicks, $10 spend, 2 orders, $40 sales
      and on 11-10 (previous range): 2000 impr, 40 clicks, $50 spend, 4 orders, $100 sales
  kw2 (campaign 2, amazon SP auto, enabled): 11-20: 500 impr, 10 clicks, $30 spend, 0 orders, $0 sales
  kw3 (campaign 3, meta SB, paused): 11-15: 200 impr, 5 clicks, $5 spend, 1 order, $25 sales
  current: impr 7700, clicks 155, spend 105, sales 305, orders 15 → ACOS 105/305; previous: spend 50, sales 100
Orders (store revenue counts paid/shipped/delivered/returned)
  O1 11-20 paid $500: V1×5@20 + V2×8@50       O2 11-20 cancelled $200: V1×10 (never counted)
  O3 11-14 delivered $300: V2×6@50 (2 returned) O4 11-10 paid $400: V1×20@20   O5 11-13 paid $100: V1×5@20
  current revenue 800 (2 orders, 19 units), previous 500 (2 orders, 25 units)
  day 11-20: $500 vs $100 a week earlier → +400% (anomaly); day 11-17: $0 vs $400 → −100% (anomaly)
Inventory (safety 7 days, threshold 14 days)
  V1 on hand 30, velocity 3, lead 14 → 10 days, reorder 3×21−30 = 33, at risk; its only ad is in paused campaign 3
  V2 on hand 0, inbound 10, velocity 2, lead 10 → out of stock, reorder 2×17−10 = 24, live ad in campaign 1
  V3 on hand 100, reserved 10, velocity 0 → no days of supply, reorder 0, fine
"""

from __future__ import annotations

import datetime as dt

from servers.market.db import MarketDB, migrate
from servers.market.models import (
    AdGroup,
    AdProfile,
    Campaign,
    Category,
    Customer,
    InventoryLevel,
    Keyword,
    KeywordDailyMetric,
    Order,
    OrderItem,
    Product,
    ProductAd,
    Return,
    SearchTermDailyMetric,
    Site,
    Variant,
)

TODAY = dt.date(2026, 11, 21)
START, END = dt.date(2026, 11, 14), dt.date(2026, 11, 20)
NOW = dt.datetime(2026, 11, 21, 8, 0)


def d(day: int) -> dt.date:
    return dt.date(2026, 11, day)


def build_small_market(url: str) -> MarketDB:
    """Migrate `url` and fill it with the market described in this module's docstring."""
    migrate(url)
    db = MarketDB(url)
    with db.session() as s:
        s.add_all([
            Site(id="us", name="US", marketplace="amazon.com", region="NA", currency="USD", timezone="America/New_York", acos_target=0.30),
            Site(id="de", name="DE", marketplace="amazon.de", region="EU", currency="EUR", timezone="Europe/Berlin", acos_target=0.30),
        ])
        s.flush()
        s.add_all([AdProfile(id=1, site_id="us", platform="amazon", account_name="US Amazon"),
                   AdProfile(id=2, site_id="us", platform="meta", account_name="US Meta")])
        s.flush()
        s.add_all([
            Campaign(id=1, site_id="us", profile_id=1, platform="amazon", name="Yoga manual", campaign_type="SP",
                     targeting="manual", state="enabled", daily_budget=50, start_date=d(1)),
            Campaign(id=2, site_id="us", profile_id=1, platform="amazon", name="Yoga auto", campaign_type="SP",
                     targeting="auto", state="enabled", daily_budget=20, start_date=d(1)),
            Campaign(id=3, site_id="us", profile_id=2, platform="meta", name="Meta brand", campaign_type="SB",
                     targeting="manual", state="paused", daily_budget=10, start_date=d(1)),
        ])
        s.flush()
        s.add_all([AdGroup(id=1, site_id="us", campaign_id=1, name="Mats", default_bid=1.0),
                   AdGroup(id=2, site_id="us", campaign_id=2, name="Auto", default_bid=0.8),
                   AdGroup(id=3, site_id="us", campaign_id=3, name="Brand", default_bid=0.5)])
        s.flush()
        s.add_all([
            Keyword(id=1, site_id="us", campaign_id=1, ad_group_id=1, text="yoga mat", match_type="exact", bid=1.2),
            Keyword(id=2, site_id="us", campaign_id=2, ad_group_id=2, text="*", match_type="broad", bid=0.8),
            Keyword(id=3, site_id="us", campaign_id=3, ad_group_id=3, text="brand", match_type="phrase", bid=0.5),
            Keyword(id=4, site_id="us", campaign_id=1, ad_group_id=1, text="thick mat", match_type="exact", bid=0.9),
        ])
        s.flush()
        for day in range(14, 21):
            s.add(KeywordDailyMetric(keyword_id=1, date=d(day), site_id="us", campaign_id=1, impressions=1000, clicks=20,
                                     spend=10.0, orders=2, units=2, sales=40.0))
        s.add_all([
            KeywordDailyMetric(keyword_id=1, date=d(10), site_id="us", campaign_id=1, impressions=2000, clicks=40,
                               spend=50.0, orders=4, units=4, sales=100.0),
            KeywordDailyMetric(keyword_id=2, date=d(20), site_id="us", campaign_id=2, impressions=500, clicks=10,
                               spend=30.0, orders=0, units=0, sales=0.0),
            KeywordDailyMetric(keyword_id=3, date=d(15), site_id="us", campaign_id=3, impressions=200, clicks=5,
                               spend=5.0, orders=1, units=1, sales=25.0),
        ])
        s.add_all([
            SearchTermDailyMetric(site_id="us", campaign_id=1, ad_group_id=1, keyword_id=1, search_term="yoga mat", date=d(20),
                                  impressions=300, clicks=10, spend=5.0, orders=1, units=1, sales=20.0),
            SearchTermDailyMetric(site_id="us", campaign_id=1, ad_group_id=1, keyword_id=1, search_term="yoga mat", date=d(19),
                                  impressions=100, clicks=4, spend=2.0, orders=1, units=1, sales=20.0),
            SearchTermDailyMetric(site_id="us", campaign_id=1, ad_group_id=1, keyword_id=1, search_term="mat", date=d(20),
                                  impressions=50, clicks=3, spend=1.5, orders=0, units=0, sales=0.0),
        ])
        s.add_all([Category(id=1, site_id="us", name="Yoga"), Category(id=2, site_id="us", name="Kitchen")])
        s.flush()
        s.add_all([
            Product(id=1, site_id="us", category_id=1, title="Yoga mat", brand="Acme", created_at=NOW),
            Product(id=2, site_id="us", category_id=2, title="Chef knife", brand="Acme", created_at=NOW),
            Product(id=3, site_id="us", category_id=1, title="Yoga block", brand="Acme", created_at=NOW),
        ])
        s.flush()
        s.add_all([
            Variant(id=1, site_id="us", product_id=1, sku="Y-1", asin="B0001", price=20, cost=8),
            Variant(id=2, site_id="us", product_id=2, sku="K-1", asin="B0002", price=50, cost=20),
            Variant(id=3, site_id="us", product_id=3, sku="Y-2", asin="B0003", price=10, cost=3),
        ])
        s.flush()
        s.add_all([
            InventoryLevel(variant_id=1, site_id="us", on_hand=30, reserved=0, inbound=0, velocity_per_day=3,
                           lead_time_days=14, updated_at=NOW),
            InventoryLevel(variant_id=2, site_id="us", on_hand=0, reserved=0, inbound=10, velocity_per_day=2,
                           lead_time_days=10, updated_at=NOW),
            InventoryLevel(variant_id=3, site_id="us", on_hand=100, reserved=10, inbound=0, velocity_per_day=0,
                           lead_time_days=14, updated_at=NOW),
        ])
        s.add_all([
            ProductAd(id=1, site_id="us", campaign_id=1, ad_group_id=1, variant_id=2, sku="K-1"),
            ProductAd(id=2, site_id="us", campaign_id=3, ad_group_id=3, variant_id=1, sku="Y-1"),
        ])
        s.add(Customer(id=1, site_id="us", name="Jo", email="jo@example.com", phone="555-1234", country="US", created_at=NOW))
        s.flush()

        def order(id_: int, day: int, status: str, total: float, items: list[tuple[int, int, float]]) -> None:
            s.add(Order(id=id_, site_id="us", number=f"US-{id_}", customer_id=1, status=status,
                        placed_at=dt.datetime.combine(d(day), dt.time(12)), placed_date=d(day), total=total, currency="USD"))
            s.flush()
            for n, (variant, qty, price) in enumerate(items):
                s.add(OrderItem(id=id_ * 10 + n, order_id=id_, site_id="us", variant_id=variant, sku=f"v{variant}",
                                quantity=qty, unit_price=price))

        order(1, 20, "paid", 500, [(1, 5, 20), (2, 8, 50)])
        order(2, 20, "cancelled", 200, [(1, 10, 20)])
        order(3, 14, "delivered", 300, [(2, 6, 50)])
        order(4, 10, "paid", 400, [(1, 20, 20)])
        order(5, 13, "paid", 100, [(1, 5, 20)])
        s.flush()
        s.add(Return(site_id="us", order_id=3, order_item_id=30, quantity=2, reason="dull", status="confirmed",
                     created_at=NOW))
    return db


# ---------------------------------------------------------------- AppTest on the demo seed (import the fixture)

DEMO_TODAY = dt.date(2026, 11, 21)
_UI_ENV = ("CONSOLE_ENV", "CONSOLE_DATABASE_URL", "MARKET_DATABASE_URL", "MARKET_TODAY", "CONSOLE_MCP_SERVERS",
           "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "CONSOLE_ADMIN_EMAILS", "CONSOLE_APPROVAL_SECRET")


def _demo_databases(directory):
    """A demo-scale market (today 2026-11-21) and a console DB with the demo users."""
    from console.runtime import Runtime
    from console.settings import Settings
    from servers.market.seed import seed_market

    market_url, console_url = f"sqlite:///{directory / 'market.db'}", f"sqlite:///{directory / 'console.db'}"
    seed_market(market_url, scale="demo", today=DEMO_TODAY)
    runtime = Runtime.create(Settings(database_url=console_url, market_database_url=market_url, env="test"))
    try:
        runtime.users.seed_demo()
    finally:
        runtime.close()
    return console_url, market_url


def _dashboard_app_fixture():
    import json
    import os

    import pytest

    @pytest.fixture(scope="module")
    def dashboard_app(tmp_path_factory):
        """`dashboard_app("manager@demo.local")` → an AppTest signed in, on the demo seed with real stdio servers."""
        import streamlit as st  # noqa: TID251 - AppTest fixture (tests/ui uses it)
        from streamlit.testing.v1 import AppTest  # noqa: TID251

        from console.settings import PROJECT_ROOT
        from tests.support.console_db import servers_document

        saved = {k: os.environ.get(k) for k in _UI_ENV}
        console_url, market_url = _demo_databases(tmp_path_factory.mktemp("dash-ui"))
        secret = "dashboards-ui-secret"
        env = {"MARKET_DATABASE_URL": market_url, "CONSOLE_APPROVAL_SECRET": secret, "CONSOLE_ENV": "test",
               "MARKET_TODAY": DEMO_TODAY.isoformat()}
        for key in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "CONSOLE_ADMIN_EMAILS"):
            os.environ.pop(key, None)
        os.environ.update({"CONSOLE_ENV": "test", "CONSOLE_DATABASE_URL": console_url, "MARKET_DATABASE_URL": market_url,
                           "MARKET_TODAY": DEMO_TODAY.isoformat(), "CONSOLE_APPROVAL_SECRET": secret,
                           "CONSOLE_MCP_SERVERS": json.dumps(servers_document(("ads", "commerce", "analytics"), env))})
        st.cache_resource.clear()
        st.cache_data.clear()

        def signed_in(email: str, page: str | None = None) -> AppTest:
            at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
            at.run()
            at.button(key=f"demo-{email}").click().run()
            assert not at.exception, at.exception
            if page:
                at.switch_page(f"pages/{page}.py").run()
                assert not at.exception, [e.value for e in at.exception]
            return at

        signed_in.console_url, signed_in.market_url = console_url, market_url
        yield signed_in
        st.cache_resource.clear()  # closes nothing by itself: the cached runtime's servers end with the process
        st.cache_data.clear()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    return dashboard_app


dashboard_app = _dashboard_app_fixture()


def page_text(at) -> str:
    """Every text element of an AppTest run, for `in` assertions."""
    parts = [e.value for kind in ("markdown", "title", "caption", "info", "warning", "error", "success", "subheader")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)
