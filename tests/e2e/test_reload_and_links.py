"""Reload and links in Chromium: the demo sign-in survives a reload through its signed cookie, a link to /approvals
opens Approvals once signed in (demo and OIDC), and a sign-out or a forged cookie leaves nobody signed in."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot, sidebar, wait_idle
from tests.support.app_server import free_port
from tests.support.oidc_provider import OIDCProvider, OIDCUser

pytestmark = [pytest.mark.browser, pytest.mark.slow]
COOKIE = "console_demo_sign_in"


def approvals_heading(page):
    return page.get_by_role("heading", name="Approvals", exact=True)


def pick_demo_user(page, email: str) -> None:
    page.get_by_text("Pick a demo user").wait_for()
    button = page.get_by_role("button", name="Sign in")
    row = page.locator("[data-testid='stVerticalBlock']").filter(has_text=email).filter(has=button).last
    row.get_by_role("button", name="Sign in").click()
    sidebar(page).get_by_text(email).wait_for()


def test_a_link_survives_the_demo_sign_in_and_a_reload_keeps_the_person_and_the_page(console_app, new_page) -> None:
    app = console_app()
    page = new_page()
    page.goto(f"{app.url}/approvals")  # the first request of a fresh server, straight to a page
    pick_demo_user(page, "approver@demo.local")
    approvals_heading(page).wait_for()
    assert page.url.endswith("/approvals")
    page.wait_for_function(f"() => document.cookie.includes('{COOKIE}=')")  # written by the page's script
    cookie = next(c for c in page.context.cookies() if c["name"] == COOKIE)
    assert (cookie["path"], cookie["sameSite"], "approver" in cookie["value"]) == ("/", "Lax", False)

    page.reload()
    sidebar(page).get_by_text("approver@demo.local").wait_for()
    approvals_heading(page).wait_for()
    wait_idle(page)
    assert page.url.endswith("/approvals") and page.get_by_text("Pick a demo user").count() == 0
    screenshot(page, "reload-keeps-approvals")

    sidebar(page).get_by_role("button", name="Sign out").click()
    page.get_by_text("Pick a demo user").wait_for()
    wait_idle(page)
    assert COOKIE not in {c["name"] for c in page.context.cookies()}
    page.reload()
    page.get_by_text("Pick a demo user").wait_for()
    assert sidebar(page).get_by_text("approver@demo.local").count() == 0

    forged = new_page()  # a cookie the console did not sign: the sign-in page, not the person it names
    forged.context.add_cookies([{"name": COOKIE, "value": cookie["value"][:-4] + "AAAA", "url": app.url}])
    forged.goto(f"{app.url}/approvals")
    forged.get_by_text("Pick a demo user").wait_for()
    assert sidebar(forged).get_by_text("approver@demo.local").count() == 0


def test_a_link_survives_the_identity_providers_round_trip(console_app, new_page) -> None:
    provider = OIDCProvider(user=OIDCUser("approver@demo.local", "Alex Approver")).start()
    try:
        port = free_port()
        app = console_app(port=port, secrets_toml=provider.auth_secrets(f"http://127.0.0.1:{port}/oauth2callback"))
        page = new_page()
        page.goto(f"{app.url}/approvals")
        page.get_by_role("button", name="Sign in").click()  # to the provider and back to the root of the console
        sidebar(page).get_by_text("approver@demo.local").wait_for()
        approvals_heading(page).wait_for()
        wait_idle(page)
        assert page.url.endswith("/approvals")
        screenshot(page, "oidc-link-lands-on-approvals")
        page.goto(app.url)  # the link was used once: the root is Home again
        page.get_by_role("heading", name="Welcome, Alex Approver").wait_for()
    finally:
        provider.close()
