"""The running console in Chromium: real OIDC sign-in, chat → approve → audit, scope, screenshots of every page."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from console.settings import DEV_AUDIT_SECRET
from mcp_bridge.agent.conversations import Conversations
from mcp_bridge.audit.log import AuditLog
from mcp_bridge.store import make_engine
from pages.components import QUEUE_COLUMN_PX
from tests.e2e.conftest import SCREENSHOTS, demo_sign_in, nav_titles, open_nav, screenshot, sidebar, wait_idle
from tests.support.app_server import free_port
from tests.support.oidc_provider import OIDCProvider, OIDCUser

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DASHBOARDS = ("Ads", "Inventory", "Sales", "Reports")


def oidc_sign_in(page, url: str, email: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    sidebar(page).get_by_text(email).wait_for()
    wait_idle(page)


def market_rows(url: str, sql: str, **params) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


@pytest.fixture
def oidc(console_app):
    """A local OpenID provider and a console whose secrets.toml points at it."""
    provider = OIDCProvider().start()
    port = free_port()
    app = console_app(port=port, secrets_toml=provider.auth_secrets(f"http://127.0.0.1:{port}/oauth2callback"),
                      env={"CONSOLE_ADMIN_EMAILS": '["boss@example.com"]'})
    yield provider, app
    provider.close()


def test_real_oidc_sign_in_first_user_waits_admin_email_becomes_admin(oidc, new_page) -> None:
    provider, app = oidc
    provider.user = OIDCUser("newcomer@example.com", "Nina Newcomer")
    page = new_page()
    page.goto(app.url)
    page.get_by_role("button", name="Sign in").wait_for()
    assert page.get_by_text("Demo sign-in").count() == 0
    screenshot(page, "signin-oidc")
    oidc_sign_in(page, app.url, "newcomer@example.com")
    page.get_by_role("heading", name="No access yet").wait_for()
    assert nav_titles(page) == []
    screenshot(page, "no-access")
    assert {"/.well-known/openid-configuration", "/authorize", "/token", "/jwks"} <= set(provider.requests)

    provider.user = OIDCUser("boss@example.com", "Bea Boss")
    boss = new_page()
    oidc_sign_in(boss, app.url, "boss@example.com")
    sidebar(boss).get_by_role("link", name="Admin").wait_for()
    assert {"Home", "Chat", "Approvals", "Audit", "Admin"} <= set(nav_titles(boss))
    boss.reload()  # the identity cookie signs the same person in again on a new session
    sidebar(boss).get_by_text("boss@example.com").wait_for()
    sidebar(boss).get_by_role("button", name="Sign out").click()
    boss.get_by_role("button", name="Sign in").wait_for()
    boss.reload()  # the cookie is gone: still signed out
    boss.get_by_role("button", name="Sign in").wait_for()
    assert sidebar(boss).get_by_text("boss@example.com").count() == 0

    audit = AuditLog(make_engine(app.console_url), key=DEV_AUDIT_SECRET)
    logins = {(r.actor, r.outcome, r.detail["mode"]) for r in audit.query(event="login")}
    assert {("newcomer@example.com", "no_access", "oidc"), ("boss@example.com", "ok", "oidc")} <= logins
    assert [r.actor for r in audit.query(event="logout")] == ["boss@example.com"]
    assert audit.verify().ok


def test_an_unverified_email_cannot_sign_in_as_the_admin(oidc, new_page) -> None:
    """A provider account that claims admin@demo.local without verifying it gets a refusal, not the admin's roles."""
    provider, app = oidc
    provider.user = OIDCUser("admin@demo.local", "Mallory", email_verified=False)
    page = new_page()
    page.goto(app.url)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Sign-in refused").wait_for()
    assert page.get_by_text("has not confirmed that admin@demo.local is your address").count() == 1
    assert nav_titles(page) == [] and sidebar(page).get_by_text("admin@demo.local").count() == 0
    screenshot(page, "signin-refused-unverified")
    audit = AuditLog(make_engine(app.console_url), key=DEV_AUDIT_SECRET)
    (row,) = audit.query(actor="admin@demo.local", event="login")
    assert (row.outcome, row.detail["reason"], row.detail["email_verified"]) == ("refused", "email_not_verified", False)


