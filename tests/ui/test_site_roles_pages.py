"""Roles per site in the app: the admin grants role × site, Approvals and the sidebar follow them, one active site
across the sidebar and the pages, Home's counters open their lists, and a manager files an alert's fix."""

from __future__ import annotations

import uuid

from tests.ui.conftest import open_page


def mixed(ui_runtime) -> str:
    """A new person who approves on US and sells on DE."""
    email = f"mixed-{uuid.uuid4().hex[:6]}@example.com"
    ui_runtime.users.create(email, name="Mixed Roles", roles=("approver",), sites=("us",))
    ui_runtime.users.grant(email, role="seller", site="de")
    return email


def sidebar_text(at) -> str:
    return "\n".join([m.value for m in at.sidebar.markdown] + [c.value for c in at.sidebar.caption])


def test_admin_grants_a_role_on_one_site_and_the_table_shows_roles_per_site(app, ui_runtime) -> None:
    email = f"new-{uuid.uuid4().hex[:6]}@example.com"
    ui_runtime.users.create(email, name="Newcomer", roles=("seller",), sites=("de",))
    at = open_page(app("admin@demo.local"), "admin")
    at.selectbox(key="grant-user").select(email)
    at.selectbox(key="grant-role").select("approver")
    at.selectbox(key="grant-site").select("us")
    [b for b in at.button if b.label == "Grant"][0].click().run()
    assert f"Granted approver on US to {email}." in [s.value for s in at.success]
    row = at.dataframe[0].value.set_index("Email").loc[email]
    assert (row["Roles"], row["US"], row["DE"], row["JP"], row["All sites"]) == (
        "approver (US) · seller (DE)", "approver", "seller", "—", "—")
    admin = at.dataframe[0].value.set_index("Email").loc["admin@demo.local"]
    assert (admin["Roles"], admin["All sites"]) == ("admin", "admin")

    at.selectbox(key="grant-user").select(email)
    at.selectbox(key="grant-role").select("seller")
    at.selectbox(key="grant-site").select("de")
    [b for b in at.button if b.label == "Revoke"][0].click().run()
    assert ui_runtime.users.require(email).site_roles == {"de": frozenset(), "us": frozenset({"approver"})}
    revoked = ui_runtime.bridge.audit.query(event="user_revoked", actor="admin@demo.local", limit=1)[0]
    assert (revoked.channel, revoked.detail) == ("ui", {"email": email, "role": "seller", "site": "de"})


def test_approvals_and_the_sidebar_follow_the_roles_of_each_site(app, make_operation, ui_runtime) -> None:
    email = mixed(ui_runtime)
    us = make_operation(site="us")
    de = make_operation(site="de", arguments={"site": "de", "keyword_id": 4, "bid": 0.9})
    at = app(email)
    assert "Roles: Approver (US) · Seller (DE)" in sidebar_text(at)
    links = [p.proto.label for p in at.sidebar.get("page_link")]
    assert f"Waiting for approval: {ui_runtime.bridge.gate.pending_count(ui_runtime.users.caller(email))}" in links
    open_page(at, "approvals")
    ids = {int(i) for i in next(df for df in at.dataframe if (df.key or "").startswith("queue-")).value["#"]}
    assert us.id in ids and de.id not in ids
    assert at.multiselect(key="approvals-sites").options == ["US"]
    assert at.sidebar.selectbox(key="active_site").options == ["US (USD)"]  # the sites this page works on
    open_page(at, "chat")
    assert at.sidebar.selectbox(key="active_site").value == "de" and at.session_state["console"].site == "de"


def test_one_active_site_for_the_sidebar_and_a_pages_own_picker(app) -> None:
    at = open_page(app("admin@demo.local"), "admin")
    at.sidebar.selectbox(key="active_site").set_value("jp").run()
    assert at.selectbox(key="limits-site").value == "jp"
    at.selectbox(key="limits-site").set_value("de").run()
    assert at.session_state["console"].site == "de" and at.sidebar.selectbox(key="active_site").value == "de"
    open_page(at, "home")
    assert "Active site: DE" in "\n".join(c.value for c in at.caption)


def test_homes_counters_open_their_lists(app) -> None:
    seller = open_page(app("seller@demo.local"), "home")
    seller.button(key="home-my-requests").click().run()
    assert "My requests" in [t.value for t in seller.title]
    approver = open_page(app("approver@demo.local"), "home")
    assert not [b for b in approver.button if b.key == "home-my-requests"]  # no My requests in their navigation
    approver.button(key="home-approvals").click().run()
    assert "Approvals" in [t.value for t in approver.title]


def test_a_manager_files_an_alerts_fix_from_a_dashboard(app, ui_runtime) -> None:
    at = open_page(app("manager@demo.local"), "inventory")
    at.selectbox(key="inv-site").set_value("us").run()
    at.session_state["inv-tab"] = "Alerts"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.button(key="fix-stock_out_risk").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "operations filed as batch" in at.success[0].value
    batch = at.success[0].value.split("`")[1]
    filed = ui_runtime.bridge.gate.list(batch_id=batch, limit=500)
    assert filed and {(op.proposer, op.site) for op in filed} == {("manager@demo.local", "us")}
