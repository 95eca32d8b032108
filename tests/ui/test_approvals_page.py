"""Approvals page: the compact queue (rows, filters, sorting, pages, bulk decisions), the card on demand with its
evidence and typed edit form, stale decisions, scope, no self-approval, history; and a seller's My requests."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

from mcp_bridge.types import Source
from tests.ui.conftest import open_page

EVIDENCE = {"kind": "keyword", "label": "'yoga mat' (exact)", "window": {"start": "2026-10-22", "end": "2026-11-20", "days": 30},
            "metrics": {"impressions": 12000, "clicks": 301, "spend": 41.2, "orders": 0, "sales": 0.0, "acos": None,
                        "cpc": 0.137, "ctr": 0.0251, "cvr": 0.0},
            "rule": "wasted_spend", "rule_text": "spend over $20 and no orders in 30 days", "request": None,
            "currency": "USD"}


def someone() -> str:
    """A proposer of one test's operations alone (the queue is shared by the whole session)."""
    return f"proposer-{uuid.uuid4().hex[:8]}@example.com"


def texts(at) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption", "success", "warning", "error", "info")
                     for e in getattr(at, kind))


def queue(at):
    return next(df for df in at.dataframe if (df.key or "").startswith("queue-"))


def queue_ids(at) -> list[int]:
    return [int(i) for i in queue(at).value["#"]]


def select(at, *op_ids: int):
    """Tick these operations' rows in the queue table, as a person does."""
    ids = queue_ids(at)
    at.session_state[queue(at).key] = {"selection": {"rows": [ids.index(i) for i in op_ids]}}
    return at.run()


def open_card(at, op_id: int):
    at.text_input(key="queue-search").input(f"#{op_id}").run()
    return select(at, op_id)


def only_from(at, proposer: str):
    return at.selectbox(key="queue-proposer").set_value(proposer).run()


def card_titles(at) -> list[str]:
    """Titles of the cards open in the Waiting tab (the History tab has a card of its own)."""
    return [m.value for m in at.tabs[0].markdown if m.value.startswith("**#")]


def us_keywords(runtime, count: int, *, offset: int) -> list[tuple[int, float]]:
    """(id, bid) of enabled US keywords no other test of this file touches (each test takes its own offset)."""
    engine = create_engine(runtime.settings.market_database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, bid FROM keywords WHERE site_id = 'us' AND state = 'enabled' AND bid >= 1 "
                                     "ORDER BY id LIMIT :n OFFSET :o"), {"n": count, "o": offset}).all()
    finally:
        engine.dispose()
    return [(int(r[0]), float(r[1])) for r in rows]


def propose_bids(runtime, keywords, *, factor: float = 0.9, batch: str | None = None) -> list[int]:
    seller = runtime.users.caller("seller@demo.local")
    source = Source("chat", ref="conversation-1", batch_id=batch or f"chat-{uuid.uuid4().hex[:16]}",
                    reason="trim bids on high-ACOS keywords")
    outcomes = [runtime.bridge.call(seller, "ads__update_bid", {"site": "us", "keyword_id": kid, "bid": round(bid * factor, 2)},
                                    source=source) for kid, bid in keywords]
    assert [o.status for o in outcomes] == ["pending"] * len(keywords), [o.text for o in outcomes]
    return [o.operation_id for o in outcomes]


def bids(runtime, keyword_ids) -> dict[int, float]:
    engine = create_engine(runtime.settings.market_database_url)
    try:
        with engine.connect() as conn:
            return {int(k): float(b) for k, b in conn.execute(
                text(f"SELECT id, bid FROM keywords WHERE id IN ({','.join(str(int(k)) for k in keyword_ids)})"))}
    finally:
        engine.dispose()


