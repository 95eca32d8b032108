"""The audit log: append-only rows chained by an HMAC keyed outside the database, anchored by signed checkpoints.

`verify` finds any edit, deletion, insertion, reordering or forged row, and (against the anchor's checkpoints)
a re-hashed chain, a cut tail or a wipe; `archive` moves old rows to files that `verify` and `export` still read.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, func, select
from sqlalchemy import event as sa_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mcp_bridge.audit.anchor import AnchorStore, Checkpoint, open_anchor
from mcp_bridge.audit.archive import MAX_ROWS_PER_FILE, Archived, archive_before
from mcp_bridge.audit.archive_files import archived_records, listed
from mcp_bridge.audit.checkpoints import CHECKPOINT_EVERY, CHECKPOINT_INTERVAL_S, Checkpointer
from mcp_bridge.audit.filters import Kind, matches, where
from mcp_bridge.audit.key import AuditKey
from mcp_bridge.audit.rows import FIELDS, JSON_FIELDS, Appended, Entry, canonical, entry, link, record, row_mac
from mcp_bridge.audit.verify import Problem, VerifyResult, verify_chain
from mcp_bridge.audit.writer import INSERT_ROW, LOCK_HEAD, MOVE_HEAD, appender
from mcp_bridge.store import GENESIS_HASH, AuditHead, AuditRow, Store

__all__ = ["AuditLog", "Problem", "VerifyResult", "bench_append"]


class AuditLog:
    """Appends and checks the chain. Appends take the chain-head lock, so writers never fork it.

    `key` (the audit secret, never stored in the database) MACs every row; `anchor` (a file, a directory or
    an `AnchorStore`; None for none) receives a signed checkpoint every `checkpoint_every` rows and every
    `checkpoint_interval_s` while the chain moves, from a daemon thread that `close()` stops.
    """

    def __init__(self, engine: Engine, *, key: str | bytes | AuditKey, anchor: str | Path | AnchorStore | None = None,
                 checkpoint_every: int = CHECKPOINT_EVERY,
                 checkpoint_interval_s: float = CHECKPOINT_INTERVAL_S) -> None:
        self.store = Store(engine)
        self.key = key if isinstance(key, AuditKey) else AuditKey(key)
        self.anchor = open_anchor(anchor)
        self._appender = appender(engine)
        self._checkpoints = None if self.anchor is None else Checkpointer(
            self.key, self.anchor, self._database_head, every=checkpoint_every, interval_s=checkpoint_interval_s)
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
            return self._committed(self._appender.append([row], self.key))[0]
        last_id, last_hash = self.lock(session)
        values = link(row, last_id, last_hash, self.key)
        # Prebuilt Core statements, not the unit of work: the lock is held for as short a time as possible.
        session.execute(INSERT_ROW, {**values, **{k: json.loads(values[k]) if values[k] is not None else None
                                                   for k in JSON_FIELDS}})
        session.execute(MOVE_HEAD, {"new_last_id": values["id"], "new_last_hash": values["row_hash"]})
        written = Appended(values["id"], values["at"], values["row_hash"])
        if self._checkpoints is not None:  # the row exists once the action commits (and never if it rolls back)
            sa_event.listen(session, "after_commit", lambda _: self._committed([written]), once=True)
        return written

    def append_entries(self, rows: Sequence[Entry]) -> list[Appended]:
        """Add rows made with `entry`, in order, in one transaction (all or none); one commit for them all."""
        return self._committed(self._appender.append(rows, self.key)) if rows else []

    @property
    def local(self) -> bool:
        """True on SQLite: an append is a local write of tens of µs, which `try_append_entries` does without waiting."""
        return self._appender.sqlite

    def try_append_entries(self, rows: Sequence[Entry]) -> list[Appended] | None:
        """`append_entries` if that needs no waiting (SQLite), else None (then call `append_entries`)."""
        written = self._appender.try_append(rows, self.key)
        return None if written is None else self._committed(written)

    def _committed(self, written: list[Appended]) -> list[Appended]:
        if self._checkpoints is not None and written:
            self._checkpoints.appended(written[0].id, written[-1].id, written[-1].row_hash)
        return written

    def _database_head(self) -> tuple[int, str] | None:
        """The head table's row id and MAC, if that row is there and its MAC holds with this key (else None)."""
        with self.store.read() as session:
            head = session.get(AuditHead, 1)
            row = session.get(AuditRow, head.last_id) if head is not None and head.last_id > 0 else None
            if row is None or row.key_id != self.key.id or row.row_hash != head.last_hash:
                return None
            return (row.id, row.row_hash) if row_mac(row, self.key) == row.row_hash else None

    def checkpoint(self) -> Checkpoint | None:
        """Write a checkpoint now if the chain moved since this process's last one (None without an anchor)."""
        return None if self._checkpoints is None else self._checkpoints.checkpoint_now()

    def close(self) -> None:
        """Stop the checkpoint thread after a final checkpoint; appends still work (checkpointed as they go)."""
        if self._checkpoints is not None:
            self._checkpoints.close()

    def verify(self, *, batch: int = 5000, archive_dir: str | Path | None = None) -> VerifyResult:
        """The archives (each file's SHA-256, rows and checkpoint), then every live row from the smallest id:
        contiguous ids from 1, links, MACs (or the legacy prefix's hashes), the head table, and the chain against
        every checkpoint in the anchor whose signature holds. Archives are read from `archive_dir` when given."""
        return verify_chain(self.store, self.key, self.anchor, batch=batch, archive_dir=archive_dir)

    def query(self, *, since: dt.datetime | None = None, until: dt.datetime | None = None, actor: str | None = None,
              tool: str | None = None, site: str | None = None, sites: frozenset[str] | None = None,
              event: str | None = None, outcome: str | None = None, text: str | None = None,
              kind: Kind | None = None, limit: int = 200, offset: int = 0) -> list[AuditRow]:
        """Live rows newest first, filtered for the audit page (`filters.where`; `kind`: decisions or reads)."""
        stmt = where(select(AuditRow), since=since, until=until, actor=actor, tool=tool, site=site, sites=sites,
                     event=event, outcome=outcome, text=text, kind=kind)
        with self.store.read() as session:
            return list(session.scalars(stmt.order_by(AuditRow.id.desc()).limit(limit).offset(offset)))

    def count(self, **filters: Any) -> int:
        """How many live rows `query` with these filters would page through."""
        with self.store.read() as session:
            return session.scalar(where(select(func.count()).select_from(AuditRow), **filters)) or 0

    def export(self, fmt: str, fp: IO[str], *, with_archive: bool = False, archive_dir: str | Path | None = None,
               **filters: Any) -> int:
        """Write the (filtered) rows oldest first as JSON lines or CSV, the archived ones first when asked;
        returns how many."""
        if fmt not in ("jsonl", "csv"):
            raise ValueError(f"unknown export format {fmt!r}; use jsonl or csv")
        writer = csv.DictWriter(fp, fieldnames=[*FIELDS, "key_id", "row_hash"]) if fmt == "csv" else None
        if writer is not None:
            writer.writeheader()
        written = 0
        for line in self._records(with_archive, archive_dir, filters):
            if writer is None:
                fp.write(canonical(line) + "\n")
            else:
                writer.writerow({k: canonical(v) if isinstance(v, dict | list) else v for k, v in line.items()})
            written += 1
        return written

    def _records(self, with_archive: bool, archive_dir: str | Path | None,
                 filters: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Exported rows oldest first: the archives' (filtered here), then the live table's, a batch at a time."""
        if with_archive:
            with self.store.read() as session:
                archives = listed(session)
            yield from (line for line in archived_records(archives, archive_dir) if matches(line, **filters))
        after = 0
        with self.store.read() as session:
            while True:
                rows = session.scalars(where(select(AuditRow), **filters).where(AuditRow.id > after)
                                       .order_by(AuditRow.id).limit(5000)).all()
                if not rows:
                    return
                yield from (record(row) for row in rows)
                after = rows[-1].id
                session.expunge_all()

    def archive(self, *, before: dt.datetime, directory: str | Path, actor: str, channel: str = "cli",
                max_rows: int = MAX_ROWS_PER_FILE) -> list[Archived]:
        """Move rows written before `before` (all but the newest) to files in `directory`, audited as
        `audit_archived`; `verify` and `export(with_archive=True)` still read them."""

        def audited(session: Session, done: Archived) -> None:
            self.append("audit_archived", actor=actor, channel=channel, outcome="ok", session=session,
                        detail={"first_id": done.first_id, "last_id": done.last_id, "rows": done.rows,
                                "file": done.path.name, "sha256": done.sha256})

        return archive_before(self.store, self.key, self.anchor, before=before, directory=Path(directory), actor=actor,
                              record=audited, max_rows=max_rows)


BENCH_KEY = "bench-audit-key"


def bench_append(engine: Engine, *, writers: int = 8, per_writer: int = 200, key: str = BENCH_KEY,
                 anchor: str | Path | AnchorStore | None = None) -> float:
    """Audit rows per second with `writers` threads appending at once (the chain must stay whole)."""
    audit = AuditLog(engine, key=key, anchor=anchor)
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
    audit.close()
    if errors:
        raise errors[0]
    return writers * per_writer / elapsed
