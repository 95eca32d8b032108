"""The playbook finders daily-ops runs, on a market with several campaigns per site so a cross-campaign mistake fails.

Today is 2026-11-20 (the savings window, as the ads server's projections: 11-13..11-19). Site us (USD, ACOS target
0.30); every number is on 2026-11-19 unless said. Campaigns in id order (amazon SP unless said), ad groups, product ads:
  1 'Manual Brand'      manual  budget 20   'Brand'                          (no product ads)
  2 'Manual Mats old'   manual  PAUSED 10   'Old mats'                       MAT-1
  3 'Manual Bottles'    manual  budget 50   'Bottles'                        BOT-1; product target B0BOTTLE01
  4 'Manual Mats'       manual  budget 10   'Mats launch' (none), 'Mats'     MAT-1 (in 'Mats')
  5 'Auto Mats'         auto    budget 40   'Auto mats'                      MAT-1
  6 'Auto Bottles'      auto    budget 100  'Auto bottles'                   BOT-1, BOT-2
  7 'Auto Blocks'       auto    budget 30   'Auto blocks'                    BLK-1
  8 'Manual Hydration'  manual  budget 30   'Hydration'                      BOT-1, BOT-2
  9 'DE Matten' (site de, EUR) manual       'Matten'                         MAT-DE
Where harvested terms go: Auto Mats → campaign 4 (2 is paused), ad group 'Mats' ('Mats launch' advertises nothing),
  1 SKU shared; Auto Bottles → campaign 8 (2 SKUs shared beats campaign 3's one, lower id or not); Auto Blocks → none:
  no manual campaign advertises BLK-1, so it needs one (source SKUs ['BLK-1']).
Keywords (impressions, clicks, spend, orders, sales):
  k1 'yoga mat' exact 1.00 (c4)        1000 40 30 5 100  ACOS .30 (not over)
  k2 'thick yoga mat' phrase 1.00 (c4)  500 20 60 2 100  ACOS .60 → lower bid to max(1×.3/.6, .5) = .50
  k3 'cheap yoga mat' broad .80 (c4)    300 25 25 0 0    wasted: pause; and 11-01: 100 10 10 0 0 (outside the
                                                         savings window) → saves 25/7 = 3.57 a day whatever the range
  k4 'water bottle' exact 2.00 (c3)     200 10 24 1 20   ACOS 1.2 → wasted: cut bid to 1.00, saves 10/7 × 1.00 = 1.43
  k5 'steel bottle' exact 1.00 (c3)     100 10 15 0 0    under $20: not wasted
  k6 'insulated bottle' exact 1.00 (c8) 800 20 5 4 100   ACOS .05 with 4 orders → raise bid to 1.15
  k7/k8/k9 'close-match' auto (c5/c6/c7): 100 10 18 3 90 (.20) / 100 10 9 1 30 (.30) / 100 5 4 1 20 (.20)
  k10 'acme' exact .50 (c1)            4000 20 40 2 80   ACOS .50 → lower bid to max(.5×.3/.5, .25) = .30
  k11 'old mat' exact (c2, paused)      100 10 30 0 0    a paused campaign: no alert, no waste
  k12 'yogamatte' (de)                  100 10 50 1 20   another site: never in us answers
  Campaign ACOS: c3 39/20 = 1.95, c4 115/200 = .575, c1 40/80 = .50 over; c6 9/30 = .30 not over.
Search terms of auto campaigns (impressions, clicks, spend, orders, sales):
  c5 'yoga mat gift' 500 20 10 3 90 → CVR .15, CPC .50, bid .60 → exact keyword into c4 'Mats'
  c5 'b0mat00009' 200 10 6 3 75 → an ASIN: product target into c4 'Mats', CPC .60, bid .72
  c5 'yoga mat' 300 20 8 4 120 → already keyword k1 of a manual campaign; c5 'mat for kids' 300 20 8 2 60 → CVR .10
  c6 'bottle for gym' 400 30 15 4 80 → CVR .1333, CPC .50, bid .60 → into c8 'Hydration'
  c6 'free bottle' 100 10 4 3 45 → CVR .30, bid .48, already negative exact in c6 → into c8
  c6 'B0BOTTLE01' 100 10 5 3 60 → already a product target of a manual campaign
  c6 'bottle brush' 100 10 6 0 0 → no orders: a wasted search term over $5, saves 6/7 = 0.86 a day
  c7 'foam yoga block' 200 10 5 3 60 → CVR .30, bid .60, no manual campaign to go to
Budget hours: c4 spends 1/h for 10 h (out at 10:00, early → 15); c6 1.25/h all day (30 of 100, under → 36);
  c3 2/h for 20 h (80%, ok). Needed 5, freed 64.
Store: MAT-1 on hand 20, 4/day, lead 14 → 5.0 days, reorder 4×21−20 = 64, live ads 2 (c4, c5; c2 is paused);
  BOT-1 out of stock, inbound 5, 1/day, lead 10 → reorder 12, live ads 3; BLK-1 100 on hand → fine (1 live ad);
  BOT-2 30 on hand, sells nothing → never runs out (2 live ads). MAT-1 sold 2 on 11-19.
Reviews: Yoga mat 5★ 11-19, 1★ 11-18, 2★ 11-17, 4★ 10-01 (its rating to 11-20: 12/4 = 3.0); Water bottle 1★ 11-19.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from mcp import Client

from servers.ads.server import build_server as build_ads
from servers.analytics.server import build_server
from servers.common.config import ServerConfig
from servers.market.db import MarketDB, migrate
from servers.market.models import AdGroup
from tests.support import factories as f

pytestmark = pytest.mark.anyio
ONE_DAY = {"start_date": "2026-11-19", "end_date": "2026-11-19"}


def build_market(url: str) -> dict[str, int]:
    """The market described in the module docstring; returns the ids tests refer to."""
    ids: dict[str, int] = {}
    with MarketDB(url).session() as s:
        f.make_site(s, "us")
        f.make_site(s, "de", currency="EUR")
        camps = {}
        for key, name, targeting, state, budget in [
            ("c1", "Manual Brand", "manual", "enabled", 20), ("c2", "Manual Mats old", "manual", "paused", 10),
            ("c3", "Manual Bottles", "manual", "enabled", 50), ("c4", "Manual Mats", "manual", "enabled", 10),
            ("c5", "Auto Mats", "auto", "enabled", 40), ("c6", "Auto Bottles", "auto", "enabled", 100),
            ("c7", "Auto Blocks", "auto", "enabled", 30), ("c8", "Manual Hydration", "manual", "enabled", 30),
        ]:
            camps[key] = f.make_campaign(s, name=name, targeting=targeting, state=state, daily_budget=budget)
        camps["c9"] = f.make_campaign(s, "de", name="DE Matten")
        groups = {key: f.make_ad_group(s, camps[c], name=name) for key, c, name in [
            ("brand", "c1", "Brand"), ("old", "c2", "Old mats"), ("bottles", "c3", "Bottles"),
            ("launch", "c4", "Mats launch"), ("mats", "c4", "Mats"), ("auto_mats", "c5", "Auto mats"),
            ("auto_bottles", "c6", "Auto bottles"), ("auto_blocks", "c7", "Auto blocks"),
            ("hydration", "c8", "Hydration"), ("matten", "c9", "Matten")]}

        mat, bottle, block = (f.make_product(s, title=t) for t in ("Yoga mat", "Water bottle", "Yoga block"))
        matte = f.make_product(s, "de", title="Yogamatte")
        v = {"mat": f.make_variant(s, mat, sku="MAT-1"), "bot": f.make_variant(s, bottle, sku="BOT-1"),
             "blk": f.make_variant(s, block, sku="BLK-1"), "bot2": f.make_variant(s, bottle, sku="BOT-2"),
             "de": f.make_variant(s, matte, sku="MAT-DE")}
        f.make_inventory(s, v["mat"], on_hand=20, velocity_per_day=4, lead_time_days=14)
        f.make_inventory(s, v["bot"], on_hand=0, velocity_per_day=1, inbound=5, lead_time_days=10)
        f.make_inventory(s, v["blk"], on_hand=100, velocity_per_day=1)
        f.make_inventory(s, v["bot2"], on_hand=30, velocity_per_day=0)
        f.make_inventory(s, v["de"], on_hand=0, velocity_per_day=2)
        for group, variant in [("old", "mat"), ("bottles", "bot"), ("mats", "mat"), ("auto_mats", "mat"),
                               ("auto_bottles", "bot"), ("auto_bottles", "bot2"), ("auto_blocks", "blk"),
                               ("hydration", "bot"), ("hydration", "bot2"), ("matten", "de")]:
            f.make_product_ad(s, groups[group], v[variant])
        f.make_product_target(s, groups["bottles"], asin="B0BOTTLE01")

        for key, group, text, match, bid, numbers in [
            ("k1", "mats", "yoga mat", "exact", 1.0, (1000, 40, 30, 5, 100)),
            ("k2", "mats", "thick yoga mat", "phrase", 1.0, (500, 20, 60, 2, 100)),
            ("k3", "mats", "cheap yoga mat", "broad", 0.8, (300, 25, 25, 0, 0)),
            ("k4", "bottles", "water bottle", "exact", 2.0, (200, 10, 24, 1, 20)),
            ("k5", "bottles", "steel bottle", "exact", 1.0, (100, 10, 15, 0, 0)),
            ("k6", "hydration", "insulated bottle", "exact", 1.0, (800, 20, 5, 4, 100)),
            ("k7", "auto_mats", "close-match", "auto", 0.8, (100, 10, 18, 3, 90)),
            ("k8", "auto_bottles", "close-match", "auto", 0.8, (100, 10, 9, 1, 30)),
            ("k9", "auto_blocks", "close-match", "auto", 0.5, (100, 5, 4, 1, 20)),
            ("k10", "brand", "acme", "exact", 0.5, (4000, 20, 40, 2, 80)),
            ("k11", "old", "old mat", "exact", 1.0, (100, 10, 30, 0, 0)),
            ("k12", "matten", "yogamatte", "exact", 1.0, (100, 10, 50, 1, 20)),
        ]:
            group_row = groups[group]
            campaign = next(c for c in camps.values() if c.id == group_row.campaign_id)
            kw = f.make_keyword(s, campaign, text=text, match_type=match, bid=bid, ad_group=group_row)
            imp, clk, spend, orders, sales = numbers
            f.add_keyword_metrics(s, kw, impressions=imp, clicks=clk, spend=spend, orders=orders, sales=sales)
            ids[key] = kw.id
            if key == "k3":
                f.add_keyword_metrics(s, kw, date=dt.date(2026, 11, 1), impressions=100, clicks=10, spend=10, orders=0,
                                      sales=0)
        for c, group, term, (imp, clk, spend, orders, sales) in [
            ("c5", "auto_mats", "yoga mat gift", (500, 20, 10, 3, 90)),
            ("c5", "auto_mats", "b0mat00009", (200, 10, 6, 3, 75)),
            ("c5", "auto_mats", "yoga mat", (300, 20, 8, 4, 120)),
            ("c5", "auto_mats", "mat for kids", (300, 20, 8, 2, 60)),
            ("c6", "auto_bottles", "bottle for gym", (400, 30, 15, 4, 80)),
            ("c6", "auto_bottles", "free bottle", (100, 10, 4, 3, 45)),
            ("c6", "auto_bottles", "B0BOTTLE01", (100, 10, 5, 3, 60)),
            ("c6", "auto_bottles", "bottle brush", (100, 10, 6, 0, 0)),
            ("c7", "auto_blocks", "foam yoga block", (200, 10, 5, 3, 60)),
        ]:
            f.add_search_term(s, camps[c], groups[group], term, impressions=imp, clicks=clk, spend=spend, orders=orders,
                              sales=sales)
        f.make_negative(s, camps["c6"], text="free bottle")
        f.add_budget_hours(s, camps["c4"], [1.0] * 10)
        f.add_budget_hours(s, camps["c6"], [1.25] * 24)
        f.add_budget_hours(s, camps["c3"], [2.0] * 20)

        f.make_order(s, f.make_customer(s), [(v["mat"], 2)], status="paid")
        at = lambda month, day: dt.datetime(2026, month, day, 9)  # noqa: E731
        for product, rating, when in [(mat, 5, at(11, 19)), (mat, 1, at(11, 18)), (mat, 2, at(11, 17)),
                                      (mat, 4, at(10, 1)), (bottle, 1, at(11, 19))]:
            ids[f"review_{product.title}_{rating}"] = f.make_review(s, product, rating=rating, created_at=when).id
        ids.update({k: c.id for k, c in camps.items()}, **{f"ag_{k}": g.id for k, g in groups.items()},
                   **{f"v_{k}": x.id for k, x in v.items()}, mat=mat.id, bottle=bottle.id)
    return ids


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def market(request: pytest.FixtureRequest) -> tuple[ServerConfig, dict[str, int]]:
    """The market above on SQLite and on PostgreSQL: the finders' SQL must give the same answers on both."""
    if request.param == "sqlite":
        url = request.getfixturevalue("empty_market_url")
    else:
        url = request.getfixturevalue("postgres_url")
        migrate(url)
    ids = build_market(url)
    cfg = ServerConfig(market_database_url=url, approval_secret="test-secret", today_override=dt.date(2026, 11, 20))
    return cfg, ids


