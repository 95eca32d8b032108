"""`python -m console bench dashboards [--market-url URL]`: server-side time per dashboard, cold and warm,
against loading the raw rows into pandas and aggregating there (run it on the `large` seed).

The SQL side of the ads and sales dashboards, and the units sold on the inventory one, reads the daily rollup
tables (servers/market/rollups.py); the pandas side reads the raw keyword metrics, orders and order lines, as a
notebook would."""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
from sqlalchemy import func, select, text

from console.settings import Settings

SITE = "us"
DAYS = 30
SAFETY_DAYS, THRESHOLD = 7, 14.0


def _range(db: Any) -> tuple[dt.date, dt.date]:
    """The last DAYS days with ad data (the seed ends the day before its `today`)."""
    from servers.market.models import KeywordDailyMetric

    with db.reader() as s:
        end = s.scalar(select(func.max(KeywordDailyMetric.date)).where(KeywordDailyMetric.site_id == SITE))
    return end - dt.timedelta(days=DAYS - 1), end


def sql_builders(start: dt.date, end: dt.date) -> dict[str, Callable[[Any], Any]]:
    from servers.analytics import dashboards as d

    return {
        "ads": lambda s: d.ads_dashboard(s, site=SITE, start=start, end=end, rank_by="acos", limit=20),
        "inventory": lambda s: d.inventory_dashboard(s, site=SITE, today=end + dt.timedelta(days=1),
                                                     days_threshold=THRESHOLD, safety_days=SAFETY_DAYS),
        "sales": lambda s: d.sales_dashboard(s, site=SITE, start=start, end=end, granularity="day"),
    }


# ---------------------------------------------------------------- the pandas way: raw rows in, aggregate in Python


def pandas_ads(conn: Any, start: dt.date, end: dt.date) -> dict[str, Any]:
    prev_start = start - dt.timedelta(days=DAYS)
    rows = pd.read_sql(text(
        "SELECT m.date, m.campaign_id, m.impressions, m.clicks, m.spend, m.orders, m.units, m.sales, c.name, c.platform, "
        "c.campaign_type, c.state FROM keyword_daily_metrics m JOIN campaigns c ON c.id = m.campaign_id "
        "WHERE m.site_id = :site AND m.date BETWEEN :a AND :b"), conn, params={"site": SITE, "a": prev_start, "b": end})
    orders = pd.read_sql(text("SELECT placed_date, total, status FROM orders WHERE site_id = :site AND placed_date "
                              "BETWEEN :a AND :b"), conn, params={"site": SITE, "a": prev_start, "b": end})
    rows["date"] = pd.to_datetime(rows["date"])
    current = rows[rows["date"] >= pd.Timestamp(start)]
    sums = ["impressions", "clicks", "spend", "sales", "orders", "units"]
    kpis = current[sums].sum()
    previous = rows[rows["date"] < pd.Timestamp(start)][sums].sum()
    paid = orders[orders["status"].isin(["paid", "shipped", "delivered", "returned"])]
    revenue = paid[pd.to_datetime(paid["placed_date"]) >= pd.Timestamp(start)]["total"].sum()
    daily = current.groupby("date")[sums].sum()
    daily["acos"] = daily["spend"] / daily["sales"].where(daily["sales"] != 0)
    platforms = current.groupby("platform")[sums].sum()
    campaigns = current.groupby(["campaign_id", "name"])[sums].sum()
    campaigns["acos"] = campaigns["spend"] / campaigns["sales"].where(campaigns["sales"] != 0)
    return {"spend": round(float(kpis["spend"]), 2), "tacos": float(kpis["spend"]) / revenue if revenue else None,
            "prev_spend": float(previous["spend"]), "days": len(daily), "platforms": len(platforms),
            "top": campaigns.sort_values("acos", ascending=False).head(20)}


