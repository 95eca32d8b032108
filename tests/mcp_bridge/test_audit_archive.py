"""Audit archives: old rows move to gzip files that `verify` and `export` still read; every tamper with them is caught.

Also the Audit page's queries: decisions apart from plain reads, a count, paging past a thousand rows.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from console.migrations import migrate_console
from mcp_bridge.audit import rows as audit_rows
from mcp_bridge.audit.anchor import FileAnchor, read_checkpoint
from mcp_bridge.audit.archive_files import AuditArchive, file_name
from mcp_bridge.audit.log import AuditLog, VerifyResult
from mcp_bridge.errors import Conflict
from mcp_bridge.store import AuditRow, Store, make_engine, utcnow

KEY = "archive-test-audit-key"
OLD, NEW = 10, 4  # rows written 40 days ago, and today


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request, console_url: str) -> Engine:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else console_url
    migrate_console(url)
    eng = make_engine(url)
    yield eng
    eng.dispose()


@pytest.fixture
def anchor(tmp_path: Path) -> FileAnchor:
    return FileAnchor(tmp_path / "audit-anchor.jsonl")


@pytest.fixture
def audit(engine: Engine, anchor: FileAnchor, monkeypatch: pytest.MonkeyPatch) -> AuditLog:
    """OLD rows written 40 days ago (one a second), then NEW rows now."""
    log = AuditLog(engine, key=KEY, anchor=anchor, checkpoint_every=1000)
    then = utcnow() - dt.timedelta(days=40)
    clock = iter(then + dt.timedelta(seconds=i) for i in range(OLD))
    monkeypatch.setattr(audit_rows, "utcnow", lambda: next(clock))
    for i in range(OLD):
        log.append("proposed" if i % 2 else "tool_call", actor=f"user{i % 3}@demo.local", channel="chat", site="us",
                   tool="ads__update_bid", arguments={"keyword_id": i}, outcome="pending" if i % 2 else "requested")
    monkeypatch.setattr(audit_rows, "utcnow", utcnow)
    for i in range(NEW):
        log.append("approved", actor="approver@demo.local", channel="ui", site="de", arguments={"n": i}, outcome="ok")
    yield log
    log.close()


def archive_old(audit: AuditLog, directory: Path, **kwargs):
    return audit.archive(before=utcnow() - dt.timedelta(days=30), directory=directory, actor="cli:ops", **kwargs)


def live_ids(engine: Engine) -> list[int]:
    with engine.connect() as c:
        return [r[0] for r in c.execute(text("SELECT id FROM audit_log ORDER BY id"))]


def assert_ok(result: VerifyResult, checked: int, archived: int) -> None:
    assert (result.ok, result.problems, result.checked, result.archived) == (True, (), checked, archived)


def test_old_rows_move_to_a_file_and_the_chain_still_verifies(engine, audit, anchor, tmp_path) -> None:
    done = archive_old(audit, tmp_path / "archive")
    [archived] = done
    path = tmp_path / "archive" / "audit-000000000001-000000000010.jsonl.gz"
    assert (archived.first_id, archived.last_id, archived.rows, archived.path) == (1, OLD, OLD, path)
    assert archived.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    # The live table keeps the new rows and the row that audits the archiving.
    assert live_ids(engine) == list(range(OLD + 1, OLD + NEW + 2))
    note = audit.query(event="audit_archived")[0]
    assert (note.actor, note.channel, note.detail) == ("cli:ops", "cli", {
        "first_id": 1, "last_id": OLD, "rows": OLD, "file": path.name, "sha256": archived.sha256})
    with Store(engine).read() as s:
        row = s.scalars(select(AuditArchive)).one()
        assert (row.first_id, row.last_id, row.rows, row.file_name, row.directory, row.file_sha256, row.archived_by) == (
            1, OLD, OLD, path.name, str(path.parent.resolve()), archived.sha256, "cli:ops")
    lines = [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    assert [line["id"] for line in lines[:-1]] == list(range(1, OLD + 1))
    assert lines[-1]["checkpoint"]["last_id"] == OLD and lines[-1]["checkpoint"]["head"] == row.last_hash
    # The same signed checkpoint went to the anchor before the rows left the database.
    assert any(read_checkpoint(r) == read_checkpoint(lines[-1]["checkpoint"]) for r in anchor.read())
    result = audit.verify()
    assert_ok(result, OLD + NEW + 1, OLD)
    assert result.summary().startswith(f"{OLD + NEW + 1} rows checked ({OLD} of them in 1 archive file); newest")


def test_ranges_split_by_max_rows_and_a_second_run_continues(engine, audit, tmp_path) -> None:
    done = archive_old(audit, tmp_path, max_rows=4)
    assert [(a.first_id, a.last_id) for a in done] == [(1, 4), (5, 8), (9, 10)]
    assert archive_old(audit, tmp_path) == []  # nothing older is left
    everything = audit.archive(before=utcnow() + dt.timedelta(days=1), directory=tmp_path, actor="cli:ops")
    # Up to the row before the head as it was: this run's own audit_archived row is never archived by it.
    assert [(a.first_id, a.last_id) for a in everything] == [(OLD + 1, OLD + NEW + 2)]
    assert live_ids(engine) == [OLD + NEW + 3, OLD + NEW + 4]
    assert sorted(p.name for p in tmp_path.glob("*.gz")) == [
        file_name(1, 4), file_name(5, 8), file_name(9, 10), file_name(OLD + 1, OLD + NEW + 2)]
    assert_ok(audit.verify(), OLD + NEW + 4, OLD + NEW + 2)
    audit.append("login", actor="seller@demo.local", channel="ui", outcome="ok")  # the chain goes on
    assert_ok(audit.verify(), OLD + NEW + 5, OLD + NEW + 2)


def test_the_newest_row_always_stays_live(engine, tmp_path) -> None:
    log = AuditLog(engine, key=KEY)
    assert log.archive(before=utcnow(), directory=tmp_path, actor="x") == []  # an empty chain
    log.append("login", actor="a@demo.local", channel="ui", outcome="ok")
    assert log.archive(before=utcnow() + dt.timedelta(days=1), directory=tmp_path, actor="x") == []
    assert live_ids(engine) == [1]


def rewrite(path: Path, change) -> None:
    """Unpack an archive, let `change` edit its lines (dicts), pack it again: what an intruder with the files does."""
    lines = [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    lines = change(lines)
    path.write_bytes(gzip.compress("".join(json.dumps(line) + "\n" for line in lines).encode()))


def set_recorded_sha(engine: Engine, path: Path) -> None:
    """The intruder also writes the new file's SHA-256 into audit_archives."""
    with engine.begin() as c:
        c.execute(text("UPDATE audit_archives SET file_sha256 = :s WHERE file_name = :n"),
                  {"s": hashlib.sha256(path.read_bytes()).hexdigest(), "n": path.name})


