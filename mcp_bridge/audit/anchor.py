"""The audit anchor: signed checkpoints of the chain's head, appended to a store outside the console database.

A checkpoint says "the chain had `count` rows, the last one `last_id` with MAC `head`, at `at`", signed with
the audit key. Someone who can rewrite the database but not this store cannot cut the chain back behind a
checkpoint, wipe it, or re-hash it without `audit verify` noticing.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from mcp_bridge.audit.key import AuditKey
from mcp_bridge.store import json_text

ANCHOR_FILE = "audit-anchor.jsonl"  # the file a directory anchor holds


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at one moment: ids are contiguous from 1, so `count` is `last_id` in a whole chain."""

    count: int
    last_id: int
    head: str
    at: str
    key_id: str

    def text(self) -> str:
        return json_text(asdict(self))

    def signed(self, key: AuditKey) -> dict[str, Any]:
        """The record appended to the anchor: the checkpoint and its MAC."""
        return {**asdict(self), "mac": key.mac(self.text())}


def checkpoint(last_id: int, head: str, key: AuditKey) -> Checkpoint:
    return Checkpoint(count=last_id, last_id=last_id, head=head, at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                      key_id=key.id)


def read_checkpoint(record: Any) -> Checkpoint | None:
    """The checkpoint a record says, whatever its MAC; None when it is not one (a malformed line, say)."""
    if not isinstance(record, dict):
        return None
    try:
        found = Checkpoint(**{name: record[name] for name in ("count", "last_id", "head", "at", "key_id")})
    except (KeyError, TypeError):
        return None
    types_ok = (type(found.count) is int and type(found.last_id) is int and isinstance(found.head, str)
                and isinstance(found.at, str) and isinstance(found.key_id, str))
    return found if types_ok else None


def signature_ok(record: dict[str, Any], found: Checkpoint, key: AuditKey) -> bool:
    return key.matches(found.text(), record.get("mac"))


class AnchorStore(Protocol):
    """Somewhere append-only outside the console database (a file, WORM storage, a log service...)."""

    location: str  # what `audit verify` names

    def append(self, record: dict[str, Any]) -> None:
        """Append one signed checkpoint record; raises when it was not stored."""

    def read(self) -> list[dict[str, Any]]:
        """Every record, oldest first; one that could not be parsed as `{"unparsed": text}`."""


class FileAnchor:
    """JSON lines in a local file; appends from many processes never interleave (O_APPEND, one write, flock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.location = str(self.path)

    def append(self, record: dict[str, Any]) -> None:
        line = (json_text(record) + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            # The lock keeps a writer on a file system without atomic appends (NFS, say) from interleaving.
            fcntl.flock(fd, fcntl.LOCK_EX)
            written = os.write(fd, line)
            if written != len(line):  # a full disk: the torn line reads back as unparsed, and this one failed
                raise OSError(f"only {written} of {len(line)} bytes of a checkpoint reached {self.path}")
            os.fsync(fd)
        finally:
            os.close(fd)  # releases the lock

    def read(self) -> list[dict[str, Any]]:
        try:
            with self.path.open("rb") as fp:
                lines = fp.read().splitlines()
        except FileNotFoundError:
            return []
        return [_parsed(line) for line in lines if line.strip()]


def _parsed(line: bytes) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError:
        return {"unparsed": line.decode(errors="replace")}
    return record if isinstance(record, dict) else {"unparsed": line.decode(errors="replace")}


def open_anchor(location: str | Path | AnchorStore | None) -> AnchorStore | None:
    """The anchor at `location`: a file, or a directory (then its `audit-anchor.jsonl`); None for none."""
    if location is None or location == "":
        return None
    if not isinstance(location, str | Path):
        return location
    path = Path(location).expanduser()
    if path.is_dir() or str(location).endswith(("/", os.sep)):
        path = path / ANCHOR_FILE
    return FileAnchor(path)