def pandas_inventory(conn: Any, end: dt.date) -> dict[str, Any]:
    inv = pd.read_sql(text(
        "SELECT i.variant_id, i.on_hand, i.reserved, i.inbound, i.velocity_per_day, i.lead_time_days, v.sku, p.title "
        "FROM inventory_levels i JOIN variants v ON v.id = i.variant_id JOIN products p ON p.id = v.product_id "
        "WHERE i.site_id = :site AND v.status = 'active'"), conn, params={"site": SITE})
    ads = pd.read_sql(text(
        "SELECT pa.variant_id, pa.state, g.state AS group_state, c.state AS campaign_state FROM product_ads pa "
        "JOIN ad_groups g ON g.id = pa.ad_group_id JOIN campaigns c ON c.id = pa.campaign_id WHERE pa.site_id = :site"),
        conn, params={"site": SITE})
    lines = pd.read_sql(text(
        "SELECT oi.variant_id, oi.quantity, o.placed_date, o.status FROM orders o JOIN order_items oi ON oi.order_id = o.id "
        "WHERE o.site_id = :site AND o.placed_date BETWEEN :a AND :b"), conn,
        params={"site": SITE, "a": end - dt.timedelta(days=29), "b": end})
    lines = lines[lines["status"].isin(["paid", "shipped", "delivered", "returned"])]
    recent = lines[pd.to_datetime(lines["placed_date"]) > pd.Timestamp(end - dt.timedelta(days=7))]
    live = ads[(ads["state"] == "enabled") & (ads["group_state"] == "enabled") & (ads["campaign_state"] == "enabled")]
    inv = inv.merge(live.groupby("variant_id").size().rename("live_ads"), on="variant_id", how="left").fillna({"live_ads": 0})
    inv = inv.merge(lines.groupby("variant_id")["quantity"].sum().rename("sold_30d"), on="variant_id", how="left")
    inv = inv.merge(recent.groupby("variant_id")["quantity"].sum().rename("sold_7d"), on="variant_id", how="left")
    inv = inv.fillna({"sold_30d": 0, "sold_7d": 0})
    inv["pace_change"] = inv["sold_7d"] / 7 / inv["velocity_per_day"].where(inv["velocity_per_day"] > 0) - 1
    inv["available"] = inv["on_hand"] - inv["reserved"]
    inv["days_of_supply"] = (inv["available"] / inv["velocity_per_day"].where(inv["velocity_per_day"] > 0)).where(
        inv["available"] > 0, 0.0)
    need = inv["velocity_per_day"] * (inv["lead_time_days"] + SAFETY_DAYS) - inv["on_hand"] - inv["inbound"]
    inv["reorder_quantity"] = need.clip(lower=0).round(6).apply(lambda x: int(-(-x // 1)))
    inv["at_risk"] = (inv["available"] <= 0) | (inv["days_of_supply"] < THRESHOLD)
    return {"skus": len(inv), "at_risk": int(inv["at_risk"].sum()), "reorder_units": int(inv["reorder_quantity"].sum()),
            "sold_30d": int(inv["sold_30d"].sum()),
            "items": inv.sort_values("days_of_supply").head(100)}


def pandas_sales(conn: Any, start: dt.date, end: dt.date) -> dict[str, Any]:
    first = start - dt.timedelta(days=DAYS)
    items = pd.read_sql(text(
        "SELECT o.id AS order_id, o.placed_date, o.total, o.status, oi.id AS item_id, oi.quantity, oi.unit_price, "
        "p.id AS product_id, p.title, c.name AS category FROM orders o JOIN order_items oi ON oi.order_id = o.id "
        "JOIN variants v ON v.id = oi.variant_id JOIN products p ON p.id = v.product_id "
        "LEFT JOIN categories c ON c.id = p.category_id WHERE o.site_id = :site AND o.placed_date BETWEEN :a AND :b"),
        conn, params={"site": SITE, "a": first, "b": end})
    returns = pd.read_sql(text("SELECT r.order_item_id AS item_id, r.quantity AS returned FROM returns r WHERE "
                               "r.site_id = :site AND r.status != 'rejected'"), conn, params={"site": SITE})
    items = items[items["status"].isin(["paid", "shipped", "delivered", "returned"])].copy()
    items["placed_date"] = pd.to_datetime(items["placed_date"])
    items["line"] = items["quantity"] * items["unit_price"]
    current = items[items["placed_date"] >= pd.Timestamp(start)]
    orders = current.drop_duplicates("order_id")
    daily = items.drop_duplicates("order_id").groupby("placed_date")["total"].sum()
    change = daily / daily.shift(7) - 1
    categories = current.groupby("category")["line"].sum().sort_values(ascending=False)
    products = current.groupby(["product_id", "title"])["line"].sum().sort_values()
    returned = current.merge(returns.groupby("item_id")["returned"].sum(), on="item_id", how="left")["returned"].sum()
    return {"revenue": round(float(orders["total"].sum()), 2), "orders": len(orders), "units": int(current["quantity"].sum()),
            "anomalies": int((change.abs() > 0.3).sum()), "categories": len(categories),
            "returns_rate": float(returned) / float(current["quantity"].sum() or 1),
            "top": products.tail(5), "bottom": products.head(5)}


# ---------------------------------------------------------------- measuring


def _timed(fn: Callable[[], Any]) -> tuple[float, Any, float]:
    """Wall seconds, the result, and CPU seconds of this process (steady on a busy machine: SQLite runs in-process)."""
    started, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - started, out, time.process_time() - cpu


def measure(url: str, *, warm_runs: int = 10) -> list[dict[str, Any]]:
    """Per dashboard: cold (new engine, first query) and warm (median) SQL time, the pandas time, and the ratio."""
    from servers.market.db import MarketDB

    probe = MarketDB(url)
    start, end = _range(probe)
    probe.engine.dispose()
    pandas_ways = {
        "ads": lambda conn: pandas_ads(conn, start, end),
        "inventory": lambda conn: pandas_inventory(conn, end),
        "sales": lambda conn: pandas_sales(conn, start, end),
    }
    results = []
    for name, build in sql_builders(start, end).items():
        db = MarketDB(url)  # a new engine: no pooled connection, no SQLite page cache of its own
        with db.reader() as s:
            cold, built, cold_cpu = _timed(lambda build=build, s=s: build(s))
        warm, warm_cpu = [], []
        for _ in range(warm_runs):
            with db.reader() as s:
                wall, _, cpu = _timed(lambda build=build, s=s: build(s))
            warm.append(wall)
            warm_cpu.append(cpu)
        db.engine.dispose()
        fresh = MarketDB(url)
        with fresh.engine.connect() as conn:
            pandas_s, frame, pandas_cpu = _timed(lambda name=name, conn=conn: pandas_ways[name](conn))
        fresh.engine.dispose()
        results.append({"dashboard": name, "cold_s": cold, "warm_s": statistics.median(warm), "pandas_s": pandas_s,
                        "cold_cpu": cold_cpu, "warm_cpu": statistics.median(warm_cpu), "pandas_cpu": pandas_cpu,
                        "ratio_cold": pandas_s / cold, "ratio_cpu": pandas_cpu / cold_cpu,
                        "check": _check(name, built, frame)})
    return results


def rollup_rows(url: str) -> dict[str, int]:
    """Rows of each daily rollup the SQL side reads, for the benchmarked site (0 when not built: see the hint)."""
    from servers.market.db import MarketDB
    from servers.market.rollups import ROLLUPS

    db = MarketDB(url)
    try:
        with db.reader() as s:
            return {m.__tablename__: s.scalar(select(func.count()).select_from(m).where(m.site_id == SITE)) for m in ROLLUPS}
    finally:
        db.engine.dispose()


def _check(name: str, built: Any, frame: dict[str, Any]) -> str:
    """Both ways must agree on a headline figure, or the comparison is meaningless."""
    if name == "ads":
        same = abs(built.kpis.spend - frame["spend"]) < 0.05
    elif name == "inventory":
        same = ((built.totals.at_risk, built.totals.reorder_units, built.totals.units_sold_30d)
                == (frame["at_risk"], frame["reorder_units"], frame["sold_30d"]))
    else:
        same = (round(built.totals.revenue, 2), built.totals.orders) == (frame["revenue"], frame["orders"])
    return "same answer" if same else "DIFFERENT ANSWER"


def main(args: argparse.Namespace) -> int:
    url = getattr(args, "market_url", None) or Settings().market_database_url
    warm_runs = max(3, min(getattr(args, "iterations", 10) or 10, 20))
    print(f"market: {url}")
    rollups = rollup_rows(url)
    print("SQL side: ads, sales and units sold read the daily rollups (" + ", ".join(f"{t} {n:,} rows" for t, n in rollups.items())
          + f" for {SITE}); inventory reads its own small tables; pandas reads the raw rows")
    if not all(rollups.values()):
        print("  rollups are empty: run `python -m servers.market migrate` (backfills) or `... rollups rebuild`")
    print(f"site {SITE}, last {DAYS} days; cold = new engine + first query; warm = median of {warm_runs}; "
          "× = pandas ÷ cold")
    print(f"{'':10} {'---------- wall ms ----------':>33}  {'---------- CPU ms -----------':>33}")
    print(f"{'dashboard':10} {'cold':>7} {'warm':>7} {'pandas':>8} {'×':>7}  {'cold':>7} {'warm':>7} {'pandas':>8} {'×':>7}  check")
    failures = 0
    for r in measure(url, warm_runs=warm_runs):
        print(f"{r['dashboard']:10} {r['cold_s'] * 1e3:>7.0f} {r['warm_s'] * 1e3:>7.0f} {r['pandas_s'] * 1e3:>8.0f} "
              f"{r['ratio_cold']:>6.1f}×  {r['cold_cpu'] * 1e3:>7.0f} {r['warm_cpu'] * 1e3:>7.0f} "
              f"{r['pandas_cpu'] * 1e3:>8.0f} {r['ratio_cpu']:>6.1f}×  {r['check']}")
        failures += r["check"] != "same answer"
    print("targets: cold ≤ 1000 ms per dashboard on SQLite; ≥ 10× faster than the pandas way")
    return 1 if failures else 0
