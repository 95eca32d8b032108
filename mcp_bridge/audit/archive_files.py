"""Archived audit rows: the `audit_archives` table and the gzip JSON-lines files it names, written and read back.

A file holds one range of the chain, oldest row first, one row per line as `audit export` writes it (content, key
id, MAC), then one last line `{"checkpoint": …}`: the signed checkpoint of its last row, as the anchor holds it.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from mcp_bridge.audit.anchor import read_checkpoint, signature_ok
from mcp_bridge.audit.key import AuditKey
from mcp_bridge.audit.rows import FIELDS, canonical, record
from mcp_bridge.errors import NotFound
from mcp_bridge.store import AuditRow, Base

ARCHIVE_DIR = "audit-archive"  # the default directory, beside the anchor
CHECKPOINT_LINE = "checkpoint"  # the key of a file's last line
UNREADABLE = (OSError, EOFError, zlib.error, ValueError)  # what a damaged gzip or JSON line raises
Report = Callable[[str, int | None, str], None]  # (kind, first row id, text): a problem `verify` reports


class AuditArchive(Base):
    """One archived range of the chain: rows `first_id`..`last_id` moved to a file, and what that file must hold."""

    __tablename__ = "audit_archives"
    first_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(Integer, unique=True)
    rows: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))  # the MAC of row `last_id`: the next row links to it
    file_name: Mapped[str] = mapped_column(String(255))
    directory: Mapped[str] = mapped_column(String(1024))  # where it was written (verify can be pointed elsewhere)
    file_sha256: Mapped[str] = mapped_column(String(64))
    archived_at: Mapped[dt.datetime] = mapped_column(DateTime)
    archived_by: Mapped[str] = mapped_column(String(254))


def file_name(first_id: int, last_id: int) -> str:
    """`audit-000000000001-000000005000.jsonl.gz`: the id range, zero-padded so names sort as the chain does."""
    return f"audit-{first_id:012d}-{last_id:012d}.jsonl.gz"


def listed(session: Session) -> list[AuditArchive]:
    """Every archive the log recorded, oldest range first."""
    return list(session.scalars(select(AuditArchive).order_by(AuditArchive.first_id)))


def archive_path(archive: AuditArchive, directory: str | Path | None = None) -> Path:
    # Only the name is taken from the database: a row edited to name "../../x" reads no file outside the directory.
    return Path(directory or archive.directory) / Path(archive.file_name).name


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fp:
        while chunk := fp.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class ArchiveFile:
    """Writes one archive under a temporary name; `finish` adds the checkpoint, syncs it and gives it its name."""

    def __init__(self, directory: Path, first_id: int, last_id: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory, self.name = directory, file_name(first_id, last_id)
        self.path, self.partial = directory / self.name, directory / f".{self.name}.partial"
        self._raw: IO[bytes] = os.fdopen(os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
        self._gzip = gzip.GzipFile(fileobj=self._raw, mode="wb", mtime=0)
        self.named = False

    def add(self, row: AuditRow) -> None:
        self._gzip.write((canonical(record(row)) + "\n").encode())

    def finish(self, signed_checkpoint: dict[str, Any]) -> str:
        """Write the checkpoint line, sync the file and rename it into place; returns its SHA-256."""
        self._gzip.write((canonical({CHECKPOINT_LINE: signed_checkpoint}) + "\n").encode())
        self._close()
        digest = sha256_of(self.partial)
        os.replace(self.partial, self.path)
        self.named = True
        fd = os.open(self.directory, os.O_RDONLY)
        try:  # the rename itself must survive a crash before the rows leave the database
            os.fsync(fd)
        finally:
            os.close(fd)
        return digest

    def discard(self) -> None:
        """Remove the file (the rows stay in the live table)."""
        if not self._raw.closed:
            self._gzip.close()
            self._raw.close()
        (self.path if self.named else self.partial).unlink(missing_ok=True)

    def _close(self) -> None:
        self._gzip.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()


def lines(path: Path) -> Iterator[dict[str, Any]]:
    """Each line of an archive as a JSON object; raises one of UNREADABLE on damage."""
    with gzip.open(path, "rb") as fp:
        for number, line in enumerate(fp, 1):
            value = json.loads(line)
            if not isinstance(value, dict):
                raise ValueError(f"line {number} is not a JSON object")
            yield value


def row_from(line: dict[str, Any]) -> AuditRow:
    """The row a line of an archive says (not attached to any session); ValueError when it is not one."""
    try:
        values = {name: line[name] for name in (*FIELDS, "key_id", "row_hash")}
        values["at"] = dt.datetime.fromisoformat(values["at"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"a line that is not an audit row ({exc})") from None
    if type(values["id"]) is not int or not all(isinstance(values[k], str) for k in ("prev_hash", "row_hash")):
        raise ValueError(f"a line that is not an audit row (id {values['id']!r})")
    return AuditRow(**values)


@dataclass(frozen=True)
class Skipped:
    """Rows of an archive that could not be read: `verify` reports why and goes on after them."""

    first_id: int
    last_id: int
    last_hash: str


def archived_rows(archives: list[AuditArchive], key: AuditKey, report: Report,
                  directory: str | Path | None = None) -> Iterator[AuditRow | Skipped]:
    """The archives' rows in order, each file checked against what the log recorded; problems go to `report`."""
    for archive in archives:
        yield from _rows_of(archive, key, report, archive_path(archive, directory))


