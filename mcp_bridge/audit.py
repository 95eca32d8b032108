"""The audit log: append-only, hash-chained rows; `verify` finds any edit, deletion, insertion or reordering."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import itertools
import json
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import IO, Any

from sqlalchemy import Engine, String, bindparam, cast, event, func, insert, literal_column, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mcp_bridge.store import GENESIS_HASH, SQLITE_BUSY_TIMEOUT_MS, AuditHead, AuditRow, Store, json_text, utcnow

SECRET_KEYS = ("approval_token", "pii_grant", "api_key", "password", "secret", "token", "authorization", "cookie")
REDACTED = "[redacted]"
FIELDS = ("id", "at", "event", "actor", "channel", "site", "tool", "arguments", "outcome", "detail",
          "duration_ms", "result_size", "prev_hash")


def _is_secret(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in SECRET_KEYS)


def redact(value: Any) -> Any:
    """A copy with every secret-looking key's value replaced (nested dicts and lists too); keys become strings,
    as JSON has them, so the canonical form of a copy read back from the database is the same text."""
    if isinstance(value, dict):
        return {str(k): REDACTED if _is_secret(str(k)) and v is not None else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


canonical = json_text  # the one canonical JSON text: hashed here, stored by the engine


def row_content(row: AuditRow) -> dict[str, Any]:
    """Everything a row says except its own hash, in a form that survives every database round trip."""
    content = {name: getattr(row, name) for name in FIELDS}
    content["at"] = row.at.isoformat(timespec="microseconds")
    return content


def row_hash(row: AuditRow) -> str:
    return hashlib.sha256(canonical(row_content(row)).encode()).hexdigest()


JSON_FIELDS = ("arguments", "detail")
HASHED = sorted(FIELDS)  # the key order of the canonical text a row's hash is computed over


@dataclass(frozen=True)
class Entry:
    """A row's own columns, serialised once: JSON ones as their canonical (redacted) text, and each column's
    canonical JSON text, from which the hashed text is assembled without serialising the row again."""

    columns: dict[str, Any]
    texts: dict[str, str]

    def with_result(self, *, outcome: str | None, duration_ms: float | None, result_size: int | None,
                    detail: dict[str, Any] | None = None) -> Entry:
        """The same row with what is known only once the call is over (and `detail`, when given, instead)."""
        changed: dict[str, Any] = {"outcome": outcome, "duration_ms": _duration(duration_ms), "result_size": result_size}
        if detail is not None:
            changed["detail"] = canonical(redact(detail))
        return Entry({**self.columns, **changed}, {**self.texts, **_texts(changed)})


def entry(event: str, *, actor: str, channel: str, site: str | None = None, tool: str | None = None,
          arguments: dict[str, Any] | None = None, outcome: str | None = None, detail: dict[str, Any] | None = None,
          duration_ms: float | None = None, result_size: int | None = None) -> Entry:
    """The row `AuditLog.append` writes for these values (without its id, time and links)."""
    columns = {
        "event": event, "actor": actor, "channel": channel, "site": site, "tool": tool,
        "arguments": canonical(redact(arguments)) if arguments is not None else None,
        "outcome": outcome,
        "detail": canonical(redact(detail)) if detail is not None else None,
        "duration_ms": _duration(duration_ms),
        "result_size": result_size,
    }
    return Entry(columns, _texts(columns))


def _duration(duration_ms: float | None) -> float | None:
    return round(duration_ms, 3) if duration_ms is not None else None


def _texts(columns: dict[str, Any]) -> dict[str, str]:
    # A JSON column's text is already canonical; `null` when absent, as canonical() writes None.
    return {name: (value if value is not None else "null") if name in JSON_FIELDS else _scalar_text(value)
            for name, value in columns.items()}


def _scalar_text(value: Any) -> str:
    """canonical(value) for a column's scalar, the common ones without a trip through json.dumps."""
    if value is None:
        return "null"
    if type(value) is str:
        return encode_basestring(value)  # json's own (C) string encoder, as dumps uses with ensure_ascii=False
    if type(value) is int:
        return int.__repr__(value)
    return canonical(value)


def _link(row: Entry, last_id: int, last_hash: str) -> dict[str, Any]:
    """The next row's column values (JSON ones as canonical text): its id and time, the previous hash, its own.

    The hash is over the row as it will read back (`row_content`), which is what `verify` recomputes: the same
    text as canonical(row_content(row)), put together from the columns' own canonical texts.
    """
    at = utcnow()
    values = {"id": last_id + 1, "at": at, **row.columns, "prev_hash": last_hash}
    # An ISO time and a hex digest need no escaping: quoted, they are their canonical JSON text.
    texts = {**row.texts, "id": str(last_id + 1), "at": f'"{at.isoformat(timespec="microseconds")}"',
             "prev_hash": f'"{last_hash}"'}
    hashed = "{" + ",".join(f'"{name}":{texts[name]}' for name in HASHED) + "}"
    values["row_hash"] = hashlib.sha256(hashed.encode()).hexdigest()
    return values


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