# -- the queue ---------------------------------------------------------------------------------------------------------
def test_a_row_per_operation_with_change_impact_evidence_and_source(app, make_operation) -> None:
    who = someone()
    op = make_operation(proposer=who, source_kind="job", evidence=EVIDENCE)
    bare = make_operation(proposer=who)
    at = only_from(open_page(app("approver@demo.local"), "approvals"), who)
    rows = {r["#"]: r for r in queue(at).value.to_dict("records")}
    assert {k: v for k, v in rows[op.id].items() if k != "Age"} == {
        "#": op.id, "Site": "US", "Target": "keyword #1 'yoga mat' (exact)", "Change": "bid $1.50 → $1.20",
        "Impact": "-$4.20/day", "Evidence": "spend $41.20 · 0 orders · 30 d",
        "From": f"{who.partition('@')[0]} · wasted spend"}
    assert rows[op.id]["Age"].endswith(" s")
    assert (rows[bare.id]["Evidence"], rows[bare.id]["From"]) == ("no evidence recorded", f"{who.partition('@')[0]} · chat")
    assert "1–2 of 2 waiting" in texts(at) and card_titles(at) == []  # a card opens for one ticked row only


def test_select_three_of_five_and_approve_runs_exactly_those(app, ui_runtime) -> None:
    keywords = us_keywords(ui_runtime, 5, offset=20)
    batch = f"chat-{uuid.uuid4().hex[:16]}"
    op_ids = propose_bids(ui_runtime, keywords, batch=batch)
    at = open_page(app("approver@demo.local"), "approvals")
    at.selectbox(key="queue-batch").set_value(batch).run()
    assert sorted(queue_ids(at)) == sorted(op_ids)
    chosen = op_ids[::2]
    select(at, *chosen)
    assert at.button(key="queue-approve").label == "Approve selected (3)"
    at.button(key="queue-approve").click().run()
    assert not at.exception, [e.value for e in at.exception]
    gate = ui_runtime.bridge.gate
    assert {i: gate.get(i).status for i in op_ids} == {i: "succeeded" if i in chosen else "proposed" for i in op_ids}
    by_op = dict(zip(op_ids, keywords, strict=True))
    assert bids(ui_runtime, [kid for kid, _ in keywords]) == {
        kid: round(bid * 0.9, 2) if op_id in chosen else bid for op_id, (kid, bid) in by_op.items()}
    assert any(s.value.startswith("Approved 3 of 3: ") for s in at.success)
    assert sorted(queue_ids(at)) == sorted(set(op_ids) - set(chosen))
    assert at.button(key="queue-approve").label == "Approve selected (0)"  # the queue moved: nothing stays ticked


def test_reject_selected_with_one_reason(app, make_operation, ui_runtime) -> None:
    who = someone()
    ops = [make_operation(proposer=who) for _ in range(4)]
    at = only_from(open_page(app("approver@demo.local"), "approvals"), who)
    select(at, ops[0].id, ops[1].id, ops[3].id)
    submit = next(b for b in at.button if b.form_id == "queue-reject")
    submit.click().run()
    assert "Say why, so the proposers can fix it." in [e.value for e in at.error]
    at.text_input(key="queue-reject-reason").input("these keywords are in a test")  # a form: sent on submit
    next(b for b in at.button if b.form_id == "queue-reject").click().run()
    gate = ui_runtime.bridge.gate
    assert [(gate.get(o.id).status, gate.get(o.id).decision_reason) for o in ops] == [
        ("rejected", "these keywords are in a test")] * 2 + [("proposed", None)] + [
        ("rejected", "these keywords are in a test")]
    assert queue_ids(at) == [ops[2].id]


