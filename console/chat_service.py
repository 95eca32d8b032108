"""Chat for the console: builds the agent (Claude, or the offline assistant) from settings; replays history."""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from console.i18n import N_, current
from console.settings import Settings
from mcp_bridge.agent import AgentEvent, Conversation, Conversations
from mcp_bridge.types import Caller

PENDING_RE = re.compile(r"pending approval #(\d+)")
DATA_FRAME_RE = re.compile(r"^<tool_result_data[^>]*>\n?|\n?</tool_result_data>$")

# The playbooks of DESIGN.md §6 as one-click prompts (phrased so the offline assistant understands them too).
# The label and the prompt show translated (button, tooltip); the prompt is sent as written here, in English.
QUICK_ACTIONS: list[tuple[str, str]] = [
    (N_("Harvest search terms"), N_("Which search terms from auto campaigns could become exact keywords?")),
    (N_("Wasted spend"), N_("Show wasted spend: keywords with spend over $20 and no orders in the last 30 days")),
    (N_("Budget pacing"), N_("Which campaigns run out of budget early, and which use under half of it?")),
    (N_("Weekly report"), N_("Generate this week's ad report")),
    (N_("Low stock"), N_("Which products have under 7 days of supply?")),
    (N_("Today's orders"), N_("Show today's orders to ship")),
]


@dataclass
class Step:
    """One tool call of a past turn, rebuilt from the stored messages."""

    call_id: str
    name: str
    arguments: dict[str, Any]
    status: str = "ok"
    result: str = ""
    operation_id: int | None = None


@dataclass
class Message:
    """One bubble of the transcript: the user's words, or the assistant's text and tool steps."""

    role: str  # user | assistant
    parts: list[str | Step] = field(default_factory=list)  # text and tool steps, in the order they happened

    @property
    def steps(self) -> list[Step]:
        return [p for p in self.parts if isinstance(p, Step)]

    @property
    def text(self) -> str:
        return "\n\n".join(p for p in self.parts if isinstance(p, str))


def market_today() -> dt.date | None:
    value = os.environ.get("MARKET_TODAY")
    return dt.date.fromisoformat(value) if value else None


class ChatService:
    """One per process: the agent and the conversation store; `offline` says which assistant answers."""

    def __init__(self, runtime: Any) -> None:
        settings: Settings = runtime.settings
        self.runtime = runtime
        self.conversations = Conversations(runtime.engine)
        self.offline = not settings.claude_enabled
        if self.offline:
            from mcp_bridge.agent.offline import OfflineAgent

            self.agent = OfflineAgent(runtime.bridge, self.conversations, today=market_today())
            self.model = "offline"
        else:
            from mcp_bridge.agent import Agent, AgentConfig

            config = AgentConfig(
                api_key=settings.anthropic_api_key.get_secret_value(),
                base_url=settings.anthropic_base_url,
                model=settings.model,
                max_tokens=settings.max_tokens,
                max_tool_rounds=settings.max_tool_rounds,
                context_budget_tokens=settings.context_budget_tokens,
                prices=settings.prices,
                today=market_today(),
            )
            self.agent = Agent(runtime.bridge, config, self.conversations)
            self.model = settings.model

    def run_turn(self, caller: Caller, conversation_id: str | None, text: str, *, site: str,
                 language: str | None = None) -> Iterator[AgentEvent]:
        """One turn; Claude answers in `language` (default: this run's UI language). The offline assistant answers
        in the language of the message itself."""
        if not caller.may_see(site):
            from mcp_bridge.errors import SiteScopeRequired

            raise SiteScopeRequired(f"{caller.user} has no access to site {site}")
        if self.offline:
            return self.agent.run_turn(caller, conversation_id, text, site=site)
        return self.agent.run_turn(caller, conversation_id, text, site=site, language=language or current())

    def list_for(self, user: str) -> list[Conversation]:
        return self.conversations.list_for(user, limit=30)

    def get(self, conversation_id: str, *, user: str) -> Conversation:
        return self.conversations.get(conversation_id, user=user)

    def transcript(self, conversation_id: str, *, user: str) -> list[Message]:
        """The conversation as bubbles: user text, assistant text with its tool steps (results matched by id)."""
        self.conversations.get(conversation_id, user=user)  # NotFound for someone else's conversation
        bubbles: list[Message] = []
        steps: dict[str, Step] = {}
        for message in self.conversations.messages(conversation_id):
            content = message["content"]
            blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
            if message["role"] == "user":
                for block in blocks:
                    if block.get("type") == "tool_result" and block.get("tool_use_id") in steps:
                        _fill_result(steps[block["tool_use_id"]], block)
                    elif block.get("type") == "text" and block.get("text"):
                        bubbles.append(Message("user", [block["text"]]))
                continue
            if not bubbles or bubbles[-1].role != "assistant":
                bubbles.append(Message("assistant"))
            bubble = bubbles[-1]
            for block in blocks:
                if block.get("type") == "text" and block.get("text"):
                    bubble.parts.append(block["text"])
                elif block.get("type") == "tool_use":
                    step = Step(block["id"], block["name"], dict(block.get("input") or {}))
                    steps[step.call_id] = step
                    bubble.parts.append(step)
        return bubbles


def _fill_result(step: Step, block: dict[str, Any]) -> None:
    content = block.get("content")
    text = "".join(c.get("text", "") for c in content) if isinstance(content, list) else str(content or "")
    text = DATA_FRAME_RE.sub("", text.strip())
    step.result = text
    if 'status="pending"' in str(content) or PENDING_RE.search(text):
        step.status = "pending"
        match = PENDING_RE.search(text)
        step.operation_id = int(match.group(1)) if match else None
    elif block.get("is_error"):
        step.status = "error"


_services: weakref.WeakKeyDictionary[Any, ChatService] = weakref.WeakKeyDictionary()
_services_lock = threading.Lock()


def shared_chat(runtime: Any) -> ChatService:
    """The chat service of `runtime`'s bridge, made on first use: a process that runs many turns (the command line's
    agent, whose commands borrow one runtime) keeps one Anthropic client with its open connections."""
    with _services_lock:
        service = _services.get(runtime.bridge)
        if service is None:
            service = _services[runtime.bridge] = ChatService(runtime)
        return service
