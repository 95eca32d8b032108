"""DESIGN.md §6 end to end: the real SDK against the scripted Messages stub, the real Bridge and stdio servers.

Each playbook: the reads happen, the writes land in the approval queue as one batch with the right before → after,
the market database does not change until approval, and after approval the change is there exactly once, audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from console.settings import DEFAULT_PRICES
from mcp_bridge.agent.conversations import Conversations
from mcp_bridge.agent.loop import Agent, AgentConfig
from tests.support.chat import TurnResult, market_rows, run_turn
from tests.support.messages_stub import Recorded, Reply, ToolCall, unframe

TODAY = dt.date(2026, 11, 20)
LAST_30 = {"site": "us", "start_date": "2026-10-21", "end_date": "2026-11-19"}
LAST_14 = {"site": "us", "start_date": "2026-11-06", "end_date": "2026-11-19"}


@pytest.fixture
def claude(chat_runtime, messages_stub):
    config = AgentConfig(api_key="sk-ant-test", base_url=messages_stub.base_url, prices=DEFAULT_PRICES, today=TODAY)
    return Agent(chat_runtime.bridge, config, Conversations(chat_runtime.engine))


@pytest.fixture
def seller(chat_runtime):
    return chat_runtime.users.caller("seller@demo.local", "chat")


def then(build: Callable[[Recorded], list[ToolCall]], text: str = "") -> Callable[[Recorded], Reply]:
    """A scripted model step that decides its tool calls from the tool results it was sent."""
    return lambda request: Reply(text=text, tool_calls=build(request))


def write_batch(runtime, result: TurnResult, tools: set[str]) -> list[Any]:
    """The turn's operations: one batch, all proposed from this conversation, nothing applied yet."""
    assert not result.errors, result.errors
    assert len(result.batch_ids) == 1, [(f.name, f.status, f.summary) for f in result.finished]
    (batch,) = result.batch_ids
    ops = sorted(runtime.bridge.gate.list(batch_id=batch), key=lambda o: o.id)
    assert [o.id for o in ops] == sorted(e.operation_id for e in result.proposed) and ops
    assert {o.status for o in ops} == {"proposed"} and {o.tool for o in ops} == tools
    assert {(o.proposer, o.source_kind, o.source_ref) for o in ops} == {("seller@demo.local", "chat", result.conversation_id)}
    return ops


def approve_once(runtime, ops: list[Any], market_url: str) -> None:
    """Approve the batch, check each operation ran once, a second approval runs nothing, and the audit has it all."""
    approver = runtime.users.caller("approver@demo.local", "ui")
    items = runtime.bridge.gate.approve_batch(ops[0].batch_id, approver)
    assert {(i.status, i.code) for i in items} == {("succeeded", None)}, items
    again = runtime.bridge.gate.approve_batch(ops[0].batch_id, approver)
    assert {i.code for i in again} == {"CONFLICT"}
    # each operation's token nonce spent once in the server's ledger: each applied exactly once
    keys = market_rows(market_url, "SELECT idempotency_key FROM applied_writes")
    assert sorted(k for (k,) in keys) == sorted(runtime.bridge.gate.get(o.id).nonce for o in ops)
    for event in ("proposed", "approved", "executed"):
        rows = runtime.bridge.audit.query(event=event, limit=500)
        audited = {(r.detail or {}).get("operation_id") for r in rows}
        assert {o.id for o in ops} <= audited, event
    assert runtime.bridge.audit.verify().ok


