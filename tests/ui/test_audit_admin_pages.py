"""Audit page (filters, search, detail, export, verify) and Admin page (users, limits) — and who may open them."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from sqlalchemy import update

from mcp_bridge.store import AuditRow, Store
from tests.ui.conftest import open_page


def test_audit_filters_search_and_detail(app, make_operation, ui_runtime) -> None:
    marker = f"kw-{uuid.uuid4().hex[:8]}"
    op = make_operation(arguments={"site": "de", "keyword_id": 4, "bid": 0.9, "note": marker}, site="de")
    at = open_page(app("approver@demo.local"), "audit")
    at.text_input(key="audit-text").input(marker).run()
    table = at.dataframe[0].value
    assert list(table.columns) == ["#", "At (UTC)", "Event", "User", "Channel", "Site", "Tool", "Outcome", "Duration"]
    assert table[["Event", "User", "Site", "Tool", "Outcome"]].to_dict("records") == [
        {"Event": "proposed", "User": "seller@demo.local", "Site": "DE", "Tool": "ads__update_bid", "Outcome": "pending"}]
    assert any(marker in json.dumps(j.value) for j in at.json)  # the detail view shows the arguments
    at.text_input(key="audit-text").input("")
    at.selectbox(key="audit-event").select("login")
    at.text_input(key="audit-user").input("approver@demo.local").run()
    assert set(at.dataframe[0].value["Event"]) == {"login"}
    assert op.id


def test_a_read_shows_its_result_beside_its_request(app, ui_runtime) -> None:
    from mcp_bridge.types import Caller, Source

    seller = Caller("seller@demo.local", frozenset({"seller"}), frozenset({"us", "de"}), "chat")
    assert ui_runtime.bridge.call(seller, "ads__get_regions", {"site": "de"}, source=Source("chat", "c")).status == "ok"
    ui_runtime.bridge.calls.flush()
    result, request = ui_runtime.bridge.audit.query(tool="ads__get_regions", limit=2)
    at = open_page(app("approver@demo.local"), "audit")
    at.toggle(key="audit-reads").set_value(True)
    at.text_input(key="audit-tool").input("ads__get_regions").run()
    table = at.dataframe[0].value.set_index("#")
    assert table.loc[request.id, ["Event", "Outcome"]].tolist() == ["tool_call", "requested → ok"]
    assert table.loc[result.id, ["Event", "Outcome"]].tolist() == ["tool_result", "ok"]
    assert table.loc[request.id, "Duration"] == table.loc[result.id, "Duration"] != ""
    at.selectbox(key="audit-row").select(request.id).run()
    assert any(c.value == f"Its result is row #{result.id}." for c in at.caption)


def test_decisions_by_default_and_a_page_loads_reads_as_one_line(app, make_operation, ui_runtime) -> None:
    from mcp_bridge.types import Caller, Source

    manager = Caller("manager@demo.local", frozenset({"manager"}), frozenset({"us", "de"}), "ui")
    for site in ("us", "de", "us"):  # one page load: three reads within a second
        assert ui_runtime.bridge.call(manager, "ads__list_profiles", {"site": site}, source=Source("ui")).status == "ok"
    ui_runtime.bridge.calls.flush()
    make_operation()  # a decision
    at = open_page(app("admin@demo.local"), "audit")
    events = at.dataframe[0].value[["Event", "Outcome"]]
    assert "proposed" in set(events["Event"])
    assert not ((events["Event"] == "tool_result") | (events["Outcome"].isin(["requested", "ok"])
                                                      & (events["Event"] == "tool_call"))).any()
    assert any(re.fullmatch(rf"[\d,]+ decisions, newest first · page 1 of [\d,]+ \(rows 1–{len(events)}\)", c.value)
               for c in at.caption)

    at.text_input(key="audit-tool").input("ads__list_profiles")
    at.text_input(key="audit-user").input("manager@demo.local").run()
    assert not at.dataframe  # its reads are hidden, and the page says so
    [hint] = [i.value for i in at.info]
    assert re.fullmatch(r"\*\*No decisions match these filters\.\*\*\n\n\d+ reads do: turn on “Show reads”\.", hint)

    at.toggle(key="audit-reads").set_value(True).run()
    table = at.dataframe[0].value
    assert table.iloc[0][["Event", "User", "Channel", "Site", "Tool", "Outcome"]].to_dict() == {
        "Event": "3 reads", "User": "manager@demo.local", "Channel": "ui", "Site": "DE, US",
        "Tool": "ads__list_profiles", "Outcome": "3 ok"}
    [group] = [e for e in at.expander if e.label.startswith("3 reads by manager@demo.local (list_profiles)")]
    inside = group.dataframe[0].value
    # Each read's request shows its result beside it (the results follow within 50 ms, in whatever order).
    assert sorted(zip(inside["Event"], inside["Outcome"], strict=True)) == [("tool_call", "requested → ok")] * 3 + [
        ("tool_result", "ok")] * 3


def test_paging_past_a_thousand_rows(app, ui_runtime) -> None:
    from mcp_bridge.audit.rows import entry

    actor = f"pager-{uuid.uuid4().hex[:8]}@example.com"
    written = ui_runtime.bridge.audit.append_entries([entry("user_granted", actor=actor, channel="ui", outcome="ok",
                                                            detail={"n": i}) for i in range(1_150)])
    at = open_page(app("admin@demo.local"), "audit")
    at.selectbox(key="audit-size").select(1000)
    at.text_input(key="audit-user").input(actor).run()
    assert len(at.dataframe[0].value) == 1000
    assert any(c.value == "1,150 decisions, newest first · page 1 of 2 (rows 1–1,000)" for c in at.caption)
    at.number_input(key="audit-page").set_value(2).run()
    second = at.dataframe[0].value
    assert list(second["#"]) == [w.id for w in reversed(written[:150])]
    assert any(c.value == "1,150 decisions, newest first · page 2 of 2 (rows 1,001–1,150)" for c in at.caption)
    at.selectbox(key="audit-size").select(100).run()  # another filter: back to page 1
    assert at.number_input(key="audit-page").value == 1
    assert list(at.dataframe[0].value["#"]) == [w.id for w in reversed(written[-100:])]


def test_audit_exports_and_verifies_the_chain(app, ui_runtime) -> None:
    at = open_page(app("admin@demo.local"), "audit")
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Export CSV", "Export JSONL"]
    at.button[0].click().run()  # Verify chain
    assert any(s.value.startswith("The chain is intact:") for s in at.success)


def test_verify_reports_a_tampered_row(app, ui_runtime) -> None:
    store = Store(ui_runtime.engine)
    with store.read() as session:
        row = session.query(AuditRow).order_by(AuditRow.id).first()
        original = row.actor
    with store.write() as session:
        session.execute(update(AuditRow).where(AuditRow.id == row.id).values(actor="mallory@example.com"))
    try:
        at = open_page(app("approver@demo.local"), "audit")
        at.button[0].click().run()
        assert any(f"The chain is broken at row {row.id}" in e.value for e in at.error)
    finally:
        with store.write() as session:
            session.execute(update(AuditRow).where(AuditRow.id == row.id).values(actor=original))


@pytest.mark.parametrize("email", ["seller@demo.local", "manager@demo.local"])
def test_audit_and_admin_are_not_reachable_for(app, email: str) -> None:
    at = app(email)
    for page in ("audit", "admin"):
        with pytest.raises(ValueError):
            at.switch_page(f"pages/{page}.py")


def test_admin_sees_users_and_grants_access(app, ui_runtime) -> None:
    email = f"new-{uuid.uuid4().hex[:6]}@example.com"
    ui_runtime.users.create(email, name="Newcomer")
    at = open_page(app("admin@demo.local"), "admin")
    users = at.dataframe[0].value
    assert {"seller@demo.local", email} <= set(users["Email"])
    assert users.set_index("Email").loc[email, "Roles"] == "— no access —"
    assert any(email in w.value for w in at.warning)
    at.selectbox(key="grant-user").select(email)
    at.selectbox(key="grant-role").select("seller")
    at.selectbox(key="grant-site").select("jp")
    [b for b in at.button if b.label == "Grant"][0].click().run()
    info = ui_runtime.users.get(email)
    assert (info.roles, info.sites) == (frozenset({"seller"}), frozenset({"jp"}))
    grant = ui_runtime.bridge.audit.query(event="user_granted", actor="admin@demo.local", limit=1)[0]
    assert (grant.channel, grant.detail) == ("ui", {"email": email, "role": "seller", "site": "jp"})


def test_admin_edits_site_safety_limits(app, ui_runtime) -> None:
    from console.approvals.queue import site_policy

    at = open_page(app("admin@demo.local"), "admin")
    at.selectbox(key="limits-site").select("de").run()
    at.number_input(key="de-max_bid_change_pct").set_value(25.0)
    at.checkbox(key="de-allow_self_approval").check()
    [b for b in at.button if b.label == "Save limits"][0].click().run()
    policy = site_policy(ui_runtime, "de")
    assert (policy.max_bid_change_pct, policy.allow_self_approval) == (25.0, True)
    change = ui_runtime.bridge.audit.query(event="policy_changed", site="de", limit=1)[0]
    assert change.detail["changes"]["max_bid_change_pct"] == {"before": 50.0, "after": 25.0}
    assert "Saved the safety limits of DE." in [s.value for s in at.success]


def test_home_shows_the_right_links_per_role(app) -> None:
    seller = open_page(app("seller@demo.local"), "home")
    links = [p.proto.label for p in seller.get("page_link")]
    assert [link.split(" — ")[0] for link in links] == ["Chat", "Ads", "Inventory", "Sales", "Reports"]
    admin = open_page(app("admin@demo.local"), "home")
    labels = [p.proto.label.split(" — ")[0] for p in admin.get("page_link")]
    assert {"Chat", "Approvals", "Audit", "Admin"} <= set(labels)


def test_admin_reviews_and_accepts_a_changed_tool_definition(app, ui_runtime) -> None:
    """A tool whose definition no longer matches its pin is blocked; the admin reads both and accepts it."""
    from mcp_bridge.catalog.pins import ToolPin
    from mcp_bridge.store import Store
    from mcp_bridge.types import Source

    name, bridge = "ads__list_profiles", ui_runtime.bridge
    admin = ui_runtime.users.caller("admin@demo.local")
    bridge.catalog.specs()  # listed and pinned
    with Store(ui_runtime.engine).write() as s:  # as if the server had described the tool differently when pinned
        pin = s.get(ToolPin, name)
        pin.sha256, pin.definition = "0" * 64, {**pin.definition, "description": "List profiles (the old wording)."}
    bridge.catalog.refresh("ads")
    blocked = bridge.call(admin, name, {"site": "us"}, source=Source("cli"))
    assert (blocked.status, blocked.code) == ("error", "PERMISSION_DENIED") and "changed its definition" in blocked.text

    at = open_page(app("admin@demo.local"), "admin")
    at.button(key="catalog-refresh").click().run()  # the app's own catalog listed the tools before the change
    assert "Listed the tools of every server again." in [s.value for s in at.success]
    assert any("1 tool definition(s) changed since they were pinned" in e.value for e in at.error)
    assert any(f"**{name}** — pinned by" in m.value for m in at.markdown)
    shown = [j.value for j in at.json]
    assert any("the old wording" in str(v) for v in shown)
    at.button(key=f"accept-{name}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert f"Accepted {name}." in [s.value for s in at.success]
    # This process's bridge (another replica, say) notices the acceptance on its next call.
    assert bridge.call(admin, name, {"site": "us"}, source=Source("cli")).status == "ok"
    accepted = bridge.audit.query(event="tool_pin_accepted", tool=name, limit=1)[0]
    assert (accepted.actor, accepted.channel) == ("admin@demo.local", "ui")
    at.run()
    assert not any("changed since they were pinned" in e.value for e in at.error)


def test_admin_sees_the_approval_keys_and_a_stale_one_flagged(app, ui_runtime) -> None:
    import datetime as dt

    from mcp_bridge.keys import Keyring

    keyring = Keyring(ui_runtime.settings.approval_secret.get_secret_value(), ui_runtime.settings.keyring)
    assert keyring.path is not None and not keyring.path.exists()
    at = open_page(app("admin@demo.local"), "admin")
    keys = next(df.value for df in at.dataframe if "Key id" in df.value.columns)
    assert keys.to_dict("records") == [{"Key id": "k0", "Source": "CONSOLE_APPROVAL_SECRET", "Use": "signs new tokens",
                                        "Created": "unknown", "Age (days)": "—", "Retires": "—",
                                        "Rotate": "yes — older than 90 days"}]
    assert any("is of unknown age: rotate it" in w.value for w in at.warning)
    try:  # a key created 100 days ago, then a rotation: the new one signs, the old one verifies until retired
        keyring.ensure_file(now=dt.datetime.now(dt.UTC) - dt.timedelta(days=100))
        new = keyring.rotate(grace=dt.timedelta(hours=2))
        at = open_page(app("admin@demo.local"), "admin")
        keys = next(df.value for df in at.dataframe if "Key id" in df.value.columns).to_dict("records")
        assert [(k["Key id"], k["Use"], k["Age (days)"], k["Rotate"]) for k in keys] == [
            ("k0", "verifies until retired", "100", ""), (new.kid, "signs new tokens", "0", "")]
        assert not any("rotate it" in w.value for w in at.warning)
    finally:
        keyring.path.unlink(missing_ok=True)
