"""A small hand-built market whose dashboard answers are worked out by hand (the dashboards' fixture).

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
from servers.market.models import Order
from tests.support import factories as f

TODAY = dt.date(2026, 11, 21)
START, END = dt.date(2026, 11, 14), dt.date(2026, 11, 20)
NOW = dt.datetime(2026, 11, 21, 8, 0)


def d(day: int) -> dt.date:
    return dt.date(2026, 11, day)


def build_small_market(url: str) -> MarketDB:
    """Migrate `url` and fill it with the market described in this module's docstring (ids in creation order)."""
    migrate(url)
    db = MarketDB(url)
    with db.session() as s:
        f.make_site(s, "us")
        f.make_site(s, "de", currency="EUR")
        amazon = f.make_profile(s, "us")
        manual = f.make_campaign(s, name="Yoga manual", profile=amazon)  # campaign 1
        auto = f.make_campaign(s, name="Yoga auto", targeting="auto", daily_budget=20, profile=amazon)  # 2
        meta = f.make_campaign(s, name="Meta brand", platform="meta", campaign_type="SB", state="paused",
                               daily_budget=10)  # 3
        mats = f.make_ad_group(s, manual, name="Mats")  # ad group 1
        auto_group = f.make_ad_group(s, auto, name="Auto", default_bid=0.8)  # 2
        brand = f.make_ad_group(s, meta, name="Brand", default_bid=0.5)  # 3
        yoga_mat = f.make_keyword(s, manual, ad_group=mats, bid=1.2)  # keyword 1
        anything = f.make_keyword(s, auto, ad_group=auto_group, text="*", match_type="broad", bid=0.8)  # 2
        brand_kw = f.make_keyword(s, meta, ad_group=brand, text="brand", match_type="phrase", bid=0.5)  # 3
        f.make_keyword(s, manual, ad_group=mats, text="thick mat", bid=0.9)  # 4, no metrics
        for day in range(14, 21):
            f.add_keyword_metrics(s, yoga_mat, date=d(day), impressions=1000, clicks=20, spend=10.0, orders=2, sales=40.0)
        f.add_keyword_metrics(s, yoga_mat, date=d(10), impressions=2000, clicks=40, spend=50.0, orders=4, sales=100.0)
        f.add_keyword_metrics(s, anything, date=d(20), impressions=500, clicks=10, spend=30.0, orders=0, sales=0.0)
        f.add_keyword_metrics(s, brand_kw, date=d(15), impressions=200, clicks=5, spend=5.0, orders=1, sales=25.0)
        f.add_search_term(s, manual, mats, "yoga mat", keyword=yoga_mat, date=d(20), impressions=300, clicks=10,
                          spend=5.0, orders=1, sales=20.0)
        f.add_search_term(s, manual, mats, "yoga mat", keyword=yoga_mat, date=d(19), impressions=100, clicks=4,
                          spend=2.0, orders=1, sales=20.0)
        f.add_search_term(s, manual, mats, "mat", keyword=yoga_mat, date=d(20), impressions=50, clicks=3, spend=1.5,
                          orders=0, sales=0.0)
        yoga, kitchen = f.make_category(s, name="Yoga"), f.make_category(s, name="Kitchen")
        mat = f.make_variant(s, f.make_product(s, title="Yoga mat", category=yoga), sku="Y-1", price=20)  # variant 1
        knife = f.make_variant(s, f.make_product(s, title="Chef knife", category=kitchen), sku="K-1", price=50)  # 2
        block = f.make_variant(s, f.make_product(s, title="Yoga block", category=yoga), sku="Y-2", price=10)  # 3
        f.make_inventory(s, mat, on_hand=30, velocity_per_day=3, lead_time_days=14)
        f.make_inventory(s, knife, on_hand=0, inbound=10, velocity_per_day=2, lead_time_days=10)
        f.make_inventory(s, block, on_hand=100, reserved=10, velocity_per_day=0, lead_time_days=14)
        f.make_product_ad(s, mats, knife)  # live: campaign 1 is enabled
        f.make_product_ad(s, brand, mat)  # not live: campaign 3 is paused
        jo = f.make_customer(s)

        def order(day: int, status: str, items: list) -> Order:
            return f.make_order(s, jo, items, status=status, placed_at=dt.datetime.combine(d(day), dt.time(12)))

        order(20, "paid", [(mat, 5), (knife, 8)])  # $500
        order(20, "cancelled", [(mat, 10)])  # $200, never counted
        knives = order(14, "delivered", [(knife, 6)])  # $300
        order(10, "paid", [(mat, 20)])  # $400
        order(13, "paid", [(mat, 5)])  # $100
        f.make_return(s, knives, quantity=2, reason="dull", status="confirmed", created_at=NOW)
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
        import streamlit as st
        from streamlit.testing.v1 import AppTest

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