def _rows_of(archive: AuditArchive, key: AuditKey, report: Report, path: Path) -> Iterator[AuditRow | Skipped]:
    where = f"archive {archive.file_name} (rows {archive.first_id}–{archive.last_id})"
    if not path.is_file():
        report("archive_missing", archive.first_id, f"{where} is not in {path.parent}: deleted or moved")
        yield Skipped(archive.first_id, archive.last_id, archive.last_hash)
        return
    first: AuditRow | None = None
    last: AuditRow | None = None
    count, signed = 0, None
    try:
        if sha256_of(path) != archive.file_sha256:
            report("archive_altered", archive.first_id, f"{where} is not the file that was archived (its SHA-256 "
                                                        "differs): altered, reordered or replaced")
        for line in lines(path):
            if signed is not None:
                raise ValueError("a line after the checkpoint")
            if set(line) == {CHECKPOINT_LINE}:
                signed = line[CHECKPOINT_LINE]
                continue
            last = row_from(line)
            first, count = first or last, count + 1
            yield last
    except UNREADABLE as exc:
        after = f"after row {last.id}" if last is not None else "at all"
        report("archive_unreadable", archive.first_id, f"{where} cannot be read {after}: {exc}")
        if last is None or last.id < archive.last_id:
            yield Skipped(last.id + 1 if last is not None else archive.first_id, archive.last_id, archive.last_hash)
        return
    held = (first.id if first else None, last.id if last else None, count, last.row_hash if last else None)
    if held != (archive.first_id, archive.last_id, archive.rows, archive.last_hash):
        report("archive_mismatch", archive.first_id, f"{where} holds {count} rows, {held[0]}–{held[1]}, not the "
                                                     f"{archive.rows} rows the log recorded for it")
    _check_checkpoint(signed, last, key, where, archive.first_id, report)


def _check_checkpoint(signed: Any, last: AuditRow | None, key: AuditKey, where: str, first_id: int,
                      report: Report) -> None:
    found = read_checkpoint(signed)
    if found is None or not signature_ok(signed, found, key):
        report("archive_checkpoint", first_id, f"{where} has no validly signed checkpoint of its last row")
    elif last is None or (found.count, found.last_id, found.head) != (last.id, last.id, last.row_hash):
        report("archive_checkpoint", first_id, f"{where} ends with a checkpoint of row {found.last_id}, not of its "
                                               "last row")


def archived_records(archives: list[AuditArchive], directory: str | Path | None = None) -> Iterator[dict[str, Any]]:
    """The archives' rows as exported (oldest first), unchecked: `verify` checks them; a missing file raises."""
    for archive in archives:
        path = archive_path(archive, directory)
        if not path.is_file():
            raise NotFound(f"archive {archive.file_name} is not in {path.parent}; run `audit verify`, or pass the "
                           "directory the archives were moved to")
        yield from (line for line in lines(path) if set(line) != {CHECKPOINT_LINE})
