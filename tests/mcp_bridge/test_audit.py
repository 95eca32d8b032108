"""The audit log: keyed chain, tamper detection (edit, delete, insert, reorder), redaction, queries, export.

Attacks that need the anchor (cut tail, wipe, re-hashed suffix, forged rows and checkpoints): test_audit_tamper.py.
"""

from __future__ import annotations

import csv
import io
import json
import threading

import pytest
from sqlalchemy import Engine, text

from console.migrations import migrate_console
from mcp_bridge.audit.log import BENCH_KEY, AuditLog, VerifyResult, bench_append
from mcp_bridge.audit.rows import REDACTED, redact
from mcp_bridge.store import make_engine

KEY = "test-audit-key"


def assert_whole(result: VerifyResult, rows: int) -> None:
    assert (result.ok, result.checked, result.problems, result.last_id) == (True, rows, (), rows or None)


@pytest.fixture
def engine(console_url: str) -> Engine:
    migrate_console(console_url)
    eng = make_engine(console_url)
    yield eng
    eng.dispose()


@pytest.fixture
def audit(engine: Engine) -> AuditLog:
    log = AuditLog(engine, key=KEY)
    for i in range(1, 7):
        log.append("tool_call", actor=f"user{i % 2}@demo.local", channel="chat", site="us" if i % 3 else "de",
                   tool="ads__list_keywords", arguments={"site": "us", "query": f"yoga {i}"}, outcome="ok",
                   duration_ms=1.5 * i, result_size=100 + i)
    return log


def test_a_fresh_chain_verifies(audit: AuditLog) -> None:
    assert_whole(audit.verify(), 6)
    assert audit.verify().summary() == "6 rows checked; no anchor configured (CONSOLE_AUDIT_ANCHOR), so a cut tail " \
                                       "or a wipe goes unnoticed"


def test_an_empty_chain_verifies(engine: Engine) -> None:
    assert AuditLog(engine, key=KEY).verify().ok


def _sql(engine: Engine, statement: str, **params: object) -> None:
    with engine.begin() as c:
        c.execute(text(statement), params)


TAMPERING = {
    "edit arguments": ("UPDATE audit_log SET arguments = '{\"site\": \"us\", \"query\": \"forged\"}' WHERE id = :row", "fails its MAC"),
    "edit actor": ("UPDATE audit_log SET actor = 'mallory@demo.local' WHERE id = :row", "fails its MAC"),
    "edit outcome and rehash nothing": ("UPDATE audit_log SET outcome = 'error' WHERE id = :row", "fails its MAC"),
    "edit the key id": ("UPDATE audit_log SET key_id = 'deadbeef' WHERE id = :row", "not the configured key"),
    "delete": ("DELETE FROM audit_log WHERE id = :row", "missing"),
}


@pytest.mark.parametrize("row", [1, 3, 6])
@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_with_any_row_is_caught(engine: Engine, audit: AuditLog, case: str, row: int) -> None:
    statement, word = TAMPERING[case]
    _sql(engine, statement, row=row)
    result = audit.verify()
    assert not result.ok
    assert result.first_bad_id == row
    assert word in result.reason or "end" in result.reason


@pytest.mark.parametrize("row", [1, 3, 5])
def test_reordering_rows_is_caught(engine: Engine, audit: AuditLog, row: int) -> None:
    # Swap the content of two neighbours, each keeping its own (valid) row hash: the links break.
    _sql(engine, "UPDATE audit_log SET id = -1 WHERE id = :a", a=row)
    _sql(engine, "UPDATE audit_log SET id = :a WHERE id = :b", a=row, b=row + 1)
    _sql(engine, "UPDATE audit_log SET id = :b WHERE id = -1", b=row + 1)
    result = audit.verify()
    assert not result.ok and result.first_bad_id == row


@pytest.mark.parametrize("row", [1, 4, 7])
def test_inserting_a_row_is_caught(engine: Engine, audit: AuditLog, row: int) -> None:
    # Make room and insert a forged row that copies its neighbour's prev_hash and hash.
    _sql(engine, "UPDATE audit_log SET id = id + 100 WHERE id >= :row", row=row)
    _sql(engine, "UPDATE audit_log SET id = id - 99 WHERE id >= 100")
    _sql(engine, "INSERT INTO audit_log (id, at, event, actor, channel, prev_hash, row_hash) "
                 "SELECT :row, at, 'approved', 'mallory', 'cli', prev_hash, row_hash FROM audit_log WHERE id = :next",
         row=row, next=row + 1 if row < 7 else row - 1)
    result = audit.verify()
    assert not result.ok and result.first_bad_id == row


