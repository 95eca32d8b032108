"""KPI tiles in Chromium: on the JP site (yen amounts in the millions) every tile shows its whole text, at 1440 and 390 px.

A tile's value either fits its box or is written short (`¥2.2M`) with the whole amount in its tooltip; the browser is
the judge of "fits": the value element scrolls no wider than it shows, and no ellipsis is drawn. Screenshots of the
three dashboards at both widths are kept with the other e2e screenshots.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import demo_sign_in, open_nav, screenshot, sidebar, wait_idle
from tests.support.app_server import AppServer, start_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DASHBOARDS = {"Ads": 9, "Sales": 5, "Inventory": 7}  # tiles on each page
PHONE_PX = 640  # under it Streamlit stacks columns and hides the sidebar
FIRST_LOAD_MS = 90_000  # a dashboard's first reads start the MCP servers' sessions
# Every element of a metric's value, with how wide its text is against how wide it is shown.
TILE_TEXT = """() => [...document.querySelectorAll('[data-testid=stMetric]')].map(m => {
    const label = m.querySelector('[data-testid=stMetricLabel]').innerText.trim();
    const value = m.querySelector('[data-testid=stMetricValue]');
    const parts = [value, ...value.querySelectorAll('*')];
    const cut = parts.filter(e => e.scrollWidth > e.clientWidth + 1 || getComputedStyle(e).textOverflow === 'ellipsis'
                                  && e.scrollWidth > e.clientWidth);
    return {label, text: value.innerText.trim(), cut: cut.length, box: value.getBoundingClientRect().width};
})"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, seeded_template) -> Iterator[AppServer]:
    server = start_app(tmp_path_factory.mktemp("kpi-tiles"), template=seeded_template)
    yield server
    server.stop()


def open_dashboard(page, title: str) -> None:
    """Through the sidebar, in the same session (which keeps the active site); on a phone it opens and closes."""
    phone = page.viewport_size["width"] < PHONE_PX
    if phone:
        page.get_by_test_id("stExpandSidebarButton").click()
    open_nav(page, title)
    if phone:
        page.get_by_test_id("stSidebarCollapseButton").locator("button").click()
        page.get_by_test_id("stExpandSidebarButton").wait_for()


def tiles_on(page) -> list[dict]:
    page.locator("[data-testid=stMetricValue]").first.wait_for(timeout=FIRST_LOAD_MS)
    wait_idle(page)
    return page.evaluate(TILE_TEXT)


def test_every_kpi_tile_shows_its_whole_value_on_the_jp_site(app, new_page) -> None:
    page = new_page()
    demo_sign_in(page, app.url, "manager@demo.local")
    active = sidebar(page).locator("[data-testid=stSelectbox]").filter(has_text="Active site")
    active.locator("input").click()
    page.get_by_role("option", name="JP (JPY)").click()  # the one active site: every dashboard opens on it
    wait_idle(page)
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 1000})
        if width < PHONE_PX:
            page.get_by_test_id("stExpandSidebarButton").wait_for()  # the sidebar has folded away
        for title, count in DASHBOARDS.items():
            open_dashboard(page, title)
            found = tiles_on(page)
            assert len(found) == count, (title, width, found)
            site = page.locator("[data-testid='stMainBlockContainer']").get_by_role("combobox", name="Site", exact=True)
            assert site.input_value() == "JP", title
            for tile in found:
                assert tile["cut"] == 0 and "…" not in tile["text"], (title, width, tile)
            if title != "Inventory":  # money tiles in yen: short when the whole amount would not fit
                money = next(t for t in found if t["label"] in ("Spend", "Revenue"))
                assert money["text"].startswith("¥"), money
            screenshot(page, f"{title.lower()}-jp-{width}")
