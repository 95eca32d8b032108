"""Attacks on the audit log by someone with write access to the console DB (and only hashlib), and what catches them.

Each test does the attack the way an intruder would: plain sqlite3 on the database file, plain SHA-256 (or an HMAC
with a guessed key) for hashes. The chain's key and the anchor file stay out of their reach, except where a test
says otherwise. Before the chain was keyed and anchored, every one of these passed `audit verify`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from console.migrations import migrate_console
from console.settings import PROJECT_ROOT
from mcp_bridge.audit.anchor import Checkpoint, FileAnchor, read_checkpoint, signature_ok
from mcp_bridge.audit.key import AuditKey
from mcp_bridge.audit.log import AuditLog, VerifyResult
from mcp_bridge.store import make_engine

KEY = "tamper-test-audit-key"
ROWS = 12
# The columns the old chain hashed, as an intruder reads them off the old code or the README.
PLAIN_FIELDS = ("id", "at", "event", "actor", "channel", "site", "tool", "arguments", "outcome", "detail",
                "duration_ms", "result_size", "prev_hash")


# -- the intruder's tools: sqlite3, json, hashlib ----------------------------------------------------------------

def sql(db: Path, statement: str, *params: Any) -> list[sqlite3.Row]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(statement, params).fetchall()
    conn.close()
    return rows


def plain_hash(row: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a row, as the chain was hashed before it was keyed."""
    content = {name: row[name] for name in PLAIN_FIELDS}
    content["at"] = dt.datetime.fromisoformat(row["at"]).isoformat(timespec="microseconds")
    for name in ("arguments", "detail"):
        content[name] = json.loads(row[name]) if row[name] is not None else None
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
                          ).hexdigest()


def rehash(db: Path, from_id: int, *, drop_key_ids: bool = False) -> None:
    """Recompute every row's hash and link from `from_id` on, and move the head: the classic re-hashed suffix."""
    rows = [dict(r) for r in sql(db, "SELECT * FROM audit_log ORDER BY id")]
    prev = "0" * 64
    with sqlite3.connect(db) as conn:
        for row in rows:
            if row["id"] >= from_id:
                row["prev_hash"] = prev
                row["row_hash"] = plain_hash(row)
                conn.execute("UPDATE audit_log SET prev_hash = ?, row_hash = ?, key_id = ? WHERE id = ?",
                             (row["prev_hash"], row["row_hash"], None if drop_key_ids else row["key_id"], row["id"]))
            prev = row["row_hash"]
        conn.execute("UPDATE audit_head SET last_id = ?, last_hash = ?", (rows[-1]["id"], prev))
    conn.close()


def move_head_to_last_row(db: Path) -> None:
    sql(db, "UPDATE audit_head SET last_id = (SELECT MAX(id) FROM audit_log), "
            "last_hash = (SELECT row_hash FROM audit_log ORDER BY id DESC LIMIT 1)")