def test_a_row_rehashed_without_the_key_fails_its_mac_and_breaks_the_next_link(engine: Engine, audit: AuditLog) -> None:
    from mcp_bridge.audit.rows import row_hash
    from mcp_bridge.store import AuditRow, Store

    with Store(engine).write() as s:
        row = s.get(AuditRow, 2)
        row.actor = "mallory@demo.local"
        row.row_hash = row_hash(row)
    result = audit.verify()
    assert (result.ok, result.first_bad_id, result.kinds) == (False, 2, ["bad_mac", "unlinked"])
    assert result.problems[1].first_id == 3


def test_deleting_the_last_row_is_caught_by_the_head(engine: Engine, audit: AuditLog) -> None:
    _sql(engine, "DELETE FROM audit_log WHERE id = 6")
    result = audit.verify()
    assert (result.ok, result.checked, result.first_bad_id) == (False, 5, 6)


def test_secrets_are_never_written(engine: Engine) -> None:
    log = AuditLog(engine, key=KEY)
    log.append("executed", actor="a@demo.local", channel="ui",
               arguments={"site": "us", "approval_token": "abc.def", "pii_grant": "g", "nested": {"api_key": "k"}},
               detail={"Authorization": "Bearer x", "password": "p", "ok": 1, "items": [{"client_secret": "s"}]})
    with engine.connect() as c:
        stored = " ".join(str(v) for v in c.execute(text("SELECT arguments, detail FROM audit_log")).one())
    for secret in ("abc.def", "Bearer x", "'p'", "\"p\"", "\"k\"", "\"s\""):
        assert secret not in stored
    assert stored.count(REDACTED) == 6
    assert log.verify().ok


def test_redact_keeps_ordinary_values() -> None:
    assert redact({"site": "us", "bid": 1.2, "tokens_used": None, "list": [1, {"token": "t"}]}) == {
        "site": "us", "bid": 1.2, "tokens_used": None, "list": [1, {"token": REDACTED}]}


def test_concurrent_writers_do_not_fork_the_chain(engine: Engine) -> None:
    log = AuditLog(engine, key=KEY)
    barrier = threading.Barrier(8)

    def write(n: int) -> None:
        barrier.wait()
        for i in range(25):
            log.append("tool_call", actor=f"w{n}", channel="job", arguments={"i": i})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert_whole(log.verify(), 200)


def test_an_append_inside_a_failed_action_leaves_nothing(engine: Engine) -> None:
    log = AuditLog(engine, key=KEY)
    with pytest.raises(RuntimeError), log.store.write() as s:
        log.append("proposed", actor="x", channel="cli", session=s)
        raise RuntimeError("the action failed")
    assert_whole(log.verify(), 0)
    log.append("proposed", actor="x", channel="cli")
    assert_whole(log.verify(), 1)


def test_query_filters(audit: AuditLog) -> None:
    assert [r.id for r in audit.query(actor="user1@demo.local")] == [5, 3, 1]
    assert [r.id for r in audit.query(site="de")] == [6, 3]
    assert [r.id for r in audit.query(text="YOGA 4")] == [4]
    assert [r.id for r in audit.query(sites=frozenset({"de"}), limit=1)] == [6]
    assert audit.query(tool="ads__update_bid") == []


def test_export_jsonl_and_csv(audit: AuditLog) -> None:
    out = io.StringIO()
    assert audit.export("jsonl", out) == 6
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["id"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert records[1]["prev_hash"] == records[0]["row_hash"]
    assert {r["key_id"] for r in records} == {audit.key.id}
    out = io.StringIO()
    audit.export("csv", out, actor="user0@demo.local")
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["id"] for r in rows] == ["2", "4", "6"]
    assert json.loads(rows[0]["arguments"]) == {"query": "yoga 2", "site": "us"}
    with pytest.raises(ValueError):
        audit.export("xml", io.StringIO())


