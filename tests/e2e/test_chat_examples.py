"""The README's chat examples in Chromium, as the demo seller on US and DE: each ends in a pending approval card."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT_MS, demo_sign_in, open_nav, screenshot, sidebar, wait_idle
from tests.support.app_server import start_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PROMPT = "Ask about ads, orders or stock…"
CHANGE = re.compile(r"lower the bid of keyword \d+ to [\d.]+")


@pytest.fixture(scope="module")
def seller(browser, seeded_template, tmp_path_factory):
    """One console (the offline assistant) and the demo seller signed in on its Chat page, for the module."""
    server = start_app(tmp_path_factory.mktemp("chat-examples"), template=seeded_template)
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        demo_sign_in(page, server.url, "seller@demo.local")
        open_nav(page, "Chat")
        yield page
    finally:
        context.close()
        server.stop()


def new_conversation_on(page, option: str) -> None:
    sidebar(page).get_by_role("combobox", name="Active site").click()
    page.get_by_role("option", name=option).click()
    wait_idle(page)
    page.get_by_role("button", name="New").click()
    wait_idle(page)


def ask(page, text: str, *, turns: int) -> None:
    """Send a message and wait for the page to show the conversation with its answer (the rerun after the turn)."""
    page.get_by_placeholder(PROMPT).fill(text)
    page.keyboard.press("Enter")
    plural = "turn" if turns == 1 else "turns"
    page.get_by_text(f"This conversation: {turns} {plural} with the offline assistant").wait_for(timeout=60_000)
    wait_idle(page)


# The conversation picker names a conversation by its first message and minute: the second site's question names
# its site (which the chat honours like any other message), so the two conversations read differently.
@pytest.mark.parametrize(("site", "option", "symbol", "question"), [
    ("US", "US (USD)", "$", "which keywords have ACOS over 30%?"),
    ("DE", "DE (EUR)", "€", "which keywords on DE have ACOS over 30%?"),
])
def test_the_readme_examples_end_in_a_pending_card(seller, site, option, symbol, question) -> None:
    new_conversation_on(seller, option)
    ask(seller, question, turns=1)
    suggestion = seller.get_by_text(re.compile("To change one, say for example")).last
    change = CHANGE.search(suggestion.inner_text()).group(0)

    ask(seller, change, turns=2)
    expect(seller.get_by_text("Waiting for approval", exact=True)).to_have_count(1)
    expect(seller.get_by_text(re.compile(rf"update_bid · {site}")).first).to_be_visible()

    # A keyword named by its words: several match, so they are listed with their bids in the site's currency.
    ask(seller, "lower the bid of keyword yoga mat to 1.20", turns=3)
    seller.get_by_text(re.compile("say which one by id", re.I)).last.wait_for()
    cells = seller.locator("[data-testid='stChatMessage']").last.locator("td").all_inner_texts()
    assert any(c.startswith(symbol) for c in cells), cells
    screenshot(seller, f"chat-readme-{site.lower()}")


def test_a_site_outside_the_scope_is_refused_in_the_chat(seller) -> None:
    new_conversation_on(seller, "US (USD)")
    ask(seller, "orders to ship on the JP site", turns=1)
    expect(seller.get_by_text("JP is outside your scope; your sites: DE, US.", exact=False)).to_have_count(1)
    assert seller.get_by_text("paid orders on", exact=False).count() == 0  # nothing answered for US instead
    screenshot(seller, "chat-site-refused")