def test_search_term_harvesting(claude, chat_runtime, seller, messages_stub, market_url):
    def propose(request: Recorded) -> list[ToolCall]:
        items = [t for t in request.tool_data("analytics__find_harvest_candidates")["items"]
                 if t["target_ad_group_id"] and not t["negative_in_auto"]]
        assert items
        calls = []
        for t in items:
            calls.append(ToolCall("ads__create_keyword", {"site": "us", "ad_group_id": t["target_ad_group_id"],
                                                          "text": t["search_term"], "match_type": "exact", "bid": t["suggested_bid"]}))
            calls.append(ToolCall("ads__create_negative", {"site": "us", "campaign_id": t["campaign_id"], "text": t["search_term"],
                                                           "match_type": "negative_exact"}))
        return calls

    messages_stub.tools(("analytics__find_harvest_candidates", LAST_30), text="Looking for converting search terms.")
    messages_stub.reply(then(propose, "Proposing exact keywords and negatives."))
    messages_stub.text("These harvests are pending approval.")
    result = run_turn(claude, seller, "Harvest the search terms from my auto campaigns")
    ops = write_batch(chat_runtime, result, {"create_keyword", "create_negative"})
    keywords = [o for o in ops if o.tool == "create_keyword"]
    for op in keywords:
        assert op.preview["before"] == {}
        assert {k: op.preview["after"][k] for k in ("text", "match_type", "bid")} == {
            "text": op.arguments["text"], "match_type": "exact", "bid": op.arguments["bid"]}
    texts = [o.arguments["text"] for o in keywords]
    count = "SELECT count(*) FROM keywords WHERE site_id='us' AND match_type='exact' AND text=:t"
    negatives = "SELECT count(*) FROM negative_keywords WHERE site_id='us' AND match_type='negative_exact' AND text=:t"
    before = {t: (market_rows(market_url, count, t=t)[0][0], market_rows(market_url, negatives, t=t)[0][0]) for t in texts}
    assert all(v == (0, 0) for v in before.values())

    approve_once(chat_runtime, ops, market_url)
    for op in keywords:
        rows = market_rows(market_url, "SELECT ad_group_id, bid, state FROM keywords WHERE site_id='us' AND match_type='exact' "
                                       "AND text=:t", t=op.arguments["text"])
        assert rows == [(op.arguments["ad_group_id"], op.arguments["bid"], "enabled")]
        assert market_rows(market_url, negatives, t=op.arguments["text"]) == [(1,)]


def test_wasted_spend_clean_up(claude, chat_runtime, seller, messages_stub, market_url):
    def propose(request: Recorded) -> list[ToolCall]:
        items = request.tool_data("analytics__find_wasted_spend")["items"]
        calls = []
        for w in items:
            if w["suggested_action"] == "pause":
                calls.append(ToolCall("ads__pause_keyword", {"site": "us", "keyword_id": w["keyword_id"]}))
            elif w["suggested_action"] == "cut_bid":
                calls.append(ToolCall("ads__update_bid", {"site": "us", "keyword_id": w["keyword_id"], "bid": w["suggested_bid"]}))
        assert {c.name for c in calls} == {"ads__pause_keyword", "ads__update_bid"}
        return calls

    messages_stub.tools(("analytics__find_wasted_spend", {**LAST_30, "level": "keyword", "limit": 8}))
    messages_stub.reply(then(propose)).text("Pauses and bid cuts are pending approval.")
    result = run_turn(claude, seller, "Clean up wasted spend")
    ops = write_batch(chat_runtime, result, {"pause_keyword", "update_bid"})
    before = {o.arguments["keyword_id"]: market_rows(market_url, "SELECT state, bid FROM keywords WHERE id=:k",
                                                     k=o.arguments["keyword_id"])[0] for o in ops}
    for op in ops:
        state, bid = before[op.arguments["keyword_id"]]
        if op.tool == "pause_keyword":
            assert (op.preview["before"], op.preview["after"]) == ({"state": "enabled"}, {"state": "paused"})
        else:
            assert op.preview["before"] == {"bid": bid} and op.preview["after"]["bid"] == pytest.approx(bid / 2, abs=0.011)
    approve_once(chat_runtime, ops, market_url)
    for op in ops:
        state, bid = market_rows(market_url, "SELECT state, bid FROM keywords WHERE id=:k", k=op.arguments["keyword_id"])[0]
        if op.tool == "pause_keyword":
            assert state == "paused"
        else:
            assert bid == op.arguments["bid"]


