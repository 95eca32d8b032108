"""The agent loop: Claude with streaming and tool use over the bridge; every write lands in the approval queue."""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from mcp_bridge.agent.claude import describe_api_error, make_client, turn_cost
from mcp_bridge.agent.conversations import Conversations, TurnUsage
from mcp_bridge.agent.events import (
    AgentError,
    AgentEvent,
    OperationProposed,
    TextDelta,
    ToolFinished,
    ToolStarted,
    TurnDone,
    Usage,
)
from mcp_bridge.agent.named_sites import choose_site
from mcp_bridge.agent.prompt import (
    answer_orphans,
    cached_tools,
    estimate_tokens,
    fit_history,
    merge_roles,
    system_blocks,
    tool_result_block,
    with_last_breakpoint,
)
from mcp_bridge.errors import ConsoleError, SiteScopeRequired
from mcp_bridge.scrub import request_evidence
from mcp_bridge.types import Caller, Source, ToolOutcome

log = logging.getLogger(__name__)

DEFAULT_MODEL = "claude-sonnet-5-5"
STOPPED_MARK = "[stopped by the user]"


class ToolCaller(Protocol):
    """The part of `Bridge` the agent needs (tests may hand in a small fake)."""

    catalog: Any

    def call(self, caller: Caller, name: str, arguments: dict[str, Any], *, source: Source) -> ToolOutcome: ...


@dataclass(frozen=True)
class AgentConfig:
    api_key: str = field(repr=False)  # never in logs or tracebacks
    base_url: str | None = None
    model: str = DEFAULT_MODEL
    max_tokens: int = 4096
    max_tool_rounds: int = 8
    context_budget_tokens: int = 150_000
    prices: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    max_retries: int = 2
    timeout_s: float = 120.0
    # The date the system prompt calls today (the market's today in demos); None: the real date.
    today: dt.date | None = None


@dataclass
class _Turn:
    """What one turn has done so far."""

    conversation_id: str
    number: int
    source: Source
    rounds: int = 0
    usage: TurnUsage = field(default_factory=TurnUsage)
    error_code: str | None = None