def test_filters_by_site_tool_proposer_source_batch_and_search(app, make_operation) -> None:
    who, batch = someone(), f"job-{uuid.uuid4().hex[:16]}"
    jp = make_operation(proposer=who, site="jp", arguments={"site": "jp", "keyword_id": 9, "bid": 90},
                        preview={"target": "keyword #9 'ヨガマット'", "changes": [{"field": "bid", "before": 100, "after": 90}]})
    paused = make_operation(proposer=who, tool="pause_keyword", arguments={"site": "us", "keyword_id": 2},
                            preview={"target": "keyword #2 'cork block'", "changes": [
                                {"field": "state", "before": "enabled", "after": "paused"}]})
    alert = make_operation(proposer=who, source_kind="job", batch_id=batch,
                           evidence={**EVIDENCE, "rule": "acos_over_target"})
    harvested = make_operation(proposer=who, source_kind="job", batch_id=batch,
                               preview={"target": f"keyword #3 'thick mat {batch[-6:]}'", "summary": "new keyword"})
    at = only_from(open_page(app("approver@demo.local"), "approvals"), who)
    assert sorted(queue_ids(at)) == sorted([jp.id, paused.id, alert.id, harvested.id])
    at.selectbox(key="queue-tool").set_value("pause_keyword").run()
    assert queue_ids(at) == [paused.id]
    at.selectbox(key="queue-tool").set_value(None)
    at.selectbox(key="queue-source").set_value("alert: acos over target").run()
    assert queue_ids(at) == [alert.id]
    at.selectbox(key="queue-source").set_value(None)
    at.selectbox(key="queue-batch").set_value(batch).run()
    assert sorted(queue_ids(at)) == sorted([alert.id, harvested.id])
    at.text_input(key="queue-search").input(f"THICK MAT {batch[-6:]}").run()
    assert queue_ids(at) == [harvested.id]
    at.selectbox(key="queue-batch").set_value(None)
    at.text_input(key="queue-search").input("").run()
    at.multiselect(key="approvals-sites").unselect("jp").run()
    assert jp.id not in queue_ids(at) and sorted(queue_ids(at)) == sorted([paused.id, alert.id, harvested.id])
    at.text_input(key="queue-search").input("no such keyword anywhere").run()
    assert any("No waiting operation matches." in i.value for i in at.info)


def test_sort_by_impact_and_pages_of_25(app, make_operation) -> None:
    who = someone()
    preview = {"target": "keyword #1", "changes": [{"field": "bid", "before": 1.5, "after": 1.2}]}
    ops = [make_operation(proposer=who, preview={**preview, "impact": {"daily_spend_delta": delta}})
           for delta in (-1.0, -9.5, 6.0, 0.0, -2.5)] + [make_operation(proposer=who) for _ in range(25)]
    at = only_from(open_page(app("approver@demo.local"), "approvals"), who)
    assert queue_ids(at) == [op.id for op in reversed(ops)][:25]  # newest first, 25 a page
    assert "1–25 of 30 waiting" in texts(at)
    at.selectbox(key="queue-sort").set_value("impact").run()
    assert queue_ids(at)[:3] == [ops[1].id, ops[2].id, ops[5].id]  # -$9.50, +$6.00, then the -$4.20s (oldest first)
    assert queue(at).value["Impact"].tolist()[:3] == ["-$9.50/day", "+$6.00/day", "-$4.20/day"]
    at.selectbox(key="queue-page").set_value(2).run()
    assert len(queue_ids(at)) == 5 and "26–30 of 30 waiting" in texts(at)
    assert queue_ids(at)[-2:] == [ops[0].id, ops[3].id]  # the smallest impacts last: -$1.00, $0.00


def test_a_batch_is_shown_whole_and_selected_as_a_whole(app, make_operation, ui_runtime) -> None:
    batch = f"job-{uuid.uuid4().hex[:16]}"
    ops = [make_operation(batch_id=batch, source_kind="job") for _ in range(27)]
    at = open_page(app("approver@demo.local"), "approvals")
    at.selectbox(key="queue-batch").set_value(batch).run()
    assert sorted(queue_ids(at)) == sorted(op.id for op in ops)  # one page, however long the batch
    at.button(key="queue-select-all").click().run()
    assert at.button(key="queue-approve").label == "Approve selected (27)"
    at.text_input(key="queue-reject-reason").input("wrong campaign")
    next(b for b in at.button if b.form_id == "queue-reject").click().run()
    assert {ui_runtime.bridge.gate.get(op.id).status for op in ops} == {"rejected"}
    assert any(s.value.startswith("Rejected 27 of 27: ") for s in at.success)


