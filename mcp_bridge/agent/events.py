"""What an agent turn yields, in order, for the chat page and the terminal to render."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TextDelta:
    """A piece of the assistant's answer, as it streams."""

    text: str


@dataclass(frozen=True)
class ToolStarted:
    call_id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ToolFinished:
    call_id: str
    name: str
    status: str  # ok | pending | error
    duration_ms: float
    summary: str
    operation_id: int | None = None


@dataclass(frozen=True)
class OperationProposed:
    """A write became a pending operation in the approval queue."""

    operation_id: int
    batch_id: str | None
    summary: str


@dataclass(frozen=True)
class Usage:
    """Tokens and cost of one turn (all model rounds of the turn together)."""

    input: int
    output: int
    cache_write: int
    cache_read: int
    cost_usd: float


@dataclass(frozen=True)
class AgentError:
    """The turn could not finish; `message` is meant for the user as is."""

    code: str
    message: str


@dataclass(frozen=True)
class TurnDone:
    conversation_id: str


AgentEvent = TextDelta | ToolStarted | ToolFinished | OperationProposed | Usage | AgentError | TurnDone
