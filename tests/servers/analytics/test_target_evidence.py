"""get_target_evidence against a small hand-built market whose answers are worked out by hand (SQLite and PostgreSQL).

Today is 2026-11-20, so the default 30-day window is 2026-10-22 .. 2026-11-20. Site us (USD); site de exists too.
  Campaign A 'Manual' budget 10, ad group 'Mats' (default bid 0.75):
    k1 'yoga mat' exact     11-19: 1000 imp 40 clk spend 30 orders 5 sales 100; 11-10: 100 imp 10 clk spend 10
                            orders 1 sales 50; 10-01 (outside): 500 imp 5 clk spend 99, no orders
                            → 30 days: 1100 imp 50 clk spend 40 orders 6 sales 150: ACOS .2667 CPC .8 CTR .045455 CVR .12
    k2 'cheap yoga mat' broad 11-19: 300 imp 25 clk spend 25, no orders → ad group Mats: spend 65 sales 150 ACOS .4333
    k4 'yoga block' exact, no metrics at all → zeros and no ratios
    budget hours: 11-19 1/h for 10 h (out during hour 9: 10:00), 11-18 0.5/h for 10 h (half used) → utilisation .75
  Campaign B 'Auto' budget 100: k3 'close-match' auto 11-19 100 imp 10 clk spend 18 orders 3 sales 90 (a target);
    1.25/h all day on 11-19 → utilisation .3, never out.
  Campaign C 'Late' budget 21, no ads data: 11-17 1/h (out during hour 20, late), 11-18 1.75/h (out during hour 11,
    early) → utilisation 1.0; the early day counts first, as in the pacing finder → 12:00.
Store: P1 'Yoga Mat': V1 MAT-1 (on hand 20, reserved 4, inbound 30, 4/day, lead 14 → 16 / 4 = 4.0 days),
  V3 MAT-2 (10 on hand, does not sell → no days of supply), V4 MAT-3 never stocked. Ads: V1 in Mats and in the
  auto group (one live SKU), V3 only in a paused ad group. Reviews of P1: 5★ 11-19, 1★ 11-18, 4★ 11-01, 2★ 10-01
  → rating 3.0 of 4 reviews, one low-star in 30 days (two in 60).
  P2 'Garlic Press': V2 PRESS-1 out of stock (0 on hand, 1/day → 0.0 days).
  Order ORD-1001 paid 11-19 12:00: MAT-1 × 2 at 20, PRESS-1 × 1 at 10 → 50.
  Coupon on MAT-1: 15% off, budget 500, spent 123.456 → 123.46, active.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from mcp import Client

from servers.analytics.server import build_server
from servers.common.config import ServerConfig
from servers.market.db import MarketDB, migrate
from servers.market.models import Coupon
from tests.support import factories as f

pytestmark = pytest.mark.anyio
WINDOW_30 = {"start": "2026-10-22", "end": "2026-11-20", "days": 30}


def build_evidence_market(url: str) -> dict[str, int]:
    """The market described in the module docstring; returns the ids tests refer to."""
    ids: dict[str, int] = {}
    with MarketDB(url).session() as s:
        f.make_site(s, "us")
        f.make_site(s, "de", currency="EUR")
        a = f.make_campaign(s, name="Manual", daily_budget=10)
        b = f.make_campaign(s, name="Auto", targeting="auto", daily_budget=100)
        c = f.make_campaign(s, name="Late", daily_budget=21)
        mats = f.make_ad_group(s, a, name="Mats", default_bid=0.75)
        auto = f.make_ad_group(s, b, name="Everything")
        paused = f.make_ad_group(s, a, name="Paused group", state="paused")
        k1 = f.make_keyword(s, a, text="yoga mat", match_type="exact", ad_group=mats)
        f.add_keyword_metrics(s, k1, impressions=1000, clicks=40, spend=30, orders=5, sales=100)
        f.add_keyword_metrics(s, k1, date=dt.date(2026, 11, 10), impressions=100, clicks=10, spend=10, orders=1, sales=50)
        f.add_keyword_metrics(s, k1, date=dt.date(2026, 10, 1), impressions=500, clicks=5, spend=99, orders=0, sales=0)
        k2 = f.make_keyword(s, a, text="cheap yoga mat", match_type="broad", ad_group=mats)
        f.add_keyword_metrics(s, k2, impressions=300, clicks=25, spend=25, orders=0, sales=0)
        k3 = f.make_keyword(s, b, text="close-match", match_type="auto", ad_group=auto)
        f.add_keyword_metrics(s, k3, impressions=100, clicks=10, spend=18, orders=3, sales=90)
        k4 = f.make_keyword(s, a, text="yoga block", match_type="exact", ad_group=mats)
        f.add_budget_hours(s, a, [1.0] * 10)
        f.add_budget_hours(s, a, [0.5] * 10, date=dt.date(2026, 11, 18))
        f.add_budget_hours(s, b, [1.25] * 24)
        f.add_budget_hours(s, c, [1.0] * 21, date=dt.date(2026, 11, 17))
        f.add_budget_hours(s, c, [1.75] * 12, date=dt.date(2026, 11, 18))

        p1, p2 = f.make_product(s, title="Yoga Mat"), f.make_product(s, title="Garlic Press")
        v1, v2 = f.make_variant(s, p1, sku="MAT-1", price=20), f.make_variant(s, p2, sku="PRESS-1", price=10)
        v3, v4 = f.make_variant(s, p1, sku="MAT-2", price=25), f.make_variant(s, p1, sku="MAT-3", price=30)
        f.make_inventory(s, v1, on_hand=20, reserved=4, inbound=30, velocity_per_day=4, lead_time_days=14)
        f.make_inventory(s, v2, on_hand=0, velocity_per_day=1, lead_time_days=10)
        f.make_inventory(s, v3, on_hand=10, velocity_per_day=0, lead_time_days=21)
        f.make_product_ad(s, mats, v1)
        f.make_product_ad(s, auto, v1)
        f.make_product_ad(s, paused, v3)
        at = lambda m, d, h=12: dt.datetime(2026, m, d, h)  # noqa: E731
        for rating, when in ((5, at(11, 19)), (1, at(11, 18)), (4, at(11, 1)), (2, at(10, 1))):
            f.make_review(s, p1, rating=rating, created_at=when)
        order = f.make_order(s, f.make_customer(s), [(v1, 2), (v2, 1)], status="paid", placed_at=at(11, 19),
                             number="ORD-1001")
        coupon = Coupon(site_id="us", variant_id=v1.id, kind="percent", value=15, budget=500, spent=123.456,
                        status="active", starts_at=at(11, 1))
        s.add(coupon)
        s.flush()
        ids.update(k1=k1.id, k2=k2.id, k3=k3.id, k4=k4.id, a=a.id, b=b.id, c=c.id, mats=mats.id, p1=p1.id, p2=p2.id,
                   v1=v1.id, v2=v2.id, v3=v3.id, v4=v4.id, order=order.id, coupon=coupon.id)
    return ids


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def market(request: pytest.FixtureRequest) -> tuple[ServerConfig, dict[str, int]]:
    if request.param == "sqlite":
        url = request.getfixturevalue("empty_market_url")
    else:
        url = request.getfixturevalue("postgres_url")
        migrate(url)
    ids = build_evidence_market(url)
    return ServerConfig(market_database_url=url, approval_secret="test-secret", today_override=dt.date(2026, 11, 20)), ids


async def evidence(cfg: ServerConfig, **arguments: Any) -> dict[str, Any]:
    async with Client(build_server(cfg)) as client:
        result = await client.call_tool("get_target_evidence", {"site": "us", **arguments})
    assert not result.is_error, result.content
    return result.structured_content


async def refusal(cfg: ServerConfig, **arguments: Any) -> str:
    async with Client(build_server(cfg)) as client:
        result = await client.call_tool("get_target_evidence", arguments)
    assert result.is_error
    return result.content[0].text


def shaped(kind: str, label: str, metrics: dict[str, Any], window: dict[str, Any] = WINDOW_30) -> dict[str, Any]:
    return {"kind": kind, "label": label, "window": window, "metrics": metrics, "rule": None, "rule_text": None,
            "currency": "USD"}


async def test_keyword_evidence_sums_the_window(market):
    cfg, ids = market
    assert await evidence(cfg, keyword_id=ids["k1"]) == shaped("keyword", "keyword 'yoga mat' (exact)", {
        "impressions": 1100, "clicks": 50, "spend": 40.0, "orders": 6, "sales": 150.0, "acos": 0.2667, "cpc": 0.8,
        "ctr": 0.045455, "cvr": 0.12})
    week = await evidence(cfg, keyword_id=ids["k1"], days=7)
    assert week["window"] == {"start": "2026-11-14", "end": "2026-11-20", "days": 7}
    assert week["metrics"] == {"impressions": 1000, "clicks": 40, "spend": 30.0, "orders": 5, "sales": 100.0,
                               "acos": 0.3, "cpc": 0.75, "ctr": 0.04, "cvr": 0.125}
    old = await evidence(cfg, keyword_id=ids["k1"], days=1, end_date="2026-10-01")
    assert old["window"] == {"start": "2026-10-01", "end": "2026-10-01", "days": 1}
    assert (old["metrics"]["spend"], old["metrics"]["acos"], old["metrics"]["cvr"]) == (99.0, None, 0.0)


async def test_keyword_without_data_and_auto_target(market):
    cfg, ids = market
    assert await evidence(cfg, keyword_id=ids["k4"]) == shaped("keyword", "keyword 'yoga block' (exact)", {
        "impressions": 0, "clicks": 0, "spend": 0.0, "orders": 0, "sales": 0.0, "acos": None, "cpc": None, "ctr": None,
        "cvr": None})
    assert await evidence(cfg, keyword_id=ids["k3"]) == shaped("target", "target 'close-match' (auto)", {
        "impressions": 100, "clicks": 10, "spend": 18.0, "orders": 3, "sales": 90.0, "acos": 0.2, "cpc": 1.8,
        "ctr": 0.1, "cvr": 0.3})


async def test_campaign_evidence_budget_pacing_and_sales(market):
    cfg, ids = market
    assert await evidence(cfg, campaign_id=ids["a"]) == shaped("campaign", "campaign 'Manual'", {
        "daily_budget": 10.0, "utilisation": 0.75, "exhausted_hour": 10, "spend": 65.0, "sales": 150.0, "acos": 0.4333})
    auto = await evidence(cfg, campaign_id=ids["b"])
    assert auto["metrics"] == {"daily_budget": 100.0, "utilisation": 0.3, "exhausted_hour": None, "spend": 18.0,
                               "sales": 90.0, "acos": 0.2}
    late = await evidence(cfg, campaign_id=ids["c"])
    assert late["metrics"] == {"daily_budget": 21.0, "utilisation": 1.0, "exhausted_hour": 12, "spend": 0.0,
                               "sales": 0.0, "acos": None}


async def test_ad_group_evidence(market):
    cfg, ids = market
    assert await evidence(cfg, ad_group_id=ids["mats"]) == shaped("ad_group", "ad group 'Mats' in campaign 'Manual'", {
        "default_bid": 0.75, "spend": 65.0, "sales": 150.0, "acos": 0.4333})


async def test_sku_evidence_by_variant_id_or_sku(market):
    cfg, ids = market
    mat = shaped("sku", "SKU 'MAT-1' (Yoga Mat)", {"on_hand": 20, "reserved": 4, "inbound": 30, "velocity_per_day": 4.0,
                                                   "days_of_supply": 4.0, "lead_time_days": 14})
    assert await evidence(cfg, variant_id=ids["v1"]) == mat
    assert await evidence(cfg, sku="MAT-1") == mat
    empty = await evidence(cfg, sku="PRESS-1")
    assert (empty["label"], empty["metrics"]["days_of_supply"]) == ("SKU 'PRESS-1' (Garlic Press)", 0.0)
    idle = await evidence(cfg, variant_id=ids["v3"])
    assert (idle["metrics"]["on_hand"], idle["metrics"]["days_of_supply"]) == (10, None)
    never = await evidence(cfg, variant_id=ids["v4"])
    assert never["metrics"] == {"on_hand": 0, "reserved": 0, "inbound": 0, "velocity_per_day": 0.0,
                                "days_of_supply": 0.0, "lead_time_days": None}


async def test_product_evidence(market):
    cfg, ids = market
    assert await evidence(cfg, product_id=ids["p1"]) == shaped("product", "product 'Yoga Mat'", {
        "rating": 3.0, "reviews": 4, "low_star_reviews": 1, "live_ad_skus": 1})
    wider = await evidence(cfg, product_id=ids["p1"], days=60)
    assert wider["metrics"]["low_star_reviews"] == 2
    press = await evidence(cfg, product_id=ids["p2"])
    assert press["metrics"] == {"rating": None, "reviews": 0, "low_star_reviews": 0, "live_ad_skus": 0}


async def test_order_and_coupon_evidence(market):
    cfg, ids = market
    assert await evidence(cfg, order_id=ids["order"]) == shaped("order", "order ORD-1001", {
        "status": "paid", "lines": [{"sku": "MAT-1", "quantity": 2, "unit_price": 20.0},
                                    {"sku": "PRESS-1", "quantity": 1, "unit_price": 10.0}],
        "total": 50.0, "placed_at": "2026-11-19T12:00:00"})
    assert await evidence(cfg, coupon_id=ids["coupon"]) == shaped("coupon", f"coupon #{ids['coupon']} on SKU 'MAT-1'", {
        "kind": "percent", "value": 15.0, "budget": 500.0, "spent": 123.46, "status": "active"})


@pytest.mark.parametrize(("arguments", "code", "says"), [
    ({"site": "us"}, "VALIDATION_FAILED", "name exactly one target"),
    ({"site": "us", "keyword_id": 1, "campaign_id": 1}, "VALIDATION_FAILED", "got campaign_id, keyword_id"),
    ({"site": "us", "keyword_id": 99999}, "NOT_FOUND", "keyword 99999 does not exist on site us"),
    ({"site": "us", "sku": "NOPE-1"}, "NOT_FOUND", "no SKU 'NOPE-1' on site us"),
    ({"site": "xx", "keyword_id": 1}, "SITE_SCOPE_REQUIRED", "unknown site"),
    ({"site": "us", "keyword_id": 1, "days": 0}, "VALIDATION_FAILED", "days"),
    ({"site": "us", "keyword_id": 1, "end_date": "2026-13-01"}, "VALIDATION_FAILED", "end_date"),
])
async def test_get_target_evidence_refusals(market, arguments, code, says):
    cfg, _ = market
    text = await refusal(cfg, **arguments)
    assert text.startswith(f"{code}: ") and says in text


async def test_a_target_of_another_site_is_not_found(market):
    cfg, ids = market
    text = await refusal(cfg, site="de", keyword_id=ids["k1"])
    assert text.startswith("NOT_FOUND: keyword") and "site de" in text
