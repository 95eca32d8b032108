"""API and tool failures: each gives the user a clear message, and the conversation goes on afterwards."""

from __future__ import annotations

import datetime as dt

import pytest

from mcp_bridge.agent.claude import is_spend_limit
from mcp_bridge.agent.conversations import Conversations
from mcp_bridge.agent.events import AgentError, TextDelta, ToolFinished, TurnDone, Usage
from mcp_bridge.agent.loop import Agent, AgentConfig
from mcp_bridge.errors import UpstreamError
from mcp_bridge.store import Base, make_engine
from mcp_bridge.types import Caller, ToolOutcome
from tests.support.chat import FakeBridge, tool_def
from tests.support.messages_stub import Reply, ToolCall

SELLER = Caller("seller@demo.local", frozenset({"seller"}), frozenset({"us"}), "chat")
TOOLS = [tool_def("ads__list_keywords", site="string"), tool_def("ads__update_bid", site="string", keyword_id="integer", bid="number")]


def answer(name: str, arguments: dict) -> ToolOutcome:
    if name == "ads__update_bid" and not isinstance(arguments.get("keyword_id"), int):
        return ToolOutcome(tool=name, status="error", code="VALIDATION_FAILED",
                           text="VALIDATION_FAILED: update_bid: keyword_id: Input should be a valid integer")
    if arguments.get("site") == "slow":
        raise UpstreamError("ads did not answer list_keywords within 30s (timed out); try again")
    return ToolOutcome(tool=name, status="ok", text='{"keywords": []}')


@pytest.fixture
def setup(messages_stub, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'console.db'}")
    Base.metadata.create_all(engine)
    bridge = FakeBridge(TOOLS, answer)
    agent = Agent(bridge, AgentConfig(api_key="sk-test", base_url=messages_stub.base_url, today=dt.date(2026, 11, 20)),
                  Conversations(engine))
    return agent, bridge


def turn(agent, conversation_id, text):
    events = list(agent.run_turn(SELLER, conversation_id, text, site="us"))
    assert isinstance(events[-1], TurnDone) and isinstance(events[-2], Usage)
    return events, events[-1].conversation_id


def errors(events):
    return [(e.code, e.message) for e in events if isinstance(e, AgentError)]


def still_usable(agent, stub, conversation_id):
    stub.text("Back to normal.")
    events, same = turn(agent, conversation_id, "are you there?")
    assert same == conversation_id and errors(events) == []
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Back to normal."


@pytest.mark.parametrize(
    ("status", "type", "message", "code", "expected"),
    [
        (429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit", "RATE_LIMITED",
         "Claude is rate-limited; try again in a minute."),
        (529, "overloaded_error", "Overloaded", "OVERLOADED", "Claude is overloaded right now (HTTP 529); try again in a few minutes."),
    ],
)
def test_rate_limit_and_overload_are_retried_by_the_sdk_then_explained(setup, messages_stub, status, type, message, code, expected):
    agent, _ = setup
    messages_stub.error(status, type, message, times=3)  # the first try and the SDK's two retries
    events, conv = turn(agent, None, "hello")
    assert errors(events) == [(code, expected)]
    assert len(messages_stub.requests) == 3
    still_usable(agent, messages_stub, conv)


def test_a_transient_429_is_absorbed_by_the_sdk_retry(setup, messages_stub):
    agent, _ = setup
    messages_stub.error(429, "rate_limit_error", "slow down").text("Fine.")
    events, _ = turn(agent, None, "hello")
    assert errors(events) == [] and len(messages_stub.requests) == 2


def test_overload_in_the_middle_of_a_stream(setup, messages_stub):
    agent, _ = setup
    messages_stub.error(200, "overloaded_error", "Overloaded", mid_stream=True)
    events, conv = turn(agent, None, "hello")
    assert [c for c, _ in errors(events)] == ["OVERLOADED"]
    still_usable(agent, messages_stub, conv)