async def call(cfg: ServerConfig, tool: str, build: Any = build_server, **arguments: Any) -> dict[str, Any]:
    async with Client(build(cfg)) as client:
        result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return result.structured_content


def pick(rows: list[dict[str, Any]], *keys: str) -> list[tuple]:
    return [tuple(r[k] for k in keys) for r in rows]


async def test_harvest_sends_each_term_to_a_manual_campaign_advertising_its_products(market):
    cfg, ids = market
    out = await call(cfg, "find_harvest_candidates", site="us", **ONE_DAY)
    assert out["total"] == 5
    assert pick(out["items"], "search_term", "campaign_id", "harvest_as", "orders", "cvr", "avg_cpc", "suggested_bid",
                "target_campaign_id", "target_ad_group_id", "shared_skus", "needs_manual_campaign",
                "negative_in_auto") == [
        ("bottle for gym", ids["c6"], "exact_keyword", 4, 0.1333, 0.5, 0.6, ids["c8"], ids["ag_hydration"], 2, False, False),
        ("b0mat00009", ids["c5"], "product_target", 3, 0.3, 0.6, 0.72, ids["c4"], ids["ag_mats"], 1, False, False),
        ("yoga mat gift", ids["c5"], "exact_keyword", 3, 0.15, 0.5, 0.6, ids["c4"], ids["ag_mats"], 1, False, False),
        ("free bottle", ids["c6"], "exact_keyword", 3, 0.3, 0.4, 0.48, ids["c8"], ids["ag_hydration"], 2, False, True),
        ("foam yoga block", ids["c7"], "exact_keyword", 3, 0.3, 0.5, 0.6, None, None, 0, True, False),
    ]
    names = {(r["target_campaign_name"], r["target_ad_group_name"]) for r in out["items"]}
    assert names == {("Manual Hydration", "Hydration"), ("Manual Mats", "Mats"), (None, None)}
    assert {r["campaign_id"]: (r["source_skus"], r["campaign_daily_budget"]) for r in out["items"]} == {
        ids["c5"]: (["MAT-1"], 40.0), ids["c6"]: (["BOT-1", "BOT-2"], 100.0), ids["c7"]: (["BLK-1"], 30.0)}
    only = await call(cfg, "find_harvest_candidates", site="us", campaign_id=ids["c7"], **ONE_DAY)
    assert pick(only["items"], "search_term", "ad_group_id") == [("foam yoga block", ids["ag_auto_blocks"])]


