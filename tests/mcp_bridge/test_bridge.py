"""The Bridge facade: reads run and are audited, errors come back coded, tokens match the servers' format."""

from __future__ import annotations

import time

import pytest

from mcp_bridge.answers import error_from_result, tool_name
from mcp_bridge.audit.call_log import CallLog
from mcp_bridge.errors import Conflict, UpstreamError
from mcp_bridge.types import Source

CHAT = Source("chat", ref="conv-1")


@pytest.mark.parametrize(("given", "expected"), [
    ("ads.update_bid", "ads__update_bid"), ("ads__update_bid", "ads__update_bid"), ("commerce.set_price", "commerce__set_price"),
])
def test_tool_names(given: str, expected: str) -> None:
    assert tool_name(given) == expected


class _Text:
    def __init__(self, text: str) -> None:
        self.text = text


class _Result:
    def __init__(self, text: str) -> None:
        self.content, self.is_error, self.structured_content = [_Text(text)], True, None


def test_server_errors_keep_their_code() -> None:
    err = error_from_result(_Result("CONFLICT: keyword #7 changed since the proposal"), "ads__update_bid")
    assert isinstance(err, Conflict) and err.message == "keyword #7 changed since the proposal"
    err = error_from_result(_Result("Traceback (most recent call last)"), "ads__update_bid")
    assert isinstance(err, UpstreamError) and str(err).startswith("UPSTREAM_ERROR: ads__update_bid: ")


def test_a_read_runs_and_is_audited(bridge, callers) -> None:
    """Two rows: the request, written before the answer is released, then the result (outcome, duration, size)."""
    outcome = bridge.call(callers["seller"], "ads.list_profiles", {"site": "us"}, source=CHAT)
    assert (outcome.status, outcome.code, outcome.tool) == ("ok", None, "ads__list_profiles")
    assert outcome.structured["profiles"] and all(p["site"] == "us" for p in outcome.structured["profiles"])
    assert bridge.audit.query(event="tool_call", limit=1)[0].outcome == "requested"  # there before the answer was
    bridge.calls.flush()
    result, request = bridge.audit.query(limit=2)
    assert (request.event, request.actor, request.channel, request.site, request.tool, request.outcome) == (
        "tool_call", "seller@demo.local", "chat", "us", "ads__list_profiles", "requested")
    assert request.arguments == {"site": "us"} and request.detail == {"source": "chat", "source_ref": "conv-1"}
    assert (request.duration_ms, request.result_size) == (None, None)
    assert (result.event, result.actor, result.channel, result.site, result.tool, result.outcome) == (
        "tool_result", "seller@demo.local", "chat", "us", "ads__list_profiles", "ok")
    assert result.detail == {"call": request.id, "source": "chat", "source_ref": "conv-1"}
    assert result.arguments is None and result.result_size == len(outcome.text) and result.duration_ms > 0
    assert bridge.audit.verify().ok


def test_result_rows_wait_for_the_flusher_or_ride_with_the_next_row(bridge, callers, monkeypatch) -> None:
    """A read's window writes only its request row; queued results go with the next row written by `append`."""
    monkeypatch.setattr(bridge, "calls", CallLog(bridge.audit, flush_after_s=60))
    first = bridge.call(callers["seller"], "ads__list_profiles", {"site": "us"}, source=CHAT)
    bridge.call(callers["seller"], "ads__get_regions", {"site": "de"}, source=CHAT)
    assert bridge.calls.queued == 2
    refused = bridge.call(callers["seller-jp"], "ads__list_profiles", {"site": "us"}, source=CHAT)
    assert refused.code == "SITE_SCOPE_REQUIRED" and bridge.calls.queued == 0
    rows = list(reversed(bridge.audit.query(limit=5)))
    assert [(r.event, r.tool, r.outcome) for r in rows] == [
        ("tool_call", "ads__list_profiles", "requested"), ("tool_call", "ads__get_regions", "requested"),
        ("tool_result", "ads__list_profiles", "ok"), ("tool_result", "ads__get_regions", "ok"),
        ("tool_call", "ads__list_profiles", "SITE_SCOPE_REQUIRED")]
    assert [r.detail["call"] for r in rows[2:4]] == [rows[0].id, rows[1].id]
    assert rows[2].result_size == len(first.text)
    bridge.call(callers["seller"], "ads__list_profiles", {"site": "us"}, source=CHAT)
    bridge.calls.close()  # closing writes what is still queued
    assert bridge.calls.queued == 0 and bridge.audit.query(limit=1)[0].event == "tool_result"
    assert bridge.audit.verify().ok