def test_chat_proposals_approved_and_rejected_show_in_chat_and_audit(console_app, messages_stub, new_page) -> None:
    app = console_app(env={"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": messages_stub.base_url})
    keywords = market_rows(app.market_url, "SELECT id, bid FROM keywords WHERE site_id = 'us' AND state = 'enabled' "
                                           "AND bid >= 1 ORDER BY id LIMIT 3")
    new_bids = {kid: round(bid * 0.9, 2) for kid, bid in keywords}
    messages_stub.tools(*[("ads__update_bid", {"site": "us", "keyword_id": kid, "bid": bid})
                          for kid, bid in new_bids.items()], text="Lowering the three bids by 10%.")
    messages_stub.text("Three bid changes are waiting for approval.")

    seller = new_page()
    demo_sign_in(seller, app.url, "seller@demo.local")
    seller.get_by_role("combobox", name="Active site").click()
    seller.get_by_role("option", name="US (USD)").click()
    wait_idle(seller)
    open_nav(seller, "Chat")
    assert seller.get_by_text("Offline demo assistant").count() == 0
    seller.get_by_placeholder("Ask about ads, orders or stock…").fill("Lower the bids of my three yoga keywords by 10%")
    seller.keyboard.press("Enter")
    # While it streams, and for a moment after while the page reruns, a second copy is on screen (the streamed one,
    # ending in the cursor ▌, or the stale one): wait for the answer, then for it to be there once.
    answer = seller.get_by_text("Three bid changes are waiting for approval.", exact=True)
    answer.first.wait_for(timeout=60_000)
    expect(answer).to_have_count(1, timeout=30_000)
    expect(seller.get_by_text("Waiting for approval", exact=True)).to_have_count(3)
    screenshot(seller, "chat-pending")
    ops = market_rows(app.console_url, "SELECT id, arguments FROM operations ORDER BY id")
    assert len(ops) == 3
    op_ids = [op_id for op_id, _ in ops]

    approver = new_page()
    demo_sign_in(approver, app.url, "approver@demo.local")
    sidebar(approver).get_by_text("Waiting for approval: 3").wait_for()
    open_nav(approver, "Approvals")
    approver.get_by_text("1–3 of 3 waiting").wait_for()
    screenshot(approver, "approvals-batch")

    # Newest first: the third proposal is the first row. Tick the other two and approve them together…
    tick_row(approver, 1)
    tick_row(approver, 2)
    approver.get_by_role("button", name="Approve selected (2)").click()
    approver.get_by_text(f"Approved 2 of 2: #{op_ids[1]}, #{op_ids[0]}.").wait_for()
    wait_idle(approver)
    # …and reject the third on its card, with a reason the seller reads.
    tick_row(approver, 0)
    rejected = approver.locator("[data-testid='stVerticalBlock']").filter(
        has_text=re.compile(rf"#{op_ids[2]} · update_bid · US")).filter(
        has=approver.get_by_role("button", name="Approve", exact=True)).last
    rejected.locator("summary").filter(has_text="Reject").click()
    rejected.get_by_label("Reason (the proposer sees it)").fill("keep this one, it converts well")
    rejected.get_by_role("button", name="Reject", exact=True).click()
    # The flash lasts one rerun (the sidebar's live count may rerun the page first): wait for the queue to empty.
    approver.get_by_text("Nothing is waiting for approval on these sites.").wait_for(timeout=60_000)
    assert market_rows(app.console_url, f"SELECT status, decision_reason FROM operations WHERE id = {op_ids[2]}") == [
        ("rejected", "keep this one, it converts well")]

    # The seller's open chat re-reads its cards from the gate every few seconds.
    expect(seller.get_by_text("Executed", exact=True)).to_have_count(2, timeout=30_000)
    expect(seller.get_by_text("Rejected", exact=True)).to_have_count(1, timeout=30_000)
    expect(seller.get_by_text("Waiting for approval", exact=True)).to_have_count(0)
    expect(seller.get_by_text(re.compile(r"Approved by approver@demo.local .* · executed"))).to_have_count(2)
    expect(seller.get_by_text(re.compile("Rejected by approver@demo.local .*keep this one, it converts well"))
           ).to_have_count(1)
    screenshot(seller, "chat-decided")
    open_nav(seller, "My requests")  # the same outcomes, in one list of the seller's own requests
    seller.locator("[data-testid='stDataFrame']").first.wait_for()
    wait_idle(seller)
    outcomes = seller.locator("[data-testid='stDataFrame'] [role=gridcell]").all_inner_texts()
    assert "rejected: “keep this one, it converts well”" in outcomes, outcomes
    screenshot(seller, "my-requests")

    bids = dict(market_rows(app.market_url, "SELECT id, bid FROM keywords WHERE id IN (:a, :b, :c)",
                            a=keywords[0][0], b=keywords[1][0], c=keywords[2][0]))
    assert bids == {keywords[0][0]: new_bids[keywords[0][0]], keywords[1][0]: new_bids[keywords[1][0]],
                    keywords[2][0]: keywords[2][1]}

    open_nav(approver, "Audit")
    approver.get_by_role("button", name="Verify chain").click()
    approver.get_by_text(re.compile(r"The chain is intact: \d+ rows checked")).wait_for()
    screenshot(approver, "audit-after-approvals")
    audit = AuditLog(make_engine(app.console_url), key=DEV_AUDIT_SECRET)
    events = [(r.event, r.actor, r.outcome) for r in reversed(audit.query(limit=1000))]
    steps = [e for e in events if e[0] in ("proposed", "approved", "executed", "rejected")]
    assert sorted(steps) == sorted([("proposed", "seller@demo.local", "pending")] * 3
                                   + [("approved", "approver@demo.local", "executing")] * 2
                                   + [("executed", "approver@demo.local", "succeeded")] * 2
                                   + [("rejected", "approver@demo.local", "rejected")])
    assert {("login", "seller@demo.local"), ("login", "approver@demo.local")} <= {e[:2] for e in events}
    assert audit.verify().ok