_HEAD = AuditHead.__table__
_LOCK_HEAD = select(_HEAD.c.last_id, _HEAD.c.last_hash).where(_HEAD.c.id == literal_column("1")).with_for_update()
_INSERT_ROW = insert(AuditRow.__table__)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == literal_column("1")).values(last_id=bindparam("new_last_id"),
                                                                           last_hash=bindparam("new_last_hash"))


@dataclass(frozen=True)
class Appended:
    """What an append tells its caller: the new row's id, time and hash."""

    id: int
    at: dt.datetime
    row_hash: str


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str | None = None


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


class _Appender:
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
        self.lock_sql = _DriverStatement(_LOCK_HEAD, dialect).sql
        self.insert = _DriverStatement(_INSERT_ROW, dialect)
        self.move = _DriverStatement(_MOVE_HEAD, dialect)
        self.mutex = threading.Lock()
        self.raw: Any = None
        self.pid = 0

    def append(self, rows: Sequence[Entry]) -> list[Appended]:
        """Append `rows` in order, in one transaction: all of them or none."""
        with self.mutex:
            try:
                return self._append_waiting(rows)
            except _StaleConnection:  # nothing was written: one more try on a fresh connection
                return self._append_waiting(rows)

    def try_append(self, rows: Sequence[Entry]) -> list[Appended] | None:
        """`append` without ever waiting (for the pool's loop thread); None when that would wait: append instead.

        Only on SQLite, where an append is a local write of tens of µs; it would wait when another thread of
        this process is appending, or another process holds the database's write lock.
        """
        if not self.sqlite or not self.mutex.acquire(blocking=False):
            return None
        try:
            return self._append(rows)
        except _StaleConnection:
            return None
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                return None
            raise
        finally:
            self.mutex.release()

    def _append_waiting(self, rows: Sequence[Entry]) -> list[Appended]:
        """Append, waiting up to the busy timeout for another process's write lock (SQLite's own schedule)."""
        if not self.sqlite:  # PostgreSQL waits on the head row's lock by itself
            return self._append(rows)
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
        for delay in itertools.chain(BUSY_DELAYS_S, itertools.repeat(BUSY_DELAYS_S[-1])):
            try:
                return self._append(rows)
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or time.monotonic() + delay > deadline:
                    raise
            time.sleep(delay)
        raise AssertionError("unreachable")

    def _append(self, rows: Sequence[Entry]) -> list[Appended]:
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
                values = _link(row, last_id, last_hash)
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


_APPENDERS: weakref.WeakKeyDictionary[Engine, _Appender] = weakref.WeakKeyDictionary()
_APPENDERS_LOCK = threading.Lock()


def _appender(engine: Engine) -> _Appender:
    """The engine's one appender; `engine.dispose()` hands its connection back."""
    with _APPENDERS_LOCK:
        found = _APPENDERS.get(engine)
        if found is None:
            found = _APPENDERS[engine] = _Appender(engine)
            event.listen(engine, "engine_disposed", found.close)
        return found