def edit_actor(lines):
    lines[2]["actor"] = "mallory@example.com"
    return lines


def swap_rows(lines):
    lines[2], lines[3] = lines[3], lines[2]
    return lines


def drop_row(lines):
    return lines[:2] + lines[3:]


def drop_checkpoint(lines):
    return lines[:-1]


def forget(path: Path, engine: Engine) -> None:
    """Delete the archive's record (the file stays): as if rows 1–5 had never been archived."""
    with engine.begin() as c:
        c.execute(text("DELETE FROM audit_archives WHERE first_id = 1"))


TAMPERING = {  # what an intruder does to archive 1–5, and what verify must then report
    "delete the file": (lambda path, engine: path.unlink(), {"archive_missing"}),
    "edit a row": (lambda path, engine: rewrite(path, edit_actor), {"archive_altered", "bad_mac"}),
    "edit a row and the recorded sha": (lambda path, engine: (rewrite(path, edit_actor), set_recorded_sha(engine, path)),
                                        {"bad_mac"}),
    "reorder rows": (lambda path, engine: rewrite(path, swap_rows), {"archive_altered", "gap", "unlinked"}),
    # The chain then holds a row fewer than the anchor's checkpoints counted: "rehashed" too.
    "drop a row and fix the sha": (lambda path, engine: (rewrite(path, drop_row), set_recorded_sha(engine, path)),
                                   {"gap", "archive_mismatch", "rehashed"}),
    "drop the checkpoint": (lambda path, engine: rewrite(path, drop_checkpoint), {"archive_altered",
                                                                                  "archive_checkpoint"}),
    "damage the gzip": (lambda path, engine: path.write_bytes(path.read_bytes()[:40]), {"archive_altered",
                                                                                        "archive_unreadable"}),
    "forget the archive": (forget, {"gap", "rehashed"}),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_with_an_archive_is_caught(engine, audit, tmp_path, case: str) -> None:
    done = archive_old(audit, tmp_path, max_rows=5)
    attack, kinds = TAMPERING[case]
    attack(done[0].path, engine)
    result = audit.verify()
    assert not result.ok
    assert set(result.kinds) == kinds, result.problems
    assert result.first_bad_id is not None and 1 <= result.first_bad_id <= 5


def test_swapped_archive_files_are_caught(engine, audit, tmp_path) -> None:
    first, second = archive_old(audit, tmp_path, max_rows=5)
    held = first.path.read_bytes()
    first.path.write_bytes(second.path.read_bytes())
    second.path.write_bytes(held)
    result = audit.verify()
    assert not result.ok and {"archive_altered", "archive_mismatch", "gap"} <= set(result.kinds)


@pytest.mark.parametrize("deleted", ["the first live row", "every live row but the head", "every live row"])
def test_deleting_live_rows_right_after_the_archive_is_caught(engine, audit, tmp_path, deleted: str) -> None:
    archive_old(audit, tmp_path)
    first = OLD + 1
    statement = {"the first live row": f"DELETE FROM audit_log WHERE id = {first}",
                 "every live row but the head": "DELETE FROM audit_log WHERE id < (SELECT last_id FROM audit_head)",
                 "every live row": "DELETE FROM audit_log"}[deleted]
    with engine.begin() as c:
        c.execute(text(statement))
    result = audit.verify()
    assert not result.ok
    assert result.first_bad_id == first
    assert result.kinds[0] in ("gap", "head")


def test_archives_moved_elsewhere_are_read_from_the_directory_given(engine, audit, tmp_path) -> None:
    done = archive_old(audit, tmp_path / "a", max_rows=5)
    moved = tmp_path / "b"
    os.rename(tmp_path / "a", moved)
    assert set(audit.verify().kinds) == {"archive_missing"}
    assert_ok(audit.verify(archive_dir=moved), OLD + NEW + 2, OLD)
    assert len(done) == 2


def test_a_range_that_does_not_verify_is_not_archived(engine, audit, tmp_path) -> None:
    with engine.begin() as c:
        c.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE id = 3"))
    with pytest.raises(Conflict, match=r"row 3 fails its MAC\); nothing was archived"):
        archive_old(audit, tmp_path)
    assert live_ids(engine) == list(range(1, OLD + NEW + 1))
    assert list(tmp_path.glob("*audit-*")) == []
    with engine.begin() as c:
        c.execute(text("DELETE FROM audit_log WHERE id = 3"))
    with pytest.raises(Conflict, match="row 3 is missing"):
        archive_old(audit, tmp_path)


def test_a_failed_transaction_leaves_the_rows_and_no_file(engine, audit, tmp_path, monkeypatch) -> None:
    from mcp_bridge.audit import archive as archive_module

    def moved_meanwhile(session, span, last_hash):
        raise Conflict("changed meanwhile")

    monkeypatch.setattr(archive_module, "_check_still_live", moved_meanwhile)
    with pytest.raises(Conflict):
        archive_old(audit, tmp_path / "archive")
    assert live_ids(engine) == list(range(1, OLD + NEW + 1))
    assert list((tmp_path / "archive").iterdir()) == []
    assert audit.verify().ok


def test_export_with_the_archive_has_every_row_and_applies_the_filters(engine, audit, tmp_path) -> None:
    archive_old(audit, tmp_path, max_rows=3)
    out = io.StringIO()
    assert audit.export("jsonl", out, with_archive=True) == OLD + NEW + 4
    assert [json.loads(line)["id"] for line in out.getvalue().splitlines()] == list(range(1, OLD + NEW + 5))
    assert audit.export("jsonl", io.StringIO()) == NEW + 4  # the live rows only
    out = io.StringIO()
    audit.export("csv", out, with_archive=True, actor="user1@demo.local", kind="decisions")
    ids = [int(line.split(",")[0]) for line in out.getvalue().splitlines()[1:]]
    assert ids == [i + 1 for i in range(OLD) if i % 3 == 1 and i % 2]  # user1's proposals, not their reads


def test_export_names_a_missing_archive(engine, audit, tmp_path) -> None:
    from mcp_bridge.errors import NotFound

    archive_old(audit, tmp_path)[0].path.unlink()
    with pytest.raises(NotFound, match="audit-000000000001-000000000010.jsonl.gz is not in"):
        audit.export("jsonl", io.StringIO(), with_archive=True)


# -- the Audit page's queries -------------------------------------------------------------------------------------

def test_decisions_and_plain_reads_are_told_apart(engine) -> None:
    log = AuditLog(engine, key=KEY)
    rows = [("tool_call", "requested"), ("tool_result", "ok"), ("tool_result", "NOT_FOUND"), ("tool_call", "ok"),
            ("tool_call", "PERMISSION_DENIED"), ("proposed", "pending"), ("login", "ok"), ("user_granted", "ok"),
            ("tool_call", None)]
    for event, outcome in rows:
        log.append(event, actor="a@demo.local", channel="ui", outcome=outcome)
    decisions = [(r.event, r.outcome) for r in log.query(kind="decisions")]
    reads = [(r.event, r.outcome) for r in log.query(kind="reads")]
    assert decisions == [("tool_call", None), ("user_granted", "ok"), ("login", "ok"), ("proposed", "pending"),
                         ("tool_call", "PERMISSION_DENIED")]
    assert reads == [("tool_call", "ok"), ("tool_result", "NOT_FOUND"), ("tool_result", "ok"), ("tool_call", "requested")]
    assert (log.count(kind="decisions"), log.count(kind="reads"), log.count()) == (5, 4, 9)
    assert all(audit_rows.plain_read(e, o) == ((e, o) in reads) for e, o in rows)
    with pytest.raises(ValueError, match="unknown kind"):
        log.query(kind="everything")  # type: ignore[arg-type]


def test_paging_past_a_thousand_rows(engine) -> None:
    log = AuditLog(engine, key=KEY)
    log.append_entries([audit_rows.entry("policy_changed", actor="admin@demo.local", channel="ui", outcome="ok",
                                         detail={"n": i}) for i in range(2_500)])
    log.append_entries([audit_rows.entry("tool_call", actor="m@demo.local", channel="ui", outcome="requested")
                        for _ in range(500)])
    assert log.count(kind="decisions") == 2_500
    pages = [log.query(kind="decisions", limit=1000, offset=n * 1000) for n in range(3)]
    assert [len(p) for p in pages] == [1000, 1000, 500]
    assert [r.detail["n"] for r in pages[2]][-3:] == [2, 1, 0]
    assert len({r.id for p in pages for r in p}) == 2_500
    with Store(engine).read() as s:
        assert s.scalar(select(func.count()).select_from(AuditRow)) == 3_000


def test_two_archivers_at_once_archive_each_row_once(engine, audit, tmp_path, monkeypatch) -> None:
    from mcp_bridge.audit import archive as archive_module

    write_rows, raced = archive_module._write_rows, {}

    def and_another_archiver(*args, **kwargs):
        last_hash = write_rows(*args, **kwargs)
        if "other" not in raced:  # the other archiver runs between this one's file and its transaction
            raced["other"] = []
            raced["other"] = archive_old(audit, tmp_path / "other")
        return last_hash

    monkeypatch.setattr(archive_module, "_write_rows", and_another_archiver)
    with pytest.raises(Conflict, match="changed while they were archived"):
        archive_old(audit, tmp_path / "mine")
    assert [(a.first_id, a.last_id) for a in raced["other"]] == [(1, OLD)]
    assert list((tmp_path / "mine").iterdir()) == []
    assert_ok(audit.verify(), OLD + NEW + 1, OLD)
