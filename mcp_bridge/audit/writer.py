"""Writes audit rows in one short transaction on the engine's own driver connection, one per engine and process."""

from __future__ import annotations

import itertools
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from sqlalchemy import Engine, bindparam, event, insert, literal_column, select, update

from mcp_bridge.audit.key import AuditKey
from mcp_bridge.audit.rows import JSON_FIELDS, Appended, Entry, link
from mcp_bridge.store import SQLITE_BUSY_TIMEOUT_MS, AuditHead, AuditRow

_HEAD = AuditHead.__table__
LOCK_HEAD = select(_HEAD.c.last_id, _HEAD.c.last_hash).where(_HEAD.c.id == literal_column("1")).with_for_update()
INSERT_ROW = insert(AuditRow.__table__)
MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == literal_column("1")).values(last_id=bindparam("new_last_id"),
                                                                         last_hash=bindparam("new_last_hash"))


class _StaleConnection(Exception):
    """The append's connection was dead before the append wrote anything (a restarted server, say)."""


def _rolled_back(raw: Any, sqlite: bool) -> bool:
    """Roll back the failed append; False when even that fails (the connection is then unusable)."""
    try:
        if sqlite:
            if raw.driver_connection.in_transaction:
                raw.driver_connection.execute("ROLLBACK")
        else:
            raw.rollback()
        return True
    except Exception:
        return False


class _DriverStatement:
    """A statement compiled once for the engine's driver, with its bind processors (what Core would apply)."""

    def __init__(self, statement: Any, dialect: Any) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.order = compiled.positiontup  # None for named paramstyles (psycopg's pyformat)
        self.named = self.order is None
        # Each parameter with its bind processor, if any (JSON values arrive as canonical text: none for them).
        self.plan = [(name, None if name in JSON_FIELDS else bind.type.dialect_impl(dialect).bind_processor(dialect))
                     for name, bind in compiled.binds.items()]
        if not self.named:
            by_name = dict(self.plan)
            self.plan = [(name, by_name[name]) for name in self.order]

    def parameters(self, values: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        if self.named:
            return {name: values[name] if proc is None else proc(values[name]) for name, proc in self.plan}
        return tuple(values[name] if proc is None else proc(values[name]) for name, proc in self.plan)


class Appender:
    """Appends in one short transaction on the engine's own driver connection: a tenth of the ORM's cost.

    Every read through the bridge waits for its request row (no row, no answer), so this path is kept lean:
    one connection per engine and process, so its page cache stays warm, and a thread lock in front of it,
    so the process's writers queue in Python instead of in SQLite's sleeping busy handler. Across processes
    the database serialises them as in `AuditLog.lock` (BEGIN IMMEDIATE on SQLite, FOR UPDATE elsewhere).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = weakref.ref(engine)  # weak: the registry is keyed by the engine
        self.dialect = dialect = engine.dialect
        self.sqlite = dialect.name == "sqlite"
        self.lock_sql = _DriverStatement(LOCK_HEAD, dialect).sql
        self.insert = _DriverStatement(INSERT_ROW, dialect)
        self.move = _DriverStatement(MOVE_HEAD, dialect)
        self.mutex = threading.Lock()
        self.raw: Any = None
        self.pid = 0

    def append(self, rows: Sequence[Entry], key: AuditKey) -> list[Appended]:
        """Append `rows` in order, MACed with `key`, in one transaction: all of them or none."""
        with self.mutex:
            try:
                return self._append_waiting(rows, key)
            except _StaleConnection:  # nothing was written: one more try on a fresh connection
                return self._append_waiting(rows, key)

    def try_append(self, rows: Sequence[Entry], key: AuditKey) -> list[Appended] | None:
        """`append` without ever waiting (for the pool's loop thread); None when that would wait: append instead.

        Only on SQLite, where an append is a local write of tens of µs; it would wait when another thread of
        this process is appending, or another process holds the database's write lock.
        """
        if not self.sqlite or not self.mutex.acquire(blocking=False):
            return None
        try:
            return self._append(rows, key)
        except _StaleConnection:
            return None
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                return None
            raise
        finally:
            self.mutex.release()

    def _append_waiting(self, rows: Sequence[Entry], key: AuditKey) -> list[Appended]:
        """Append, waiting up to the busy timeout for another process's write lock (SQLite's own schedule)."""
        if not self.sqlite:  # PostgreSQL waits on the head row's lock by itself
            return self._append(rows, key)
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
        for delay in itertools.chain(BUSY_DELAYS_S, itertools.repeat(BUSY_DELAYS_S[-1])):
            try:
                return self._append(rows, key)
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or time.monotonic() + delay > deadline:
                    raise
            time.sleep(delay)
        raise AssertionError("unreachable")

    def _append(self, rows: Sequence[Entry], key: AuditKey) -> list[Appended]:
        raw = self._connection()
        cursor = raw.cursor()
        started = False
        appended: list[Appended] = []
        try:
            if self.sqlite:  # take the write lock first, as Store.write does
                cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(self.lock_sql)
            started = True
            last_id, last_hash = cursor.fetchone()
            for row in rows:
                values = link(row, last_id, last_hash, key)
                cursor.execute(self.insert.sql, self.insert.parameters(values))
                last_id, last_hash = values["id"], values["row_hash"]
                appended.append(Appended(last_id, values["at"], last_hash))
            cursor.execute(self.move.sql, self.move.parameters({"new_last_id": last_id, "new_last_hash": last_hash}))
            if self.sqlite:
                cursor.execute("COMMIT")
            else:
                raw.commit()
        except Exception as exc:
            lost = self.dialect.is_disconnect(exc, raw.driver_connection, cursor)
            if lost or not _rolled_back(raw, self.sqlite):
                raw.invalidate()
                self.raw = None  # the server went away, say: the next append opens a new connection
            if lost and not started:  # the connection was dead before this append wrote anything
                raise _StaleConnection from exc
            raise
        finally:
            with suppress(Exception):
                cursor.close()
        return appended

    def _connection(self) -> Any:
        if self.raw is None or self.pid != os.getpid():  # never share a connection across a fork
            engine = self.engine()
            if engine is None:
                raise RuntimeError("the audit log's engine is gone")
            self.raw, self.pid = engine.raw_connection(), os.getpid()
            if self.sqlite:  # never wait inside SQLite: `_append_waiting` does, `try_append` must not
                self.raw.driver_connection.execute("PRAGMA busy_timeout=0")
        return self.raw

    def close(self, *_: Any) -> None:
        with self.mutex:
            if self.raw is not None and self.pid == os.getpid():
                if self.sqlite:  # back to the pool as the engine made it
                    with suppress(Exception):
                        self.raw.driver_connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
                self.raw.close()
            self.raw = None


# SQLite's own busy handler sleeps like this (sqliteDefaultBusyCallback), then 100 ms at a time.
BUSY_DELAYS_S = (0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.025, 0.025, 0.05, 0.05, 0.1)


def _busy(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


_APPENDERS: weakref.WeakKeyDictionary[Engine, Appender] = weakref.WeakKeyDictionary()
_APPENDERS_LOCK = threading.Lock()


def appender(engine: Engine) -> Appender:
    """The engine's one appender; `engine.dispose()` hands its connection back."""
    with _APPENDERS_LOCK:
        found = _APPENDERS.get(engine)
        if found is None:
            found = _APPENDERS[engine] = Appender(engine)
            event.listen(engine, "engine_disposed", found.close)
        return found