def test_stop_ends_a_slow_answer_and_keeps_what_was_said(console_app, messages_stub, new_page) -> None:
    from tests.support.messages_stub import Reply

    app = console_app(env={"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": messages_stub.base_url})
    long_answer = "Here is a long look at every campaign on the site, one by one. " * 12
    messages_stub.reply(Reply(text=long_answer, chunk_delay_s=0.25))  # ~16 s to stream in full
    messages_stub.text("Continuing from where I stopped.")

    seller = new_page()
    demo_sign_in(seller, app.url, "seller@demo.local")
    open_nav(seller, "Chat")
    seller.get_by_placeholder("Ask about ads, orders or stock…").fill("Walk me through every campaign")
    seller.keyboard.press("Enter")
    seller.get_by_text("Here is a long look", exact=False).first.wait_for(timeout=30_000)
    seller.get_by_role("button", name="Stop").click()
    seller.get_by_text("Stopped. What was said so far is kept").wait_for(timeout=30_000)
    wait_idle(seller)
    screenshot(seller, "chat-stopped")
    expect(seller.get_by_text("[stopped by the user]", exact=False)).to_have_count(1)

    conversations = Conversations(make_engine(app.console_url))
    (conversation,) = conversations.list_for("seller@demo.local")
    kept = conversations.messages(conversation.id)[-1]["content"][0]["text"]
    assert kept.startswith("Here is a long look") and kept.endswith("[stopped by the user]")
    assert len(kept) < len(long_answer)
    assert [t.error_code for t in conversations.turns(conversation.id)] == ["STOPPED"]

    # The same conversation goes on: the next turn sends the kept words back to Claude.
    seller.get_by_placeholder("Ask about ads, orders or stock…").fill("continue")
    seller.keyboard.press("Enter")
    continued = seller.get_by_text("Continuing from where I stopped.", exact=True)
    continued.first.wait_for(timeout=30_000)
    expect(continued).to_have_count(1, timeout=30_000)  # a stale or streaming copy goes away
    sent = messages_stub.requests[-1].messages
    assert sent[1] == {"role": "assistant", "content": [{"type": "text", "text": kept}]}


