"""`python -m console audit rows-per-hour`: one person's hour on the dashboards, and the audit rows it leaves.

The hour is a script: a page view every 90 seconds, round the Ads, Inventory and Sales pages, the date range changed
every fourth view and the site switched halfway. Each view makes the reads its page makes (`pages/dashboard_loaders`
on a cache miss), through a cache that keeps them as the pages do (5 minutes per view and filters, the servers'
"today" for an hour), on a simulated clock. The reads are real, through a bridge on the bundled servers into a
scratch console database, so what is counted is what the bridge writes. Each view's rows are then grouped as the
Audit page groups them (`console.audit_view.group_reads`); views are 90 seconds apart, far more than the grouping's
gap, so one view's reads never join the next view's line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from console import audit_view
from console.dashboards import data as dashboards
from console.reports.daily_ops import collect_alerts
from mcp_bridge.audit.rows import plain_read
from mcp_bridge.types import Caller

VIEW_EVERY_S = 90
PAGES = ("ads", "inventory", "sales")
RANGES = (30, 7, 14, 90)  # the date-range presets a person goes through, one every fourth view
VIEW_TTL_S, TODAY_TTL_S = 300, 3600  # the pages' cache (pages/dashboard_loaders.py)
CALLER = Caller("bench-manager@console.local", frozenset({"manager"}), frozenset({"us", "de"}), "ui")


@dataclass(frozen=True)
class View:
    """One page view of the script: when (seconds into the hour), which page, site and range."""

    at_s: int
    page: str
    site: str
    days: int


def script(minutes: int = 60) -> list[View]:
    views = minutes * 60 // VIEW_EVERY_S
    return [View(n * VIEW_EVERY_S, PAGES[n % len(PAGES)], "us" if n < views // 2 else "de",
                 RANGES[(n // 4) % len(RANGES)]) for n in range(views)]


@dataclass
class Figures:
    """What the hour wrote: page views, those that read, reads, audit rows, and the Audit page's lines for them."""

    minutes: int
    views: int = 0
    loads: int = 0  # views that read anything (the rest came from the cache)
    reads: int = 0
    rows: int = 0
    lines: int = 0  # with reads shown, grouped
    decisions: int = 0  # lines by default (reads hidden)

    def per_hour(self, value: int) -> float:
        return value * 60 / self.minutes

    def text(self) -> str:
        h = self.per_hour
        return "\n".join([
            f"one person's {self.minutes} minutes on the dashboards: {self.views} page views (one every "
            f"{VIEW_EVERY_S} s), {self.loads} of them read (the rest came from the pages' cache)",
            f"reads: {h(self.reads):,.0f} per user-hour",
            f"audit rows written: {h(self.rows):,.0f} per user-hour ({self.rows / max(self.reads, 1):.1f} per read: "
            "request and result)",
            f"Audit page with reads shown: {h(self.rows):,.0f} lines a row each → {h(self.lines):,.0f} lines with a "
            "page load's reads as one line",
            f"Audit page by default (decisions only): {h(self.decisions):,.0f} lines per user-hour",
        ])


@dataclass
class _Cache:
    """The pages' cache on a simulated clock: a value per function and arguments, kept for its TTL."""

    now: float = 0.0
    kept: dict[tuple[str, str, str], tuple[float, Any]] = field(default_factory=dict)

    def get(self, ttl: float, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        key = (fn.__name__, repr(args), repr(sorted(kwargs.items())))  # as st.cache_data keys: by value
        hit = self.kept.get(key)
        if hit is not None and self.now - hit[0] < ttl:
            return hit[1]
        value = fn(*args, **kwargs)
        self.kept[key] = (self.now, value)
        return value


def _view(bridge: Any, caller: Caller, cache: _Cache, view: View) -> None:
    """The reads one page view makes, as its page makes them."""
    today = cache.get(TODAY_TTL_S, dashboards.server_today, bridge, caller, view.site)
    end = today - dt.timedelta(days=1)  # the pages' ranges are complete days: up to yesterday
    start = end - dt.timedelta(days=view.days - 1)
    if view.page == "ads":
        cache.get(VIEW_TTL_S, dashboards.ads_dashboard, bridge, caller, site=view.site, start=start, end=end)
        cache.get(VIEW_TTL_S, dashboards.budget_pacing, bridge, caller, site=view.site, start=start, end=end)
        kinds: tuple[str, ...] = ("ads", "budgets")
    elif view.page == "inventory":
        cache.get(VIEW_TTL_S, dashboards.inventory_dashboard, bridge, caller, site=view.site)
        kinds = ("inventory",)
    else:
        cache.get(VIEW_TTL_S, dashboards.sales_dashboard, bridge, caller, site=view.site, start=start, end=end)
        cache.get(VIEW_TTL_S, dashboards.sales_by_site, bridge, caller, sites=sorted(caller.sites), start=start,
                  end=end)
        kinds = ("reviews",)
    cache.get(VIEW_TTL_S, collect_alerts, bridge, caller, view.site, today=today, kinds=kinds)


LATE_ROWS = 1000  # more than a view's reads can add while it is being counted


def simulate(bridge: Any, caller: Caller = CALLER, *, minutes: int = 60) -> Figures:
    """Run the script through `bridge` (whose audit log only it writes to) and count what the audit log got."""
    figures, cache = Figures(minutes), _Cache()
    bridge.catalog.specs()  # a fresh database pins every tool first: setup, not the person's hour
    newest = _newest(bridge)
    for view in script(minutes):
        cache.now = view.at_s
        _view(bridge, caller, cache, view)
        bridge.calls.flush()  # the result rows, written within 50 ms anyway
        now = _newest(bridge)
        # This view's rows by id: a result row the background flush writes meanwhile is newer than `now`, and a
        # plain "newest N rows" would take it in place of one of this view's own (and count it again next view).
        late = bridge.calls.queued + LATE_ROWS
        rows = [r for r in bridge.audit.query(limit=now - newest + late) if newest < r.id <= now] if now > newest else []
        figures.views += 1
        figures.loads += bool(rows)
        figures.reads += sum(r.event == "tool_call" for r in rows)
        figures.rows += len(rows)
        figures.lines += audit_view.lines_shown(rows)
        figures.decisions += sum(not plain_read(r.event, r.outcome) for r in rows)
        newest = now
    return figures


def _newest(bridge: Any) -> int:
    found = bridge.audit.query(limit=1)
    return found[0].id if found else 0


def main(args: argparse.Namespace) -> int:
    """Run the hour on a scratch console database against the configured (or given) market; print the figures."""
    from console.runtime import Runtime
    from console.settings import Settings

    with tempfile.TemporaryDirectory(prefix="audit-rows-") as scratch:
        overrides: dict[str, Any] = {"database_url": f"sqlite:///{scratch}/console.db", "audit_anchor": ""}
        if getattr(args, "market_url", None):
            overrides["market_database_url"] = args.market_url
        started = dt.datetime.now(dt.UTC)
        with Runtime.create(Settings(**overrides)) as rt:
            figures = simulate(rt.bridge, minutes=args.minutes)
        took = (dt.datetime.now(dt.UTC) - started).total_seconds()
    print(figures.text())
    print(f"(simulated in {took:.1f} s)")
    return 0