def test_a_real_batch_approved_as_a_whole_runs_every_write_once(app, ui_runtime) -> None:
    keywords = us_keywords(ui_runtime, 2, offset=40)
    batch = f"chat-{uuid.uuid4().hex[:16]}"
    op_ids = propose_bids(ui_runtime, keywords, batch=batch)
    at = open_page(app("approver@demo.local"), "approvals")
    at.selectbox(key="queue-batch").set_value(batch).run()
    at.button(key="queue-select-all").click().run()
    at.button(key="queue-approve").click().run()
    assert not at.exception, [e.value for e in at.exception]
    bridge = ui_runtime.bridge
    assert [bridge.gate.get(i).status for i in op_ids] == ["succeeded", "succeeded"]
    assert bids(ui_runtime, [k for k, _ in keywords]) == {kid: round(bid * 0.9, 2) for kid, bid in keywords}
    executed = [r for r in bridge.audit.query(event="executed") if r.detail.get("operation_id") in set(op_ids)]
    assert len(executed) == 2 and {r.actor for r in executed} == {"approver@demo.local"}


# -- a decision someone else already made -------------------------------------------------------------------------------
def test_a_stale_decision_says_who_decided_what_and_when(app, make_operation, ui_runtime) -> None:
    gate, other = ui_runtime.bridge.gate, ui_runtime.users.caller("approver2@demo.local")
    op = make_operation()
    at = open_card(open_page(app("approver@demo.local"), "approvals"), op.id)
    gate.reject(op.id, other, "duplicate of another change")  # meanwhile, in another tab
    at.button(key=f"approve-{op.id}").click().run()
    (warning,) = [w.value for w in at.warning if w.value.startswith("Already decided")]
    assert warning.startswith(f"Already decided — operation #{op.id} was already rejected by approver2@demo.local at ")
    assert warning.endswith("UTC (status rejected): “duplicate of another change”.")
    assert not at.error and gate.get(op.id).decided_by == "approver2@demo.local"

    who = someone()
    first, second = make_operation(proposer=who), make_operation(proposer=who)
    at.text_input(key="queue-search").input("").run()  # the page learns of the new proposer on its next run
    at = only_from(at, who)
    select(at, first.id, second.id)
    gate.reject(first.id, other, "not this week")
    at.text_input(key="queue-reject-reason").input("covered by the new campaign")
    next(b for b in at.button if b.form_id == "queue-reject").click().run()
    assert f"Rejected 1 of 2: #{second.id}." in [s.value for s in at.success]
    assert any(w.value.startswith(f"Already decided — operation #{first.id} was already rejected by "
                                  "approver2@demo.local at ") for w in at.warning)
    assert (gate.get(first.id).decision_reason, gate.get(second.id).decision_reason) == (
        "not this week", "covered by the new campaign")


# -- the card --------------------------------------------------------------------------------------------------------
def test_the_card_shows_diff_impact_evidence_and_who(app, make_operation) -> None:
    op = make_operation(reason="ACOS 48% over the 30% target", evidence=EVIDENCE)
    at = open_card(open_page(app("approver@demo.local"), "approvals"), op.id)
    assert card_titles(at) == [f"**#{op.id} · update_bid · US · keyword #1 'yoga mat' (exact)**"]
    diff = next(df.value for df in at.dataframe if list(df.value.columns) == ["Field", "Before", "After"])
    assert diff.to_dict("records") == [{"Field": "bid", "Before": "$1.50", "After": "$1.20"}]
    evidence = next(df.value for df in at.dataframe if "Impressions" in df.value.columns)
    assert evidence.to_dict("records") == [{"Impressions": "12,000", "Clicks": "301", "Spend": "$41.20", "Orders": "0",
                                            "Sales": "$0.00", "ACOS": "—", "CPC": "$0.14", "CTR": "2.5%", "CVR": "0.0%"}]
    shown = texts(at)
    assert "**Evidence** — keyword 'yoga mat' (exact) · last 30 d (2026-10-22 → 2026-11-20)" in shown
    assert "Rule: spend over $20 and no orders in 30 days" in shown
    assert "Projected impact — Daily spend: -$4.20" in shown
    assert "Proposed by **seller@demo.local** · via alert: wasted spend" in shown and "expires in 23 h" in shown
    assert "Reason: ACOS 48% over the 30% target" in shown
    assert not at.button(key=f"approve-{op.id}").disabled