def test_seller_cannot_open_approvals_or_admin_and_sees_no_other_site(oidc, new_page) -> None:
    provider, app = oidc
    conversations = Conversations(make_engine(app.console_url))
    conversations.create(user="seller-jp@demo.local", site="jp", title="JP secret restock plan", model="offline")
    provider.user = OIDCUser("seller@demo.local", "Sam Seller")
    page = new_page()
    oidc_sign_in(page, app.url, "seller@demo.local")
    sidebar(page).get_by_role("link", name="Chat").wait_for()
    assert nav_titles(page) == ["Home", "Chat", "My requests", "Ads", "Inventory", "Sales", "Reports"]
    for path, title in (("approvals", "Approvals"), ("admin", "Admin"), ("audit", "Audit log")):
        page.goto(f"{app.url}/{path}")
        sidebar(page).get_by_text("seller@demo.local").wait_for()
        wait_idle(page)
        assert page.get_by_role("heading", name=title, exact=True).count() == 0, path
        assert nav_titles(page) == ["Home", "Chat", "My requests", "Ads", "Inventory", "Sales", "Reports"]
        dialog = page.get_by_role("dialog")
        if dialog.count():  # Streamlit says the page does not exist (for this user it does not)
            screenshot(page, f"seller-{path}-refused")
            page.keyboard.press("Escape")
            dialog.wait_for(state="detached")
    page.get_by_role("combobox", name="Active site").click()
    options = page.get_by_role("option").all_inner_texts()
    assert [o.strip() for o in options] == ["DE (EUR)", "US (USD)"]
    page.keyboard.press("Escape")
    open_nav(page, "Chat")
    page.get_by_role("combobox", name="Conversation").click()
    assert not any("JP secret" in o for o in page.get_by_role("option").all_inner_texts())
    page.keyboard.press("Escape")
    body = page.locator("[data-testid='stMainBlockContainer']").inner_text()
    assert "JP" not in body.replace("JPY", "")
    screenshot(page, "seller-scope")


def test_screenshots_of_every_page(console_app, new_page) -> None:
    """Every page as admin (who sees them all) on the demo data, for people to look at."""
    app = console_app()
    page = new_page()
    page.goto(app.url)
    page.get_by_text("Pick a demo user").wait_for()
    screenshot(page, "signin-demo")
    demo_sign_in(page, app.url, "admin@demo.local")
    screenshot(page, "home")
    for title in ("Chat", "Approvals", "Audit", "Admin", *DASHBOARDS):
        if title not in nav_titles(page):
            continue
        open_nav(page, title)
        screenshot(page, title.lower())
    open_nav(page, "Admin")
    for tab in ("MCP servers", "Tool catalog", "Safety limits", "Keys"):
        page.get_by_role("tab", name=tab).click()
        wait_idle(page)
        screenshot(page, "admin-" + tab.lower().replace(" ", "-"))
    # The dashboards' reads, two rows each: the request (before the answer) and its result (within 50 ms).
    audit = AuditLog(make_engine(app.console_url), key=DEV_AUDIT_SECRET)
    requests = audit.query(event="tool_call", outcome="requested", limit=1000)
    assert requests and {r.actor for r in requests} == {"admin@demo.local"}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(audit.query(event="tool_result", limit=1000)) < len(requests):
        time.sleep(0.1)
    assert {r.detail["call"] for r in audit.query(event="tool_result", limit=1000)} >= {r.id for r in requests}
    open_nav(page, "Audit")
    page.get_by_role("button", name="Verify chain").click()
    page.get_by_text("rows checked").first.wait_for()
    screenshot(page, "audit-verified")
    page.get_by_label("Tool").fill("analytics__get_ads_dashboard")
    page.keyboard.press("Enter")
    wait_idle(page)
    screenshot(page, "audit-reads")


