"""N people at once: fresh browser sessions (one Playwright context each, async API) that sign in together and open
each page together, against one session doing the same, in the same run."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from console.bench.browser import TIMEOUT_MS, NotReady, Tab, Timed

PER_SESSION_MS = 30_000  # how much longer a page may take for each session opening it at the same time


async def together(tabs: list[Tab], action: Any) -> list[Timed]:
    return list(await asyncio.gather(*(action(tab) for tab in tabs)))


async def at_once(browser: Any, url: str, users: list[str], titles: list[str] | None,
                  found: dict[str, list[float]]) -> None:
    """Every user in a fresh session at once: sign in together, then each page opened by all together (cold, then
    warm); milliseconds per page into `found`, one figure per session, as they come."""
    tabs = [await Tab.open(browser, timeout_ms=TIMEOUT_MS + PER_SESSION_MS * len(users)) for _ in users]
    try:
        await together(tabs, lambda tab: tab.goto(url))
        signed = await asyncio.gather(*(tab.demo_sign_in(u) for tab, u in zip(tabs, users, strict=True)))
        landing, nav = await tabs[0].current_title(), await tabs[0].titles()
        titles = [t for t in nav if titles is None or t in titles]
        found[f"{landing} (sign-in)"] = [t.ms for t in signed]
        for when, pages in (("cold", [t for t in titles if t != landing]), ("warm", titles)):
            for title in pages:
                try:
                    took = await together(tabs, lambda tab, t=title: tab.visit(t))
                except Exception as exc:
                    raise NotReady(f"{title} {when}: {type(exc).__name__}: {str(exc).splitlines()[0]}") from exc
                found[f"{title} {when}"] = [t.ms for t in took]
    finally:
        await asyncio.gather(*(tab.close() for tab in tabs), return_exceptions=True)


async def against_one(browser: Any, url: str, users: list[str], titles: list[str] | None,
                      rows: list[dict[str, Any]], cpu: dict[str, float], cpu_now: Any = None) -> None:
    """`users[0]` alone, then `users[1:]` at once; per page into `rows`: one session's ms, the N sessions' median
    and max, and the ratio of the median to one; into `cpu`, what each side used while the N ran (`cpu_now()`:
    CPU seconds so far of the app and of the browser). What was measured before a failure is kept."""
    one: dict[str, list[float]] = {}
    many: dict[str, list[float]] = {}
    try:
        alone = cpu_now() if cpu_now else None
        await at_once(browser, url, users[:1], titles, one)
        started, wall = cpu_now() if cpu_now else None, time.monotonic()
        if alone is not None and started is not None:
            cpu.update(one_app_s=started[0] - alone[0])  # the app side of one session's same pages
        try:
            await at_once(browser, url, users[1:], titles, many)
        finally:
            if started is not None:
                ended = cpu_now()
                cpu.update(wall_s=time.monotonic() - wall, app_s=ended[0] - started[0],
                           browser_s=ended[1] - started[1])
    finally:
        rows[:] = [{"page": page, "one_ms": one[page][0], "many_ms": many[page],
                    "median_ms": statistics.median(many[page]), "max_ms": max(many[page]),
                    "ratio": statistics.median(many[page]) / one[page][0]} for page in one if page in many]