@pytest.mark.parametrize(("evidence", "said"), [
    (None, "Evidence: no evidence recorded"),
    ({"kind": "keyword", "label": "x", "unavailable": "the analytics server did not answer"},
     "Evidence: evidence unavailable: the analytics server did not answer"),
    ({"kind": "keyword", "label": "x", "metrics": {}, "request": "pause my worst keyword"},
     "Evidence: no evidence recorded"),
])
def test_missing_evidence_says_so(app, make_operation, evidence, said) -> None:
    op = make_operation(evidence=evidence)
    at = open_card(open_page(app("approver@demo.local"), "approvals"), op.id)
    assert said in [c.value for c in at.caption]
    if evidence and evidence.get("request"):
        assert "Request: “pause my worst keyword”" in [c.value for c in at.caption]


def test_the_edit_form_has_a_typed_input_per_value_and_the_target_fixed(app, make_operation, ui_runtime) -> None:
    from mcp_bridge.catalog import policy

    op = make_operation(evidence=EVIDENCE)
    at = open_card(open_page(app("approver@demo.local"), "approvals"), op.id)
    (bid,) = [n for n in at.number_input if n.form_id == f"edit-{op.id}"]
    assert (bid.key, bid.label, bid.value, bid.step) == (f"edit-{op.id}-bid", "bid (USD)", 1.2, 0.01)
    assert not [w for kind in ("text_input", "selectbox", "date_input", "checkbox") for w in getattr(at, kind)
                if w.form_id == f"edit-{op.id}"]
    assert "Applies to keyword_id 1, site us — fixed; for another target, propose a new change." in texts(at)
    if hasattr(policy, "limits_for"):  # the site's limits beside the input, as the policy words them
        from console.approvals.queue import site_policy

        assert policy.limits_for("update_bid", "bid", site_policy(ui_runtime, "us")) in texts(at)


def test_the_edit_form_refuses_a_changed_target(app, make_operation, ui_runtime, monkeypatch) -> None:
    """Whatever a form (or a tampered request) sends, the gate refuses a changed id and nothing runs."""
    import console.approvals.edits

    op = make_operation()
    at = open_card(open_page(app("approver@demo.local"), "approvals"), op.id)
    monkeypatch.setattr(console.approvals.edits, "edited_arguments",
                        lambda operation, values: {**operation.arguments, "keyword_id": 2, "bid": values["bid"]})
    at.number_input(key=f"edit-{op.id}-bid").set_value(1.1)
    next(b for b in at.button if b.form_id == f"edit-{op.id}").click().run()
    (error,) = [e.value for e in at.error]
    assert error.startswith(f"#{op.id} not approved: VALIDATION_FAILED — keyword_id is the target; propose a new "
                            "change for another one")
    after = ui_runtime.bridge.gate.get(op.id)
    assert (after.status, after.arguments, after.edit_history) == ("proposed", op.arguments, [])


def test_edit_and_approve_runs_the_edit_and_reads_approved_as(app, ui_runtime) -> None:
    ((kid, bid),) = us_keywords(ui_runtime, 1, offset=30)
    (op_id,) = propose_bids(ui_runtime, [(kid, bid)], factor=0.8)
    proposed, edited = round(bid * 0.8, 2), round(bid * 0.85, 2)
    at = open_card(open_page(app("approver@demo.local"), "approvals"), op_id)
    at.number_input(key=f"edit-{op_id}-bid").set_value(edited)
    next(b for b in at.button if b.form_id == f"edit-{op_id}").click().run(timeout=120)
    assert not at.exception
    op = ui_runtime.bridge.gate.get(op_id)
    assert (op.status, op.arguments, op.original_arguments["bid"]) == (
        "succeeded", {"site": "us", "keyword_id": kid, "bid": edited}, proposed)
    assert bids(ui_runtime, [kid]) == {kid: edited}
    assert f"Approved #{op_id} with your edit." in [s.value for s in at.success]
    line = f"bid: proposed {proposed:.2f} by seller@demo.local · approved as {edited:.2f} by approver@demo.local"
    history = next(df.value for df in at.dataframe if "Status" in df.value.columns)
    assert history.set_index("#").loc[op_id, "Edited"] == line
    at.selectbox(key="history-detail").set_value(op_id).run()
    assert f"Edited — {line}" in [c.value for c in at.caption]
    assert [r.event for r in ui_runtime.bridge.audit.query(tool="ads__update_bid", limit=5)][:3] == [
        "executed", "approved", "edited"]


