"""`python -m console chat` from outside: a subprocess against test databases, offline and with Claude (the stub)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from console.settings import PROJECT_ROOT
from tests.support.chat import CHAT_SECRET, chat_settings, market_rows, open_chat_runtime


@pytest.fixture
def cli(tmp_path, market_url):
    console_url = f"sqlite:///{tmp_path / 'console.db'}"
    open_chat_runtime(console_url, market_url).close()  # migrated, demo users seeded
    settings = chat_settings(console_url, market_url)
    env = {k: v for k, v in os.environ.items() if "ANTHROPIC" not in k}
    env |= {"CONSOLE_ENV": "test", "CONSOLE_DATABASE_URL": console_url, "MARKET_DATABASE_URL": market_url,
            "CONSOLE_APPROVAL_SECRET": CHAT_SECRET, "CONSOLE_MCP_SERVERS": settings.mcp_servers, "MARKET_TODAY": "2026-11-20",
            "PYTHONPATH": str(PROJECT_ROOT)}

    def run(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "console", "chat", *args], env={**env, **extra_env}, cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=120)

    return run


def test_offline_turn_streams_tools_and_pending_operations(cli, market_url):
    done = cli("--as", "seller@demo.local", "--site", "us", "把 'free' 添加为否定词")
    assert done.returncode == 0, done.stderr
    assert "offline demo assistant" in done.stderr
    out = done.stdout
    assert out.startswith("*Offline demo assistant — set ANTHROPIC_API_KEY to use Claude*")
    assert "→ ads__list_campaigns {\"site\": \"us\"" in out and "← ok " in out
    assert out.count("⧗ pending approval #") == 6 and "— tokens: input 0, output 0" in out
    assert market_rows(market_url, "SELECT count(*) FROM negative_keywords WHERE text='free'") == [(0,)]
    conversation = out.rsplit("--conversation ", 1)[1].strip().rstrip(")")

    again = cli("--as", "seller@demo.local", "--conversation", conversation, "哪些关键词的 ACOS > 30%?")
    assert again.returncode == 0, again.stderr
    listed = cli("--as", "seller@demo.local", "--list")
    assert conversation in listed.stdout and "2 turns" in listed.stdout


def test_claude_turn_through_the_stub(cli, messages_stub):
    messages_stub.tools(("ads__list_keywords", {"site": "us", "min_acos": 0.3, "limit": 3}), text="Checking.")
    messages_stub.text("Three keywords run over 30% ACOS.")
    done = cli("--as", "seller@demo.local", "which keywords have ACOS over 30%?",
               ANTHROPIC_API_KEY="sk-ant-cli-test", ANTHROPIC_BASE_URL=messages_stub.base_url)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Checking."
    assert lines[1].startswith('→ ads__list_keywords {"site": "us", "min_acos": 0.3, "limit": 3}')
    assert lines[2].startswith("← ok ") and " ms " in lines[2]
    assert lines[3] == "Three keywords run over 30% ACOS."
    assert lines[4].startswith("— tokens: input ") and "cache write" in lines[4] and "cost $" in lines[4]
    assert messages_stub.requests[0].headers["authorization"] == "Bearer sk-ant-cli-test"


def test_errors_exit_non_zero_with_a_code(cli, messages_stub):
    messages_stub.error(429, "rate_limit_error", "slow down", times=3)
    done = cli("--as", "seller@demo.local", "hello", ANTHROPIC_API_KEY="sk-ant-cli-test", ANTHROPIC_BASE_URL=messages_stub.base_url)
    assert done.returncode == 2 and "RATE_LIMITED: Claude is rate-limited; try again in a minute." in done.stderr

    unknown = cli("--as", "nobody@demo.local", "hello")
    assert unknown.returncode == 2 and unknown.stderr.startswith("NOT_FOUND: no user 'nobody@demo.local'")

    outside = cli("--as", "seller@demo.local", "--site", "jp", "hello")
    assert outside.returncode == 2 and outside.stderr.startswith("SITE_SCOPE_REQUIRED:")

    empty = cli("--as", "seller@demo.local")
    assert empty.returncode == 2 and empty.stderr.startswith("VALIDATION_FAILED:")