async def test_harvest_follows_a_target_that_changes(market):
    """Pausing the target ad group moves the terms to the next best group, else to 'needs a manual campaign'."""
    cfg, ids = market
    with MarketDB(cfg.market_database_url).session() as s:
        s.get(AdGroup, ids["ag_hydration"]).state = "paused"
        s.get(AdGroup, ids["ag_mats"]).state = "paused"
    out = await call(cfg, "find_harvest_candidates", site="us", **ONE_DAY)
    targets = {r["search_term"]: (r["target_campaign_id"], r["target_ad_group_id"], r["needs_manual_campaign"])
               for r in out["items"]}
    assert targets == {"bottle for gym": (ids["c3"], ids["ag_bottles"], False),
                       "free bottle": (ids["c3"], ids["ag_bottles"], False),
                       "b0mat00009": (None, None, True), "yoga mat gift": (None, None, True),
                       "foam yoga block": (None, None, True)}


async def test_acos_alerts_over_and_under_target(market):
    cfg, ids = market
    over = await call(cfg, "get_acos_alerts", site="us", **ONE_DAY)
    assert pick(over["items"], "id", "campaign_id", "acos", "ctr", "cvr", "suggested_action", "suggested_bid") == [
        (ids["k4"], ids["c3"], 1.2, 0.05, 0.1, "lower_bid", 1.0),
        (ids["k2"], ids["c4"], 0.6, 0.04, 0.1, "lower_bid", 0.5),
        (ids["k10"], ids["c1"], 0.5, 0.005, 0.1, "lower_bid", 0.3),
    ]
    under = await call(cfg, "get_acos_alerts", site="us", direction="under", **ONE_DAY)
    assert pick(under["items"], "id", "acos", "suggested_bid") == [(ids["k6"], 0.05, 1.15)]
    campaigns = await call(cfg, "get_acos_alerts", site="us", level="campaign", **ONE_DAY)
    assert pick(campaigns["items"], "id", "spend", "sales", "acos") == [
        (ids["c3"], 39.0, 20.0, 1.95), (ids["c4"], 115.0, 200.0, 0.575), (ids["c1"], 40.0, 80.0, 0.5)]