def waiting_operations(console_url: str, count: int) -> list[int]:
    """`count` pending operations as the gate files them (rows + their `proposed` audit rows), with evidence: a
    realistic mix of sites, tools, proposers, sources and batches, for the queue to be looked at."""
    import datetime as dt
    import uuid

    from mcp_bridge.store import OperationRow, Store, utcnow

    now, engine = utcnow(), make_engine(console_url)
    audit = AuditLog(engine, key=DEV_AUDIT_SECRET)
    daily, harvest = f"job-{uuid.uuid4().hex[:16]}", f"job-{uuid.uuid4().hex[:16]}"
    window = {"start": "2026-10-22", "end": "2026-11-20", "days": 30}
    words = ["yoga mat", "yoga mat thick", "non slip yoga mat", "cork yoga block", "yoga strap cotton", "travel yoga mat",
             "extra long yoga mat for tall people", "pilates mat", "yoga mat bag", "kids yoga mat"]

    def keyword_evidence(i: int, currency: str, rule: str | None, request: str | None) -> dict:
        spend, orders = 18.4 + 3.7 * i, i % 4
        sales = orders * 24.99
        return {"kind": "keyword", "label": f"'{words[i % 10]}' (exact)", "window": window, "currency": currency,
                "metrics": {"impressions": 900 + 173 * i, "clicks": 40 + 7 * i, "spend": round(spend, 2), "orders": orders,
                            "sales": round(sales, 2), "acos": round(spend / sales, 4) if sales else None,
                            "cpc": round(spend / (40 + 7 * i), 2), "ctr": 0.031, "cvr": round(orders / (40 + 7 * i), 4)},
                "rule": rule, "rule_text": {"wasted_spend": "spend over $20 and no orders in 30 days",
                                            "acos_over_target": "ACOS over the 30% target"}.get(rule or ""),
                "request": request}

    def row(i: int) -> dict:
        site, currency = [("us", "USD"), ("us", "USD"), ("de", "EUR"), ("jp", "JPY")][i % 4]
        scale = 100 if currency == "JPY" else 1
        kid, text = 1000 + i, words[i % 10]
        kind = i % 6
        if kind == 0:  # a seller's chat request
            bid = round((1.4 + i / 50) * scale, 2)
            return dict(tool="update_bid", site=site, proposer="seller-jp@demo.local" if site == "jp" else "seller@demo.local",
                        source_kind="chat", batch_id=f"chat-{uuid.uuid4().hex[:16]}",
                        arguments={"site": site, "keyword_id": kid, "bid": round(bid * 0.8, 2)},
                        preview={"target": f"keyword #{kid} '{text}' (exact)",
                                 "changes": [{"field": "bid", "before": bid, "after": round(bid * 0.8, 2)}],
                                 "impact": {"daily_spend_delta": round(-0.21 * bid, 2)}},
                        evidence=keyword_evidence(i, currency, None, f"lower the bid of {text} by 20%"))
        if kind in (1, 2):  # the daily run's wasted-spend clean-up
            return dict(tool="pause_keyword", site=site, proposer="daily-ops@system", source_kind="job", batch_id=daily,
                        arguments={"site": site, "keyword_id": kid},
                        preview={"target": f"keyword #{kid} '{text}' (broad)",
                                 "changes": [{"field": "state", "before": "enabled", "after": "paused"}],
                                 "impact": {"daily_spend_delta": round(-(0.6 + i / 20) * scale, 2)}},
                        evidence=keyword_evidence(i, currency, "wasted_spend", None))
        if kind == 3:  # budget exhausted early
            budget = 50.0 * scale
            return dict(tool="update_campaign", site=site, proposer="daily-ops@system", source_kind="job", batch_id=daily,
                        arguments={"site": site, "campaign_id": 20 + i, "daily_budget": budget * 1.25},
                        preview={"target": f"campaign #{20 + i} 'Yoga mats SP - exact'",
                                 "changes": [{"field": "daily_budget", "before": budget, "after": budget * 1.25}],
                                 "impact": {"daily_spend_delta": budget * 0.25}},
                        evidence={"kind": "campaign", "label": "Yoga mats SP - exact", "window": {"days": 7},
                                  "currency": currency, "rule": "budget_exhausted",
                                  "rule_text": "budget ran out before 16:00 on 5 of 7 days",
                                  "metrics": {"daily_budget": budget, "utilisation": 1.0, "exhausted_hour": 13 + i % 3,
                                              "spend": budget * 7, "sales": budget * 21, "acos": 0.333}})
        if kind == 4:  # harvested search terms
            return dict(tool="create_keyword", site=site, proposer="daily-ops@system", source_kind="job", batch_id=harvest,
                        arguments={"site": site, "ad_group_id": 300 + i % 3, "text": f"{text} {i}", "match_type": "exact",
                                   "bid": round(0.98 * scale, 2)},
                        preview={"target": f"new keyword '{text} {i}' (exact) in ad group #{300 + i % 3}",
                                 "changes": [{"field": "bid", "before": None, "after": round(0.98 * scale, 2)}]},
                        evidence={"kind": "search_term", "label": f"'{text} {i}'", "window": window, "currency": currency,
                                  "rule": "harvest", "rule_text": "CVR over 10% with 3+ orders, not yet a keyword",
                                  "metrics": {"impressions": 2400, "clicks": 31, "spend": 25.4 * scale / scale,
                                              "orders": 4, "sales": 99.96, "acos": 0.254, "cvr": 0.129}})
        return dict(tool="update_inventory", site=site, proposer="daily-ops@system", source_kind="job", batch_id=daily,
                    arguments={"site": site, "variant_id": 40 + i, "add_inbound": 120, "reason": "reorder: 9 days of supply"},
                    preview={"target": f"inventory of variant #{40 + i} YM-BLUE-{i}MM",
                             "changes": [{"field": "inbound", "before": 0, "after": 120}]},
                    evidence={"kind": "sku", "label": f"YM-BLUE-{i}MM", "window": {"days": 14}, "currency": currency,
                              "rule": "stock_out_risk", "rule_text": "under 14 days of supply with a 21-day lead time",
                              "metrics": {"on_hand": 40, "reserved": 3, "inbound": 0, "velocity_per_day": 4.4,
                                          "days_of_supply": 9.1, "lead_time_days": 21}})

    ids = []
    with Store(engine).write() as session:
        audit.lock(session)
        for i in range(count):
            values = row(i)
            op = OperationRow(status="proposed", server="commerce" if values["tool"] == "update_inventory" else "ads",
                              reason=None, source_ref=None, created_at=now - dt.timedelta(minutes=3 * i + 1),
                              expires_at=now + dt.timedelta(hours=24), edit_history=[], version=1, **values)
            session.add(op)
            session.flush()
            audit.append("proposed", actor=op.proposer, channel="job" if op.source_kind == "job" else "chat", site=op.site,
                         tool=f"{op.server}__{op.tool}", arguments=op.arguments, outcome="pending",
                         detail={"operation_id": op.id, "batch_id": op.batch_id}, session=session)
            ids.append(op.id)
    audit.close()
    engine.dispose()
    return ids


