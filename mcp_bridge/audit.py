"""The audit log: append-only, hash-chained rows; `verify` finds any edit, deletion, insertion or reordering."""

from __future__ import annotations

import csv
import datetime as dt
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import Engine, String, cast, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mcp_bridge.audit_rows import FIELDS, JSON_FIELDS, Appended, Entry, canonical, entry, link, row_content, row_hash
from mcp_bridge.audit_writer import INSERT_ROW, LOCK_HEAD, MOVE_HEAD, appender
from mcp_bridge.store import GENESIS_HASH, AuditHead, AuditRow, Store


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str | None = None


class AuditLog:
    """Appends and checks the chain. Appends take the chain-head lock, so writers never fork it."""

    def __init__(self, engine: Engine) -> None:
        self.store = Store(engine)
        self._appender = appender(engine)
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
        last_id, last_hash = session.execute(LOCK_HEAD).one()
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
        values = link(row, last_id, last_hash)
        # Prebuilt Core statements, not the unit of work: the lock is held for as short a time as possible.
        session.execute(INSERT_ROW, {**values, **{k: json.loads(values[k]) if values[k] is not None else None
                                                   for k in JSON_FIELDS}})
        session.execute(MOVE_HEAD, {"new_last_id": values["id"], "new_last_hash": values["row_hash"]})
        return Appended(values["id"], values["at"], values["row_hash"])

    def append_entries(self, rows: Sequence[Entry]) -> list[Appended]:
        """Add rows made with `entry`, in order, in one transaction (all or none); one commit for them all."""
        return self._appender.append(rows) if rows else []

    @property
    def local(self) -> bool:
        """True on SQLite: an append is a local write of tens of µs, which `try_append_entries` does without waiting."""
        return self._appender.sqlite

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
