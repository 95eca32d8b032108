"""A 10-turn conversation over the real catalog: tool definitions and system prompt come from the prompt cache
from the second turn on; the token and cost totals are recorded per turn and per conversation."""

from __future__ import annotations

import datetime as dt

from console.settings import DEFAULT_PRICES
from mcp_bridge.agent.conversations import Conversations
from mcp_bridge.agent.loop import Agent, AgentConfig
from tests.support.chat import run_turn

TODAY = dt.date(2026, 11, 20)
WINDOW = {"site": "us", "start_date": "2026-11-13", "end_date": "2026-11-19"}
TURNS = [
    ("Which campaigns had the highest ACOS last week?", ("ads__list_campaigns", {**WINDOW, "sort_by": "acos", "limit": 5})),
    ("And the keywords over 30% ACOS?", ("ads__list_keywords", {**WINDOW, "min_acos": 0.3, "limit": 5})),
    ("Any search terms worth harvesting?", ("analytics__find_harvest_candidates", {**WINDOW, "limit": 5})),
    ("Where is spend wasted?", ("analytics__find_wasted_spend", {**WINDOW, "limit": 5})),
    ("How is budget pacing?", ("analytics__get_budget_pacing", {**WINDOW, "limit": 5})),
    ("What runs out of stock this week?", ("analytics__get_inventory_alerts", {"site": "us", "days_threshold": 7, "limit": 5})),
    ("How did sales go?", ("analytics__get_daily_sales", {**WINDOW, "limit": 7})),
    ("Any bad reviews lately?", ("analytics__get_recent_reviews", {**WINDOW, "max_rating": 2, "limit": 5})),
    ("Which orders wait to ship?", ("commerce__list_orders", {"site": "us", "status": "paid", "limit": 5})),
    ("Give me the weekly summary.", ("analytics__get_weekly_report_data", {"site": "us", "week_end": "2026-11-19", "top_n": 3})),
]


def test_ten_turns_read_tools_and_system_prompt_from_the_cache(chat_runtime, messages_stub, capsys):
    conversations = Conversations(chat_runtime.engine)
    agent = Agent(chat_runtime.bridge, AgentConfig(api_key="sk-ant-test", base_url=messages_stub.base_url,
                                                   prices=DEFAULT_PRICES, today=TODAY), conversations)
    seller = chat_runtime.users.caller("seller@demo.local", "chat")
    conversation_id, usages = None, []
    for question, (tool, arguments) in TURNS:
        messages_stub.tools((tool, arguments)).text(f"Here is what {tool} shows.")
        result = run_turn(agent, seller, question, conversation_id=conversation_id)
        assert not result.errors and [f.status for f in result.finished] == ["ok"]
        conversation_id = result.conversation_id
        usages.append(result.usage)

    prefix = messages_stub.requests[0].usage["cache_creation_input_tokens"]  # tools + system + first question
    assert len(messages_stub.requests[0].tools) > 30 and prefix > 5000
    first = messages_stub.requests[0].usage
    assert first["cache_read_input_tokens"] == 0 and first["cache_creation_input_tokens"] == prefix  # the cold start
    for usage in usages[1:]:
        assert usage.cache_read >= prefix  # both rounds of every later turn read tools + system (and history)
    # every request after the first reads at least the tool definitions and system prompt from the cache
    assert all(r.usage["cache_read_input_tokens"] >= prefix for r in messages_stub.requests[1:])
    assert len({str(r.tools) for r in messages_stub.requests}) == 1  # the cached prefix never changed

    conv = conversations.get(conversation_id, user=seller.user)
    totals = conv.totals
    assert conv.turns == 10 and totals.cache_read == sum(u.cache_read for u in usages)
    assert totals.cost_usd == round(sum(u.cost_usd for u in usages), 6)
    uncached = sum(u.input + u.cache_write + u.cache_read for u in usages) * DEFAULT_PRICES["claude-sonnet-5-5"]["input"] / 1e6
    assert totals.cost_usd < uncached  # caching pays for itself over ten turns

    with capsys.disabled():
        print("\n10-turn conversation (claude-sonnet-5-5 prices; stub token counts ≈ 4 characters per token)")
        print(f"{'turn':>4} {'input':>7} {'output':>7} {'cache write':>12} {'cache read':>11} {'cost $':>10}")
        for i, u in enumerate(usages, 1):
            print(f"{i:>4} {u.input:>7} {u.output:>7} {u.cache_write:>12} {u.cache_read:>11} {u.cost_usd:>10.6f}")
        print(f"{'all':>4} {totals.input:>7} {totals.output:>7} {totals.cache_write:>12} {totals.cache_read:>11} "
              f"{totals.cost_usd:>10.6f}  (without caching: ${uncached + totals.output * 15 / 1e6:.6f})")
