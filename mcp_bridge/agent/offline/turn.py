"""One offline turn and what the playbooks share: saying text, calling tools through the bridge, tables."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Generator, Iterator
from typing import Any, Protocol

from babel.numbers import format_currency

from mcp_bridge.agent.conversations import Conversations
from mcp_bridge.agent.events import (
    AgentEvent,
    OperationProposed,
    TextDelta,
    ToolFinished,
    ToolStarted,
)
from mcp_bridge.agent.offline.intents import language
from mcp_bridge.agent.prompt import tool_result_block
from mcp_bridge.errors import ConsoleError
from mcp_bridge.scrub import request_evidence
from mcp_bridge.types import Caller, Source, ToolOutcome


class Assistant(Protocol):
    """What a turn needs of the assistant running it."""

    bridge: Any
    conversations: Conversations
    today: dt.date | None


MAX_PROPOSALS = 10  # per kind of change and turn: a reviewable batch
READER_LOCALES = {"en": "en_US", "zh": "zh_Hans_CN"}  # the reader's language decides how money is written


class Turn:
    """One offline turn: says text, calls tools through the bridge, and keeps the transcript in API shape."""

    def __init__(self, agent: Assistant, caller: Caller, conversation_id: str, turn: int, site: str, text: str) -> None:
        self.agent, self.caller, self.site, self.turn = agent, caller, site, turn
        self.conversation_id = conversation_id
        self.lang = language(text)
        self.today = agent.today or dt.date.today()
        self.source = Source(kind="chat", ref=conversation_id, batch_id=f"chat-{uuid.uuid4().hex[:16]}",
                             evidence=request_evidence(text))  # the card shows the message that led to a write
        self.error_code: str | None = None
        self.proposed: list[ToolOutcome] = []
        self.refused: list[ToolOutcome] = []
        self._text: list[str] = []
        self._currency: str | None = None

    def t(self, en: str, zh: str) -> str:
        return zh if self.lang == "zh" else en

    def text(self, message: tuple[str, str], **values: Any) -> str:
        """One message of a module's (English, Chinese) pair in the turn's language, its blanks filled."""
        return self.t(*message).format(**values)

    def currency(self) -> Generator[AgentEvent, None, str | None]:
        """The site's currency, read once per turn (None when the read failed; that is said to the user)."""
        if self._currency is None:
            data = yield from self.read("ads__get_regions", {})
            self._currency = str((data or {}).get("currency") or "")
        return self._currency or None

    def money(self, value: float | None, currency: str | None) -> str | None:
        """An amount in the site's currency for the turn's reader: `€1.20`, `¥120`; a plain number without one."""
        if value is None or not currency:
            return num(value)
        return format_currency(value, currency, locale=READER_LOCALES[self.lang])

    def say(self, text: str) -> Iterator[AgentEvent]:
        self._text.append(text)
        yield TextDelta(text)

    def keep(self, text: str) -> None:
        """Text for the transcript that is not streamed (the turn's events carry it another way)."""
        self._text.append(text)

    def call(self, name: str, arguments: dict[str, Any], *, write: bool = True) -> Generator[AgentEvent, None, ToolOutcome]:
        """One tool call through the bridge, with the same events the agent yields; refused writes are kept."""
        call_id = f"toolu_offline_{uuid.uuid4().hex[:16]}"
        arguments = {"site": self.site, **arguments}
        yield ToolStarted(call_id, name, arguments)
        try:
            outcome = self.agent.bridge.call(self.caller, name, arguments, source=self.source)
        except ConsoleError as exc:
            outcome = ToolOutcome(tool=name, status="error", text=str(exc), code=exc.code)
        summary = " ".join(outcome.text.split())[:160]
        yield ToolFinished(call_id, name, outcome.status, outcome.duration_ms, summary, outcome.operation_id)
        if outcome.status == "pending" and outcome.operation_id is not None:
            self.proposed.append(outcome)
            yield OperationProposed(outcome.operation_id, outcome.batch_id or self.source.batch_id, outcome.text)
        elif outcome.status == "error" and write:
            self.refused.append(outcome)
        said, self._text = self._text, []
        content = ([{"type": "text", "text": "".join(said)}] if said else []) + [
            {"type": "tool_use", "id": call_id, "name": name, "input": arguments}]
        self.agent.conversations.append(self.conversation_id, role="assistant", content=content, turn=self.turn)
        self.agent.conversations.append(self.conversation_id, role="user", content=[tool_result_block(call_id, name, outcome)],
                                        turn=self.turn)
        return outcome

    def read(self, name: str, arguments: dict[str, Any]) -> Generator[AgentEvent, None, dict[str, Any] | None]:
        """A read whose structured result is returned (None after an error, which is said to the user)."""
        outcome = yield from self.call(name, arguments, write=False)
        if outcome.status != "ok":
            yield from self.say(self.t(f"\n{name} failed: {outcome.text}\n", f"\n{name} 调用失败：{outcome.text}\n"))
            return None
        if outcome.structured is not None:
            return outcome.structured
        try:
            return json.loads(outcome.text)
        except ValueError:
            return {}

    def report_proposals(self) -> Iterator[AgentEvent]:
        """The closing lines of every turn that proposed writes: what waits for approval, what was refused."""
        if self.proposed:
            ids = ", ".join(f"#{o.operation_id}" for o in self.proposed)
            yield from self.say(self.t(
                f"\n**{len(self.proposed)} change(s) proposed as one batch ({ids})** — pending approval; nothing changes "
                "until an approver approves them on the Approvals page.\n",
                f"\n**已提交 {len(self.proposed)} 项修改（同一批次：{ids}）** — 等待审批；审批人在审批页面批准之前不会有任何改变。\n"))
        for outcome in self.refused:
            yield from self.say(self.t(f"\nRefused: {outcome.text}\n", f"\n被拒绝：{outcome.text}\n"))

    def finish(self) -> None:
        if self._text:
            self.agent.conversations.append(self.conversation_id, role="assistant",
                                            content=[{"type": "text", "text": "".join(self._text)}], turn=self.turn)
            self._text = []


Handler = Callable[..., Iterator[AgentEvent]]


# -- formatting shared by the playbooks ---------------------------------------------------------------


def table(headers: list[str], rows: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        return "—" if v is None else str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def pct(value: float | None) -> str | None:
    return None if value is None else f"{value * 100:.1f}%"


def num(value: float | None) -> str | None:
    return None if value is None else f"{value:,.2f}"


def window(turn: Turn, days: int) -> dict[str, str]:
    """The last `days` full days before the market's today."""
    end = turn.today - dt.timedelta(days=1)
    return {"start_date": (end - dt.timedelta(days=days - 1)).isoformat(), "end_date": end.isoformat()}
