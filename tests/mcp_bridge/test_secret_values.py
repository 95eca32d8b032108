"""A credential typed where a value goes stays out of the audit log, the logs, the conversation store and the model.

The real bridge, the real stdio servers and the real anthropic SDK against the Messages API stub.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from sqlalchemy import Engine, inspect, text

from console.logs import configure_logging
from mcp_bridge.agent.conversations import Conversations
from mcp_bridge.agent.loop import Agent, AgentConfig
from mcp_bridge.agent.offline.assistant import OfflineAgent
from mcp_bridge.audit.rows import CUT_MARK, MAX_TEXT_CHARS, REDACTED, entry, redact
from mcp_bridge.scrub import fingerprint
from mcp_bridge.types import Source
from tests.support.chat import market_rows, run_turn

# A made-up key in Anthropic's format, and a test card number.
KEY = "sk-ant-api03-PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA_2O76UMFxFkM_R5Kjp1vRt-1fjORS_6ilI8ihN5KXSc7Tvo_hBKqFYAA"
CARD = "4242 4242 4242 4242"
HEX64 = "88c79fc35526f7eaed46725a2a7b860dcd6c8a1f8b46287cced9041dff02cee7"
TODAY = dt.date(2026, 11, 20)


def stored(engine: Engine) -> str:
    """Every row of every table of the console database, as text."""
    with engine.connect() as conn:
        return "\n".join(str(tuple(row)) for table in inspect(engine).get_table_names()
                         for row in conn.execute(text(f'SELECT * FROM "{table}"')))


@pytest.fixture
def scrubbed_logs(caplog: pytest.LogCaptureFixture):
    """The console's logging (as app.py and `python -m console` set it up), everything captured at DEBUG."""
    saved = logging.getLogRecordFactory()
    configure_logging()
    caplog.set_level(logging.DEBUG)
    yield caplog
    logging.setLogRecordFactory(saved)


def test_an_api_key_typed_as_a_search_term_goes_nowhere(chat_runtime, messages_stub, scrubbed_logs) -> None:
    seller = chat_runtime.users.caller("seller@demo.local", "chat")
    agent = Agent(chat_runtime.bridge, AgentConfig(api_key="sk-ant-test", base_url=messages_stub.base_url, today=TODAY),
                  Conversations(chat_runtime.engine))
    # A model that searches for what it was given, the key included (as if it had seen it).
    messages_stub.tools(("ads__list_keywords", {"site": "us", "text_contains": KEY}))
    messages_stub.text("No keyword contains that text.")
    result = run_turn(agent, seller, f"which keywords contain {KEY}? my card is {CARD}")

    assert [(f.name, f.status) for f in result.finished] == [("ads__list_keywords", "ok")]  # the search itself ran
    for request in messages_stub.requests:
        assert KEY not in json.dumps(request.body) and "4242" not in json.dumps(request.body)
    first = messages_stub.requests[0].messages[0]["content"][0]["text"]
    assert first == f"which keywords contain {fingerprint(KEY)}? my card is {fingerprint(CARD)}"

    everything = stored(chat_runtime.engine)
    assert KEY not in everything and CARD not in everything
    (call,) = chat_runtime.bridge.audit.query(event="tool_call", tool="ads__list_keywords")
    assert call.arguments == {"site": "us", "text_contains": fingerprint(KEY)}
    assert call.detail["source_ref"] == result.conversation_id  # a conversation id (32 hex) is not taken for a key
    assert KEY not in scrubbed_logs.text
    assert chat_runtime.bridge.audit.verify().ok


def test_the_offline_assistant_stores_no_key(chat_runtime, scrubbed_logs) -> None:
    seller = chat_runtime.users.caller("seller@demo.local", "chat")
    conversations = Conversations(chat_runtime.engine)
    agent = OfflineAgent(chat_runtime.bridge, conversations, today=TODAY)
    result = run_turn(agent, seller, f"use this api key {KEY} for the ads account")
    (conversation,) = conversations.list_for(seller.user)
    assert conversation.title == f"use this api key {fingerprint(KEY)} for the ads account"
    assert conversations.messages(result.conversation_id)[0]["content"][0]["text"] == conversation.title
    assert KEY not in stored(chat_runtime.engine) and KEY not in scrubbed_logs.text


