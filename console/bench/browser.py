"""A console tab in Chromium (Playwright's async API) that times each action until the page is ready.

"Ready" is the readiness signal of the browser tests (README, Tests): the app root says the script is not running
(`[data-testid='stApp'][data-test-script-state='notRunning']`) and no skeleton is left. An observer in the page
timestamps every change of the script state, so a figure is the page's own clock from the action to the moment the
last run finished, not when a poll happened to notice it; a run that another follows at once (st.rerun) is waited
out. Pages are found by their navigation titles only, never by their texts, so pages can change under the benchmark.
"""

from __future__ import annotations

import re
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")  # Debian's; never `playwright install`
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "bench"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 120_000  # one session (a busy 2-core machine can take a minute); N at once get longer (sessions.py)
FIND_MS = 10_000  # what a ready page should show at once (a sign-in row, a select box)
QUIET_MS = 300  # no new run for this long after the last one finished: the page has settled

# Before any script of the page: remember when the app root's script state changed and when the app's websocket last
# brought a message, on the page's clock. Either says a run happened since the action: a short run may start and
# finish between two observer callbacks (the old values say so), or without React ever drawing its `running` state.
OBSERVER = """
(() => {
  const bench = window.__bench = {mark: performance.now(), seen: false, last: 0, finished: 0, message: 0,
                                  bytes: 0, skeletonAt: 0, check: null};
  const poke = () => bench.check && bench.check();
  new MutationObserver(records => {
    const now = performance.now();
    for (const r of records) {
      const state = r.target.getAttribute('data-test-script-state');
      bench.last = now;
      if (r.oldValue !== 'notRunning' || state !== 'notRunning') bench.seen = true;
      if (state === 'notRunning') bench.finished = now;
    }
  }).observe(document, {attributes: true, attributeOldValue: true, subtree: true,
                        attributeFilter: ['data-test-script-state']});
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', event => {
        bench.message = performance.now();
        bench.bytes += event.data.byteLength ?? event.data.size ?? event.data.length ?? 0;
        bench.seen = true;
        setTimeout(poke, 0);  // once the app has handled it
      });
    }
  };
})();
"""
MARK = """() => {
  const b = window.__bench;
  [b.mark, b.seen, b.skeletonAt] = [performance.now(), false, 0];
  return [b.mark, b.bytes];
}"""
# Ready: a run happened since the mark, the script is not running, and no skeleton is on screen. Checked on every
# change of the page and after every message (no polling: a poll every few ms costs the browser a quarter of a core,
# which a busy machine lacks). The answer is the moment of readiness on the page's clock (the run's end or its last
# message, or when the last skeleton went), or false on timeout.
READY = """
timeout => new Promise(resolve => {
  const b = window.__bench;
  const ready = () => {
    const app = document.querySelector("[data-testid='stApp']");
    if (!b.seen || !app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (document.querySelector("[data-testid='stSkeleton']")) { b.skeletonAt = performance.now(); return false; }
    return b.skeletonAt ? performance.now() : Math.max(b.finished, b.message, b.mark);
  };
  let timer = 0;
  const watch = new MutationObserver(() => b.check());
  b.check = () => {
    const at = ready();
    if (!at) return;
    b.check = null;
    watch.disconnect();
    clearTimeout(timer);
    resolve(at);
  };
  watch.observe(document, {childList: true, subtree: true, attributes: true,
                           attributeFilter: ['data-test-script-state']});
  timer = setTimeout(() => { b.check = null; watch.disconnect(); resolve(false); }, timeout);
  b.check();
})
"""
SETTLED = "at => window.__bench.last <= at && window.__bench.message <= at"
STATE = """() => `script ${document.querySelector("[data-testid='stApp']")?.getAttribute('data-test-script-state')}, `
  + `a run seen since the action: ${window.__bench.seen}, `
  + `skeleton: ${!!document.querySelector("[data-testid='stSkeleton']")}`"""
SIGNED_IN = "email => (document.querySelector(\"[data-testid='stSidebar']\")?.innerText || '').includes(email)"
NAV = "[data-testid='stSidebarNav']"
EXCEPTION = "[data-testid='stException']"
# A link's text starts with its icon's ligature (`campaign`), the title is its last line.
NAV_TITLES = f"() => [...document.querySelectorAll(\"{NAV} a\")].map(a => a.innerText.trim().split('\\n').pop().trim())"
CURRENT = f"() => document.querySelector(\"{NAV} a[aria-current='page']\")?.innerText.trim().split('\\n').pop().trim()"


class NotReady(RuntimeError):
    """The page never got ready, or what the benchmark looks for is not on it."""


@dataclass(frozen=True)
class Timed:
    """One timed action: milliseconds to ready, bytes the app sent over its websocket meanwhile, and when the page
    got ready (epoch seconds, from the page's clock)."""

    ms: float
    received: int
    at: float


async def launch(playwright: Any) -> Any:
    if not CHROMIUM.exists():
        raise NotReady(f"{CHROMIUM} is missing: apt-get install -y chromium (never `playwright install`)")
    return await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


