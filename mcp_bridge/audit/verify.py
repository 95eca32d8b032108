"""`audit verify`: the archives, then every live row whatever its id: links, MACs, the head table, and the chain
against the anchor."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mcp_bridge.audit.anchor import AnchorStore, Checkpoint, read_checkpoint, signature_ok
from mcp_bridge.audit.archive_files import Skipped, archived_rows, listed
from mcp_bridge.audit.key import AuditKey
from mcp_bridge.audit.rows import row_hash, row_mac
from mcp_bridge.store import GENESIS_HASH, AuditHead, AuditRow, Store

# What `verify` can report, each on its own: the kind says what happened, the reason says where and how.
KINDS = {
    "outside": "a row with an id of 0 or less (the chain starts at 1): inserted",
    "gap": "ids missing between rows: deleted",
    "duplicate": "an id twice",
    "unlinked": "a row that does not link to the one before it: inserted, deleted or reordered",
    "bad_mac": "a keyed row whose MAC fails: edited, re-hashed or forged without the audit key",
    "bad_hash": "a legacy (SHA-256) row whose hash fails: edited",
    "unkeyed": "a row without a key id after keyed rows: written without the audit key",
    "wrong_key": "a row or checkpoint of another key than the configured one",
    "head": "the head table disagrees with the chain",
    "truncated": "the chain ends before the newest checkpoint's last row: its tail was cut",
    "wiped": "no rows, but the anchor has checkpoints",
    "rehashed": "a row a checkpoint names has another MAC, or the rows up to it another count: rewritten, or cut "
                "and continued",
    "forged_checkpoint": "an anchor record whose signature fails",
    "anchor": "the anchor could not be read",
    "archive_missing": "an archive file the log recorded is not there: deleted or moved",
    "archive_altered": "an archive file is not the one written (its SHA-256 differs): altered, reordered or replaced",
    "archive_unreadable": "an archive file is not gzip JSON lines of audit rows: damaged",
    "archive_mismatch": "an archive file holds other rows than the range the log recorded for it",
    "archive_checkpoint": "an archive file lacks a validly signed checkpoint of its last row",
}


@dataclass(frozen=True)
class Problem:
    kind: str
    first_id: int | None
    text: str
    last_id: int | None = None  # a run of neighbouring rows with the same problem ends here

    @property
    def reason(self) -> str:
        if self.first_id is None or self.last_id is None or self.last_id == self.first_id:
            return self.text
        return f"{self.text}; so do the {self.last_id - self.first_id} rows after it, up to row {self.last_id}"


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int  # rows read, whatever their ids
    first_bad_id: int | None = None
    reason: str | None = None
    problems: tuple[Problem, ...] = ()
    last_id: int | None = None  # the chain's last row (None: no rows)
    legacy: int = 0  # rows of the SHA-256 prefix from before the chain was keyed
    key_id: str | None = None  # the configured key's id
    anchor: str | None = None  # where the checkpoints were read; None when no anchor is configured
    checkpoint: Checkpoint | None = None  # the newest valid checkpoint, which the chain was compared with
    checkpoints: int = 0  # valid checkpoints in the anchor
    archived: int = 0  # rows read from archive files (counted in `checked`)
    archives: int = 0  # archive files the log recorded

    @property
    def kinds(self) -> list[str]:
        return [p.kind for p in self.problems]

    def summary(self) -> str:
        """`N rows checked; newest checkpoint: row X at TIME, anchor PATH`."""
        files = f"{self.archives:,} archive file" + ("s" if self.archives != 1 else "")
        parts = [f"{self.archived:,} of them in {files}" if self.archives else "",
                 f"{self.legacy:,} of them legacy SHA-256" if self.legacy else ""]
        rows = f"{self.checked:,} rows checked" + (f" ({'; '.join(p for p in parts if p)})" if any(parts) else "")
        if self.anchor is None:
            return f"{rows}; no anchor configured (CONSOLE_AUDIT_ANCHOR), so a cut tail or a wipe goes unnoticed"
        if self.checkpoint is None:
            return f"{rows}; no checkpoint yet, anchor {self.anchor}"
        return f"{rows}; newest checkpoint: row {self.checkpoint.last_id} at {self.checkpoint.at}, anchor {self.anchor}"


@dataclass
class _Walk:
    """What the walk through the rows found."""

    key: AuditKey
    expected: dict[int, dict[str, Checkpoint]]  # what the checkpoints say: row id -> its MAC -> checkpoint
    problems: list[Problem] = field(default_factory=list)
    disagree: list[tuple[int, str]] = field(default_factory=list)  # rows where a checkpoint disagrees, and how
    checked: int = 0
    legacy: int = 0
    rows: int = 0  # rows with ids of 1 or more
    last_id: int = 0
    last_hash: str = GENESIS_HASH
    keyed: bool = False

    def add(self, kind: str, row_id: int | None, text: str) -> None:
        last = self.problems[-1] if self.problems else None
        if (last is not None and row_id is not None and last.kind == kind and last.first_id is not None
                and (last.last_id or last.first_id) + 1 == row_id):
            self.problems[-1] = replace(last, last_id=row_id)
        else:
            self.problems.append(Problem(kind, row_id, text, row_id))

    def row(self, row: AuditRow) -> None:
        self.checked += 1
        if row.id <= 0:
            self.add("outside", row.id, f"row {row.id} is outside the chain (ids start at 1): inserted")
            return
        expected = self.last_id + 1
        if row.id == self.last_id:
            self.add("duplicate", row.id, f"row {row.id} appears twice")
        elif row.id > expected:
            missing = f"row {expected} is" if row.id == expected + 1 else f"rows {expected}–{row.id - 1} are"
            self.add("gap", expected, f"{missing} missing (deleted; the next row is {row.id})")
        elif row.prev_hash != self.last_hash:
            self.add("unlinked", row.id, f"row {row.id} does not link to row {row.id - 1} "
                                         "(rows inserted, deleted or reordered)")
        self._content(row)
        self.rows += 1
        self.last_id, self.last_hash = row.id, row.row_hash
        for mac, checkpoint in self.expected.get(row.id, {}).items():
            if mac != row.row_hash:
                self.disagree.append((row.id, f"row {row.id} has another MAC than the checkpoint of {checkpoint.at} "
                                              "recorded"))
            elif checkpoint.count != self.rows:
                self.disagree.append((row.id, f"the chain has {self.rows} rows up to row {row.id}, the checkpoint of "
                                              f"{checkpoint.at} counted {checkpoint.count}"))

    def skip(self, skipped: Skipped) -> None:
        """Go on after archived rows that could not be read (reported already), as if they were there."""
        if skipped.first_id > self.last_id + 1:
            self.add("gap", self.last_id + 1, f"rows {self.last_id + 1}–{skipped.first_id - 1} are missing (deleted; "
                                              f"the next archived row is {skipped.first_id})")
        self.rows += skipped.last_id - skipped.first_id + 1
        self.last_id, self.last_hash = skipped.last_id, skipped.last_hash

    def _content(self, row: AuditRow) -> None:
        if row.key_id is None:
            if self.keyed:
                self.add("unkeyed", row.id, f"row {row.id} has no key id after keyed rows: written without the "
                                            "audit key (forged)")
            elif row_hash(row) != row.row_hash:
                self.add("bad_hash", row.id, f"legacy row {row.id} was altered (its content does not match its "
                                             "SHA-256 hash)")
            else:
                self.legacy += 1
            return
        self.keyed = True
        if row.key_id != self.key.id:
            self.add("wrong_key", row.id, f"row {row.id} is MACed with key {row.key_id}, not the configured key "
                                          f"{self.key.id} (another CONSOLE_AUDIT_SECRET?)")
        elif not hmac.compare_digest(row_mac(row, self.key), row.row_hash):
            self.add("bad_mac", row.id, f"row {row.id} fails its MAC: edited, re-hashed or forged without the "
                                        "audit key")


def _checkpoints(anchor: AnchorStore, key: AuditKey) -> tuple[list[Checkpoint], list[Problem]]:
    """The anchor's checkpoints whose signatures hold, and a problem for every other record."""
    try:
        records = anchor.read()
    except OSError as exc:
        return [], [Problem("anchor", None, f"the anchor {anchor.location} could not be read: {exc}")]
    valid, forged, foreign = [], 0, {}
    for record in records:
        found = read_checkpoint(record)
        if found is not None and found.key_id != key.id:
            foreign[found.key_id] = foreign.get(found.key_id, 0) + 1
        elif found is not None and signature_ok(record, found, key):
            valid.append(found)
        else:
            forged += 1
    problems = [Problem("wrong_key", None, f"{n} checkpoints are signed with key {kid}, not the configured key "
                                           f"{key.id}; they were not checked") for kid, n in foreign.items()]
    if forged:
        problems.append(Problem("forged_checkpoint", None, f"{forged} records in the anchor {anchor.location} are "
                                                           "not validly signed checkpoints: forged or corrupted"))
    return valid, problems