def test_budget_allocation(claude, chat_runtime, seller, messages_stub, market_url):
    def propose(request: Recorded) -> list[ToolCall]:
        rows = [r for r in request.tool_data("analytics__get_budget_pacing")["items"] if r["status"] != "ok" and r["suggested_budget"]]
        assert {r["status"] for r in rows} == {"exhausted_early", "under_utilised"}
        return [ToolCall("ads__update_campaign", {"site": "us", "campaign_id": r["campaign_id"], "daily_budget": r["suggested_budget"]})
                for r in rows]

    messages_stub.tools(("analytics__get_budget_pacing", LAST_14)).reply(then(propose)).text("Budget moves are pending approval.")
    result = run_turn(claude, seller, "Move budget from campaigns that don't use it to the ones that run out early")
    ops = write_batch(chat_runtime, result, {"update_campaign"})
    budgets = {o.arguments["campaign_id"]: market_rows(market_url, "SELECT daily_budget FROM campaigns WHERE id=:c",
                                                       c=o.arguments["campaign_id"])[0][0] for o in ops}
    for op in ops:
        assert op.preview["before"] == {"daily_budget": budgets[op.arguments["campaign_id"]]}
        assert op.preview["after"] == {"daily_budget": op.arguments["daily_budget"]}
    assert any(o.arguments["daily_budget"] > budgets[o.arguments["campaign_id"]] for o in ops)
    assert any(o.arguments["daily_budget"] < budgets[o.arguments["campaign_id"]] for o in ops)
    approve_once(chat_runtime, ops, market_url)
    for op in ops:
        assert market_rows(market_url, "SELECT daily_budget FROM campaigns WHERE id=:c", c=op.arguments["campaign_id"]) == [
            (op.arguments["daily_budget"],)]


def test_bid_optimisation(claude, chat_runtime, seller, messages_stub, market_url):
    def propose(request: Recorded) -> list[ToolCall]:
        alerts = [a for m in request.messages if m["role"] == "user" for b in m["content"] if b["type"] == "tool_result"
                  for a in unframe(b)["items"]]
        calls = []
        for a in alerts:
            if not a["suggested_bid"] or not a["bid"]:
                continue
            # the site's limits: at most ±50% and ±2.00 per operation
            bid = round(min(max(a["suggested_bid"], a["bid"] * 0.5, a["bid"] - 2), a["bid"] * 1.5, a["bid"] + 2), 2)
            if bid != a["bid"]:
                calls.append(ToolCall("ads__update_bid", {"site": "us", "keyword_id": a["id"], "bid": bid}))
        assert {a["direction"] for a in alerts} == {"over", "under"}
        return calls

    messages_stub.tools(("analytics__get_acos_alerts", {**LAST_30, "direction": "over", "min_spend": 5, "limit": 4}),
                        ("analytics__get_acos_alerts", {**LAST_30, "direction": "under", "min_spend": 5, "limit": 2}))
    messages_stub.reply(then(propose)).text("Bid changes toward the ACOS target are pending approval.")
    result = run_turn(claude, seller, "Optimise my bids toward the ACOS target")
    ops = write_batch(chat_runtime, result, {"update_bid"})
    bids = {o.arguments["keyword_id"]: market_rows(market_url, "SELECT bid FROM keywords WHERE id=:k",
                                                   k=o.arguments["keyword_id"])[0][0] for o in ops}
    assert {(o.preview["before"]["bid"], o.preview["after"]["bid"]) for o in ops} == {
        (bids[o.arguments["keyword_id"]], o.arguments["bid"]) for o in ops}
    assert any(o.arguments["bid"] < bids[o.arguments["keyword_id"]] for o in ops)
    assert any(o.arguments["bid"] > bids[o.arguments["keyword_id"]] for o in ops)
    approve_once(chat_runtime, ops, market_url)
    for op in ops:
        assert market_rows(market_url, "SELECT bid FROM keywords WHERE id=:k", k=op.arguments["keyword_id"]) == [(op.arguments["bid"],)]


def test_weekly_report(claude, chat_runtime, seller, messages_stub, market_url):
    def summarise(request: Recorded) -> Reply:
        data = request.tool_data("analytics__get_weekly_report_data")
        top = data["top_keywords"][0]["text"]
        return Reply(text=f"Spend {data['current']['spend']:.2f} vs {data['previous']['spend']:.2f} last week; top keyword: {top}.")

    messages_stub.tools(("analytics__get_weekly_report_data", {"site": "us", "week_end": "2026-11-19"}))
    messages_stub.reply(summarise)
    result = run_turn(claude, seller, "Generate this week's ad report")
    assert [(f.name, f.status) for f in result.finished] == [("analytics__get_weekly_report_data", "ok")]
    assert result.text.startswith("Spend ") and "top keyword:" in result.text
    assert result.proposed == [] and chat_runtime.bridge.gate.list(limit=10) == []
    assert market_rows(market_url, "SELECT count(*) FROM applied_writes") == [(0,)]