def forge_row(db: Path, *, key_id: str | None, mac: Callable[[str], str] | None = None) -> int:
    """Append an `approved` row that links to the last one, hashed with plain SHA-256 (or `mac`), and move the head."""
    last = dict(sql(db, "SELECT * FROM audit_log ORDER BY id DESC LIMIT 1")[0])
    row = {**last, "id": last["id"] + 1, "event": "approved", "actor": "mallory@demo.local", "tool": "ads__update_bid",
           "arguments": json.dumps({"bid": 99.0, "keyword_id": 7, "site": "us"}, separators=(",", ":")),
           "outcome": "ok", "prev_hash": last["row_hash"], "key_id": key_id}
    if mac is None:
        row["row_hash"] = plain_hash(row)
    else:  # the keyed text: the row's content and its key id, canonical JSON
        content = {name: row[name] for name in (*PLAIN_FIELDS, "key_id")}
        content["at"] = dt.datetime.fromisoformat(row["at"]).isoformat(timespec="microseconds")
        content["arguments"], content["detail"] = json.loads(row["arguments"]), json.loads(row["detail"] or "null")
        row["row_hash"] = mac(json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    columns = ", ".join(row)
    sql(db, f"INSERT INTO audit_log ({columns}) VALUES ({', '.join('?' * len(row))})", *row.values())
    move_head_to_last_row(db)
    return row["id"]


# -- the chain under attack: 12 rows, checkpoints of rows 6 and 12 in an anchor file ----------------------------

@dataclass
class Chain:
    url: str
    db: Path
    anchor: Path

    def log(self, key: str = KEY, **kwargs: Any) -> AuditLog:
        """The audit log as another process (the one running `audit verify`) opens it."""
        return AuditLog(make_engine(self.url), key=key, **{"anchor": self.anchor, **kwargs})

    def verify(self, key: str = KEY) -> VerifyResult:
        log = self.log(key)
        try:
            return log.verify()
        finally:
            log.store.engine.dispose()

    def checkpoints(self) -> list[dict[str, Any]]:
        return FileAnchor(self.anchor).read()


def append_rows(log: AuditLog, count: int, start: int = 1) -> None:
    for i in range(start, start + count):
        log.append("tool_call" if i % 3 else "approved", actor=f"user{i % 2}@demo.local", channel="chat", site="us",
                   tool="ads__list_keywords", arguments={"site": "us", "query": f"yoga {i}"}, outcome="ok",
                   detail={"source": "chat"}, duration_ms=1.5 * i, result_size=100 + i)


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[Chain]:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    migrate_console(url)
    made = Chain(url, tmp_path / "console.db", tmp_path / "anchor" / "audit-anchor.jsonl")
    log = made.log(checkpoint_every=1000)  # checkpoints exactly where this fixture asks for them
    append_rows(log, 6)
    assert log.checkpoint().last_id == 6
    append_rows(log, ROWS - 6, start=7)
    log.close()  # the final checkpoint: row 12
    log.store.engine.dispose()
    assert [c["last_id"] for c in made.checkpoints()] == [6, ROWS]
    assert made.verify().ok
    yield made


def test_the_untouched_chain_verifies_against_its_newest_checkpoint(chain: Chain) -> None:
    result = chain.verify()
    newest = chain.checkpoints()[-1]
    assert (result.ok, result.checked, result.last_id, result.checkpoints, result.problems) == (True, ROWS, ROWS, 2, ())
    assert result.summary() == (f"12 rows checked; newest checkpoint: row 12 at {newest['at']}, anchor {chain.anchor}")
    assert sql(chain.db, "SELECT DISTINCT key_id FROM audit_log")[0][0] == AuditKey(KEY).id


# -- a. the newest rows deleted and the head moved back ---------------------------------------------------------

@pytest.mark.parametrize("keep", [9, 4])
def test_a_cut_tail_with_its_head_moved_back_is_caught(chain: Chain, keep: int) -> None:
    sql(chain.db, "DELETE FROM audit_log WHERE id > ?", keep)
    move_head_to_last_row(chain.db)
    result = chain.verify()
    at = chain.checkpoints()[-1]["at"]
    assert (result.ok, result.kinds, result.first_bad_id, result.checked) == (False, ["truncated"], keep + 1, keep)
    assert result.reason == (f"the chain ends at row {keep}, but the checkpoint of {at} recorded row 12: "
                             f"rows {keep + 1}–12 were cut from the end")


def test_a_cut_tail_continued_by_new_rows_is_caught_by_the_older_checkpoint(chain: Chain) -> None:
    sql(chain.db, "DELETE FROM audit_log WHERE id > 9")
    move_head_to_last_row(chain.db)
    log = chain.log()
    append_rows(log, 5, start=100)  # rows 10-14: the chain is longer than the newest checkpoint again
    log.close()  # and its own checkpoint of row 14 is valid
    result = chain.verify()
    assert (result.ok, result.kinds, result.first_bad_id, result.checkpoint.last_id) == (False, ["rehashed"], 12, 14)
    assert result.reason.startswith("row 12 has another MAC than the checkpoint of ")


def test_a_cut_the_writing_process_notices_is_checkpointed(chain: Chain, caplog: pytest.LogCaptureFixture) -> None:
    log = chain.log(checkpoint_every=1000)
    append_rows(log, 3, start=13)  # rows 13-15, not checkpointed yet
    sql(chain.db, "DELETE FROM audit_log WHERE id > 13")
    move_head_to_last_row(chain.db)
    with caplog.at_level(logging.ERROR, logger="mcp_bridge.audit.checkpoints"):
        log.close()  # the head (13) is behind what this process wrote (15): it checkpoints row 15
    assert "rows were cut from the end" in caplog.text
    assert chain.checkpoints()[-1]["last_id"] == 15
    result = chain.verify()
    assert (result.kinds, result.first_bad_id) == (["truncated"], 14)


# -- b. every row and the head deleted ----------------------------------------------------------------------------

def test_a_wipe_of_every_row_and_the_head_is_caught(chain: Chain) -> None:
    sql(chain.db, "DELETE FROM audit_log")
    sql(chain.db, "DELETE FROM audit_head")
    result = chain.verify()  # opening the log recreates an empty head, as it does for a new database
    at = chain.checkpoints()[-1]["at"]
    assert (result.ok, result.kinds, result.first_bad_id, result.checked) == (False, ["wiped"], 1, 0)
    assert result.reason == f"the log has no rows, but the checkpoint of {at} recorded 12 (up to row 12): wiped"


# -- c. a row edited and everything after it re-hashed ------------------------------------------------------------

@pytest.mark.parametrize(("edited", "drop_key_ids", "kinds", "first_bad"), [
    (4, False, ["bad_mac", "rehashed"], 4),  # SHA-256 where a MAC belongs
    (4, True, ["unkeyed", "rehashed"], 4),  # passed off as legacy rows after keyed ones
    (1, True, ["rehashed"], 6),  # the whole chain passed off as a legacy one: only the anchor knows
], ids=["keyed", "as-legacy-suffix", "whole-chain-as-legacy"])
def test_an_edited_row_with_a_rehashed_suffix_is_caught(chain: Chain, edited: int, drop_key_ids: bool,
                                                        kinds: list[str], first_bad: int) -> None:
    sql(chain.db, "UPDATE audit_log SET actor = 'mallory@demo.local' WHERE id = ?", edited)
    rehash(chain.db, edited, drop_key_ids=drop_key_ids)
    result = chain.verify()
    assert (result.ok, result.kinds, result.first_bad_id) == (False, kinds, first_bad)
    rehashed = result.problems[-1]
    assert (rehashed.first_id, rehashed.reason) == (6, (
        f"row 6 has another MAC than the checkpoint of {chain.checkpoints()[0]['at']} recorded: the chain up to it "
        "was rewritten (re-hashed, or cut and continued); 1 more checkpoints disagree with the chain"))
    if kinds[0] != "rehashed":
        assert (result.problems[0].first_id, result.problems[0].last_id) == (edited, ROWS)  # one run, rows 4-12


# -- d. a forged `approved` row appended ------------------------------------------------------------------------------

@pytest.mark.parametrize(("how", "kind"), [("plain", "unkeyed"), ("copied-key-id", "bad_mac"),
                                           ("guessed-key", "wrong_key")])
def test_a_forged_appended_row_is_caught(chain: Chain, how: str, kind: str) -> None:
    key_id = sql(chain.db, "SELECT key_id FROM audit_log WHERE id = 12")[0][0]
    if how == "plain":
        forged = forge_row(chain.db, key_id=None)
    elif how == "copied-key-id":
        forged = forge_row(chain.db, key_id=key_id)
    else:  # the development default, which a careless deployment might still run with
        guess = b"dev-audit-secret-change-me"
        guessed_id = hmac.new(guess, b"audit-key-id", hashlib.sha256).hexdigest()[:8]
        forged = forge_row(chain.db, key_id=guessed_id,
                           mac=lambda text: hmac.new(guess, text.encode(), hashlib.sha256).hexdigest())
    result = chain.verify()
    assert (result.ok, result.kinds, result.first_bad_id, result.checked) == (False, [kind], forged, ROWS + 1)
    if kind == "wrong_key":
        assert f"not the configured key {AuditKey(KEY).id}" in result.reason


# -- e. rows outside the chain ----------------------------------------------------------------------------------------

def test_rows_with_ids_of_zero_or_less_are_reported(chain: Chain) -> None:
    columns = ", ".join(c["name"] for c in sql(chain.db, "PRAGMA table_info(audit_log)") if c["name"] != "id")
    for row_id in (0, -7):
        sql(chain.db, f"INSERT INTO audit_log (id, {columns}) SELECT ?, {columns} FROM audit_log WHERE id = 1", row_id)
    log = chain.log()
    assert [r.id for r in log.query()][-2:] == [0, -7]  # the audit page and export show them
    result = log.verify()
    assert (result.ok, result.kinds, result.first_bad_id, result.checked) == (False, ["outside", "outside"], -7, 14)
    assert [p.reason for p in result.problems] == ["row -7 is outside the chain (ids start at 1): inserted",
                                                   "row 0 is outside the chain (ids start at 1): inserted"]


def test_a_gap_in_the_middle_is_reported_with_the_rows_missing(chain: Chain) -> None:
    sql(chain.db, "DELETE FROM audit_log WHERE id IN (5, 6, 7)")
    result = chain.verify()
    assert (result.kinds[0], result.first_bad_id) == ("gap", 5)
    assert result.reason == "rows 5–7 are missing (deleted; the next row is 8)"


# -- reordering, the head table -----------------------------------------------------------------------------------

def test_reordered_rows_are_caught(chain: Chain) -> None:
    sql(chain.db, "UPDATE audit_log SET id = -1 WHERE id = 3")
    sql(chain.db, "UPDATE audit_log SET id = 3 WHERE id = 4")
    sql(chain.db, "UPDATE audit_log SET id = 4 WHERE id = -1")
    result = chain.verify()
    assert (result.ok, result.first_bad_id) == (False, 3)
    assert result.kinds[:2] == ["unlinked", "bad_mac"] and "reordered" in result.reason


def test_a_head_table_that_disagrees_is_reported(chain: Chain) -> None:
    sql(chain.db, "UPDATE audit_head SET last_hash = ?", "f" * 64)
    result = chain.verify()
    assert (result.kinds, result.first_bad_id) == (["head"], 12)
    assert result.reason.startswith("the head table says row 12 with MAC ffffffffffff…, but the chain ends at row 12")


# -- the anchor itself --------------------------------------------------------------------------------------------

def _append_line(chain: Chain, line: str) -> None:
    with chain.anchor.open("a") as fp:
        fp.write(line + "\n")


@pytest.mark.parametrize("forgery", ["sha256-signed", "edited", "garbage"])
def test_a_forged_checkpoint_is_reported_and_not_trusted(chain: Chain, forgery: str) -> None:
    real = chain.checkpoints()[-1]
    if forgery == "sha256-signed":  # claims the chain was shorter, signed without the key
        fake = {**real, "count": 3, "last_id": 3, "head": sql(chain.db, "SELECT row_hash FROM audit_log WHERE id = 3")[0][0]}
        fake["mac"] = hashlib.sha256(json.dumps(fake, sort_keys=True).encode()).hexdigest()
        line = json.dumps(fake)
    elif forgery == "edited":
        line = json.dumps({**real, "last_id": 40, "count": 40})
    else:
        line = '{"last_id": 40, "head'
    _append_line(chain, line)
    result = chain.verify()
    assert (result.ok, result.kinds, result.first_bad_id) == (False, ["forged_checkpoint"], None)
    assert result.reason == (f"1 records in the anchor {chain.anchor} are not validly signed checkpoints: forged or "
                             "corrupted")
    assert (result.checkpoint.last_id, result.checkpoints) == (12, 2)  # compared with the newest valid one


def test_a_checkpoint_of_another_key_is_reported_as_such(chain: Chain) -> None:
    other = AuditKey("another-key")
    _append_line(chain, json.dumps(Checkpoint(count=1, last_id=1, head="0" * 64, at="2026-01-01T00:00:00+00:00",
                                              key_id=other.id).signed(other)))
    result = chain.verify()
    assert (result.kinds, result.first_bad_id) == (["wrong_key"], None)
    assert result.reason == (f"1 checkpoints are signed with key {other.id}, not the configured key "
                             f"{AuditKey(KEY).id}; they were not checked")


def test_the_wrong_key_is_reported(chain: Chain) -> None:
    result = chain.verify(key="not-the-audit-key")
    theirs, ours = AuditKey(KEY).id, AuditKey("not-the-audit-key").id
    assert (result.ok, result.kinds, result.first_bad_id, result.checkpoint) == (False, ["wrong_key", "wrong_key"], 1,
                                                                                None)
    assert result.reason == (f"row 1 is MACed with key {theirs}, not the configured key {ours} (another "
                             "CONSOLE_AUDIT_SECRET?); so do the 11 rows after it, up to row 12")
    assert result.problems[1].reason.startswith(f"2 checkpoints are signed with key {theirs}")


# -- the legacy SHA-256 prefix ----------------------------------------------------------------------------------------

@pytest.fixture
def upgraded(tmp_path: Path) -> Chain:
    """A database from before the chain was keyed (5 plain SHA-256 rows), then 3 keyed rows and a checkpoint."""
    url = f"sqlite:///{tmp_path / 'console.db'}"
    migrate_console(url)
    made = Chain(url, tmp_path / "console.db", tmp_path / "audit-anchor.jsonl")
    log = made.log(anchor=None)
    append_rows(log, 5)
    log.store.engine.dispose()
    rehash(made.db, 1, drop_key_ids=True)  # exactly the rows (and head) the old code wrote
    log = made.log()
    append_rows(log, 3, start=6)
    log.close()
    log.store.engine.dispose()
    return made


def test_a_legacy_prefix_followed_by_keyed_rows_verifies(upgraded: Chain) -> None:
    rows = sql(upgraded.db, "SELECT id, key_id, prev_hash, row_hash FROM audit_log ORDER BY id")
    assert [r["key_id"] is None for r in rows] == [True] * 5 + [False] * 3
    assert rows[5]["prev_hash"] == rows[4]["row_hash"]  # the first MAC covers the last legacy hash
    result = upgraded.verify()
    assert (result.ok, result.checked, result.legacy, result.checkpoint.last_id) == (True, 8, 5, 8)
    assert result.summary().startswith("8 rows checked (5 of them legacy SHA-256); newest checkpoint: row 8 at ")


@pytest.mark.parametrize(("attack", "kinds", "first_bad"), [
    ("edit", ["bad_hash"], 2),
    ("edit-and-rehash-the-prefix", ["unlinked"], 6),
    ("edit-rehash-and-relink", ["bad_mac"], 6),
])
def test_tampering_with_the_legacy_prefix_is_caught(upgraded: Chain, attack: str, kinds: list[str],
                                                    first_bad: int) -> None:
    sql(upgraded.db, "UPDATE audit_log SET actor = 'mallory@demo.local' WHERE id = 2")
    if attack != "edit":
        rows = [dict(r) for r in sql(upgraded.db, "SELECT * FROM audit_log WHERE id <= 5 ORDER BY id")]
        prev = rows[0]["row_hash"]
        for row in rows[1:]:
            row["prev_hash"], row["row_hash"] = prev, plain_hash({**row, "prev_hash": prev})
            sql(upgraded.db, "UPDATE audit_log SET prev_hash = ?, row_hash = ? WHERE id = ?", prev, row["row_hash"],
                row["id"])
            prev = row["row_hash"]
        if attack == "edit-rehash-and-relink":
            sql(upgraded.db, "UPDATE audit_log SET prev_hash = ? WHERE id = 6", prev)
    result = upgraded.verify()
    assert (result.ok, result.kinds, result.first_bad_id) == (False, kinds, first_bad)


# -- when checkpoints are written -----------------------------------------------------------------------------------

def _wait_for(predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@pytest.fixture
def empty(tmp_path: Path) -> Chain:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    migrate_console(url)
    return Chain(url, tmp_path / "console.db", tmp_path / "audit-anchor.jsonl")


def test_a_checkpoint_every_n_rows_and_one_at_close(empty: Chain) -> None:
    log = empty.log(checkpoint_every=5, checkpoint_interval_s=3600)
    append_rows(log, 4)
    time.sleep(0.3)
    assert empty.checkpoints() == []
    append_rows(log, 1, start=5)
    assert _wait_for(lambda: [c["last_id"] for c in empty.checkpoints()] == [5])
    append_rows(log, 4, start=6)
    time.sleep(0.3)
    assert len(empty.checkpoints()) == 1
    append_rows(log, 3, start=10)  # row 10 crosses the next multiple
    assert _wait_for(lambda: len(empty.checkpoints()) == 2)
    log.close()
    records = empty.checkpoints()
    assert records[-1]["last_id"] == 12 and records[-1]["count"] == 12
    key = AuditKey(KEY)
    assert all(signature_ok(r, read_checkpoint(r), key) for r in records)
    assert log.verify().ok
    log.close()  # idempotent: the chain did not move, so no new checkpoint
    assert len(empty.checkpoints()) == len(records)


def test_a_checkpoint_every_interval_while_the_chain_moves(empty: Chain) -> None:
    log = empty.log(checkpoint_every=1000, checkpoint_interval_s=0.2)
    append_rows(log, 2)
    assert _wait_for(lambda: [c["last_id"] for c in empty.checkpoints()] == [2])
    time.sleep(0.6)  # the chain did not move: no more checkpoints
    assert len(empty.checkpoints()) == 1
    with log.store.write() as session:  # a row inside an action's transaction counts once it commits
        log.append("proposed", actor="a@demo.local", channel="ui", session=session)
    assert _wait_for(lambda: [c["last_id"] for c in empty.checkpoints()] == [2, 3])
    log.close()
    assert len(empty.checkpoints()) == 2


def test_a_failing_anchor_loses_no_rows_and_the_next_checkpoint_covers_them(
        empty: Chain, caplog: pytest.LogCaptureFixture) -> None:
    class FlakyAnchor(FileAnchor):
        failing = True

        def append(self, record: dict[str, Any]) -> None:
            if self.failing:
                raise OSError("the anchor's disk is full")
            super().append(record)

    anchor = FlakyAnchor(empty.anchor)
    log = AuditLog(make_engine(empty.url), key=KEY, anchor=anchor, checkpoint_every=2, checkpoint_interval_s=3600)
    with caplog.at_level(logging.ERROR, logger="mcp_bridge.audit.checkpoints"):
        append_rows(log, 5)
        assert _wait_for(lambda: "could not be written" in caplog.text)
    assert log.verify().checked == 5 and empty.checkpoints() == []
    anchor.failing = False
    append_rows(log, 1, start=6)  # row 6 crosses a multiple of 2
    assert _wait_for(lambda: [c["last_id"] for c in empty.checkpoints()] == [6])
    log.close()
    assert log.verify().ok


# -- several processes, one anchor file -------------------------------------------------------------------------------

APPENDER = """
import sys
import threading
from mcp_bridge.audit.log import AuditLog
from mcp_bridge.store import make_engine
url, anchor, n, key = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
log = AuditLog(make_engine(url), key=key, anchor=anchor, checkpoint_every=3, checkpoint_interval_s=0.05)
for i in range(n):
    log.append("tool_call", actor=f"p{i}", channel="job", arguments={"i": i, "pad": "x" * 3000})
log.close()
"""

WRITER = """
import sys
import threading
from mcp_bridge.audit.anchor import FileAnchor
anchor, who = FileAnchor(sys.argv[1]), sys.argv[2]
for i in range(100):  # lines longer than PIPE_BUF (4096): only the lock keeps them whole everywhere
    anchor.append({"who": who, "i": i, "pad": who * 6000})
"""


def _processes(script: str, *args: list[str]) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", script, *a], cwd=PROJECT_ROOT, stderr=subprocess.PIPE, text=True)
             for a in args]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err


def test_concurrent_appending_processes_keep_the_anchor_well_formed(empty: Chain) -> None:
    _processes(APPENDER, *[[empty.url, str(empty.anchor), "40", KEY] for _ in range(4)])
    records = empty.checkpoints()
    key = AuditKey(KEY)
    assert records and all(signature_ok(r, read_checkpoint(r), key) for r in records)
    result = empty.verify()
    assert (result.ok, result.checked, result.checkpoint.last_id, result.checkpoints) == (True, 160, 160, len(records))


def test_concurrent_anchor_writers_never_interleave_lines(tmp_path: Path) -> None:
    path = tmp_path / "anchor.jsonl"
    _processes(WRITER, *[[str(path), who] for who in "abcd"])
    records = FileAnchor(path).read()
    assert len(records) == 400 and all("unparsed" not in r and r["pad"] == r["who"] * 6000 for r in records)
    assert sorted(r["i"] for r in records if r["who"] == "c") == list(range(100))


def test_verify_while_others_append_sees_one_consistent_chain(empty: Chain) -> None:
    """Rows and head are read in one snapshot, and checkpoints before it: appends going on are never problems."""
    log = empty.log(checkpoint_every=7, checkpoint_interval_s=0.05)
    other = empty.log(checkpoint_every=5, checkpoint_interval_s=0.05)  # think: another process on the same files
    done = threading.Event()

    def write(target: AuditLog) -> None:
        for i in range(150):
            target.append("tool_call", actor=f"w{i}", channel="job", arguments={"i": i})
        done.set()

    threads = [threading.Thread(target=write, args=(target,)) for target in (log, other)]
    for t in threads:
        t.start()
    results = []
    while not done.is_set() or any(t.is_alive() for t in threads):
        results.append(empty.verify())
    for t in threads:
        t.join()
    log.close()
    other.close()
    assert results and all(r.ok for r in results), [r.problems for r in results if not r.ok][:1]
    final = empty.verify()
    assert (final.ok, final.checked, final.checkpoint.last_id) == (True, 300, 300)