async def test_wasted_spend_saves_what_the_write_projects(market):
    cfg, ids = market
    out = await call(cfg, "find_wasted_spend", site="us", start_date="2026-11-01", end_date="2026-11-19")
    assert (out["savings_start_date"], out["savings_end_date"], out["wasted_total"], out["total"]) == (
        "2026-11-13", "2026-11-19", 59.0, 2)
    assert pick(out["items"], "keyword_id", "campaign_id", "spend", "impressions", "cpc", "reason", "suggested_action",
                "suggested_bid", "daily_savings") == [
        (ids["k3"], ids["c4"], 35.0, 400, 1.0, "no_orders", "pause", None, 3.57),
        (ids["k4"], ids["c3"], 24.0, 200, 2.4, "acos_over_max", "cut_bid", 1.0, 1.43),
    ]
    terms = await call(cfg, "find_wasted_spend", site="us", level="search_term", min_spend=5, **ONE_DAY)
    assert pick(terms["items"], "text", "campaign_id", "spend", "suggested_action", "daily_savings") == [
        ("bottle brush", ids["c6"], 6.0, "negative", 0.86)]

    # The approval card of each fix shows the same number: the ads server's projection of the same write.
    writes = [("pause_keyword", {"keyword_id": ids["k3"]}, 3.57),
              ("update_bid", {"keyword_id": ids["k4"], "bid": 1.0}, 1.43),
              ("create_negative", {"campaign_id": ids["c6"], "text": "bottle brush", "match_type": "negative_exact"}, 0.86)]
    for tool, arguments, saves in writes:
        card = await call(cfg, tool, build_ads, site="us", dry_run=True, **arguments)
        assert card["impact"]["daily_spend_delta"] == -saves, tool