def test_inventory_reorder_and_pause_ads_of_empty_skus(claude, chat_runtime, seller, messages_stub, market_url):
    def propose(request: Recorded) -> list[ToolCall]:
        empty = request.tool_data("analytics__get_inventory_alerts")["items"]
        skus = sorted({i["sku"] for i in empty if i["out_of_stock"] and i["live_ads"]})
        assert skus
        return [ToolCall("ads__pause_product_ads", {"site": "us", "sku": sku}) for sku in skus]

    messages_stub.tools(("commerce__get_inventory_levels", {"site": "us", "max_days_of_supply": 7, "limit": 50}),
                        ("analytics__get_inventory_alerts", {"site": "us", "only_out_of_stock_with_ads": True}))
    messages_stub.reply(then(propose)).text("Reorder the SKUs listed; pausing ads of the empty ones is pending approval.")
    result = run_turn(claude, seller, "Which SKUs run out within a week, and stop advertising the empty ones")
    assert [f.status for f in result.finished[:2]] == ["ok", "ok"]
    ops = write_batch(chat_runtime, result, {"pause_product_ads"})
    live = "SELECT count(*) FROM product_ads WHERE site_id='us' AND sku=:s AND state='enabled'"
    for op in ops:
        assert market_rows(market_url, live, s=op.arguments["sku"])[0][0] > 0
        assert set(op.preview["after"].values()) == {"paused"}
    approve_once(chat_runtime, ops, market_url)
    for op in ops:
        assert market_rows(market_url, live, s=op.arguments["sku"]) == [(0,)]


def test_orders_marked_shipped(claude, chat_runtime, seller, messages_stub, market_url):
    def propose(request: Recorded) -> list[ToolCall]:
        orders = request.tool_data("commerce__list_orders")["orders"][:3]
        assert orders and {o["status"] for o in orders} == {"paid"}
        return [ToolCall("commerce__mark_order_shipped", {"site": "us", "order_id": o["id"], "carrier": "UPS",
                                                          "tracking_number": f"1ZTEST{o['id']:08d}"}) for o in orders]

    messages_stub.tools(("commerce__list_orders", {"site": "us", "status": "paid", "start_date": "2026-11-20", "end_date": "2026-11-20"}))
    messages_stub.reply(then(propose)).text("Shipping confirmations are pending approval.")
    result = run_turn(claude, seller, "Mark today's paid orders shipped with UPS")
    ops = write_batch(chat_runtime, result, {"mark_order_shipped"})
    stock_before = dict(market_rows(market_url, "SELECT v.sku, i.on_hand FROM inventory_levels i JOIN variants v "
                                                "ON v.id = i.variant_id WHERE i.site_id = 'us'"))
    for op in ops:
        after = op.preview["after"]
        assert op.preview["before"]["status"] == "paid" and {k: after[k] for k in ("status", "carrier", "tracking_number")} == {
            "status": "shipped", "carrier": "UPS", "tracking_number": op.arguments["tracking_number"]}
        assert any(k.startswith("on_hand[") for k in after)  # the approver sees the stock it takes
        assert market_rows(market_url, "SELECT status FROM orders WHERE id=:o", o=op.arguments["order_id"]) == [("paid",)]
    approve_once(chat_runtime, ops, market_url)
    shipped_units: dict[str, int] = {}
    for op in ops:
        for sku, units in market_rows(market_url, "SELECT sku, SUM(quantity) FROM order_items WHERE order_id=:o GROUP BY sku",
                                      o=op.arguments["order_id"]):
            shipped_units[sku] = shipped_units.get(sku, 0) + units
    stock_after = dict(market_rows(market_url, "SELECT v.sku, i.on_hand FROM inventory_levels i JOIN variants v "
                                               "ON v.id = i.variant_id WHERE i.site_id = 'us'"))
    assert {sku: stock_before[sku] - stock_after[sku] for sku in shipped_units} == shipped_units
    for op in ops:
        assert market_rows(market_url, "SELECT status, carrier, tracking_number FROM orders WHERE id=:o", o=op.arguments["order_id"]) == [
            ("shipped", "UPS", op.arguments["tracking_number"])]
