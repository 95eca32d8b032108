"""The console database as the bridge sees it: one `Base`, the engine, write transactions, bridge tables."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    String,
    Text,
    create_engine,
    event,
    false,
    text,
    true,
)
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from mcp_bridge.errors import database_trouble

GENESIS_HASH = "0" * 64
SQLITE_BUSY_TIMEOUT_MS = 30_000  # how long a SQLite writer waits for another's lock


class Base(DeclarativeBase):
    pass


def utcnow() -> dt.datetime:
    """Naive UTC, as stored (SQLite and PostgreSQL `timestamp` alike)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def json_text(value: Any) -> str:
    """How JSON columns are written: compact, keys sorted, non-ASCII kept (searchable), as the audit log hashes it."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def make_engine(url: str) -> Engine:
    """An engine for the console DB; SQLite in WAL with a busy timeout and `BEGIN IMMEDIATE` for writes."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, json_serializer=json_text)
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, json_serializer=json_text)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - runs on every connection
        # pysqlite's own transaction handling is turned off so that we choose how each one begins.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):  # pragma: no cover - runs on every transaction
        # A writer takes the write lock up front: a deferred transaction that read first and then
        # writes fails with SQLITE_BUSY instead of waiting, which would fork the audit chain.
        options = conn.get_execution_options()
        if options.get("console_write"):
            # How long this writer waits for another's lock (set per transaction: connections are pooled).
            conn.exec_driver_sql(f"PRAGMA busy_timeout={int(options.get('console_wait_ms', SQLITE_BUSY_TIMEOUT_MS))}")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


class Store:
    """Sessions on the console DB: `write()` is one serialisable-enough transaction, `read()` a reader."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self, *, wait_ms: int | None = None) -> Iterator[Session]:
        """A transaction that holds SQLite's write lock from its first statement; committed on success.

        `wait_ms` bounds how long it waits for another writer's lock (default: SQLite's 30 s busy timeout; on
        PostgreSQL, the server's lock timeout). A locked, read-only, full or unreachable database raises a coded
        DatabaseUnavailable, all of it rolled back.
        """
        with _coded_database_errors(), self._sessions() as session:
            options: dict[str, Any] = {"console_write": True}
            if wait_ms is not None:
                options["console_wait_ms"] = max(1, int(wait_ms))
            session.connection(execution_options=options)
            if wait_ms is not None and self.dialect == "postgresql":
                session.execute(text(f"SET LOCAL lock_timeout = {max(1, int(wait_ms))}"))
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        with _coded_database_errors(), self._sessions() as session:
            yield session


@contextmanager
def _coded_database_errors() -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:
        coded = database_trouble(exc) if isinstance(exc, OperationalError | InterfaceError) else None
        if coded is None:
            raise
        raise coded from exc


class OperationRow(Base):
    """A proposed write and everything that happened to it (the gate's state machine)."""

    __tablename__ = "operations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    site: Mapped[str] = mapped_column(String(16), index=True)
    server: Mapped[str] = mapped_column(String(64))
    tool: Mapped[str] = mapped_column(String(128))
    arguments: Mapped[dict[str, Any]] = mapped_column(JSON)
    preview: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    proposer: Mapped[str] = mapped_column(String(254))
    source_kind: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(254))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    original_arguments: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    edit_history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    executed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The approval token's random nonce, which the server's ledger keys the write by (never derived from the id,
    # so a restored database or a second console cannot make a new operation match an old one), and the
    # token's expiry: after it, a nonce the server has not applied can never be applied.
    nonce: Mapped[str | None] = mapped_column(String(64), unique=True)
    # What justifies it (the target's metrics over the rule's window, the rule or the request that led to it).
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Server, tool, site and target ids: one pending operation per intent; a different change of the same
    # target names the one it supersedes.
    intent: Mapped[str | None] = mapped_column(String(255), index=True)
    supersedes: Mapped[int | None] = mapped_column(Integer)
    token_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (Index("ix_operations_site_status", "site", "status"),)


class AuditRow(Base):
    """One link of the hash chain; ids are assigned by the appender and are contiguous."""

    __tablename__ = "audit_log"
    # The Audit page counts decisions or reads in a time range from this index alone (migration 0008).
    __table_args__ = (Index("ix_audit_log_at_event_outcome", "at", "event", "outcome"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    event: Mapped[str] = mapped_column(String(32), index=True)
    actor: Mapped[str] = mapped_column(String(254), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    site: Mapped[str | None] = mapped_column(String(16), index=True)
    tool: Mapped[str | None] = mapped_column(String(128), index=True)
    arguments: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    outcome: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    result_size: Mapped[int | None] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))
    # Which audit key MACs this row (a short fingerprint of it); NULL for rows chained with plain SHA-256
    # before the chain was keyed, which may only form the chain's prefix.
    key_id: Mapped[str | None] = mapped_column(String(16))


class AuditHead(Base):
    """The chain head (one row): appenders lock it, and it lets `verify` notice a deleted tail."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)


class SitePolicyRow(Base):
    """Per-site safety limits (the budget safety valve); a missing row means the defaults."""

    __tablename__ = "site_policies"
    site: Mapped[str] = mapped_column(String(16), primary_key=True)
    max_bid_change_abs: Mapped[float] = mapped_column(Float)
    max_bid_change_pct: Mapped[float] = mapped_column(Float)
    max_bid_change_daily_total: Mapped[float] = mapped_column(Float)
    max_budget_increase_pct: Mapped[float] = mapped_column(Float)
    max_budget_increase_abs: Mapped[float] = mapped_column(Float)
    price_change_min_pct: Mapped[float] = mapped_column(Float)
    price_change_max_pct: Mapped[float] = mapped_column(Float)
    expiry_hours: Mapped[float] = mapped_column(Float)
    allow_self_approval: Mapped[bool] = mapped_column(default=False)
    # Creations and the day's total per target (migration 0005; defaults for rows saved before it).
    max_new_daily_budget: Mapped[float] = mapped_column(Float, server_default="500")
    max_new_bid: Mapped[float] = mapped_column(Float, server_default="5")
    max_discount_pct: Mapped[float] = mapped_column(Float, server_default="50")
    max_promotion_budget: Mapped[float] = mapped_column(Float, server_default="5000")
    import_price_min: Mapped[float] = mapped_column(Float, server_default="1")
    import_price_max: Mapped[float] = mapped_column(Float, server_default="10000")
    max_stock_change: Mapped[float] = mapped_column(Float, server_default="5000")
    max_discount_fixed: Mapped[float] = mapped_column(Float, server_default="100")
    max_target_daily_change_pct: Mapped[float] = mapped_column(Float, server_default="50")


class ToolGroup(Base):
    """A named set of tools (glob patterns) an API key or a page may see."""

    __tablename__ = "tool_groups"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    patterns: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    # The gateway's view of a group (migration 0006): `name` is its code in `/mcp/<code>`.
    title: Mapped[str] = mapped_column(String(120), server_default="")
    sites: Mapped[list[str]] = mapped_column(JSON, default=list)
    writes: Mapped[bool] = mapped_column(Boolean, server_default=false())
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=true())
    created_by: Mapped[str | None] = mapped_column(String(254))
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class ApiKey(Base):
    """A gateway key: only its SHA-256 is stored; the key itself is shown once."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tool_group: Mapped[str] = mapped_column(String(64))
    user: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    replaced_by: Mapped[int | None] = mapped_column(Integer)