def test_bench_append_reports_a_rate_and_keeps_the_chain(engine: Engine) -> None:
    rate = bench_append(engine, writers=4, per_writer=20)
    assert rate > 0
    assert_whole(AuditLog(engine, key=BENCH_KEY).verify(), 80)


# -- the lean append path (own transaction on the engine's driver connection), on both databases -----------------

@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_engine(request: pytest.FixtureRequest, console_url: str) -> Engine:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else console_url
    migrate_console(url)
    eng = make_engine(url)
    yield eng
    eng.dispose()


def test_own_and_session_appends_share_one_chain(any_engine: Engine) -> None:
    log = AuditLog(any_engine, key=KEY)
    log.append("tool_call", actor="a", channel="chat", site="us", arguments={"site": "us", "pii_grant": "g"},
               outcome="ok", duration_ms=2.71828, result_size=10, detail={"source": "chat", "n": [1, 2]})
    with log.store.write() as s:
        log.append("proposed", actor="a", channel="chat", site="us", session=s)
    row = log.append("tool_call", actor="b", channel="cli", outcome="NOT_FOUND", detail={"error": "NOT_FOUND: x"})
    assert row.id == 3 and len(row.row_hash) == 64
    assert_whole(AuditLog(any_engine, key=KEY).verify(), 3)
    first = log.query(event="tool_call", actor="a")[0]
    assert first.arguments == {"site": "us", "pii_grant": REDACTED} and first.duration_ms == 2.718
    assert first.detail == {"source": "chat", "n": [1, 2]}