def test_a_result_row_is_flushed_soon_without_another_call(bridge, callers, monkeypatch) -> None:
    monkeypatch.setattr(bridge, "calls", CallLog(bridge.audit, flush_after_s=0.01))
    bridge.call(callers["seller"], "ads__list_profiles", {"site": "us"}, source=CHAT)
    deadline = time.monotonic() + 5
    while bridge.audit.query(limit=1)[0].event != "tool_result" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert bridge.audit.query(limit=1)[0].event == "tool_result" and bridge.calls.queued == 0
    bridge.calls.close()


def test_a_server_error_is_in_the_result_row(bridge, callers) -> None:
    outcome = bridge.call(callers["seller"], "ads__list_keywords", {"site": "us", "campaign_id": 10**9}, source=CHAT)
    assert outcome.status == "error" and outcome.code
    bridge.calls.flush()
    result, request = bridge.audit.query(limit=2)
    assert (request.event, request.outcome, result.event, result.outcome) == ("tool_call", "requested", "tool_result",
                                                                              outcome.code)
    assert result.detail["error"] == outcome.text


def test_reads_stay_inside_the_callers_sites(bridge, callers) -> None:
    outcome = bridge.call(callers["seller-jp"], "ads__list_profiles", {"site": "us"}, source=CHAT)
    assert (outcome.status, outcome.code) == ("error", "SITE_SCOPE_REQUIRED")
    assert outcome.text == "SITE_SCOPE_REQUIRED: site 'us' is outside your scope; your sites: jp"
    assert bridge.audit.query(limit=1)[0].outcome == "SITE_SCOPE_REQUIRED"


def test_unknown_tools_and_bad_arguments_are_coded(bridge, callers) -> None:
    assert bridge.call(callers["seller"], "ads__no_such_tool", {"site": "us"}, source=CHAT).code == "NOT_FOUND"
    outcome = bridge.call(callers["seller"], "ads__list_keywords", {"site": "us", "limit": 100000}, source=CHAT)
    assert (outcome.status, outcome.code) == ("error", "VALIDATION_FAILED")


def test_the_audit_chain_holds_after_a_mix_of_calls(bridge, callers, gate_market_url) -> None:
    from tests.support.console_db import keyword

    kid, bid = keyword(gate_market_url)
    bridge.call(callers["seller"], "ads__list_profiles", {"site": "us"}, source=CHAT)
    op = bridge.call(callers["seller"], "ads__update_bid", {"site": "us", "keyword_id": kid, "bid": bid - 0.1}, source=CHAT)
    bridge.gate.approve(op.operation_id, callers["approver"])
    assert bridge.audit.verify().ok
    stored = " ".join(str(r.arguments) + str(r.detail) for r in bridge.audit.query(limit=100))
    assert "approval_token" not in stored or "[redacted]" in stored
    assert "." not in "".join(str((r.arguments or {}).get("approval_token", "")) for r in bridge.audit.query(limit=100))


def _broken_append(*args, **kwargs):
    raise RuntimeError("disk full")