def _rows(session: Session, batch: int) -> Iterator[AuditRow]:
    """Every row in id order, from the smallest id (0 and negative ones too)."""
    after: int | None = None
    while True:
        stmt = select(AuditRow).order_by(AuditRow.id).limit(batch)
        rows = session.scalars(stmt if after is None else stmt.where(AuditRow.id > after)).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].id
        session.expunge_all()


def verify_chain(store: Store, key: AuditKey, anchor: AnchorStore | None, *, batch: int = 5000,
                 archive_dir: str | Path | None = None) -> VerifyResult:
    """Walk the whole chain (archives first, from `archive_dir` when given, else where each was written), then
    compare its end with the head table and the anchor's newest checkpoint.

    Every checkpoint's row must still carry the MAC it recorded: a tail cut and then continued by new rows
    passes the newest checkpoint but not the older ones.
    """
    valid, anchor_problems = _checkpoints(anchor, key) if anchor is not None else ([], [])
    newest = max(valid, key=lambda c: (c.last_id, c.at), default=None)
    expected: dict[int, dict[str, Checkpoint]] = {}
    for found in valid:
        expected.setdefault(found.last_id, {}).setdefault(found.head, found)
    walk = _Walk(key, expected)
    archived = 0
    # The anchor first, then one snapshot of rows and head: every checkpoint read names committed rows, and
    # appends going on meanwhile cannot make the head look ahead of the chain.
    with store.read() as session:
        if store.dialect != "sqlite":  # SQLite's read transaction is a snapshot already (WAL)
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        archives = listed(session)  # in the snapshot of the live rows: an archive committed later is not half-seen
        for item in archived_rows(archives, key, walk.add, archive_dir):
            if isinstance(item, Skipped):
                walk.skip(item)
            else:
                walk.row(item)
                archived += 1
        for row in _rows(session, batch):
            walk.row(row)
        head = session.get(AuditHead, 1)
    _compare_head(walk, head)
    if newest is not None:
        _compare_checkpoints(walk, newest)
    problems = (*walk.problems, *anchor_problems)
    first = problems[0] if problems else None
    return VerifyResult(ok=not problems, checked=walk.checked, first_bad_id=first.first_id if first else None,
                        reason=first.reason if first else None, problems=problems,
                        last_id=walk.last_id or None, legacy=walk.legacy, key_id=key.id,
                        anchor=anchor.location if anchor is not None else None, checkpoint=newest,
                        checkpoints=len(valid), archived=archived, archives=len(archives))