class AuditLog:
    """Appends and checks the chain. Appends take the chain-head lock, so writers never fork it."""

    def __init__(self, engine: Engine) -> None:
        self.store = Store(engine)
        self._appender = _appender(engine)
        self._ensure_head()

    def _ensure_head(self) -> None:
        try:
            with self.store.write() as session:
                if session.get(AuditHead, 1) is None:
                    session.add(AuditHead(id=1, last_id=0, last_hash=GENESIS_HASH))
        except IntegrityError:  # another process created it first
            pass

    def lock(self, session: Session) -> tuple[int, str]:
        """Take the chain-head lock in `session` (held until it ends); returns the last id and hash."""
        # FOR UPDATE serialises on PostgreSQL; on SQLite the write transaction already holds the database lock.
        last_id, last_hash = session.execute(_LOCK_HEAD).one()
        return last_id, last_hash

    def append(self, event: str, *, actor: str, channel: str, site: str | None = None, tool: str | None = None,
               arguments: dict[str, Any] | None = None, outcome: str | None = None,
               detail: dict[str, Any] | None = None, duration_ms: float | None = None,
               result_size: int | None = None, session: Session | None = None) -> Appended:
        """Add one row; inside `session` (the action's own transaction) when given, else in its own."""
        row = entry(event, actor=actor, channel=channel, site=site, tool=tool, arguments=arguments, outcome=outcome,
                    detail=detail, duration_ms=duration_ms, result_size=result_size)
        if session is None:
            return self._appender.append([row])[0]
        last_id, last_hash = self.lock(session)
        values = _link(row, last_id, last_hash)
        # Prebuilt Core statements, not the unit of work: the lock is held for as short a time as possible.
        session.execute(_INSERT_ROW, {**values, **{k: json.loads(values[k]) if values[k] is not None else None
                                                   for k in JSON_FIELDS}})
        session.execute(_MOVE_HEAD, {"new_last_id": values["id"], "new_last_hash": values["row_hash"]})
        return Appended(values["id"], values["at"], values["row_hash"])

    def append_entry(self, row: Entry) -> Appended:
        """Add a row made beforehand with `entry` (serialised while the caller had time), in its own transaction."""
        return self._appender.append([row])[0]

    def append_entries(self, rows: Sequence[Entry]) -> list[Appended]:
        """Add rows made with `entry`, in order, in one transaction (all or none); one commit for them all."""
        return self._appender.append(rows) if rows else []

    def try_append_entries(self, rows: Sequence[Entry]) -> list[Appended] | None:
        """`append_entries` if that needs no waiting (SQLite), else None (then call `append_entries`)."""
        return self._appender.try_append(rows)

    def verify(self, *, batch: int = 5000) -> VerifyResult:
        """Walk the chain from the first row: contiguous ids, linked hashes, recomputed hashes, the head."""
        expected_id, prev, checked = 1, GENESIS_HASH, 0
        with self.store.read() as session:
            last_seen = 0
            while True:
                rows = session.scalars(select(AuditRow).where(AuditRow.id > last_seen).order_by(AuditRow.id).limit(batch)).all()
                if not rows:
                    break
                for row in rows:
                    if row.id != expected_id:
                        what = "missing" if row.id > expected_id else "duplicated"
                        return VerifyResult(False, checked, expected_id, f"row {expected_id} is {what} (next id is {row.id})")
                    if row.prev_hash != prev:
                        return VerifyResult(False, checked, row.id, f"row {row.id} does not link to row {row.id - 1} (chain broken: inserted, deleted or reordered)")
                    if row_hash(row) != row.row_hash:
                        return VerifyResult(False, checked, row.id, f"row {row.id} was altered (its content does not match its hash)")
                    prev, expected_id, checked = row.row_hash, expected_id + 1, checked + 1
                last_seen = rows[-1].id
                session.expunge_all()
            head = session.get(AuditHead, 1)
        if head is not None and (head.last_id != checked or head.last_hash != prev):
            return VerifyResult(False, checked, checked + 1 if head.last_id > checked else head.last_id,
                                f"the chain ends at row {checked} but its head says row {head.last_id} (rows deleted at the end)")
        return VerifyResult(True, checked)

    def query(self, *, since: dt.datetime | None = None, until: dt.datetime | None = None, actor: str | None = None,
              tool: str | None = None, site: str | None = None, sites: frozenset[str] | None = None,
              event: str | None = None, outcome: str | None = None, text: str | None = None,
              limit: int = 200, offset: int = 0) -> list[AuditRow]:
        """Rows newest first, filtered for the audit page; `text` searches inside the arguments."""
        stmt = select(AuditRow)
        if since is not None:
            stmt = stmt.where(AuditRow.at >= since)
        if until is not None:
            stmt = stmt.where(AuditRow.at < until)
        for column, value in ((AuditRow.actor, actor), (AuditRow.tool, tool), (AuditRow.site, site),
                              (AuditRow.event, event), (AuditRow.outcome, outcome)):
            if value:
                stmt = stmt.where(column == value)
        if sites is not None:
            stmt = stmt.where(or_(AuditRow.site.in_(sorted(sites)), AuditRow.site.is_(None)))
        if text:
            stmt = stmt.where(func.lower(cast(AuditRow.arguments, String)).contains(text.lower()))
        stmt = stmt.order_by(AuditRow.id.desc()).limit(limit).offset(offset)
        with self.store.read() as session:
            return list(session.scalars(stmt))

    def export(self, fmt: str, fp: IO[str], **filters: Any) -> int:
        """Write the (filtered) rows oldest first as JSON lines or CSV; returns how many."""
        if fmt not in ("jsonl", "csv"):
            raise ValueError(f"unknown export format {fmt!r}; use jsonl or csv")
        rows = list(reversed(self.query(limit=filters.pop("limit", 1_000_000), **filters)))
        records = [{**row_content(row), "row_hash": row.row_hash} for row in rows]
        if fmt == "jsonl":
            for record in records:
                fp.write(canonical(record) + "\n")
        else:
            writer = csv.DictWriter(fp, fieldnames=[*FIELDS, "row_hash"])
            writer.writeheader()
            for record in records:
                writer.writerow({k: canonical(v) if isinstance(v, dict | list) else v for k, v in record.items()})
        return len(records)


def bench_append(engine: Engine, *, writers: int = 8, per_writer: int = 200) -> float:
    """Audit rows per second with `writers` threads appending at once (the chain must stay whole)."""
    audit = AuditLog(engine)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(per_writer):
                audit.append("bench", actor=f"bench-{n}", channel="job", arguments={"i": i}, outcome="ok")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(writers)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return writers * per_writer / elapsed
