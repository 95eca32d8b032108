"""Bad input at the bridge gets a coded answer and an audit row; a console database in trouble gets a code too."""

from __future__ import annotations

import pytest

from console.runtime import Runtime
from mcp_bridge.errors import DatabaseUnavailable
from mcp_bridge.types import Source
from tests.support.console_db import gate_settings
from tests.support.market import copy_sqlite

CHAT = Source("chat", ref="conv-1")


@pytest.mark.parametrize(("name", "arguments", "message"), [
    ("ads__list_keywords", {"site": ["us", "de"]}, "site must be a string such as 'us', not list"),
    ("ads__list_keywords", {"site": {"$ne": None}}, "site must be a string such as 'us', not dict"),
    ("ads__update_bid", {"site": 7, "keyword_id": 1, "bid": 1.0}, "site must be a string such as 'us', not int"),
    ("ads__list_keywords", {"site": "u" * 100_000}, "site must be at most 16 characters (got 100000)"),
    ("ads__list_keywords", ["us"], "arguments must be a JSON object, not list"),
    ("ads__list_keywords", "site=us", "arguments must be a JSON object, not str"),
    ("ads__update_bid", [{"site": "us"}], "arguments must be a JSON object, not list"),
])
def test_malformed_arguments_are_refused_and_audited(bridge, callers, name, arguments, message) -> None:
    outcome = bridge.call(callers["seller"], name, arguments, source=CHAT)
    assert (outcome.status, outcome.code) == ("error", "VALIDATION_FAILED")
    assert outcome.text == f"VALIDATION_FAILED: {name}: {message}"
    row = bridge.audit.query(event="tool_call", limit=1)[0]
    assert (row.tool, row.outcome, row.site, row.actor) == (name, "VALIDATION_FAILED", None, "seller@demo.local")
    assert len(str(row.arguments)) < 3000  # a 100 KB argument does not land in the audit log whole
    assert bridge.audit.verify().ok
    assert bridge.gate.list() == []


def test_a_tool_name_that_is_not_a_string_is_refused(bridge, callers) -> None:
    outcome = bridge.call(callers["seller"], ["ads__list_keywords"], {"site": "us"}, source=CHAT)
    assert (outcome.status, outcome.code) == ("error", "NOT_FOUND")
    assert bridge.audit.query(event="tool_call", limit=1)[0].outcome == "NOT_FOUND"


@pytest.fixture
def readonly_runtime(runtime, tmp_path, gate_market_url):
    runtime.close()
    source = tmp_path / "console.db"
    frozen = tmp_path / "frozen.db"
    copy_sqlite(source, frozen)
    rt = Runtime.create(gate_settings(f"sqlite:///file:{frozen}?mode=ro&uri=true", gate_market_url), migrate=False)
    yield rt
    rt.close()


def test_a_read_only_console_database_answers_a_code(readonly_runtime) -> None:
    rt = readonly_runtime
    seller = rt.users.caller("seller@demo.local", "chat")
    read = rt.bridge.call(seller, "ads__list_profiles", {"site": "us"}, source=CHAT)
    assert (read.status, read.code, read.text) == ("error", "UPSTREAM_ERROR", (
        "UPSTREAM_ERROR: the audit log could not be written (console database is read-only), so the result is "
        "withheld; try again or tell an admin"))
    write = rt.bridge.call(seller, "ads__update_bid", {"site": "us", "keyword_id": 1, "bid": 0.5}, source=CHAT)
    assert (write.status, write.code) == ("error", "UPSTREAM_ERROR") and "read-only" in write.text
    with pytest.raises(DatabaseUnavailable, match="read-only"):
        rt.users.grant("seller@demo.local", role="approver", actor="admin@demo.local", channel="cli")
