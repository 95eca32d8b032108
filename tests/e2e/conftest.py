"""Browser fixtures: Debian Chromium through Python Playwright (never `playwright install`), screenshots, helpers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_or_skip

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 30_000


# Module scope, not session: while Playwright's sync API is open it keeps an asyncio loop running on the main
# thread, and every later test that starts its own loop (asyncio.run, anyio) would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator:
    require_or_skip(CHROMIUM.exists(), "Chromium is not installed (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is in requirements.txt
        require_or_skip(False, "the playwright package is not installed")
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser) -> Iterator:
    """`new_page()`: a page in a fresh browser context (its own cookies: one person per context); `locale` is the
    browser's language (its Accept-Language)."""
    contexts = []

    def make(locale: str = "en-US"):
        context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale=locale)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    """Save the whole page under artifacts/screenshots/ once the app has stopped running.

    Streamlit scrolls inside its main section, so the viewport is made as tall as that content first.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    wait_idle(page)
    size = page.viewport_size
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll('*')]"
                           ".filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowY))"
                           ".map(e => e.scrollHeight), document.body.scrollHeight)")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height) + 120, 6000))})
    page.wait_for_timeout(500)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path


def wait_idle(page, timeout_ms: int = TIMEOUT_MS) -> None:
    """Wait until the current script run has finished (Streamlit marks it on the app root)."""
    page.wait_for_timeout(250)  # a run triggered just now may not have started yet
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=timeout_ms)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=timeout_ms)
    page.wait_for_timeout(400)


def demo_sign_in(page, url: str, email: str) -> None:
    page.goto(url)
    button = page.get_by_role("button", name="Sign in")
    row = page.locator("[data-testid='stVerticalBlock']").filter(has_text=email).filter(has=button).last
    row.get_by_role("button", name="Sign in").click()
    sidebar(page).get_by_text(email).wait_for()
    wait_idle(page)


def sidebar(page):
    return page.locator("[data-testid='stSidebar']")


def open_nav(page, title: str) -> None:
    """Go to a page through the sidebar navigation (same session, so a demo sign-in is kept)."""
    sidebar(page).locator("[data-testid='stSidebarNav']").get_by_role("link", name=re.compile(rf"^{title}$")).click()
    page.locator("h1").filter(has_text=re.compile(title if title != "Audit" else "Audit log")).first.wait_for()
    wait_idle(page)


def nav_titles(page) -> list[str]:
    links = sidebar(page).locator("[data-testid='stSidebarNav'] a")
    return [t.strip().splitlines()[-1] for t in links.all_inner_texts()]  # the icon's ligature text comes first
