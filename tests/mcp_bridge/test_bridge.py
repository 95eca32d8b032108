"""The Bridge facade: reads run and are audited, errors come back coded, tokens match the servers' format."""

from __future__ import annotations

import time

import pytest

from mcp_bridge import tokens
from mcp_bridge.bridge import error_from_result, tool_name
from mcp_bridge.errors import Conflict, UpstreamError
from mcp_bridge.types import Source
from servers.common import approval

CHAT = Source("chat", ref="conv-1")


@pytest.mark.parametrize("arguments", [
    {"site": "us", "keyword_id": 7, "bid": 1.2},
    {"site": "jp", "text": "ヨガマット", "bid": 120, "match_type": "exact", "note": None},
    {"site": "de", "keyword_id": 7, "bid": 1.2, "dry_run": False, "approval_token": "t", "idempotency_key": "k"},
    {"site": "us", "nested": {"b": [1, 2], "a": 1.5}},
])
def test_tokens_agree_with_the_servers(arguments: dict) -> None:
    assert tokens.arguments_hash(arguments) == approval.arguments_hash(arguments)
    assert tokens.CONTROL_ARGS == approval.CONTROL_ARGS
    now = time.time()
    token = tokens.sign_approval("s3cret", operation_id=42, tool="update_bid", arguments=arguments, ttl_s=60, now=now)
    claims = approval.read_token("s3cret", token)
    assert claims == {"op": "42", "tool": "update_bid", "args": approval.arguments_hash(arguments), "exp": int(now) + 60}
    with pytest.raises(ValueError, match="bad signature"):
        approval.read_token("other", token)
    with pytest.raises(ValueError, match="expired"):
        approval.read_token("s3cret", token, now=now + 120)


def test_pii_grants_are_read_by_the_servers() -> None:
    claims = approval.read_token("s", tokens.sign_pii_grant("s", site="us", subject="manager@demo.local"))
    assert (claims["scope"], claims["site"], claims["sub"]) == ("pii", "us", "manager@demo.local")


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
    outcome = bridge.call(callers["seller"], "ads.list_profiles", {"site": "us"}, source=CHAT)
    assert (outcome.status, outcome.code, outcome.tool) == ("ok", None, "ads__list_profiles")
    assert outcome.structured["profiles"] and all(p["site"] == "us" for p in outcome.structured["profiles"])
    row = bridge.audit.query(limit=1)[0]
    assert (row.event, row.actor, row.channel, row.site, row.tool, row.outcome) == (
        "tool_call", "seller@demo.local", "chat", "us", "ads__list_profiles", "ok")
    assert row.arguments == {"site": "us"} and row.result_size == len(outcome.text)
    assert row.detail == {"source": "chat", "source_ref": "conv-1"} and row.duration_ms > 0


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


@pytest.fixture
def failing_audit_inserts(bridge):
    """The console database itself refuses audit rows (a trigger), whichever path appends them."""
    bridge.catalog.specs()  # the catalog's own pin rows are written before the audit breaks
    with bridge.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TRIGGER audit_refused BEFORE INSERT ON audit_log "
                             "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    yield
    with bridge.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER audit_refused")


def test_no_audit_row_means_no_answer(bridge, callers, failing_audit_inserts) -> None:
    before = bridge.audit.verify()
    outcome = bridge.call(callers["seller"], "ads__list_profiles", {"site": "us"}, source=CHAT)
    assert (outcome.status, outcome.code, outcome.structured) == ("error", "UPSTREAM_ERROR", None)
    assert "audit log could not be written" in outcome.text and "site" not in outcome.text
    assert bridge.audit.verify() == before  # nothing half-written: the chain and its head are as they were


def test_a_read_waits_for_another_writer_of_the_console_db_and_is_audited(bridge, callers) -> None:
    """The row is written on the pool's loop only when that needs no waiting; otherwise the caller waits for it."""
    import sqlite3
    import threading

    bridge.call(callers["seller"], "ads__list_profiles", {"site": "us"}, source=CHAT)  # warm: sessions, catalog
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
    assert bridge.audit.verify().ok and bridge.audit.verify().checked == rows_before + 1
    assert bridge.audit.query(limit=1)[0].tool == "ads__list_profiles"


def test_a_proposal_whose_audit_row_fails_is_not_queued(bridge, callers, gate_market_url, monkeypatch) -> None:
    from tests.support.console_db import keyword

    kid, bid = keyword(gate_market_url)
    bridge.catalog.specs()
    monkeypatch.setattr(bridge.audit, "append", _broken_append)
    with pytest.raises(RuntimeError, match="disk full"):
        bridge.call(callers["seller"], "ads__update_bid", {"site": "us", "keyword_id": kid, "bid": bid - 0.1}, source=CHAT)
    assert bridge.gate.list() == []