# -- who may decide what -----------------------------------------------------------------------------------------------
def test_proposer_cannot_approve_their_own(app, make_operation, ui_runtime) -> None:
    ui_runtime.users.grant("approver2@demo.local", role="seller", actor="admin@demo.local")
    try:
        op = make_operation(proposer="approver2@demo.local")
        at = open_card(open_page(app("approver2@demo.local"), "approvals"), op.id)
        button = at.button(key=f"approve-{op.id}")
        assert button.disabled
        assert button.proto.help == "You proposed this; another approver has to decide it."
        at.button(key="queue-approve").click().run()  # ticked in the table: the gate refuses it, said per row
        assert any(e.value.startswith(f"#{op.id} not approved: PERMISSION_DENIED") for e in at.error)
        assert ui_runtime.bridge.gate.get(op.id).status == "proposed"
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
    assert us.id in queue_ids(at) and jp.id not in queue_ids(at) and set(queue(at).value["Site"]) == {"US"}
    assert at.multiselect(key="approvals-sites").options == ["US"]
    history = next(df.value for df in at.dataframe if "Status" in df.value.columns)
    assert set(history["Site"]) == {"US"}


def test_reject_on_the_card_needs_a_reason_and_records_it(app, make_operation, ui_runtime) -> None:
    op = make_operation()
    at = open_card(open_page(app("approver@demo.local"), "approvals"), op.id)
    [b for b in at.button if b.label == "Reject" and b.form_id == f"reject-{op.id}"][0].click().run()
    assert "Say why, so the proposer can fix it." in [e.value for e in at.error]
    assert ui_runtime.bridge.gate.get(op.id).status == "proposed"
    at.text_input(key=f"reason-{op.id}").input("bid already lowered yesterday")
    [b for b in at.button if b.label == "Reject" and b.form_id == f"reject-{op.id}"][0].click().run()
    after = ui_runtime.bridge.gate.get(op.id)
    assert (after.status, after.decided_by, after.decision_reason) == (
        "rejected", "approver@demo.local", "bid already lowered yesterday")
    assert f"Rejected #{op.id}." in [s.value for s in at.success]


def test_history_filters_by_status_and_proposer(app, make_operation, ui_runtime) -> None:
    op = make_operation(proposer="seller-jp@demo.local", site="jp", arguments={"site": "jp", "keyword_id": 5, "bid": 80})
    ui_runtime.bridge.gate.reject(op.id, ui_runtime.users.caller("approver@demo.local"), "not now")
    at = open_page(app("approver@demo.local"), "approvals")
    at.multiselect(key="history-status").select("rejected")
    at.text_input(key="history-proposer").input("seller-jp@demo.local").run()
    history = next(df.value for df in at.dataframe if "Status" in df.value.columns)
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


def test_an_unverified_preview_is_labelled(app, make_operation) -> None:
    op = make_operation(server="thirdparty", tool="update_daily_budget",
                        arguments={"site": "us", "campaign_id": "AMZ-42", "daily_budget": 80.0},
                        preview={"target": "update_daily_budget on thirdparty (outside server)",
                                 "summary": "campaign_id → AMZ-42; daily_budget → 80.0", "before": {},
                                 "after": {"campaign_id": "AMZ-42", "daily_budget": 80.0},
                                 "changes": [{"field": "daily_budget", "before": None, "after": 80.0}],
                                 "verified": False, "unverified_reason": "thirdparty does not implement the write "
                                 "contract: nothing was read or previewed on it"})
    at = open_card(open_page(app("approver@demo.local"), "approvals"), op.id)
    assert f"**#{op.id} · update_daily_budget · US · update_daily_budget on thirdparty (outside server)**" in card_titles(at)
    assert any(w.value.startswith("**Unverified preview** — thirdparty does not implement the write contract")
               for w in at.warning)


