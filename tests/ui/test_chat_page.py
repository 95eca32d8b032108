"""Chat page with the offline assistant: banner, quick actions, steps, inline cards; scope; edit & approve."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from console.chat_service import QUICK_ACTIONS
from mcp_bridge.agent.conversations import Conversations
from mcp_bridge.types import Source
from tests.ui.conftest import open_page


def us_keyword(runtime) -> tuple[int, float]:
    engine = create_engine(runtime.settings.market_database_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT id, bid FROM keywords WHERE site_id = 'us' AND state = 'enabled' "
                                    "AND bid >= 1 ORDER BY id DESC LIMIT 1")).one()
    finally:
        engine.dispose()
    return int(row[0]), float(row[1])


def badges(at) -> list[str]:
    """Status badges (st.badge renders as a markdown badge directive)."""
    return [m.value.split("[", 1)[1].rstrip("]") for m in at.markdown if "-badge[" in m.value]


def test_seller_sees_offline_banner_quick_actions_and_an_empty_state(app) -> None:
    at = open_page(app("seller@demo.local"), "chat")
    assert any(i.value.startswith("**Offline demo assistant**") for i in at.info)
    assert any("Start a conversation" in i.value for i in at.info)
    assert [b.label for b in at.button if (b.key or "").startswith("quick-")] == [label for label, _ in QUICK_ACTIONS]
    assert at.selectbox[0].label == "Conversation" and at.selectbox[0].value is None


def test_quick_action_runs_a_turn_with_tool_steps(app, ui_runtime) -> None:
    at = open_page(app("seller@demo.local"), "chat")
    at.button(key="quick-Low stock").click().run(timeout=120)
    assert not at.exception
    assert [m.value for m in at.chat_message[0].markdown] == ["Which products have under 7 days of supply?"]
    assistant = at.chat_message[1]
    assert any("Offline demo assistant" in m.value for m in assistant.markdown)
    assert any(e.label.startswith("analytics__get_inventory_alerts") for e in assistant.expander)
    caption = "\n".join(c.value for c in at.caption)
    assert "This conversation: 1 turn with the offline assistant — no tokens, no cost." in caption
    conversation = Conversations(ui_runtime.engine).list_for("seller@demo.local")[0]
    assert at.session_state["console"].conversation_id == conversation.id


def test_a_proposed_change_shows_as_a_card_with_live_status(app, ui_runtime) -> None:
    keyword_id, bid = us_keyword(ui_runtime)
    at = app("seller@demo.local")
    at.sidebar.selectbox[0].set_value("us").run()
    open_page(at, "chat")
    at.chat_input[0].set_value(f"lower the bid of keyword #{keyword_id} to {bid - 0.1:.2f}").run(timeout=120)
    assert not at.exception
    titles = [m.value for m in at.markdown if m.value.startswith("**#") and "update_bid · US" in m.value]
    assert len(titles) == 1
    op_id = int(titles[0].split("·")[0].strip("*# "))
    assert badges(at) == ["Waiting for approval"]
    ui_runtime.bridge.gate.reject(op_id, ui_runtime.users.caller("approver@demo.local"), "not this week")
    at.run()
    assert badges(at) == ["Rejected"]
    assert any("Rejected by **approver@demo.local**" in c.value and "not this week" in c.value for c in at.caption)


def test_conversations_and_sites_stay_within_the_sellers_scope(app, ui_runtime) -> None:
    Conversations(ui_runtime.engine).create(user="seller-jp@demo.local", site="jp", title="JP restock plan",
                                            model="offline")
    at = open_page(app("seller@demo.local"), "chat")
    assert not any("JP restock plan" in str(option) for option in at.selectbox[0].options)
    assert at.sidebar.selectbox[0].options == ["DE (EUR)", "US (USD)"]
    jp = open_page(app("seller-jp@demo.local"), "chat")
    assert any("JP restock plan" in str(option) for option in jp.selectbox[0].options)


def test_edit_and_approve_runs_the_edited_write_once(app, ui_runtime) -> None:
    keyword_id, bid = us_keyword(ui_runtime)
    seller = ui_runtime.users.caller("seller@demo.local")
    outcome = ui_runtime.bridge.call(seller, "ads__update_bid", {"site": "us", "keyword_id": keyword_id,
                                                                 "bid": round(bid - 0.2, 2)}, source=Source("ui"))
    assert outcome.status == "pending", outcome.text
    op_id = outcome.operation_id
    at = open_page(app("approver@demo.local"), "approvals")
    edited = round(bid - 0.1, 2)
    at.text_input(key="queue-search").input(f"#{op_id}").run()  # the queue's row, ticked, opens its card
    at.session_state[next(df.key for df in at.dataframe if (df.key or "").startswith("queue-"))] = {
        "selection": {"rows": [0]}}
    at.run()
    at.number_input(key=f"edit-{op_id}-bid").set_value(edited)
    [b for b in at.button if b.form_id == f"edit-{op_id}"][0].click().run(timeout=120)
    assert not at.exception
    op = ui_runtime.bridge.gate.get(op_id)
    assert (op.status, op.decided_by, op.arguments["bid"]) == ("succeeded", "approver@demo.local", edited)
    assert f"Approved #{op_id} with your edit." in [s.value for s in at.success]
    assert [r.event for r in ui_runtime.bridge.audit.query(tool="ads__update_bid", limit=5)][:3] == [
        "executed", "approved", "edited"]


def test_a_card_edited_by_the_approver_reads_approved_as(app, ui_runtime) -> None:
    engine = create_engine(ui_runtime.settings.market_database_url)
    try:
        with engine.connect() as conn:
            keyword_id, bid = conn.execute(text("SELECT id, bid FROM keywords WHERE site_id = 'us' AND state = 'enabled' "
                                                "AND bid >= 1 ORDER BY id DESC LIMIT 1 OFFSET 5")).one()
    finally:
        engine.dispose()
    at = app("seller@demo.local")
    at.sidebar.selectbox[0].set_value("us").run()
    open_page(at, "chat")
    asked = round(bid - 0.1, 2)
    at.chat_input[0].set_value(f"lower the bid of keyword #{keyword_id} to {asked:.2f}").run(timeout=120)
    titles = [m.value for m in at.markdown if m.value.startswith("**#") and "update_bid · US" in m.value]
    op_id = int(titles[-1].split("·")[0].strip("*# "))
    assert "Evidence: " in "\n".join(c.value for c in at.caption)  # every card says what justifies it, or that nothing does
    op = ui_runtime.bridge.gate.get(op_id)
    approved = round(bid - 0.05, 2)
    ui_runtime.bridge.gate.approve(op_id, ui_runtime.users.caller("approver@demo.local"),
                                   arguments={**op.arguments, "bid": approved})
    at.run()
    assert (f"Edited — bid: proposed {asked:.2f} by seller@demo.local · approved as {approved:.2f} by "
            "approver@demo.local") in [c.value for c in at.caption]