def test_approvals_queue_first_screen_with_60_waiting(console_app, new_page) -> None:
    """At 1440 px, the first screen of a 60-operation queue shows 15+ rows, each with its evidence, nothing cut off."""
    app = console_app()
    waiting_operations(app.console_url, 60)
    page = new_page()
    demo_sign_in(page, app.url, "approver@demo.local")
    sidebar(page).get_by_text("Waiting for approval: 60").wait_for()
    open_nav(page, "Approvals")
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for()
    wait_idle(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "approvals-queue-first-screen.png"))  # the viewport: 1440 × 1000
    fold = page.viewport_size["height"]
    shown = page.evaluate("""() => {
        const grid = document.querySelector("[data-testid='stDataFrame']");
        const rows = [...grid.querySelectorAll("[role=row]")].slice(1);  // the first is the header
        const scroller = grid.querySelector(".dvn-scroller");
        const canvas = grid.querySelector("canvas");
        const box = (canvas || grid).getBoundingClientRect();
        return {header: [...grid.querySelectorAll("[role=columnheader]")].map(c => c.innerText.trim()),
                cells: rows.map(r => [...r.querySelectorAll("[role=gridcell]")].map(c => c.innerText.trim())),
                top: box.top, height: box.height, rows: rows.length,
                font: "14px " + getComputedStyle(document.body).fontFamily,  // the grid draws in the body's font
                overflowX: scroller ? scroller.scrollWidth - scroller.clientWidth : null};
    }""")
    header = shown["header"][-len(QUEUE_COLUMN_PX):]
    assert header == list(QUEUE_COLUMN_PX), shown["header"]
    row_px = shown["height"] / (shown["rows"] + 1)
    on_first_screen = int((fold - shown["top"]) // row_px) - 1  # rows wholly above the fold, less the header
    first = [dict(zip(header, cells[-len(header):], strict=True)) for cells in shown["cells"][:on_first_screen]]
    assert len(first) >= 15, (on_first_screen, shown["rows"])
    assert all(re.search(r"\d", row["Evidence"]) and "no evidence" not in row["Evidence"] for row in first), first
    assert shown["overflowX"] is not None and shown["overflowX"] <= 0, shown["overflowX"]  # every column on screen
    # Nothing cut off: each cell's text, drawn in the grid's font, fits its column (8 px padding on each side); a
    # long target already ends in "…" in its row (it reads whole on the card), never clipped by the grid.
    widths = page.evaluate("""([rows, font]) => {
        const context = document.createElement("canvas").getContext("2d");
        context.font = font;
        return rows.map(row => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, context.measureText(v).width])));
    }""", [first, shown["font"]])
    too_wide = [(row[name], round(width[name])) for row, width in zip(first, widths, strict=True)
                for name in header if width[name] + 16 > QUEUE_COLUMN_PX[name]]
    assert too_wide == [], (shown["font"], too_wide)
    screenshot(page, "approvals-queue-60")
    top = first[0]
    tick_row(page, 0)  # the newest: its card, with the evidence and the edit form, opens under the table
    card = page.locator("[data-testid='stVerticalBlock']").filter(has=page.get_by_text("Edit & approve")).last
    card.get_by_text("Evidence", exact=False).first.wait_for()
    assert top["Target"].rstrip("…") in card.inner_text()
    card.locator("summary").filter(has_text="Edit & approve").click()
    card.get_by_label(re.compile(r"^bid \(USD\)")).wait_for()  # one typed input per value; the target is fixed
    assert card.get_by_text("Applies to keyword_id", exact=False).count() == 1
    screenshot(page, "approvals-queue-card")


def tick_row(page, position: int) -> None:
    """Tick a row of the queue's table (its selection checkbox, drawn on the grid's canvas)."""
    box = page.locator("[data-testid='stDataFrame'] canvas").first.bounding_box()
    page.mouse.click(box["x"] + 17, box["y"] + 35 * (position + 1) + 17)
    wait_idle(page)
