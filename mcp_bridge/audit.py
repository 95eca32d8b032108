"""The audit log: append-only, hash-chained rows; `verify` finds any edit, deletion, insertion or reordering."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import threading
import time
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import Engine, String, bindparam, cast, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mcp_bridge.store import GENESIS_HASH, AuditHead, AuditRow, Store, utcnow

SECRET_KEYS = ("approval_token", "pii_grant", "api_key", "password", "secret", "token", "authorization", "cookie")
REDACTED = "[redacted]"
FIELDS = ("id", "at", "event", "actor", "channel", "site", "tool", "arguments", "outcome", "detail",
          "duration_ms", "result_size", "prev_hash")


def _is_secret(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in SECRET_KEYS)


def redact(value: Any) -> Any:
    """A copy with every secret-looking key's value replaced (nested dicts and lists too)."""
    if isinstance(value, dict):
        return {k: REDACTED if _is_secret(str(k)) and v is not None else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def row_content(row: AuditRow) -> dict[str, Any]:
    """Everything a row says except its own hash, in a form that survives every database round trip."""
    content = {name: getattr(row, name) for name in FIELDS}
    content["at"] = row.at.isoformat(timespec="microseconds")
    return content


def row_hash(row: AuditRow) -> str:
    return hashlib.sha256(canonical(row_content(row)).encode()).hexdigest()


_HEAD = AuditHead.__table__
_LOCK_HEAD = select(_HEAD.c.last_id, _HEAD.c.last_hash).where(_HEAD.c.id == 1).with_for_update()
_INSERT_ROW = insert(AuditRow.__table__)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(last_id=bindparam("new_last_id"),
                                                         last_hash=bindparam("new_last_hash"))


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
               result_size: int | None = None, session: Session | None = None) -> AuditRow:
        """Add one row; inside `session` (the action's own transaction) when given, else in its own."""
        if session is None:
            with self.store.write() as own:
                return self.append(event, actor=actor, channel=channel, site=site, tool=tool, arguments=arguments,
                                   outcome=outcome, detail=detail, duration_ms=duration_ms,
                                   result_size=result_size, session=own)
        last_id, last_hash = self.lock(session)
        # JSON values are stored as they will read back (a round trip through canonical JSON), so hashes agree.
        row = AuditRow(
            id=last_id + 1,
            at=utcnow(),
            event=event,
            actor=actor,
            channel=channel,
            site=site,
            tool=tool,
            arguments=json.loads(canonical(redact(arguments))) if arguments is not None else None,
            outcome=outcome,
            detail=json.loads(canonical(redact(detail))) if detail is not None else None,
            duration_ms=round(duration_ms, 3) if duration_ms is not None else None,
            result_size=result_size,
            prev_hash=last_hash,
        )
        row.row_hash = row_hash(row)
        # Prebuilt Core statements, not the unit of work: the lock is held for as short a time as possible.
        session.execute(_INSERT_ROW, {**row_content(row), "at": row.at, "row_hash": row.row_hash})
        session.execute(_MOVE_HEAD, {"new_last_id": row.id, "new_last_hash": row.row_hash})
        return row

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
