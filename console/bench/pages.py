"""`python -m console bench pages [--scale demo|large] [--sessions 10] [--url URL] [--json]`: how long each page of
the console takes in Chromium, from the click in the navigation until it is ready (README, Tests: Readiness signal).

Unless `--url` names a console someone runs, the benchmark starts its own on a temporary copy of a seeded market
(console_app.py) and measures: the first dashboard after the app starts (spawn → Ads ready); per role (demo sign-in:
seller, manager, approver, admin, each in a fresh browser session), every page of its navigation cold (first visit in
the session) and warm (median of 3 later visits), with the reads through the bridge, plotly charts and websocket bytes
of each load; a chat turn with the offline assistant; a date-range change on Ads; and the same pages with N
simultaneous sessions (Playwright's async API, one context each) against one session, in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.bench import console_app, sessions
from console.bench.browser import Tab, Timed, launch
from console.bench.pages_report import report

ROLES = {"seller": "seller@demo.local", "manager": "manager@demo.local", "approver": "approver@demo.local",
         "admin": "admin@demo.local"}
REPEAT = 3  # warm visits, chat turns and filter changes: medians of 3
START_USER = "bench-start@demo.local"  # the first dashboard's manager: the roles' own caches stay cold
FIRST_DASHBOARD = "Ads"
CHAT_PROMPT = "which keywords have ACOS over 30%?"
FILTER_LABEL, FILTER_FROM, FILTER_TO = "Date range", "Last 30 days", "Last 7 days"
CHARTS, TABLES = "[data-testid='stPlotlyChart']", "[data-testid='stDataFrame']"


@dataclass
class Plan:
    scale: str = "demo"
    sessions: int = 10
    url: str | None = None
    roles: tuple[str, ...] = tuple(ROLES)
    pages: tuple[str, ...] = ()  # navigation titles to measure; empty: all
    say: Any = print  # progress lines

    def wants(self, title: str) -> bool:
        return not self.pages or title in self.pages


@dataclass
class Run:
    """What one run found; `figures()` is what --json prints."""

    plan: Plan
    market: str = ""
    start: dict[str, Any] = field(default_factory=dict)
    pages: list[dict[str, Any]] = field(default_factory=list)
    interactions: list[dict[str, Any]] = field(default_factory=list)
    concurrency: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    log: str = ""

    def figures(self) -> dict[str, Any]:
        keep = ("market", "start", "pages", "interactions", "concurrency", "errors", "log")
        return {"scale": self.plan.scale, "url": self.plan.url, "sessions": self.plan.sessions,
                **{k: getattr(self, k) for k in keep}}


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def first(values: list[float]) -> float | None:
    return values[0] if values else None


async def console_cpu(app: console_app.ConsoleApp) -> float:
    return (await asyncio.to_thread(console_app.cpu_split, app.process.pid))[0]


async def first_dashboard(browser: Any, app: console_app.ConsoleApp, run: Run) -> None:
    """Spawn → health check → sign-in page → signed in → Ads ready, each on the wall clock since the spawn, with
    the CPU the console (and its MCP servers) had used by then."""
    health = await app.wait_healthy()
    cpu = {"health_cpu_s": await console_cpu(app)}
    tab = await Tab.open(browser)
    try:
        page = await tab.goto(app.url)
        cpu["sign_in_page_cpu_s"] = await console_cpu(app)
        signed = await tab.demo_sign_in(START_USER)
        cpu["signed_in_cpu_s"] = await console_cpu(app)
        ads = await tab.visit(FIRST_DASHBOARD)
        cpu["ads_ready_cpu_s"] = await console_cpu(app)
        run.start = {"page": FIRST_DASHBOARD, "health_s": health, "sign_in_page_s": page.at - app.spawned_wall,
                     "signed_in_s": signed.at - app.spawned_wall, "ads_ready_s": ads.at - app.spawned_wall,
                     "ads_ms": ads.ms, **cpu}
    finally:
        await tab.close()


async def role_pages(browser: Any, url: str, role: str, probe: console_app.Probe, run: Run) -> None:
    """One fresh session: sign in (the landing page's cold load), every other page cold, then 3 warm sweeps."""
    tab = await Tab.open(browser)
    try:
        await tab.goto(url)
        started = await probe.start()
        signed = await tab.demo_sign_in(ROLES[role])
        landing, titles = await tab.current_title(), await tab.titles()
        rows = {t: {"role": role, "page": t, "landing": t == landing, "warm_ms": [], "warm_reads": [],
                    "warm_cpu_ms": [], "warm_browser_cpu_ms": []} for t in titles if run.plan.wants(t)}
        if landing in rows:
            await cold(tab, rows[landing], signed, await probe.stop(started))
        for title in [t for t in rows if t != landing]:
            started = await probe.start()
            await cold(tab, rows[title], await tab.visit(title), await probe.stop(started))
        for _ in range(REPEAT):
            for title, row in rows.items():
                started = await probe.start()
                took = await tab.visit(title)
                load = await probe.stop(started)
                await check(tab, row)
                row["warm_ms"].append(took.ms)
                row["warm_kb"] = took.received / 1024
                row["warm_reads"].append(load.reads)
                row["warm_cpu_ms"].append(load.cpu_ms)
                row["warm_browser_cpu_ms"].append(load.browser_cpu_ms)
        for row in rows.values():
            row["warm_median_ms"] = median(row["warm_ms"])
            for key in ("cpu_ms", "browser_cpu_ms"):
                row[f"warm_median_{key}"] = median([c for c in row[f"warm_{key}"] if c is not None])
            run.pages.append(row)
        if "Chat" in rows and not any(i.get("name") == "chat" for i in run.interactions):
            await chat_turns(tab, probe, run)
        if FIRST_DASHBOARD in rows and role == filter_role(run.plan):
            await filter_changes(tab, probe, run)
    finally:
        await tab.close()


async def cold(tab: Tab, row: dict[str, Any], took: Timed, load: console_app.Load) -> None:
    row.update(cold_ms=took.ms, cold_kb=took.received / 1024, charts=await tab.count(CHARTS),
               tables=await tab.count(TABLES), cold_reads=load.reads, cold_cpu_ms=load.cpu_ms,
               cold_browser_cpu_ms=load.browser_cpu_ms,
               cold_audit_rows=sum(load.audit.values()) if load.audit is not None else None,
               cold_audit=dict(load.audit) if load.audit is not None else None)
    await check(tab, row)


async def check(tab: Tab, row: dict[str, Any]) -> None:
    """A page that shows an exception is fast for the wrong reason: say so beside its figures."""
    if not row.get("error") and (shown := await tab.failure()):
        row["error"] = shown.removeprefix(": ")


def filter_role(plan: Plan) -> str | None:
    """The manager changes the date range (the dashboards are theirs); else the first role measured."""
    return "manager" if "manager" in plan.roles else next(iter(plan.roles), None)


async def repeated(what: str, action: Any, probe: console_app.Probe, run: Run, *, undo: Any = None,
                   **about: Any) -> None:
    """An interaction 3 times (`undo` between, untimed): the first (nothing cached yet) and the median."""
    samples, loads = [], []
    for _ in range(REPEAT):
        started = await probe.start()
        samples.append((await action()).ms)
        loads.append(await probe.stop(started))
        if undo is not None:
            await undo()
    cpu = [x.cpu_ms for x in loads if x.cpu_ms is not None]
    browser = [x.browser_cpu_ms for x in loads if x.browser_cpu_ms is not None]
    # Everything but the reads' own time: what the issue calls a turn's overhead (the offline assistant has no model)
    besides = [wall - x.tool_ms for wall, x in zip(samples, loads, strict=True) if x.tool_ms is not None]
    run.interactions.append({"what": what, **about, "samples_ms": samples, "first_ms": samples[0],
                             "median_besides_reads_ms": median(besides) if besides else None,
                             "median_ms": median(samples), "first_reads": loads[0].reads,
                             "first_cpu_ms": first(cpu), "median_cpu_ms": median(cpu),
                             "first_browser_cpu_ms": first(browser), "median_browser_cpu_ms": median(browser)})


async def chat_turns(tab: Tab, probe: console_app.Probe, run: Run) -> None:
    await tab.visit("Chat")
    await repeated("chat turn with the offline assistant (submit → answer rendered)",
                   lambda: tab.chat_turn(CHAT_PROMPT), probe, run, name="chat", prompt=CHAT_PROMPT)


async def filter_changes(tab: Tab, probe: console_app.Probe, run: Run) -> None:
    await tab.visit(FIRST_DASHBOARD)
    await repeated(f"{FIRST_DASHBOARD}: {FILTER_LABEL} {FILTER_FROM} → {FILTER_TO}",
                   lambda: tab.choose(FILTER_LABEL, FILTER_TO), probe, run,
                   undo=lambda: tab.choose(FILTER_LABEL, FILTER_FROM), name="filter")


async def concurrency(browser: Any, url: str, app: console_app.ConsoleApp | None, run: Run) -> None:
    """The same pages, one fresh session and then N at once; distinct managers when the console is ours (the
    dashboards cache per person, so one shared user would measure one person's cache N times)."""
    n, own_users = run.plan.sessions, app is not None
    users = [f"bench-{i:02d}@demo.local" for i in range(n + 1)] if own_users else [ROLES["manager"]] * (n + 1)
    run.concurrency = {"sessions": n, "users": "distinct managers" if own_users else ROLES["manager"], "pages": [],
                       "cpu": {}}
    cpu_now = (lambda: console_app.cpu_split(app.process.pid)) if app else None
    await sessions.against_one(browser, url, users, list(run.plan.pages) or None, run.concurrency["pages"],
                               run.concurrency["cpu"], cpu_now)


async def step(run: Run, what: str, work: Any) -> None:
    """A step that fails is reported and the others still run (pages change under the benchmark)."""
    started = time.perf_counter()
    run.plan.say(f"… {what}")
    try:
        await work
    except Exception as exc:  # the benchmark goes on; the table says what is missing and why
        run.errors.append(f"{what}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300])
    run.plan.say(f"  {time.perf_counter() - started:.0f} s")


async def measure(plan: Plan) -> Run:
    from playwright.async_api import async_playwright

    run, app, probe = Run(plan), None, console_app.Probe()
    workdir = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    try:
        async with async_playwright() as playwright:
            browser = await launch(playwright)
            if plan.url is None:
                market = console_app.seeded_market(plan.scale, say=plan.say)
                run.market = str(market)
                managers = [START_USER, *(f"bench-{i:02d}@demo.local" for i in range(plan.sessions + 1))]
                app = console_app.spawn(workdir, console_app.prepare(workdir, market, managers=managers))
                probe = console_app.Probe(app)
                await step(run, "first dashboard after the app starts", first_dashboard(browser, app, run))
            url = plan.url or app.url
            for role in plan.roles:
                await step(run, f"pages of the {role}", role_pages(browser, url, role, probe, run))
            if plan.sessions:
                await step(run, f"{plan.sessions} sessions at once", concurrency(browser, url, app, run))
            await browser.close()
    finally:
        probe.close()
        if app is not None:
            app.stop()
            kept = console_app.CACHE / f"pages-{plan.scale}-streamlit.log"
            shutil.copyfile(app.log_path, kept)
            run.log = str(kept)
        shutil.rmtree(workdir, ignore_errors=True)
    return run


def stopped(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)  # stdout keeps only the tables (or the JSON)


def main(args: argparse.Namespace) -> int:
    as_json = bool(getattr(args, "json", False))
    plan = Plan(scale=getattr(args, "scale", None) or "demo", sessions=max(0, getattr(args, "sessions", 10)),
                url=getattr(args, "url", None), roles=tuple(getattr(args, "role", None) or ROLES),
                pages=tuple(getattr(args, "page", None) or ()), say=progress)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, stopped) if main_thread else None  # a kill stops the console too
    try:
        run = asyncio.run(measure(plan))
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    print(json.dumps(run.figures(), indent=2) if as_json else report(run))
    return 1 if run.errors else 0