class Tab:
    """One person: a fresh browser context (its own cookies, so its own Streamlit session) and one page."""

    def __init__(self, context: Any, page: Any, timeout_ms: float) -> None:
        self.context, self.page, self.timeout_ms = context, page, timeout_ms

    @classmethod
    async def open(cls, browser: Any, *, timeout_ms: float = TIMEOUT_MS) -> Tab:
        context = await browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-US")
        context.set_default_timeout(timeout_ms)
        await context.add_init_script(OBSERVER)
        return cls(context, await context.new_page(), timeout_ms)

    async def close(self) -> None:
        await self.context.close()

    async def timed(self, action: Any) -> Timed:
        """Run `action` (a coroutine function) and wait until the page is ready again; the page's time for it."""
        start, received = await self.page.evaluate(MARK)
        await action()
        return await self._ready(start, received)

    async def _ready(self, start: float, received: int) -> Timed:
        while True:
            ready_at = await self.page.evaluate(READY, self.timeout_ms)
            if ready_at is False:
                raise NotReady(await self.diagnosis())
            await self.page.wait_for_timeout(QUIET_MS)
            if await self.page.evaluate(SETTLED, ready_at):
                origin, now = await self.page.evaluate("() => [performance.timeOrigin, window.__bench.bytes]")
                return Timed(ready_at - start, now - received, (origin + ready_at) / 1000)

    async def goto(self, url: str) -> Timed:
        """Load the app; from the start of the navigation (the page's clock starts with the document)."""
        await self.page.goto(url, wait_until="commit")
        return await self._ready(0.0, 0)

    async def demo_sign_in(self, email: str) -> Timed:
        """Press the demo sign-in button in the row of `email`; until the page it lands on is ready."""
        button = self.page.get_by_role("button", name="Sign in")
        row = self.page.locator("[data-testid='stVerticalBlock']").filter(has_text=email).filter(has=button).last
        try:
            await row.wait_for(timeout=FIND_MS)
        except Exception:
            raise NotReady(f"no demo sign-in for {email} on the page{await self.failure()}") from None
        took = await self.timed(lambda: row.get_by_role("button", name="Sign in").click())
        await self.page.wait_for_function(SIGNED_IN, arg=email, timeout=self.timeout_ms)
        return took

    async def _show_all_links(self) -> None:
        more = self.page.locator(f"{NAV} [data-testid='stSidebarNavViewButton']")
        if await more.count() and re.search(r"more", await more.first.inner_text(), re.I):
            await more.first.click()

    async def titles(self) -> list[str]:
        """The navigation titles this person sees, in order."""
        await self.page.locator(NAV).wait_for()
        await self._show_all_links()
        return await self.page.evaluate(NAV_TITLES)

    async def current_title(self) -> str | None:
        return await self.page.evaluate(CURRENT)

    async def visit(self, title: str) -> Timed:
        """Open a page through the sidebar navigation (the same session); until it is ready. A link to the page on
        screen would not load it again: another page is opened first, untimed."""
        await self._show_all_links()
        titles = await self.page.evaluate(NAV_TITLES)
        if title not in titles:
            raise NotReady(f"no page titled {title!r} in the navigation ({', '.join(titles)})")
        if await self.current_title() == title and len(titles) > 1:
            await self.visit(next(t for t in titles if t != title))
            await self._show_all_links()
        link = self.page.locator(f"{NAV} a").nth(titles.index(title))
        return await self.timed(link.click)

    async def chat_turn(self, text: str) -> Timed:
        """Send a chat message; until the answer is on screen and the page has finished its runs."""
        box = self.page.locator("[data-testid='stChatInput'] textarea")
        messages = self.page.locator("[data-testid='stChatMessage']")
        before = await messages.count()
        await box.fill(text)
        took = await self.timed(lambda: box.press("Enter"))
        if await messages.count() < before + 2:
            raise NotReady("the chat shows no answer")
        return took

    async def choose(self, label: str, option: str) -> Timed:
        """Pick `option` in the select box called `label`; until the page has run with it."""
        box = self.page.get_by_role("combobox", name=label)
        try:
            await box.first.wait_for(timeout=FIND_MS)
        except Exception:
            raise NotReady(f"no select box {label!r} on the page{await self.failure()}") from None
        await box.first.click()
        return await self.timed(lambda: self.page.get_by_role("option", name=option, exact=True).click())

    async def diagnosis(self) -> str:
        """Why the page is not ready, for the report; a screenshot of it under artifacts/bench/."""
        state = await self.page.evaluate(STATE)
        SHOTS.mkdir(parents=True, exist_ok=True)
        shot = SHOTS / f"not-ready-{time.strftime('%H%M%S')}-{id(self) % 10_000}.png"
        with suppress(Exception):
            await self.page.screenshot(path=str(shot))
        return (f"not ready after {self.timeout_ms / 1000:.0f} s on {await self.current_title() or 'the sign-in'} "
                f"({state}){await self.failure()}; screenshot {shot}")

    async def failure(self) -> str:
        """`: <the first line of the exception the page shows>`, or nothing."""
        shown = self.page.locator(EXCEPTION)
        if not await shown.count():
            return ""
        return ": " + (await shown.first.inner_text()).strip().splitlines()[0][:200]

    async def count(self, selector: str) -> int:
        return await self.page.locator(selector).count()