def _refuse_audit_rows(engine, refuse: bool = True) -> None:
    """Make the console database itself refuse audit rows (a trigger), whichever path appends them; or stop."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TRIGGER audit_refused BEFORE INSERT ON audit_log "
                             "BEGIN SELECT RAISE(ABORT, 'disk full'); END" if refuse else "DROP TRIGGER audit_refused")


@pytest.fixture
def failing_audit_inserts(bridge):
    bridge.catalog.specs()  # the catalog's own pin rows are written before the audit breaks
    _refuse_audit_rows(bridge.engine)
    yield
    _refuse_audit_rows(bridge.engine, refuse=False)


def test_no_audit_row_means_no_answer(bridge, callers, failing_audit_inserts) -> None:
    before = bridge.audit.verify()
    outcome = bridge.call(callers["seller"], "ads__list_profiles", {"site": "us"}, source=CHAT)
    assert (outcome.status, outcome.code, outcome.structured) == ("error", "UPSTREAM_ERROR", None)
    assert "audit log could not be written" in outcome.text and "site" not in outcome.text
    assert bridge.audit.verify() == before  # nothing half-written: the chain and its head are as they were


def test_queued_results_outlast_a_failing_audit_log(bridge, callers, monkeypatch) -> None:
    monkeypatch.setattr(bridge, "calls", CallLog(bridge.audit, flush_after_s=60))
    bridge.call(callers["seller"], "ads__list_profiles", {"site": "us"}, source=CHAT)
    _refuse_audit_rows(bridge.engine)
    with pytest.raises(Exception, match="disk full"):
        bridge.calls.flush()
    assert bridge.calls.queued == 1  # still queued, not lost
    outcome = bridge.call(callers["seller"], "ads__list_profiles", {"site": "us"}, source=CHAT)
    assert (outcome.code, bridge.calls.queued) == ("UPSTREAM_ERROR", 1)  # no request row, so no answer
    _refuse_audit_rows(bridge.engine, refuse=False)
    assert bridge.calls.flush() == 1 and bridge.calls.queued == 0
    assert [r.event for r in bridge.audit.query(limit=2)] == ["tool_result", "tool_call"] and bridge.audit.verify().ok


def test_a_read_waits_for_another_writer_of_the_console_db_and_is_audited(bridge, callers) -> None:
    """The request row waits for the database's write lock (as SQLite's busy handler does), and the answer for it."""
    import sqlite3
    import threading

    bridge.call(callers["seller"], "ads__list_profiles", {"site": "us"}, source=CHAT)  # warm: sessions, catalog
    bridge.calls.flush()
    rows_before = bridge.audit.verify().checked
    other = sqlite3.connect(bridge.engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's write transaction, holding SQLite's write lock
    answers = []
    reader = threading.Thread(target=lambda: answers.append(
        bridge.call(callers["seller"], "ads__list_profiles", {"site": "us"}, source=CHAT)))
    reader.start()
    reader.join(0.5)
    assert reader.is_alive() and not answers  # no row yet, so no answer yet
    other.execute("COMMIT")
    other.close()
    reader.join(10)
    assert answers[0].status == "ok"
    bridge.calls.flush()
    assert bridge.audit.verify().ok and bridge.audit.verify().checked == rows_before + 2  # its request and result
    assert [(r.event, r.tool) for r in bridge.audit.query(limit=2)] == [
        ("tool_result", "ads__list_profiles"), ("tool_call", "ads__list_profiles")]


def test_a_proposal_whose_audit_row_fails_is_not_queued(bridge, callers, gate_market_url, monkeypatch) -> None:
    from tests.support.console_db import keyword

    kid, bid = keyword(gate_market_url)
    bridge.catalog.specs()
    monkeypatch.setattr(bridge.audit, "append", _broken_append)
    with pytest.raises(RuntimeError, match="disk full"):
        bridge.call(callers["seller"], "ads__update_bid", {"site": "us", "keyword_id": kid, "bid": bid - 0.1}, source=CHAT)
    assert bridge.gate.list() == []


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_console_runtime(request, console_url, gate_market_url):
    """A runtime whose console database is SQLite (request rows written on the loop) or PostgreSQL (by the caller)."""
    from tests.support.console_db import make_runtime

    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else console_url
    rt = make_runtime(url, gate_market_url)
    yield rt
    rt.close()


def test_concurrent_reads_each_leave_a_request_and_a_result_row(any_console_runtime) -> None:
    import threading

    rt = any_console_runtime
    assert rt.bridge.audit.local == (rt.engine.dialect.name == "sqlite")
    seller = rt.users.caller("seller@demo.local", "chat")
    answers: list[str] = []

    def reader(n: int) -> None:
        for i in range(10):
            site = "us" if (n + i) % 2 else "de"
            answers.append(rt.bridge.call(seller, "ads__list_profiles", {"site": site}, source=Source("chat", f"r{n}")).status)

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == ["ok"] * 80
    rt.bridge.calls.flush()
    requests = rt.bridge.audit.query(event="tool_call", limit=1000)
    results = rt.bridge.audit.query(event="tool_result", limit=1000)
    assert len(requests) == len(results) == 80 and {r.outcome for r in requests} == {"requested"}
    by_call = {r.detail["call"]: r for r in results}
    assert set(by_call) == {r.id for r in requests}  # every request has exactly one result, after it
    assert all(by_call[r.id].id > r.id and by_call[r.id].site == r.site == r.arguments["site"] for r in requests)
    assert rt.bridge.audit.verify().ok
