"""A site named in a chat message: Claude's turn runs on it, one outside the scope is refused; the CLI alike."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from console.settings import DEFAULT_PRICES, PROJECT_ROOT
from mcp_bridge.agent.conversations import Conversations
from mcp_bridge.agent.events import AgentError, TextDelta, ToolStarted, TurnDone, Usage
from mcp_bridge.agent.loop import Agent, AgentConfig
from mcp_bridge.store import Base, make_engine
from mcp_bridge.types import Caller, ToolOutcome
from tests.support.chat import CHAT_SECRET, FakeBridge, chat_settings, open_chat_runtime, tool_def
from tests.support.market import copy_sqlite

SELLER = Caller("seller@demo.local", frozenset({"seller"}), frozenset({"us", "de"}), "chat")
REFUSAL = "JP is outside your scope; your sites: DE, US. Ask about one of those, or ask an admin for access to JP."


@pytest.fixture
def agent(messages_stub, tmp_path) -> Agent:
    engine = make_engine(f"sqlite:///{tmp_path / 'console.db'}")
    Base.metadata.create_all(engine)
    bridge = FakeBridge([tool_def("ads__list_campaigns", "List campaigns.", site="string")],
                        lambda name, args: ToolOutcome(tool=name, status="ok", text=json.dumps({"campaigns": []})))
    config = AgentConfig(api_key="sk-ant-test-key", base_url=messages_stub.base_url, prices=DEFAULT_PRICES,
                         today=dt.date(2026, 11, 20))
    return Agent(bridge, config, Conversations(engine))


def test_claude_works_on_the_site_the_message_names(agent, messages_stub):
    messages_stub.tools(("ads__list_campaigns", {"site": "us"})).text("No campaigns on US.")
    events = list(agent.run_turn(SELLER, None, "highest ACOS campaigns on the US site?", site="de"))
    assert isinstance(events[-1], TurnDone) and not [e for e in events if isinstance(e, AgentError)]
    (system,) = messages_stub.requests[0].body["system"]
    assert 'Active site: us (for this message: use site="us" in tool calls)' in system["text"]
    assert "A site the user names" in system["text"] and "never answer with another" in system["text"]
    assert agent.conversations.get(events[-1].conversation_id, user=SELLER.user).site == "us"


def test_claude_is_not_asked_about_a_site_outside_the_scope(agent, messages_stub):
    events = list(agent.run_turn(SELLER, None, "which campaigns have the highest ACOS on jp?", site="de"))
    assert [type(e) for e in events] == [AgentError, Usage, TurnDone]
    assert (events[0].code, events[0].message) == ("SITE_SCOPE_REQUIRED", REFUSAL)
    assert messages_stub.requests == []  # no tokens spent, nothing answered for DE instead
    conversation_id = events[-1].conversation_id
    assert agent.conversations.get(conversation_id, user=SELLER.user).turns == 1

    messages_stub.text("Here is DE.")  # the next turn's history carries the refusal, so Claude sees why
    follow = list(agent.run_turn(SELLER, conversation_id, "then show DE", site="de"))
    assert "".join(e.text for e in follow if isinstance(e, TextDelta)) == "Here is DE."
    sent = messages_stub.requests[0].messages
    assert [(m["role"], m["content"][0]["text"]) for m in sent] == [
        ("user", "which campaigns have the highest ACOS on jp?"), ("assistant", REFUSAL), ("user", "then show DE")]


def test_a_chinese_refusal_is_in_chinese(agent, messages_stub):
    (error, *_) = list(agent.run_turn(SELLER, None, "日本站的订单", site="us"))
    assert error.message == "JP 不在你的站点范围内；你的站点：DE、US。请询问你的站点，或请管理员开通 JP 的权限。"
    assert not [e for e in _ if isinstance(e, ToolStarted)]


@pytest.fixture(scope="module")
def cli(market_template, tmp_path_factory):
    """`python -m console chat` against one console and market for the module (the offline assistant)."""
    folder = tmp_path_factory.mktemp("chat-sites-cli")
    copy_sqlite(market_template, folder / "market.db")
    console_url, market_url = f"sqlite:///{folder / 'console.db'}", f"sqlite:///{folder / 'market.db'}"
    open_chat_runtime(console_url, market_url).close()
    env = {k: v for k, v in os.environ.items() if "ANTHROPIC" not in k}
    env |= {"CONSOLE_ENV": "test", "CONSOLE_DATABASE_URL": console_url, "MARKET_DATABASE_URL": market_url,
            "CONSOLE_APPROVAL_SECRET": CHAT_SECRET, "CONSOLE_MCP_SERVERS": chat_settings(console_url, market_url).mcp_servers,
            "MARKET_TODAY": "2026-11-20", "PYTHONPATH": str(PROJECT_ROOT)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "console", "chat", *args], env=env, cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=120)

    return run


def test_the_cli_answers_for_the_site_the_message_names(cli):
    # The seller's default site is DE (their first); the message names US.
    done = cli("--as", "seller@demo.local", "which keywords on site us have ACOS over 30%?")
    assert done.returncode == 0, done.stderr
    assert "*Site US, as your message says (the active site is DE).*" in done.stdout
    assert '→ ads__list_keywords {"site": "us"' in done.stdout and '"site": "de"' not in done.stdout


def test_the_cli_refuses_a_site_outside_the_scope_with_a_code(cli):
    done = cli("--as", "seller@demo.local", "--site", "us", "orders to ship on the JP site")
    assert done.returncode == 2
    assert f"SITE_SCOPE_REQUIRED: {REFUSAL}" in done.stderr and "→ " not in done.stdout
