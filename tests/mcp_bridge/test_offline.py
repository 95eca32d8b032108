"""The offline assistant end to end: real bridge, real stdio servers, the seeded demo market; English and Chinese."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import update

from mcp_bridge.agent.conversations import Conversations
from mcp_bridge.agent.offline.assistant import LABEL, OfflineAgent
from mcp_bridge.store import OperationRow
from tests.support.chat import market_rows, open_chat_runtime, run_turn
from tests.support.market import copy_sqlite

TODAY = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def env(market_template, tmp_path_factory):
    """One runtime for the module: the offline turns only read and propose (the market changes only in `fresh`)."""
    folder = tmp_path_factory.mktemp("offline")
    copy_sqlite(market_template, folder / "market.db")
    market_url = f"sqlite:///{folder / 'market.db'}"
    runtime = open_chat_runtime(f"sqlite:///{folder / 'console.db'}", market_url)
    agent = OfflineAgent(runtime.bridge, Conversations(runtime.engine), today=TODAY)
    seller = runtime.users.caller("seller@demo.local", "chat")
    yield runtime, agent, seller, market_url
    runtime.close()


@pytest.fixture(autouse=True)
def empty_queue(env):
    """Each test starts with nothing waiting: two tests proposing the same change would otherwise file it once."""
    yield
    with env[0].bridge.store.write() as s:
        s.execute(update(OperationRow).where(OperationRow.status == "proposed").values(status="expired"))


def ask(env, text, site="us"):
    runtime, agent, seller, _ = env
    result = run_turn(agent, seller, text, site=site)
    assert result.text.startswith(f"*{LABEL}*")
    assert result.usage.cost_usd == 0
    return result


def table_rows(text):
    return [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| id ")
            and not re.match(r"\| (#|SKU|fix|metric|指标|search term|搜索词|处理) \|", line)]


def ops_of(env, result):
    runtime = env[0]
    (batch,) = result.batch_ids
    ops = sorted(runtime.bridge.gate.list(batch_id=batch), key=lambda o: o.id)
    assert sorted(o.id for o in ops) == sorted(e.operation_id for e in result.proposed)
    assert {o.status for o in ops} == {"proposed"} and {o.source_kind for o in ops} == {"chat"}
    assert {o.source_ref for o in ops} == {result.conversation_id}
    return ops


@pytest.mark.parametrize("text", ["show the 5 campaigns with the highest ACOS in the last 7 days", "过去7天ACOS最高的5个广告活动"])
def test_top_campaigns_by_acos(env, text):
    result = ask(env, text)
    assert result.tools == [("ads__list_campaigns", {"site": "us", "start_date": "2026-11-13", "end_date": "2026-11-19",
                                                     "sort_by": "acos", "descending": True, "limit": 100})]
    rows = table_rows(result.text)
    assert len(rows) == 5
    acos = [float(r.split("|")[6].strip().rstrip("%")) for r in rows]
    assert acos == sorted(acos, reverse=True)
    assert ("highest ACOS" in result.text) if text.startswith("show") else ("ACOS 最高" in result.text)


@pytest.mark.parametrize("text", ["哪些关键词的 ACOS > 30%?", "which keywords have ACOS above 30%?"])
def test_keywords_over_an_acos(env, text):
    result = ask(env, text)
    ((name, args),) = result.tools
    assert name == "ads__list_keywords" and args["min_acos"] == 0.30
    rows = table_rows(result.text)
    assert rows and all(float(r.split("|")[8].strip().rstrip("%")) > 30 for r in rows)
    assert ("启用的关键词" in result.text) == text.startswith("哪些")


@pytest.mark.parametrize("text", ["lower the bid of keyword 'premium camping lantern' to $1.20",
                                  "把关键词 'premium camping lantern' 的出价降到 1.20"])
def test_lower_a_bid_by_keyword_text(env, text):
    market_url = env[3]
    (kid, bid), *_ = market_rows(market_url, "SELECT id, bid FROM keywords WHERE site_id='us' AND text='premium camping lantern' "
                                             "AND state='enabled' ORDER BY id")
    result = ask(env, text)
    assert [t[0] for t in result.tools] == ["ads__list_keywords", "ads__update_bid"]
    (op,) = ops_of(env, result)
    assert (op.tool, op.arguments) == ("update_bid", {"site": "us", "keyword_id": kid, "bid": 1.2})
    assert (op.preview["before"], op.preview["after"]) == ({"bid": bid}, {"bid": 1.2})
    assert market_rows(market_url, "SELECT bid FROM keywords WHERE id=:k", k=kid) == [(bid,)]  # not before approval
    assert f"pending approval #{op.id}" in result.text


def test_lower_a_bid_by_id_and_absurd_bids_are_refused(env):
    market_url = env[3]
    (kid, bid), *_ = market_rows(market_url, "SELECT id, bid FROM keywords WHERE site_id='us' AND state='enabled' AND bid > 1 ORDER BY id")
    result = ask(env, f"set the bid of keyword {kid} to $50")
    assert result.proposed == []
    assert "Refused: VALIDATION_FAILED" in result.text and "limit" in result.text
    result = ask(env, f"set the bid of keyword {kid} to ${round(bid * 0.9, 2)}")
    (op,) = ops_of(env, result)
    assert op.preview["after"] == {"bid": round(bid * 0.9, 2)}


def test_an_ambiguous_keyword_is_not_guessed(env):
    result = ask(env, "lower the bid of keyword 'camping' to $1.00")
    assert result.proposed == [] and "Say which one by id" in result.text


@pytest.mark.parametrize("text", ["把 'free' 添加为否定词", "add 'free' as a negative keyword"])
def test_negative_keyword_in_the_sites_auto_campaigns(env, text):
    market_url = env[3]
    autos = market_rows(market_url, "SELECT id FROM campaigns WHERE site_id='us' AND targeting='auto' AND state='enabled' ORDER BY id")
    result = ask(env, text)
    ops = ops_of(env, result)
    assert sorted(o.arguments["campaign_id"] for o in ops) == [a for (a,) in autos]
    assert {(o.tool, o.arguments["text"], o.arguments["match_type"]) for o in ops} == {("create_negative", "free", "negative_exact")}
    assert market_rows(market_url, "SELECT count(*) FROM negative_keywords WHERE text='free'") == [(0,)]


def test_negative_keyword_in_a_named_campaign(env):
    result = ask(env, "add 'cheap' as a phrase negative in campaign 3")
    (op,) = ops_of(env, result)
    assert op.arguments == {"site": "us", "campaign_id": 3, "text": "cheap", "match_type": "negative_phrase", "ad_group_id": None} \
        or op.arguments == {"site": "us", "campaign_id": 3, "text": "cheap", "match_type": "negative_phrase"}


@pytest.mark.parametrize("text", ["which products have under 7 days of supply?", "哪些产品库存不足7天?"])
def test_days_of_supply(env, text):
    result = ask(env, text)
    assert result.tools == [("analytics__get_inventory_alerts", {"site": "us", "days_threshold": 7, "limit": 50})]
    rows = table_rows(result.text)
    assert rows and all(r.split("|")[6].strip() in ("—",) or float(r.split("|")[6]) < 7 for r in rows)
    assert result.proposed == []


@pytest.mark.parametrize("text", ["generate this week's ad report", "生成本周广告报告"])
def test_weekly_report(env, text):
    result = ask(env, text)
    assert result.tools == [("analytics__get_weekly_report_data", {"site": "us", "week_end": "2026-11-19"})]
    heading = "Weekly ad report" if text.startswith("generate") else "每周广告报告"
    assert f"## {heading} — us, 2026-11-13 to 2026-11-19" in result.text or f"## {heading} — us，2026-11-13 至 2026-11-19" in result.text
    for word in ("ACOS", "ROAS"):
        assert word in result.text
    assert result.proposed == []


@pytest.mark.parametrize("text", ["harvest search terms", "收割搜索词"])
def test_harvest(env, text):
    result = ask(env, text)
    ops = ops_of(env, result)
    # An ASIN term becomes a product target, any other an exact keyword; each gets its negative exact in the auto campaign.
    keywords = [o for o in ops if o.tool in ("create_keyword", "create_product_target")]
    negatives = [o for o in ops if o.tool == "create_negative"]
    assert keywords and len(keywords) == len(negatives)
    assert {o.arguments["match_type"] for o in keywords if o.tool == "create_keyword"} == {"exact"}
    assert {o.arguments["match_type"] for o in negatives} == {"negative_exact"}
    assert [(o.arguments.get("text") or o.arguments["asin"]).lower() for o in keywords] == [
        o.arguments["text"].lower() for o in negatives]


def test_harvest_preview_only_when_asked_to_show(env):
    result = ask(env, "show search terms worth adding as exact keywords")
    assert result.proposed == [] and "harvest these search terms" in result.text


@pytest.mark.parametrize("text", ["clean up wasted spend", "清理浪费的花费"])
def test_wasted_spend(env, text):
    result = ask(env, text)
    ops = ops_of(env, result)
    assert {o.tool for o in ops} <= {"pause_keyword", "update_bid", "create_negative"} and "pause_keyword" in {o.tool for o in ops}
    for op in ops:
        if op.tool == "update_bid":
            assert op.preview["after"]["bid"] == pytest.approx(op.preview["before"]["bid"] / 2, abs=0.011)


@pytest.mark.parametrize("text", ["move budget between campaigns", "调整预算分配"])
def test_budget_pacing(env, text):
    result = ask(env, text)
    ops = ops_of(env, result)
    assert {o.tool for o in ops} == {"update_campaign"}
    ups = [o for o in ops if o.preview["after"]["daily_budget"] > o.preview["before"]["daily_budget"]]
    downs = [o for o in ops if o.preview["after"]["daily_budget"] < o.preview["before"]["daily_budget"]]
    assert ups and downs


def test_budget_pacing_question_only_reads(env):
    result = ask(env, "Which campaigns run out of budget early and which use under half of it?")
    assert result.proposed == [] and [t[0] for t in result.tools] == ["analytics__get_budget_pacing"]


@pytest.mark.parametrize("text", ["optimise bids", "优化出价"])
def test_bid_optimisation(env, text):
    result = ask(env, text)
    assert [t[0] for t in result.tools][0] == "analytics__get_acos_alerts"
    assert result.proposed or "Refused" in result.text or "被拒绝" in result.text


@pytest.mark.parametrize("text", ["pause ads of out-of-stock SKUs", "暂停缺货SKU的广告"])
def test_pause_ads_of_out_of_stock_skus(env, text):
    result = ask(env, text)
    ops = ops_of(env, result)
    assert {o.tool for o in ops} == {"pause_product_ads"}
    for op in ops:
        available = market_rows(env[3], "SELECT i.on_hand - i.reserved FROM inventory_levels i JOIN variants v ON v.id = i.variant_id "
                                        "WHERE v.site_id='us' AND v.sku=:sku", sku=op.arguments["sku"])
        assert available[0][0] <= 0


@pytest.mark.parametrize("text", ["mark today's orders shipped", "把今天的订单标记为已发货"])
def test_orders_to_ship_are_listed_with_what_is_needed(env, text):
    result = ask(env, text)
    assert result.proposed == []
    assert ("tracking number" in result.text) or ("运单号" in result.text)
    assert len(table_rows(result.text)) > 0


def test_ship_orders_with_tracking(env):
    market_url = env[3]
    (a, na), (b, nb) = market_rows(market_url, "SELECT id, number FROM orders WHERE site_id='us' AND status='paid' ORDER BY id DESC LIMIT 2")
    result = ask(env, f"ship {na} via UPS 1Z999AA10123456784\n订单 {nb} 通过 DHL 4431234567 发货")
    ops = ops_of(env, result)
    assert [(o.tool, o.arguments["order_id"], o.arguments["carrier"]) for o in ops] == [
        ("mark_order_shipped", a, "UPS"), ("mark_order_shipped", b, "DHL")]
    assert market_rows(market_url, "SELECT status FROM orders WHERE id IN (:a, :b)", a=a, b=b) == [("paid",), ("paid",)]


@pytest.mark.parametrize(("text", "words"), [("write me a poem about yoga mats", "did not understand"),
                                             ("今天天气怎么样", "没有理解")])
def test_what_it_cannot_understand_it_says_plainly(env, text, words):
    result = ask(env, text)
    assert result.tools == [] and words in result.text and "ANTHROPIC_API_KEY" in result.text
    assert "lower the bid of keyword" in result.text or "出价降到" in result.text


def test_turns_are_kept_as_a_conversation(env):
    runtime, agent, seller, _ = env
    first = run_turn(agent, seller, "哪些关键词的 ACOS > 50%?")
    second = run_turn(agent, seller, "把 'gratis' 添加为否定词", conversation_id=first.conversation_id)
    conv = agent.conversations.get(first.conversation_id, user=seller.user)
    assert (conv.turns, conv.model, conv.totals.cost_usd) == (2, "offline", 0.0)
    messages = agent.conversations.messages(first.conversation_id)
    uses = [b["id"] for m in messages for b in m["content"] if b["type"] == "tool_use"]
    results = [b["tool_use_id"] for m in messages for b in m["content"] if b["type"] == "tool_result"]
    assert uses == results and len(uses) == len(first.tools) + len(second.tools)
    assert [b["text"] for m in messages if m["role"] == "user" for b in m["content"] if b["type"] == "text"] == [
        "哪些关键词的 ACOS > 50%?", "把 'gratis' 添加为否定词"]


def test_approving_an_offline_batch_applies_it_once_and_audits_it(tmp_path, market_url):
    runtime = open_chat_runtime(f"sqlite:///{tmp_path / 'console.db'}", market_url)
    try:
        agent = OfflineAgent(runtime.bridge, Conversations(runtime.engine), today=TODAY)
        seller = runtime.users.caller("seller@demo.local", "chat")
        result = run_turn(agent, seller, "把 'free' 添加为否定词")
        assert len(result.batch_ids) == 1, result.text
        (batch,) = result.batch_ids
        assert market_rows(market_url, "SELECT count(*) FROM negative_keywords WHERE text='free'") == [(0,)]
        approver = runtime.users.caller("approver@demo.local", "ui")
        items = runtime.bridge.gate.approve_batch(batch, approver)
        assert {i.status for i in items} == {"succeeded"} and len(items) == len(result.proposed)
        again = runtime.bridge.gate.approve_batch(batch, approver)
        assert {i.code for i in again} == {"CONFLICT"}
        assert market_rows(market_url, "SELECT count(*) FROM negative_keywords WHERE text='free'") == [(len(items),)]
        executed = runtime.bridge.audit.query(event="executed", limit=50)
        assert len([r for r in executed if r.outcome == "succeeded"]) == len(items)
        assert runtime.bridge.audit.verify().ok
    finally:
        runtime.close()