def propose_with_reason(runtime, market_url: str):
    seller = runtime.users.caller("seller@demo.local", "cli")
    ((keyword_id, bid),) = market_rows(market_url, "SELECT id, bid FROM keywords WHERE site_id='us' AND state='enabled' "
                                                   "AND bid >= 0.5 ORDER BY id LIMIT 1")
    outcome = runtime.bridge.call(seller, "ads__update_bid", {"site": "us", "keyword_id": keyword_id,
                                                               "bid": round(bid * 0.9, 2)},
                                  source=Source("cli", batch_id="cli-secret-reason", reason=f"ACOS 48%; key {KEY}"))
    assert outcome.status == "pending", outcome.text
    return outcome


def test_an_api_key_typed_as_a_proposal_reason_stays_out_of_the_audit_log(chat_runtime, market_url,
                                                                            scrubbed_logs) -> None:
    propose_with_reason(chat_runtime, market_url)
    (proposed,) = chat_runtime.bridge.audit.query(event="proposed")
    assert proposed.detail["reason"] == f"ACOS 48%; key {fingerprint(KEY)}"
    with chat_runtime.engine.connect() as conn:
        assert not [row for row in conn.execute(text("SELECT * FROM audit_log")) if KEY in str(tuple(row))]
    assert KEY not in scrubbed_logs.text
    assert chat_runtime.bridge.audit.verify().ok


def test_an_api_key_typed_as_a_proposal_reason_is_not_stored_with_the_operation(chat_runtime, market_url) -> None:
    outcome = propose_with_reason(chat_runtime, market_url)
    assert chat_runtime.bridge.gate.get(outcome.operation_id).reason == f"ACOS 48%; key {fingerprint(KEY)}"
    assert KEY not in stored(chat_runtime.engine)


# -- redact: what every audit row's arguments and detail go through ----------------------------------------------


def test_redact_scrubs_values_keeps_key_redaction_and_the_consoles_own_digests() -> None:
    value = {
        "site": "us", "text_contains": KEY, "approval_token": "abc.def", "nested": {"api_key": KEY, "q": [KEY, 3]},
        "reason": f"card {CARD}", "row_hash": HEX64, "prev_hash": HEX64, "sha256": HEX64, "pinned_sha256": HEX64,
        "nonce": HEX64[:32], "arguments_hash": HEX64, "batch_id": "chat-" + HEX64[:16], "source_ref": HEX64[:32],
        "limit": None, "bid": 1.2, 7: "int key",
    }
    assert redact(value) == {
        **{k: v for k, v in value.items() if k != 7}, "7": "int key",
        "text_contains": fingerprint(KEY), "approval_token": REDACTED,
        "nested": {"api_key": REDACTED, "q": [fingerprint(KEY), 3]}, "reason": f"card {fingerprint(CARD)}",
    }
    assert redact(redact(value)) == redact(value)


def test_a_long_value_is_cut_at_the_documented_length() -> None:
    huge = "yoga mat " * 25_000  # 225,000 characters
    cut = redact({"text_contains": huge, "short": "x" * MAX_TEXT_CHARS})
    assert len(cut["text_contains"]) <= MAX_TEXT_CHARS and cut["short"] == "x" * MAX_TEXT_CHARS
    kept = MAX_TEXT_CHARS - len(CUT_MARK.format(len(huge)))
    assert cut["text_contains"] == huge[:kept] + f"…[+{len(huge) - kept} chars]"
    assert redact(cut) == cut  # a cut value is not cut again
    row = entry("tool_call", actor="a@demo.local", channel="ui", arguments={"q": huge}, detail={"error": huge})
    assert len(row.columns["arguments"]) < MAX_TEXT_CHARS + 20 and len(row.columns["detail"]) < MAX_TEXT_CHARS + 20


def test_a_key_crossing_the_cut_leaves_no_part_behind() -> None:
    value = "a " * 990 + KEY + " and more" * 100  # the key starts at 1,980 and crosses the cut at about 1,984
    cut = redact({"q": value})["q"]
    assert cut.startswith("a " * 990) and cut.endswith(" chars]")
    assert all(KEY[:n] not in cut for n in range(6, len(KEY)))