@pytest.mark.parametrize(
    ("status", "type", "message", "error_code"),
    [
        (429, "rate_limit_error", "You have reached your organization's monthly spend limit.", "enforced_spend_limit_reached"),
        (400, "invalid_request_error", "Your credit balance is too low to access the Anthropic API.", None),
        (400, "invalid_request_error", "You have reached your specified API usage limits. You will regain access on 2026-12-01.", None),
        (402, "billing_error", "The linked organization has reached its spend limit.", "linked_organization_spend_limit_reached"),
        (403, "permission_error", "This organization's spending limit has been reached.", None),
    ],
)
def test_spend_limit_is_explained_and_not_retried(setup, messages_stub, status, type, message, error_code):
    agent, _ = setup
    messages_stub.error(status, type, message, error_code=error_code, times=3)
    events, conv = turn(agent, None, "hello")
    ((code, text),) = errors(events)
    assert code == "SPEND_LIMIT"
    assert "spend limit or credit" in text and message in text
    assert len(messages_stub.requests) == 1  # no retry
    messages_stub.script.clear()
    still_usable(agent, messages_stub, conv)


def test_ordinary_errors_are_not_taken_for_spend_limits():
    assert not is_spend_limit(429, {"error": {"type": "rate_limit_error", "message": "per-minute rate limit"}})
    assert not is_spend_limit(400, {"error": {"type": "invalid_request_error", "message": "messages: field required"}})
    assert not is_spend_limit(500, {"error": {"type": "api_error", "message": "billing system down"}})


def test_bad_request_is_explained(setup, messages_stub):
    agent, _ = setup
    messages_stub.error(400, "invalid_request_error", "messages.0.content: empty")
    events, conv = turn(agent, None, "hello")
    assert errors(events) == [("UPSTREAM_ERROR", "Claude answered HTTP 400: messages.0.content: empty")]
    still_usable(agent, messages_stub, conv)


def test_wrong_key_is_explained(setup, messages_stub):
    agent, _ = setup
    messages_stub.error(401, "authentication_error", "invalid x-api-key")
    events, _ = turn(agent, None, "hello")
    assert errors(events) == [("AUTH_FAILED", "Claude refused the API key; check ANTHROPIC_API_KEY.")]


def test_unknown_tool_gets_an_error_result_and_the_bridge_is_not_called(setup, messages_stub):
    agent, bridge = setup
    messages_stub.tools(("ads__delete_everything", {"site": "us"})).text("That tool does not exist, sorry.")
    events, conv = turn(agent, None, "wipe it")
    assert bridge.calls == []
    (finished,) = [e for e in events if isinstance(e, ToolFinished)]
    assert finished.status == "error" and finished.summary.startswith("NOT_FOUND: there is no tool named 'ads__delete_everything'")
    (result,) = messages_stub.requests[1].tool_results()
    assert result["is_error"] is True
    assert errors(events) == []
    still_usable(agent, messages_stub, conv)


def test_bad_arguments_get_an_error_result(setup, messages_stub):
    agent, _ = setup
    messages_stub.tools(("ads__update_bid", {"site": "us", "keyword_id": "yoga mat", "bid": 1.2}))
    messages_stub.tools(("ads__update_bid", {"site": "us", "keyword_id": 3, "bid": 1.2})).text("Fixed.")
    events, conv = turn(agent, None, "lower it")
    statuses = [(e.status, e.summary.split(":")[0]) for e in events if isinstance(e, ToolFinished)]
    assert statuses == [("error", "VALIDATION_FAILED"), ("ok", '{"keywords"')]
    (result,) = messages_stub.requests[1].tool_results()
    assert result["is_error"] is True and "keyword_id" in messages_stub.requests[1].tool_result_texts()[0]
    still_usable(agent, messages_stub, conv)


def test_broken_tool_json_from_the_model(setup, messages_stub):
    agent, bridge = setup
    messages_stub.reply(Reply(tool_calls=[ToolCall("ads__list_keywords", {}, raw_json='{"site": us}')]))
    events, conv = turn(agent, None, "hello")
    assert [c for c, _ in errors(events)] == ["BAD_MODEL_OUTPUT"] and bridge.calls == []
    still_usable(agent, messages_stub, conv)


def test_tool_timeout_becomes_an_error_result(setup, messages_stub):
    agent, _ = setup
    messages_stub.tools(("ads__list_keywords", {"site": "slow"})).text("The ads server timed out; try again shortly.")
    events, conv = turn(agent, None, "keywords please")
    (finished,) = [e for e in events if isinstance(e, ToolFinished)]
    assert finished.status == "error" and finished.summary.startswith("UPSTREAM_ERROR: ads did not answer")
    assert messages_stub.requests[1].tool_results()[0]["is_error"] is True
    still_usable(agent, messages_stub, conv)