async def test_budget_pacing_with_each_campaigns_ad_spend(market):
    cfg, ids = market
    out = await call(cfg, "get_budget_pacing", site="us", **ONE_DAY)
    assert (out["budget_needed"], out["budget_freed"], out["total"]) == (5.0, 64.0, 3)
    rows = {r["campaign_id"]: r for r in out["items"]}
    assert pick([rows[ids[c]] for c in ("c4", "c6", "c3")], "status", "daily_budget", "utilisation",
                "typical_ran_out_at", "suggested_budget", "spend", "sales", "acos") == [
        ("exhausted_early", 10.0, 1.0, "10:00", 15.0, 115.0, 200.0, 0.575),
        ("under_utilised", 100.0, 0.3, None, 36.0, 9.0, 30.0, 0.3),
        ("ok", 50.0, 0.8, None, None, 39.0, 20.0, 1.95),
    ]


async def test_inventory_dashboard_at_risk_with_live_ads_per_sku(market):
    cfg, ids = market
    out = await call(cfg, "get_inventory_dashboard", site="us", only_at_risk=True)
    assert (out["total"], out["sold_through"]) == (2, "2026-11-19")
    assert pick(out["items"], "variant_id", "sku", "on_hand", "inbound", "velocity_per_day", "lead_time_days",
                "days_of_supply", "reorder_quantity", "out_of_stock", "live_ads", "sold_7d") == [
        (ids["v_bot"], "BOT-1", 0, 5, 1.0, 10, 0.0, 12, True, 3, 0),
        (ids["v_mat"], "MAT-1", 20, 0, 4.0, 14, 5.0, 64, False, 2, 2),
    ]
    assert {k: out["totals"][k] for k in ("skus", "at_risk", "out_of_stock", "out_of_stock_with_live_ads",
                                          "reorder_units")} == {
        "skus": 4, "at_risk": 2, "out_of_stock": 1, "out_of_stock_with_live_ads": 1, "reorder_units": 76}
    every = await call(cfg, "get_inventory_dashboard", site="us", sort_by="sku")
    assert pick(every["items"], "sku", "days_of_supply", "live_ads") == [
        ("BLK-1", 100.0, 1), ("BOT-1", 0.0, 3), ("BOT-2", None, 2), ("MAT-1", 5.0, 2)]


async def test_recent_low_star_reviews_with_the_products_rating(market):
    cfg, ids = market
    out = await call(cfg, "get_recent_reviews", site="us", start_date="2026-11-17", end_date="2026-11-20", max_rating=2)
    assert (out["total"], out["rating_counts"], out["average_rating"]) == (3, {"1": 2, "2": 1, "5": 1}, 2.25)
    assert pick(out["items"], "id", "product_id", "rating", "product_rating") == [
        (ids["review_Water bottle_1"], ids["bottle"], 1, 1.0),
        (ids["review_Yoga mat_1"], ids["mat"], 1, 3.0),
        (ids["review_Yoga mat_2"], ids["mat"], 2, 3.0),
    ]