def _compare_head(walk: _Walk, head: AuditHead | None) -> None:
    if head is None:
        if walk.rows:
            walk.add("head", walk.last_id, "the head table has no row, but the chain has rows")
    elif head.last_id > walk.last_id:
        walk.add("head", walk.last_id + 1, f"the chain ends at row {walk.last_id} but its head says row "
                                            f"{head.last_id} (rows deleted at the end)")
    elif (head.last_id, head.last_hash) != (walk.last_id, walk.last_hash):
        walk.add("head", head.last_id or None, f"the head table says row {head.last_id} with MAC "
                                                f"{head.last_hash[:12]}…, but the chain ends at row {walk.last_id} "
                                                f"with {walk.last_hash[:12]}…")


def _compare_checkpoints(walk: _Walk, newest: Checkpoint) -> None:
    where = f"the checkpoint of {newest.at}"
    if walk.rows == 0:
        walk.add("wiped", 1, f"the log has no rows, but {where} recorded {newest.count} (up to row "
                             f"{newest.last_id}): wiped")
        return
    if walk.last_id < newest.last_id:
        walk.add("truncated", walk.last_id + 1, f"the chain ends at row {walk.last_id}, but {where} recorded row "
                                                f"{newest.last_id}: rows {walk.last_id + 1}–{newest.last_id} were "
                                                "cut from the end")
    if walk.disagree:
        row_id, how = walk.disagree[0]
        more = f"; {len(walk.disagree) - 1} more checkpoints disagree with the chain" if len(walk.disagree) > 1 else ""
        walk.add("rehashed", row_id, f"{how}: the chain up to it was rewritten (re-hashed, or cut and continued){more}")
