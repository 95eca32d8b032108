"""Helpers for the agent's tests: a stand-in bridge, a console runtime on the real servers, turn results."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# -- a bridge stand-in for agent unit tests (the end-to-end tests use the real Bridge) --------------


class FakeCatalog:
    def __init__(self, tools: list[dict[str, Any]]) -> None:
        self.tools = tools

    def anthropic_tools(self, caller: Any, group: str | None = None) -> list[dict[str, Any]]:
        return [dict(t) for t in self.tools]


class FakeBridge:
    """`catalog.anthropic_tools` + `call`; answers from a handler, records every call."""

    def __init__(self, tools: list[dict[str, Any]], handler: Callable[..., Any]) -> None:
        self.catalog = FakeCatalog(tools)
        self.handler = handler
        self.calls: list[tuple[Any, str, dict[str, Any], Any]] = []

    def call(self, caller: Any, name: str, arguments: dict[str, Any], *, source: Any) -> Any:
        self.calls.append((caller, name, arguments, source))
        return self.handler(name, arguments)


def tool_def(name: str, description: str = "", **properties: str) -> dict[str, Any]:
    """A minimal Anthropic tool definition (properties: name -> JSON type)."""
    return {
        "name": name,
        "description": description or name.replace("__", ": ").replace("_", " "),
        "input_schema": {"type": "object", "properties": {p: {"type": t} for p, t in properties.items()},
                         "required": list(properties)},
    }


# -- a console runtime on real stdio servers over a private copy of the seeded demo market ----------

CHAT_SECRET = "chat-test-approval-secret"


def chat_servers() -> tuple[str, ...]:
    """The bundled servers that exist in this tree (analytics joins once it has a server module)."""
    import importlib.util

    return tuple(n for n in ("ads", "commerce", "analytics") if importlib.util.find_spec(f"servers.{n}.server") is not None)


def chat_settings(console_url: str, market_url: str, today: str = "2026-11-20", **overrides: Any) -> Any:
    import sys

    from pydantic import SecretStr

    from console.settings import PROJECT_ROOT, Settings

    env = {"MARKET_DATABASE_URL": market_url, "CONSOLE_APPROVAL_SECRET": CHAT_SECRET, "CONSOLE_ENV": "test",
           "MARKET_TODAY": today}
    servers = {"mcpServers": {n: {"command": sys.executable, "args": ["-m", f"servers.{n}"], "cwd": str(PROJECT_ROOT),
                                  "env": env} for n in chat_servers()}}
    return Settings(env="test", database_url=console_url, market_database_url=market_url,
                    approval_secret=SecretStr(CHAT_SECRET), mcp_servers=json.dumps(servers), call_timeout_s=20.0,
                    **overrides)


def open_chat_runtime(console_url: str, market_url: str, **overrides: Any) -> Any:
    """A Runtime (demo users seeded) whose bridge talks to the real bundled servers over stdio; close() it."""
    from console.runtime import Runtime

    runtime = Runtime.create(chat_settings(console_url, market_url, **overrides))
    runtime.users.seed_demo()
    return runtime


@dataclass
class TurnResult:
    """A turn's events sorted out for assertions."""

    events: list[Any]

    @property
    def text(self) -> str:
        return "".join(e.text for e in self.events if type(e).__name__ == "TextDelta")

    @property
    def tools(self) -> list[tuple[str, dict[str, Any]]]:
        return [(e.name, e.arguments) for e in self.events if type(e).__name__ == "ToolStarted"]

    @property
    def finished(self) -> list[Any]:
        return [e for e in self.events if type(e).__name__ == "ToolFinished"]

    @property
    def proposed(self) -> list[Any]:
        return [e for e in self.events if type(e).__name__ == "OperationProposed"]

    @property
    def errors(self) -> list[Any]:
        return [e for e in self.events if type(e).__name__ == "AgentError"]

    @property
    def usage(self) -> Any:
        return next(e for e in self.events if type(e).__name__ == "Usage")

    @property
    def conversation_id(self) -> str:
        return self.events[-1].conversation_id

    @property
    def batch_ids(self) -> set[str | None]:
        return {e.batch_id for e in self.proposed}


def run_turn(agent: Any, caller: Any, text: str, *, site: str = "us", conversation_id: str | None = None) -> TurnResult:
    events = list(agent.run_turn(caller, conversation_id, text, site=site))
    assert type(events[-1]).__name__ == "TurnDone" and type(events[-2]).__name__ == "Usage", events[-2:]
    return TurnResult(events)


def market_rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()