def test_bad_arguments_through_the_real_bridge(chat_runtime, messages_stub):
    """The servers' own validation answers; the model gets is_error results and the turn goes on."""
    agent = Agent(chat_runtime.bridge, AgentConfig(api_key="sk-test", base_url=messages_stub.base_url, today=dt.date(2026, 11, 20)),
                  Conversations(chat_runtime.engine))
    seller = chat_runtime.users.caller("seller@demo.local", "chat")
    messages_stub.tools(("ads__update_bid", {"site": "us", "keyword_id": "yoga mat", "bid": 1.2}),
                        ("ads__list_keywords", {"site": "us", "limit": 5000}),
                        ("ads__update_bid", {"site": "us", "keyword_id": 999999, "bid": 1.2}),
                        ("ads__update_bid", {"site": "us"}))
    messages_stub.text("Some arguments were wrong; here is what I can tell you.")
    events = list(agent.run_turn(seller, None, "lower it", site="us"))
    finished = [(e.status, e.summary.split(":")[0]) for e in events if isinstance(e, ToolFinished)]
    assert finished == [("error", "VALIDATION_FAILED"), ("error", "VALIDATION_FAILED"), ("error", "NOT_FOUND"),
                        ("error", "VALIDATION_FAILED")]
    assert [r["is_error"] for r in messages_stub.requests[1].tool_results()] == [True] * 4
    assert errors(events) == [] and chat_runtime.bridge.gate.list(limit=5) == []


def test_tools_unavailable_is_explained(setup, messages_stub):
    agent, bridge = setup

    def broken(caller, group=None):
        raise UpstreamError("ads did not start (exit code 1); see the server log")

    bridge.catalog.anthropic_tools = broken
    events, conv = turn(agent, None, "hello")
    assert errors(events) == [("UPSTREAM_ERROR", "The tools are not available right now: ads did not start (exit code 1); see the server log")]
    assert messages_stub.requests == []


# -- Stop: the page stops listening half way (the person pressed Stop) ------------------------------------------


def test_stop_mid_answer_keeps_what_was_said_and_the_tokens(setup, messages_stub):
    agent, _ = setup
    messages_stub.text("Your three worst keywords by ACOS are yoga mat, cork block and strap; I would lower all of them.")
    events = agent.run_turn(SELLER, None, "which keywords waste money?", site="us")
    said = ""
    for event in events:
        if isinstance(event, TextDelta):
            said += event.text
            if len(said) >= 24:
                break
    events.close()  # what Streamlit does to the loop when Stop interrupts the script
    conversation = agent.conversations.list_for(SELLER.user)[0]
    stored = agent.conversations.messages(conversation.id)
    assert [m["role"] for m in stored] == ["user", "assistant"]
    kept = stored[1]["content"][0]["text"]
    assert kept.startswith(said.rstrip()) and kept.endswith("[stopped by the user]")
    (row,) = agent.conversations.turns(conversation.id)
    assert row.error_code == "STOPPED" and row.input_tokens + row.cache_write_tokens + row.cache_read_tokens > 0

    messages_stub.text("Picking up where I stopped.")
    events, same = turn(agent, conversation.id, "go on")
    assert same == conversation.id and errors(events) == []
    sent = messages_stub.requests[-1].messages
    assert sent[1] == {"role": "assistant", "content": [{"type": "text", "text": kept}]}


def test_stop_before_a_tool_runs_leaves_it_unrun_and_the_next_turn_valid(setup, messages_stub):
    agent, bridge = setup
    messages_stub.tools(("ads__update_bid", {"site": "us", "keyword_id": 7, "bid": 0.8}), text="Lowering the bid.")
    events = agent.run_turn(SELLER, None, "lower keyword 7 to 0.80", site="us")
    for event in events:
        if type(event).__name__ == "ToolStarted":
            break
    events.close()
    assert bridge.calls == []  # stopped before the call: nothing was proposed
    conversation = agent.conversations.list_for(SELLER.user)[0]
    assert agent.conversations.turns(conversation.id)[0].error_code == "STOPPED"
    messages_stub.text("Not changed, as you asked.")
    events, _ = turn(agent, conversation.id, "never mind")
    assert errors(events) == []
    results = messages_stub.requests[-1].tool_results()
    assert len(results) == 1 and results[0]["is_error"] and "INTERRUPTED" in str(results[0]["content"])