def test_an_operation_in_doubt_is_shown_with_what_to_do(app, make_operation, ui_runtime) -> None:
    import datetime as dt

    from mcp_bridge.store import utcnow

    op = make_operation(status="unknown", decided_by="approver2@demo.local",
                        decided_at=utcnow() - dt.timedelta(minutes=5), nonce=None)
    at = open_page(app("admin@demo.local"), "approvals")
    assert any("sent without a recorded answer" in w.value for w in at.warning)
    assert any(i.value.startswith("In doubt: the change was sent") for i in at.info)
    at.button(key=f"reconcile-{op.id}").click().run()
    assert ui_runtime.bridge.gate.get(op.id).status == "unknown"  # no nonce: no ledger can say
    form = f"resolve-{op.id}"
    at.text_input(key=f"resolve-why-{op.id}").input("checked in the ads console: bid is 1.20")
    next(b for b in at.button if b.form_id == form).click().run()
    done = ui_runtime.bridge.gate.get(op.id)
    assert (done.status, done.decided_by) == ("succeeded", "approver2@demo.local")
    row = ui_runtime.bridge.audit.query(event="executed", limit=1)[0]
    assert (row.actor, row.detail["resolved_by_person"], row.detail["reason"]) == (
        "admin@demo.local", True, "checked in the ads console: bid is 1.20")


# -- My requests ------------------------------------------------------------------------------------------------------
def test_a_seller_sees_their_requests_with_status_and_outcome(app, make_operation, ui_runtime) -> None:
    gate, approver = ui_runtime.bridge.gate, ui_runtime.users.caller("approver@demo.local")
    waiting = make_operation(evidence=EVIDENCE)
    rejected = make_operation()
    gate.reject(rejected.id, approver, "not this week")
    proposed_args = {"site": "us", "keyword_id": 1, "bid": 1.2}
    edited = make_operation(status="succeeded", decided_by="approver@demo.local", arguments={**proposed_args, "bid": 1.25},
                            original_arguments=proposed_args,
                            edit_history=[{"by": "approver@demo.local", "at": "2026-11-21T10:00:00",
                                           "before": proposed_args, "after": {**proposed_args, "bid": 1.25}}])
    theirs = make_operation(proposer="seller-jp@demo.local", site="jp", arguments={"site": "jp", "keyword_id": 5, "bid": 80})
    at = open_page(app("seller@demo.local"), "my_requests")
    frame = next(df for df in at.dataframe if df.key == "my-requests")
    rows = frame.value.set_index("#")
    assert theirs.id not in rows.index
    assert (rows.loc[waiting.id, "Status"], rows.loc[waiting.id, "Outcome"]) == ("Waiting for approval",
                                                                                  "waiting for approval")
    assert (rows.loc[rejected.id, "Status"], rows.loc[rejected.id, "Outcome"]) == (
        "Rejected", "rejected: “not this week”")
    assert rows.loc[edited.id, "Outcome"] == "done · approved as 1.25 (asked 1.20)"
    at.session_state["my-requests"] = {"selection": {"rows": [list(rows.index).index(waiting.id)]}}
    at.run()
    assert f"**#{waiting.id} · update_bid · US · keyword #1 'yoga mat' (exact)**" in [m.value for m in at.markdown]
    assert "Rule: spend over $20 and no orders in 30 days" in texts(at)
    at.session_state["my-requests"] = {"selection": {"rows": [list(rows.index).index(edited.id)]}}
    at.run()  # the card says who asked for what, and who approved what instead
    assert ("Edited — bid: proposed 1.20 by seller@demo.local · approved as 1.25 by approver@demo.local"
            in [c.value for c in at.caption])