def test_threads_on_one_engine_and_another_engine_do_not_fork_the_chain(any_engine: Engine) -> None:
    """Threads queue on the engine's lock; a second engine (think: another process) queues in the database."""
    other = make_engine(any_engine.url.render_as_string(hide_password=False))
    try:
        rate = bench_append(any_engine, writers=4, per_writer=15)
        logs = [AuditLog(any_engine, key=BENCH_KEY), AuditLog(other, key=BENCH_KEY)]
        threads = [threading.Thread(target=lambda log=log: [log.append("x", actor="t", channel="job") for _ in range(20)])
                   for log in logs for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert rate > 0
        assert_whole(logs[1].verify(), 60 + 80)
    finally:
        other.dispose()


def test_a_failed_append_leaves_nothing_and_the_next_one_works(any_engine: Engine) -> None:
    log = AuditLog(any_engine, key=KEY)
    log.append("a", actor="x", channel="cli")
    with any_engine.begin() as conn:  # a row squatting on the next id makes the insert fail
        conn.execute(text("INSERT INTO audit_log (id, at, event, actor, channel, prev_hash, row_hash) "
                          "VALUES (2, CURRENT_TIMESTAMP, 'squat', 'x', 'cli', 'p', 'h')"))
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        log.append("b", actor="x", channel="cli")
    with any_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = 2"))
    log.append("b", actor="x", channel="cli")
    assert_whole(log.verify(), 2)


@pytest.mark.postgres
def test_a_connection_lost_between_appends_is_replaced_without_losing_a_row(postgres_url: str) -> None:
    migrate_console(postgres_url)
    eng = make_engine(postgres_url)
    try:
        log = AuditLog(eng, key=KEY)
        log.append("a", actor="x", channel="cli")
        with eng.begin() as conn:  # the server drops every other session, as a restart or a failover would
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        log.append("b", actor="x", channel="cli")  # the dead connection is noticed before anything was written
        log.append("c", actor="x", channel="cli")
        assert_whole(log.verify(), 3)
        assert [r.event for r in log.query()] == ["c", "b", "a"]
    finally:
        eng.dispose()


def test_dispose_hands_the_append_connection_back(engine: Engine) -> None:
    log = AuditLog(engine, key=KEY)
    log.append("a", actor="x", channel="cli")
    assert engine.pool.checkedout() == 1  # the append connection stays out between appends
    engine.dispose()
    assert engine.pool.checkedout() == 0
    log.append("b", actor="x", channel="cli")
    assert log.verify().checked == 2


def test_non_ascii_arguments_are_stored_as_text_and_found_by_search(any_engine: Engine) -> None:
    log = AuditLog(any_engine, key=KEY)
    log.append("tool_call", actor="seller-jp@demo.local", channel="chat", site="jp", tool="ads__add_keywords",
               arguments={"site": "jp", "keywords": [{"text": "ヨガマット", "bid": 90}]}, outcome="ok")
    with any_engine.connect() as conn:
        stored = conn.execute(text("SELECT CAST(arguments AS TEXT) FROM audit_log")).scalar_one()
    assert "ヨガマット" in stored and '"bid":90' in stored  # compact canonical text, not \\u escapes
    assert [r.id for r in log.query(text="ヨガマット")] == [1]


def test_odd_keys_and_values_still_verify(any_engine: Engine) -> None:
    import datetime as dt

    log = AuditLog(any_engine, key=KEY)
    log.append("x", actor="a", channel="job", arguments={"ids": (1, 2), 10: "ten", 9: "nine"},
               detail={"when": dt.date(2026, 11, 20), "ratio": 0.1 + 0.2, "nested": {"b": None, "a": [True]}})
    row = log.query()[0]
    assert row.arguments == {"ids": [1, 2], "10": "ten", "9": "nine"}
    assert row.detail == {"when": "2026-11-20", "ratio": 0.30000000000000004, "nested": {"a": [True], "b": None}}
    assert_whole(log.verify(), 1)


@pytest.mark.parametrize("values", [
    {"arguments": {"site": "jp", "text": "ヨガマット \"厚手\" \\ 10mm", "bid": 120}, "detail": {"note": "é\n\t\x01\u2028"}},
    {"arguments": {"big": 1e16, "tiny": 1e-7, "tenth": 0.1, "neg": -0.0, "n": [1, 2.5, None, True, {"z": 1, "a": 2}]}},
    {"arguments": None, "detail": None, "outcome": None, "site": None, "tool": None, "duration_ms": None},
    {"arguments": {}, "detail": {"api_key": "sk-ant-secret", "nested": [{"password": "p"}]}, "duration_ms": 12.34567},
])
def test_the_hash_written_is_the_hash_verify_recomputes(engine: Engine, values: dict) -> None:
    """Appends assemble the hashed text from each column's own canonical text; it must be canonical(row) exactly."""
    from mcp_bridge.audit.rows import entry, row_mac

    log = AuditLog(engine, key=KEY)
    fields = {"site": "us", "tool": "ads__list_keywords", "outcome": "ok", "duration_ms": 1.0, **values}
    log.append("tool_call", actor="ünï@demo.local", channel="chat", **fields)
    later = entry("tool_call", actor="b@demo.local", channel="cli", **{
        **fields, "outcome": "NOT_FOUND", "duration_ms": 2.5, "result_size": 7, "detail": {"error": "NOT_FOUND: «x»"}})
    log.append_entries([later])
    both = log.append_entries([later, later])  # one transaction, linked in order
    assert [a.id for a in both] == [3, 4] and log.append_entries([]) == []
    rows = list(reversed(log.query(limit=10)))
    assert [r.row_hash for r in rows] == [row_mac(r, log.key) for r in rows]
    assert {r.key_id for r in rows} == {log.key.id}
    assert rows[3].prev_hash == rows[2].row_hash == both[0].row_hash
    assert log.verify().ok and log.verify().checked == 4
    assert "sk-ant-secret" not in json.dumps([r.detail for r in rows])
    assert (rows[1].outcome, rows[1].result_size, rows[1].detail) == ("NOT_FOUND", 7, {"error": "NOT_FOUND: «x»"})


@pytest.mark.parametrize("secret", ["k", "x" * 64, "y" * 65, "ü" * 100, b"\x00\xff" * 40])
def test_the_audit_key_is_plain_hmac_sha256(secret: str | bytes) -> None:
    """Anyone holding the secret can check a row with the standard library alone."""
    import hashlib
    import hmac

    from mcp_bridge.audit.key import AuditKey

    raw = secret.encode() if isinstance(secret, str) else secret
    key = AuditKey(secret)
    for message in ("", "audit-key-id", "é" * 1000):
        assert key.mac(message) == hmac.new(raw, message.encode(), hashlib.sha256).hexdigest()
    assert key.id == hmac.new(raw, b"audit-key-id", hashlib.sha256).hexdigest()[:8]
    assert raw.decode(errors="ignore") not in repr(key)
    with pytest.raises(ValueError):
        AuditKey("")
