"""Chat conversations in the console database: messages, usage per turn, totals per conversation and user."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, Float, ForeignKey, Index, Integer, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from mcp_bridge.errors import NotFound
from mcp_bridge.scrub import scrub, scrub_text
from mcp_bridge.store import Base, Store, utcnow


class ConversationRow(Base):
    __tablename__ = "conversations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user: Mapped[str] = mapped_column(String(254), index=True)
    site: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    turns: Mapped[int] = mapped_column(Integer, default=0)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)


class MessageRow(Base):
    """One API message (role + content blocks), in order; tool_use/tool_result blocks included."""

    __tablename__ = "conversation_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    turn: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    __table_args__ = (Index("ix_conversation_messages_conv_seq", "conversation_id", "seq", unique=True),)


class TurnRow(Base):
    """Tokens and cost of one turn (all model rounds), and how it ended."""

    __tablename__ = "conversation_turns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    turn: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(64))
    rounds: Mapped[int] = mapped_column(Integer)
    input_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    cache_write_tokens: Mapped[int] = mapped_column(Integer)
    cache_read_tokens: Mapped[int] = mapped_column(Integer)
    cost_usd: Mapped[float] = mapped_column(Float)
    error_code: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


@dataclass(frozen=True)
class TurnUsage:
    input: int = 0
    output: int = 0
    cache_write: int = 0
    cache_read: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: TurnUsage) -> TurnUsage:
        return TurnUsage(self.input + other.input, self.output + other.output, self.cache_write + other.cache_write,
                         self.cache_read + other.cache_read, round(self.cost_usd + other.cost_usd, 6))


@dataclass(frozen=True)
class Conversation:
    id: str
    user: str
    site: str
    title: str
    model: str
    created_at: dt.datetime
    updated_at: dt.datetime
    turns: int
    totals: TurnUsage


def _info(row: ConversationRow) -> Conversation:
    totals = TurnUsage(row.input_tokens, row.output_tokens, row.cache_write_tokens, row.cache_read_tokens, row.cost_usd)
    return Conversation(row.id, row.user, row.site, row.title, row.model, row.created_at, row.updated_at, row.turns, totals)


class Conversations:
    """Keyword-only queries over one console engine; a user only ever sees their own conversations."""

    def __init__(self, engine: Engine) -> None:
        self.store = Store(engine)

    def create(self, *, user: str, site: str, title: str, model: str) -> Conversation:
        now = utcnow()
        title = scrub_text(title.strip())[:200] or "(untitled)"
        row = ConversationRow(id=uuid.uuid4().hex, user=user, site=site, title=title,
                              model=model, created_at=now, updated_at=now, turns=0, input_tokens=0, output_tokens=0,
                              cache_write_tokens=0, cache_read_tokens=0, cost_usd=0.0)
        with self.store.write() as s:
            s.add(row)
            s.flush()
            return _info(row)

    def get(self, conversation_id: str, *, user: str) -> Conversation:
        with self.store.read() as s:
            row = s.get(ConversationRow, conversation_id)
            if row is None or row.user != user:
                raise NotFound(f"conversation {conversation_id} does not exist for {user}; `list` shows yours")
            return _info(row)

    def list_for(self, user: str, *, limit: int = 50) -> list[Conversation]:
        with self.store.read() as s:
            rows = s.scalars(select(ConversationRow).where(ConversationRow.user == user)
                             .order_by(ConversationRow.updated_at.desc(), ConversationRow.id).limit(limit))
            return [_info(r) for r in rows]

    def messages(self, conversation_id: str) -> list[dict[str, Any]]:
        """The API messages of a conversation, oldest first."""
        with self.store.read() as s:
            rows = s.scalars(select(MessageRow).where(MessageRow.conversation_id == conversation_id).order_by(MessageRow.seq))
            return [{"role": r.role, "content": r.content} for r in rows]

    def append(self, conversation_id: str, *, role: str, content: list[dict[str, Any]], turn: int) -> None:
        """Add one message, its text scrubbed of credentials (`mcp_bridge.scrub`) first.

        The model is sent the stored history, so nothing scrubbed here reaches it either: a key pasted into the chat,
        or echoed in a tool result, is stored and sent as `[secret:…]`.
        """
        content = scrub(content)
        with self.store.write() as s:
            last = s.scalar(select(func.max(MessageRow.seq)).where(MessageRow.conversation_id == conversation_id))
            s.add(MessageRow(conversation_id=conversation_id, seq=(last or 0) + 1, turn=turn, role=role,
                             content=content, created_at=utcnow()))
            conv = s.get(ConversationRow, conversation_id)
            if conv is not None:
                conv.updated_at = utcnow()

    def next_turn(self, conversation_id: str) -> int:
        with self.store.read() as s:
            row = s.get(ConversationRow, conversation_id)
            return (row.turns if row else 0) + 1

    def record_turn(self, conversation_id: str, *, turn: int, model: str, rounds: int, usage: TurnUsage,
                    error_code: str | None = None) -> Conversation:
        """Store one turn's usage and add it to the conversation's totals."""
        with self.store.write() as s:
            s.add(TurnRow(conversation_id=conversation_id, turn=turn, model=model, rounds=rounds,
                          input_tokens=usage.input, output_tokens=usage.output, cache_write_tokens=usage.cache_write,
                          cache_read_tokens=usage.cache_read, cost_usd=usage.cost_usd, error_code=error_code,
                          created_at=utcnow()))
            conv = s.get(ConversationRow, conversation_id)
            if conv is None:
                raise NotFound(f"conversation {conversation_id} does not exist")
            conv.turns = max(conv.turns, turn)
            conv.input_tokens += usage.input
            conv.output_tokens += usage.output
            conv.cache_write_tokens += usage.cache_write
            conv.cache_read_tokens += usage.cache_read
            conv.cost_usd = round(conv.cost_usd + usage.cost_usd, 6)
            conv.updated_at = utcnow()
            s.flush()
            return _info(conv)

    def turns(self, conversation_id: str) -> list[TurnRow]:
        with self.store.read() as s:
            return list(s.scalars(select(TurnRow).where(TurnRow.conversation_id == conversation_id).order_by(TurnRow.turn, TurnRow.id)))

    def user_totals(self, user: str) -> TurnUsage:
        """Tokens and cost over all of a user's conversations."""
        with self.store.read() as s:
            row = s.execute(select(func.coalesce(func.sum(ConversationRow.input_tokens), 0),
                                   func.coalesce(func.sum(ConversationRow.output_tokens), 0),
                                   func.coalesce(func.sum(ConversationRow.cache_write_tokens), 0),
                                   func.coalesce(func.sum(ConversationRow.cache_read_tokens), 0),
                                   func.coalesce(func.sum(ConversationRow.cost_usd), 0.0))
                            .where(ConversationRow.user == user)).one()
            return TurnUsage(int(row[0]), int(row[1]), int(row[2]), int(row[3]), round(float(row[4]), 6))
