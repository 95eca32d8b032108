"""The console in Chinese, in Chromium: a browser that asks for zh-CN gets the sign-in page in Chinese; a person who
picks 中文 in the sidebar keeps it (their profile) across a reload; and on every page no label is left in English.

"Label" means what the console itself writes around the data: page titles and headings, widget labels, buttons,
tabs, tile labels, the navigation, messages. The data stays as the stores hold it (campaign names, product titles,
keywords, SKUs), and so do the names every seller uses in English (ACOS, SKU, ASIN…) and codes people type
(`VALIDATION_FAILED`, `python -m console …`). Screenshots of every page in Chinese are kept beside the English ones
(`zh-<page>.png`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import screenshot, sidebar, wait_idle
from tests.support.app_server import AppServer, start_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]
FIRST_LOAD_MS = 90_000  # a dashboard's first reads may wait for a server's session to open
PAGES = ("home", "chat", "my_requests", "approvals", "ads", "inventory", "sales", "reports", "audit", "admin",
         "gateway")
# Words that are not English to translate: the trade's own names, units, codes and things people type.
KEPT = {"ACOS", "ROAS", "TACoS", "CTR", "CVR", "CPC", "SKU", "SKUs", "ASIN", "ASINs", "MCP", "OIDC", "API", "CSV",
        "URL", "JSON", "HTTP", "ID", "US", "DE", "JP", "UK", "USD", "EUR", "JPY", "GBP", "Claude", "Google",
        "Amazon", "Meta", "English", "SP", "SB", "SD", "PDF", "AOV", "CLI", "OAuth", "stdio", "Markdown", "TLS",
        "Language", "schema", "PII", "Dify", "Desktop", "Cron", "cron", "UTC", "MAC"}  # "Language · 语言": the language picker reads in both
# What the console writes itself, by the elements Streamlit draws it in (data is in tables, cards' bodies, charts).
LABELS = """() => {
  const text = e => {  // without icons (their names are ligature text) and code spans (what people type)
    const skip = new Set([...e.querySelectorAll('*')].filter(
      x => x.tagName === 'CODE' || getComputedStyle(x).fontFamily.includes('Material')));
    let out = '';
    const walk = n => { if (n.nodeType === 3) out += n.textContent; else if (!skip.has(n)) n.childNodes.forEach(walk); };
    walk(e);
    return out.trim();
  };
  const pick = sel => [...document.querySelectorAll(sel)].map(text).filter(Boolean);
  return [
    ...pick('h1, h2, h3'),
    ...pick('[data-testid=stWidgetLabel]'),
    ...pick('button[kind] p, [data-testid=stBaseButton-primary] p, [data-testid=stBaseButton-secondary] p'),
    ...pick('[data-baseweb=tab] p'),
    ...pick('[data-testid=stMetricLabel]'),
    ...pick('[data-testid=stSidebarNav] a span:last-child'),
    ...pick('[data-testid=stNavSectionHeader]'),
    ...pick('[data-testid=stAlertContentInfo], [data-testid=stAlertContentWarning], [data-testid=stCaptionContainer]'),
  ];
}"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, seeded_template) -> Iterator[AppServer]:
    server = start_app(tmp_path_factory.mktemp("chinese"), template=seeded_template)
    yield server
    server.stop()


def english_words(texts: list[str]) -> list[str]:
    """The texts with a word of English prose in them (code spans, emails, paths and the kept names aside)."""
    found = []
    for text in texts:
        if re.fullmatch(r"[a-z_0-9]+", text):
            continue  # an icon's name (a ligature drawn as the icon)
        text = re.sub(r"\b[A-Z][a-z]+ [A-Z][a-z]+\b", " ", text)  # a person's name (Ada Admin)
        plain = re.sub(r"`[^`]*`|<[a-z_]+>|\[[a-z_.]+\]|\S+@\S+|\S*/\S+|\S+\.(toml|py|db|csv)\b|\b\w+__\w+\b|[A-Z_]{4,}", " ",
                       text)
        words = [w for w in re.findall(r"[A-Za-z][A-Za-z'-]{2,}", plain) if w not in KEPT]
        if words:
            found.append(text)
    return found


def sign_in_as(page, email: str, button: str) -> None:
    row = page.locator("[data-testid='stVerticalBlock']").filter(has_text=email).filter(
        has=page.get_by_role("button", name=button)).last
    row.get_by_role("button", name=button).click()
    sidebar(page).get_by_text(email).wait_for()
    wait_idle(page)


def open_path(page, path: str) -> None:
    """Through the sidebar navigation (same session), found by URL path rather than by its (translated) title."""
    links = sidebar(page).locator("[data-testid=stSidebarNav] a")
    (links.first if path == "home" else links.and_(page.locator(f"[href$='/{path}']"))).click()  # home is at /
    page.wait_for_url(re.compile(rf"/{path}$" if path != "home" else r"/(home)?$"))
    page.locator("h1").first.wait_for(timeout=FIRST_LOAD_MS)
    wait_idle(page, FIRST_LOAD_MS)


def test_a_chinese_browser_signs_in_in_chinese(app, new_page) -> None:
    page = new_page("zh-CN")
    page.goto(app.url)
    page.get_by_text("选择一个演示用户").wait_for()
    assert english_words(page.evaluate(LABELS)) == []
    screenshot(page, "zh-signin-demo")
    sign_in_as(page, "seller@demo.local", "登录")
    assert sidebar(page).get_by_text("当前站点").is_visible()


def test_every_page_in_chinese_has_no_english_label_and_the_choice_survives_a_reload(app, new_page) -> None:
    page = new_page()
    page.goto(app.url)
    sign_in_as(page, "admin@demo.local", "Sign in")
    language = sidebar(page).locator("[data-testid=stSelectbox]").filter(has_text="Language")
    language.locator("input").click()
    page.get_by_role("option", name="中文").click()
    sidebar(page).get_by_text("当前站点").wait_for()
    wait_idle(page)
    left: dict[str, list[str]] = {}
    for path in PAGES:
        open_path(page, path)
        if english := english_words(page.evaluate(LABELS)):
            left[path] = english
        screenshot(page, f"zh-{path}")
    assert left == {}, json.dumps(left, ensure_ascii=False, indent=1)
    page.reload()  # a new session: the demo cookie signs in again, the profile brings the language back
    sidebar(page).get_by_text("当前站点").wait_for(timeout=FIRST_LOAD_MS)
    page.locator("h1").first.wait_for()
    assert english_words(page.evaluate(LABELS)) == []
