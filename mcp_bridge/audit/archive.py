"""`audit archive`: rows older than a cut-off move to gzip JSON-lines files, one per id range.

Each range is checked (contiguous ids, links, MACs) and written to its file with a signed checkpoint of its last
row, that checkpoint is appended to the anchor, and only then, in one transaction, the range is recorded in
`audit_archives`, deleted from the live table and the archiving itself audited. `verify` walks the archives
before the live table, so the chain still runs from row 1.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from mcp_bridge.audit.anchor import AnchorStore, checkpoint
from mcp_bridge.audit.archive_files import ArchiveFile, AuditArchive
from mcp_bridge.audit.key import AuditKey
from mcp_bridge.audit.rows import row_hash, row_mac
from mcp_bridge.audit.writer import LOCK_HEAD
from mcp_bridge.errors import Conflict, UpstreamError
from mcp_bridge.store import GENESIS_HASH, AuditHead, AuditRow, Store, utcnow

MAX_ROWS_PER_FILE = 100_000  # bounds one transaction's delete (and so how long appends wait for it) and a file's size


@dataclass(frozen=True)
class Archived:
    """One range moved out of the live table: its ids, row count, file and the file's SHA-256."""

    first_id: int
    last_id: int
    rows: int
    path: Path
    sha256: str


@dataclass(frozen=True)
class _Span:
    first_id: int
    last_id: int
    prev_hash: str  # what row `first_id` must link to


Record = Callable[[Session, Archived], None]  # audits an archive inside the transaction that deletes its rows


def archive_before(store: Store, key: AuditKey, anchor: AnchorStore | None, *, before: dt.datetime, directory: Path,
                   actor: str, record: Record, max_rows: int = MAX_ROWS_PER_FILE,
                   batch: int = 5000) -> list[Archived]:
    """Archive every row written before `before` except the newest row of the chain, in ranges of `max_rows`."""
    if max_rows < 1:
        raise ValueError("an archive holds 1 or more rows")
    done: list[Archived] = []
    end = _end(store, before)  # fixed up front: each range's own `audit_archived` row is not archived by this run
    while (span := _next_span(store, end, max_rows)) is not None:
        done.append(_archive(store, key, anchor, span, directory, actor, record, batch))
    return done


def _end(store: Store, before: dt.datetime) -> int:
    """The last row to archive: the one before the first row written at or after `before`, and never the head's
    row (the head table and the checkpoints name it)."""
    with store.read() as session:
        head = session.get(AuditHead, 1)
        newer = session.scalar(select(func.min(AuditRow.id)).where(AuditRow.id >= 1, AuditRow.at >= before))
    last = head.last_id - 1 if head is not None else 0
    return min(last, newer - 1) if newer is not None else last


def _next_span(store: Store, end: int, max_rows: int) -> _Span | None:
    """The oldest live rows up to `end`, at most `max_rows` of them."""
    with store.read() as session:
        previous = session.scalars(select(AuditArchive).order_by(AuditArchive.last_id.desc()).limit(1)).first()
    first = previous.last_id + 1 if previous is not None else 1
    last = min(end, first + max_rows - 1)
    if last < first:
        return None
    return _Span(first, last, previous.last_hash if previous is not None else GENESIS_HASH)


def _archive(store: Store, key: AuditKey, anchor: AnchorStore | None, span: _Span, directory: Path, actor: str,
             record: Record, batch: int) -> Archived:
    file = ArchiveFile(directory, span.first_id, span.last_id)
    try:
        last_hash = _write_rows(store, key, span, file, batch)
        signed = checkpoint(span.last_id, last_hash, key).signed(key)
        digest = file.finish(signed)
        if anchor is not None:  # pinned outside the database before a row leaves it
            try:
                anchor.append(signed)
            except OSError as exc:
                raise UpstreamError(f"the anchor {anchor.location} could not be written ({exc}); nothing was "
                                    "archived") from exc
        done = Archived(span.first_id, span.last_id, span.last_id - span.first_id + 1, file.path, digest)
        with store.write() as session:
            session.execute(LOCK_HEAD).one()  # archivers (and appends) one at a time, on every database
            _check_still_live(session, span, last_hash)
            session.add(AuditArchive(first_id=done.first_id, last_id=done.last_id, rows=done.rows, last_hash=last_hash,
                                     file_name=file.name, directory=str(directory.resolve()), file_sha256=digest,
                                     archived_at=utcnow(), archived_by=actor))
            session.execute(delete(AuditRow.__table__).where(AuditRow.id >= span.first_id,
                                                             AuditRow.id <= span.last_id))
            record(session, done)
    except BaseException:
        file.discard()
        raise
    return done


def _write_rows(store: Store, key: AuditKey, span: _Span, file: ArchiveFile, batch: int) -> str:
    """Add the span's rows to `file`, refusing a range that does not verify; returns the last row's MAC."""
    expected, prev_hash, keyed = span.first_id, span.prev_hash, False
    with store.read() as session:
        for row in _rows(session, span, batch):
            if row.id != expected:
                raise _broken(f"row {expected} is missing")
            if row.prev_hash != prev_hash:
                raise _broken(f"row {row.id} does not link to row {row.id - 1}")
            if row.key_id is None:
                ok = not keyed and row_hash(row) == row.row_hash
            else:
                keyed = True
                ok = row.key_id == key.id and hmac.compare_digest(row_mac(row, key), row.row_hash)
            if not ok:
                raise _broken(f"row {row.id} fails its MAC")
            file.add(row)
            expected, prev_hash = row.id + 1, row.row_hash
    if expected != span.last_id + 1:
        raise _broken(f"rows {expected}–{span.last_id} are missing")
    return prev_hash


def _rows(session: Session, span: _Span, batch: int) -> Iterator[AuditRow]:
    after = span.first_id - 1
    while after < span.last_id:
        rows = session.scalars(select(AuditRow).where(AuditRow.id > after, AuditRow.id <= span.last_id)
                               .order_by(AuditRow.id).limit(batch)).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].id
        session.expunge_all()


def _check_still_live(session: Session, span: _Span, last_hash: str) -> None:
    """The rows written to the file are still the live ones (another archiver may have moved them meanwhile)."""
    count = session.scalar(select(func.count()).select_from(AuditRow)
                           .where(AuditRow.id >= span.first_id, AuditRow.id <= span.last_id))
    last = session.scalar(select(AuditRow.row_hash).where(AuditRow.id == span.last_id))
    if count != span.last_id - span.first_id + 1 or last != last_hash or session.get(AuditArchive, span.first_id):
        raise Conflict(f"rows {span.first_id}–{span.last_id} changed while they were archived (another archive ran?); "
                       "nothing was archived, run it again")


def _broken(what: str) -> Conflict:
    return Conflict(f"the rows to archive do not verify ({what}); nothing was archived: run `audit verify`")
