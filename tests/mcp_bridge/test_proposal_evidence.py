"""Evidence filed with proposals: the target's metrics read through the bridge, under the rule or chat request behind it.

Real ads and analytics servers over stdio on a copy of the seeded demo market (today 2026-11-20).
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import update

from console.settings import DEFAULT_PRICES
from mcp_bridge.agent.conversations import Conversations
from mcp_bridge.agent.loop import Agent, AgentConfig
from mcp_bridge.agent.offline.assistant import OfflineAgent
from mcp_bridge.catalog.pins import ToolPin
from mcp_bridge.scrub import REQUEST_CHARS, request_evidence
from mcp_bridge.store import Store
from mcp_bridge.types import Source
from mcp_bridge.writes import EVIDENCE_TOOL
from tests.support.chat import run_turn
from tests.support.console_db import make_runtime, market_value
from tests.support.market import copy_sqlite

TODAY = dt.date(2026, 11, 20)
WINDOW_30 = {"start": "2026-10-22", "end": "2026-11-20", "days": 30}


@pytest.fixture(scope="module")
def env(market_template, tmp_path_factory):
    """One runtime for the module (each test proposes on its own keyword, so no proposal waits on another's)."""
    folder = tmp_path_factory.mktemp("evidence")
    copy_sqlite(market_template, folder / "market.db")
    market_url = f"sqlite:///{folder / 'market.db'}"
    runtime = make_runtime(f"sqlite:///{folder / 'console.db'}", market_url, servers=("ads", "analytics"))
    yield runtime, market_url
    runtime.close()


@pytest.fixture(scope="module")
def keywords(env):
    """Enabled us keywords with sales in the last 30 days, with a bid that leaves room to lower it; one per test."""
    return market_value(env[1], "SELECT k.id, k.text, k.match_type, k.bid FROM keywords k WHERE k.site_id = 'us' "
                                "AND k.state = 'enabled' AND k.bid >= 0.5 AND EXISTS (SELECT 1 FROM keyword_daily_metrics m "
                                "WHERE m.keyword_id = k.id AND m.sales > 0 AND m.date >= '2026-10-22') ORDER BY k.id LIMIT 20")


def seller(env):
    return env[0].users.caller("seller@demo.local", "chat")


def keyword_metrics(market_url: str, keyword_id: int, start: str, end: str) -> dict:
    """The keyword's metrics over [start, end], worked out here from the raw rows."""
    ((imp, clk, spend, orders, sales),) = market_value(
        market_url, "SELECT coalesce(sum(impressions), 0), coalesce(sum(clicks), 0), coalesce(sum(spend), 0), "
                    "coalesce(sum(orders), 0), coalesce(sum(sales), 0) FROM keyword_daily_metrics "
                    "WHERE keyword_id = :k AND date BETWEEN :s AND :e", k=keyword_id, s=start, e=end)
    return {"impressions": imp, "clicks": clk, "spend": round(spend, 2), "orders": orders, "sales": round(sales, 2),
            "acos": round(spend / sales, 4) if sales else None, "cpc": round(spend / clk, 4) if clk else None,
            "ctr": round(clk / imp, 6) if imp else None, "cvr": round(orders / clk, 4) if clk else None}


def keyword_evidence(market_url: str, row: tuple, window: dict = WINDOW_30) -> dict:
    kid, text, match, _ = row
    kind = "keyword" if match in ("exact", "phrase", "broad") else "target"  # "auto": an auto campaign's target
    return {"kind": kind, "label": f"{kind} '{text}' ({match})",
            "window": window, "metrics": keyword_metrics(market_url, kid, window["start"], window["end"]),
            "rule": None, "rule_text": None, "currency": "USD"}


def audit_rows(runtime, tool: str) -> list:
    runtime.bridge.calls.flush()
    return list(reversed(runtime.bridge.audit.query(tool=tool, limit=100)))


def propose_bid(env, row: tuple, source: Source):
    kid, _, _, bid = row
    outcome = env[0].bridge.call(seller(env), "ads__update_bid", {"site": "us", "keyword_id": kid, "bid": round(bid * 0.8, 2)},
                                 source=source)
    assert outcome.status == "pending", outcome.text
    return env[0].bridge.gate.get(outcome.operation_id)


def test_an_offline_chat_proposal_files_the_keywords_metrics_and_the_request(env):
    runtime, market_url = env
    (row,) = market_value(market_url, "SELECT id, text, match_type, bid FROM keywords WHERE site_id = 'us' "
                                      "AND text = 'premium camping lantern' AND state = 'enabled' ORDER BY id LIMIT 1")
    text = "lower the bid of keyword 'premium camping lantern' to $1.20"
    result = run_turn(OfflineAgent(runtime.bridge, Conversations(runtime.engine), today=TODAY), seller(env), text)
    (proposed,) = result.proposed
    op = runtime.bridge.gate.get(proposed.operation_id)
    assert op.arguments["keyword_id"] == row[0]
    assert op.evidence == {**keyword_evidence(market_url, row), "request": text}
    assert op.evidence["metrics"]["spend"] > 0


def test_a_claude_chat_proposal_files_the_request_scrubbed_and_cut(env, keywords, messages_stub):
    runtime, market_url = env
    row = keywords[0]
    key = "sk-ant-api03-" + "Q7x" * 12
    text = f"lower this bid, ACOS is too high (my key is {key}) " + "please " * 100
    messages_stub.tools(("ads__update_bid", {"site": "us", "keyword_id": row[0], "bid": round(row[3] * 0.8, 2)}))
    messages_stub.text("Pending approval.")
    agent = Agent(runtime.bridge, AgentConfig(api_key="sk-ant-test-key", base_url=messages_stub.base_url,
                                              prices=DEFAULT_PRICES, today=TODAY), Conversations(runtime.engine))
    (proposed,) = run_turn(agent, seller(env), text).proposed
    op = runtime.bridge.gate.get(proposed.operation_id)
    request = op.evidence["request"]
    assert request == request_evidence(text)["request"]
    assert len(request) == REQUEST_CHARS and request.endswith("…")
    assert key not in request and request.startswith("lower this bid, ACOS is too high (my key is [secret:")
    assert {k: v for k, v in op.evidence.items() if k != "request"} == keyword_evidence(market_url, row)


def test_an_alert_fix_keeps_its_rule_and_gets_the_metrics_of_its_window(env, keywords):
    runtime, market_url = env
    row = keywords[1]
    week = {"start": "2026-11-13", "end": "2026-11-19", "days": 7}
    rule = {"rule": {"alert": "acos_over_target", "threshold": 0.3}, "rule_text": "ACOS over the 30% target", "window": week}
    op = propose_bid(env, row, Source("job", ref="daily-ops", batch_id="alerts-1", reason="ACOS over target", evidence=rule))
    assert op.evidence == {**keyword_evidence(market_url, row, week), **rule}
    assert op.evidence["metrics"] != keyword_evidence(market_url, row)["metrics"]  # the rule's 7 days, not 30


def test_a_source_that_brought_metrics_is_kept_as_is_without_a_read(env, keywords):
    runtime, _ = env
    reads = len(audit_rows(runtime, EVIDENCE_TOOL))
    given = {"kind": "keyword", "metrics": {"spend": 12.5, "sales": 0.0}, "rule": {"alert": "wasted_spend"}}
    op = propose_bid(env, keywords[2], Source("job", ref="daily-ops", batch_id="alerts-2", evidence=given))
    assert op.evidence == given
    assert len(audit_rows(runtime, EVIDENCE_TOOL)) == reads


def test_the_evidence_read_is_audited_as_a_read_of_the_proposer(env, keywords):
    runtime, _ = env
    row = keywords[3]
    op = propose_bid(env, row, Source("chat", ref="conv-evidence", batch_id="turn-evidence", evidence={"request": "cut it"}))
    (request,) = [r for r in audit_rows(runtime, EVIDENCE_TOOL) if (r.arguments or {}).get("keyword_id") == row[0]]
    reads = [request, *[r for r in audit_rows(runtime, EVIDENCE_TOOL) if (r.detail or {}).get("call") == request.id]]
    assert [(r.event, r.actor, r.channel, r.site, r.outcome) for r in reads] == [
        ("tool_call", "seller@demo.local", "chat", "us", "requested"),
        ("tool_result", "seller@demo.local", "chat", "us", "ok")]
    assert reads[0].arguments == {"site": "us", "keyword_id": row[0]}
    assert (reads[0].detail["source"], reads[0].detail["source_ref"]) == ("chat", "conv-evidence")
    (proposed,) = [r for r in audit_rows(runtime, "ads__update_bid") if (r.detail or {}).get("operation_id") == op.id]
    assert reads[0].id < proposed.id  # read first, then filed
    assert {k: op.evidence[k] for k in ("request", "kind")} == {"request": "cut it", "kind": keyword_evidence(env[1], row)["kind"]}


def test_a_failed_evidence_read_leaves_unavailable_and_the_proposal_is_filed(env, keywords):
    runtime, _ = env
    rule = {"rule_text": "ACOS over target", "window": {"end": "2026-11-19", "days": 9999}}  # the tool takes 1..365 days
    op = propose_bid(env, keywords[4], Source("job", ref="daily-ops", batch_id="alerts-3", evidence=rule))
    assert op.status == "proposed"
    assert set(op.evidence) == {"unavailable", "rule_text", "window"} and op.evidence["rule_text"] == "ACOS over target"
    assert op.evidence["unavailable"].startswith("VALIDATION_FAILED: ") and "days" in op.evidence["unavailable"]


def test_a_refused_evidence_read_leaves_unavailable_and_the_proposal_is_filed(env, keywords):
    runtime, _ = env
    pins = Store(runtime.engine)
    with pins.write() as s:  # the evidence tool's definition no longer matches its pin: blocked until an admin accepts
        (pinned,) = s.execute(update(ToolPin).where(ToolPin.name == EVIDENCE_TOOL).values(sha256="0" * 64)
                              .returning(ToolPin.definition)).one()
    runtime.bridge.catalog.refresh("analytics")
    try:
        op = propose_bid(env, keywords[5], Source("chat", ref="conv-x", batch_id="turn-x", evidence={"request": "lower it"}))
        assert op.status == "proposed" and op.evidence["request"] == "lower it"
        assert op.evidence["unavailable"].startswith("PERMISSION_DENIED: ") and EVIDENCE_TOOL in op.evidence["unavailable"]
        refused = audit_rows(runtime, EVIDENCE_TOOL)[-1]
        assert (refused.event, refused.actor, refused.outcome) == ("tool_call", "seller@demo.local", "PERMISSION_DENIED")
    finally:
        runtime.bridge.catalog.pins.accept(EVIDENCE_TOOL, "admin@demo.local")
        runtime.bridge.catalog.refresh("analytics")
    assert pinned["name"] == EVIDENCE_TOOL


def test_creations_are_judged_by_their_parent_and_unknown_targets_get_none(env):
    runtime, market_url = env
    ((group, group_name, campaign_name),) = market_value(
        market_url, "SELECT g.id, g.name, c.name FROM ad_groups g JOIN campaigns c ON c.id = g.campaign_id "
                    "WHERE g.site_id = 'us' AND g.state = 'enabled' AND c.targeting = 'manual' ORDER BY g.id LIMIT 1")
    outcome = runtime.bridge.call(seller(env), "ads__create_keyword",
                                  {"site": "us", "ad_group_id": group, "text": "evidence test mat", "match_type": "exact"},
                                  source=Source("chat", ref="conv-c", batch_id="turn-c", evidence={"request": "add it"}))
    assert outcome.status == "pending", outcome.text
    evidence = runtime.bridge.gate.get(outcome.operation_id).evidence
    assert (evidence["kind"], evidence["label"], evidence["request"]) == (
        "ad_group", f"ad group '{group_name}' in campaign '{campaign_name}'", "add it")
    assert set(evidence["metrics"]) == {"default_bid", "spend", "sales", "acos"}
    outcome = runtime.bridge.call(seller(env), "ads__create_campaign", {"site": "us", "name": "Evidence test", "daily_budget": 10, "targeting": "manual"},
                                  source=Source("cli", batch_id="cli-c"))
    assert outcome.status == "pending", outcome.text
    assert runtime.bridge.gate.get(outcome.operation_id).evidence is None


def test_the_evidence_read_is_cheap(env, keywords):
    """One extra read per proposal: measured against the same proposal with metrics already given (no read)."""
    runtime, _ = env
    timings = {"read": [], "given": []}
    for i, row in enumerate(keywords[6:16]):
        kind = "read" if i % 2 else "given"
        evidence = {"request": "x"} if kind == "read" else {"metrics": {}}
        started = time.perf_counter()
        propose_bid(env, row, Source("cli", batch_id=f"cost-{i}", evidence=evidence))
        timings[kind].append((time.perf_counter() - started) * 1000)
    extra = sorted(timings["read"])[2] - sorted(timings["given"])[2]
    print(f"\nproposal with the evidence read: median {sorted(timings['read'])[2]:.1f} ms, "
          f"without: {sorted(timings['given'])[2]:.1f} ms, extra {extra:.1f} ms")
    assert extra < 250