class Agent:
    """One per process; `run_turn` is a sync generator the Streamlit script thread or the CLI iterates."""

    def __init__(self, bridge: ToolCaller, config: AgentConfig, conversations: Conversations, *, client: Any = None) -> None:
        self.bridge = bridge
        self.config = config
        self.conversations = conversations
        self.client = client or make_client(api_key=config.api_key, base_url=config.base_url,
                                            max_retries=config.max_retries, timeout_s=config.timeout_s)

    def run_turn(self, caller: Caller, conversation_id: str | None, text: str, *, site: str,
                 language: str = "en") -> Iterator[AgentEvent]:
        """Answer one user message: stream text, run tools, propose writes; always ends with Usage and TurnDone.

        `language` is the reader's UI language ("en", "zh"): the system prompt asks for answers in it.
        """
        if not caller.may_see(site):
            raise SiteScopeRequired(f"{caller.user} has no access to site {site}")
        choice = choose_site(text, caller, site)  # a site the message names wins; one outside the scope is refused
        site = choice.site
        if conversation_id is None:
            conversation_id = self.conversations.create(user=caller.user, site=site, title=text, model=self.config.model).id
        else:
            self.conversations.get(conversation_id, user=caller.user)
        turn = _Turn(conversation_id, self.conversations.next_turn(conversation_id),
                     Source(kind="chat", ref=conversation_id, batch_id=f"chat-{uuid.uuid4().hex[:16]}",
                            evidence=request_evidence(text)))  # the card shows the message that led to a write
        self.conversations.append(conversation_id, role="user", content=[{"type": "text", "text": text}], turn=turn.number)
        try:
            if choice.refusal is not None:
                yield from self._refuse(turn, choice.refusal)
            else:
                yield from self._rounds(caller, site, turn, language)
        except GeneratorExit:  # Stop between two steps: a tool call cut off here gets a placeholder result next turn
            turn.error_code = "STOPPED"
            raise
        finally:  # also when the page stops listening half way: the tokens were spent all the same
            self.conversations.record_turn(conversation_id, turn=turn.number, model=self.config.model, rounds=turn.rounds,
                                           usage=turn.usage, error_code=turn.error_code)
        yield Usage(turn.usage.input, turn.usage.output, turn.usage.cache_write, turn.usage.cache_read, turn.usage.cost_usd)
        yield TurnDone(conversation_id)

    def _rounds(self, caller: Caller, site: str, turn: _Turn, language: str = "en") -> Iterator[AgentEvent]:
        """Model call, tools, model call… until the model answers without tools (or the round limit)."""
        try:
            tools = self.bridge.catalog.anthropic_tools(caller)
        except ConsoleError as exc:  # e.g. every server down: say so instead of breaking the page
            turn.error_code = exc.code
            yield AgentError(exc.code, f"The tools are not available right now: {exc.message}")
            return
        tool_names = {t["name"] for t in tools}
        request = {
            "model": self.config.model,
            "max_tokens": self.config.max_tokens,
            "system": system_blocks(caller, site=site, today=self.config.today or dt.date.today(), language=language),
            "tools": cached_tools(tools),
        }
        fixed_tokens = estimate_tokens(request["system"]) + estimate_tokens(request["tools"]) + self.config.max_tokens
        while True:
            turn.rounds += 1
            history = merge_roles(answer_orphans(self.conversations.messages(turn.conversation_id)))
            messages = with_last_breakpoint(fit_history(history, budget_tokens=self.config.context_budget_tokens,
                                                        fixed_tokens=fixed_tokens))
            try:
                with self.client.messages.stream(**request, messages=messages) as stream:
                    streamed: list[str] = []
                    try:
                        for event in stream:
                            if event.type == "text" and event.text:
                                streamed.append(event.text)
                                yield TextDelta(event.text)
                    except GeneratorExit:  # the person pressed Stop (the page stopped listening)
                        self._stopped(turn, "".join(streamed), getattr(stream, "current_message_snapshot", None))
                        raise
                    final = stream.get_final_message()
            except Exception as exc:  # every API failure becomes a message; the conversation stays usable
                log.warning("Messages API call failed: %s", exc)
                turn.error_code, message = describe_api_error(exc)
                yield AgentError(turn.error_code, message)
                return
            turn.usage = turn.usage + self._usage(final.usage)
            content = _content_params(final.content)
            if content:
                self.conversations.append(turn.conversation_id, role="assistant", content=content, turn=turn.number)
            calls = [b for b in content if b["type"] == "tool_use"]
            if final.stop_reason != "tool_use" or not calls:
                if final.stop_reason == "max_tokens":
                    yield AgentError("MAX_TOKENS", "The answer was cut off at the output limit; ask me to continue.")
                return
            if turn.rounds > self.config.max_tool_rounds:
                limit = self.config.max_tool_rounds
                for call in calls:
                    self._save_result(turn, call, _refused(call["name"], "TOOL_ROUNDS_EXCEEDED",
                                                           f"not run: the limit of {limit} tool rounds per turn was reached"))
                turn.error_code = "TOOL_ROUNDS_EXCEEDED"
                yield AgentError(turn.error_code, f"Stopped after {limit} rounds of tool calls; say 'continue' to let me go on.")
                return
            for call in calls:
                yield from self._run_tool(caller, call, tool_names, turn)

    def _refuse(self, turn: _Turn, refusal: str) -> Iterator[AgentEvent]:
        """A message naming a site outside the caller's scope: said plainly, never answered for another site."""
        turn.error_code = SiteScopeRequired.code
        # Kept in the conversation, so the transcript shows it and the next turn's history explains itself.
        self.conversations.append(turn.conversation_id, role="assistant", content=[{"type": "text", "text": refusal}],
                                  turn=turn.number)
        yield AgentError(turn.error_code, refusal)

    def _stopped(self, turn: _Turn, streamed: str, snapshot: Any) -> None:
        """Keep what was said before Stop (so the next turn can refer to it) and the tokens spent so far."""
        turn.error_code = "STOPPED"
        if snapshot is not None and getattr(snapshot, "usage", None) is not None:
            turn.usage = turn.usage + self._usage(snapshot.usage)
        if streamed.strip():
            self.conversations.append(turn.conversation_id, role="assistant", turn=turn.number,
                                      content=[{"type": "text", "text": f"{streamed.rstrip()} … {STOPPED_MARK}"}])

    def _save_result(self, turn: _Turn, call: dict[str, Any], outcome: ToolOutcome) -> None:
        # One message per result: consecutive user messages are merged when the request is built, and a turn
        # cut short keeps every result it got.
        self.conversations.append(turn.conversation_id, role="user", turn=turn.number,
                                  content=[tool_result_block(call["id"], call["name"], outcome)])

    def _run_tool(self, caller: Caller, call: dict[str, Any], tool_names: set[str], turn: _Turn) -> Iterator[AgentEvent]:
        name, arguments = call["name"], call["input"]
        yield ToolStarted(call["id"], name, arguments if isinstance(arguments, dict) else {"input": arguments})
        started = time.perf_counter()
        outcome = self._call_tool(caller, name, arguments, tool_names, turn.source)
        self._save_result(turn, call, outcome)
        duration = outcome.duration_ms or (time.perf_counter() - started) * 1000
        yield ToolFinished(call["id"], name, outcome.status, duration, _summary(outcome), outcome.operation_id)
        if outcome.status == "pending" and outcome.operation_id is not None:
            yield OperationProposed(outcome.operation_id, outcome.batch_id or turn.source.batch_id, outcome.text)

    def _call_tool(self, caller: Caller, name: str, arguments: Any, tool_names: set[str], source: Source) -> ToolOutcome:
        if name not in tool_names:
            return _refused(name, "NOT_FOUND", f"there is no tool named {name!r} available to {caller.user}; "
                                               "use only the tools in your tool list")
        if not isinstance(arguments, dict):
            return _refused(name, "VALIDATION_FAILED", "tool arguments must be a JSON object")
        try:
            return self.bridge.call(caller, name, arguments, source=source)
        except ConsoleError as exc:
            return _refused(name, exc.code, exc.message)
        except Exception as exc:  # a bridge bug must not end the conversation; the model sees a plain error
            log.exception("tool %s failed in the bridge", name)
            return _refused(name, "UPSTREAM_ERROR", f"{name} failed: {type(exc).__name__}")

    def _usage(self, usage: Any) -> TurnUsage:
        counts = {
            "input": usage.input_tokens or 0,
            "output": usage.output_tokens or 0,
            "cache_write": getattr(usage, "cache_creation_input_tokens", None) or 0,
            "cache_read": getattr(usage, "cache_read_input_tokens", None) or 0,
        }
        return TurnUsage(**counts, cost_usd=turn_cost(self.config.prices, self.config.model, **counts))


def _refused(tool: str, code: str, message: str) -> ToolOutcome:
    return ToolOutcome(tool=tool, status="error", text=f"{code}: {message}", code=code)


def _summary(outcome: ToolOutcome) -> str:
    text = " ".join(outcome.text.split())
    return text if len(text) <= 160 else text[:157] + "…"


def _content_params(blocks: Any) -> list[dict[str, Any]]:
    """The assistant's content as request params: text (non-empty) and tool_use blocks."""
    out: list[dict[str, Any]] = []
    for block in blocks:
        if block.type == "text" and block.text:
            out.append({"type": "text", "text": block.text})
        elif block.type == "tool_use":
            out.append({"type": "tool_use", "id": block.id, "name": block.name, "input": block.input})
    return out
