"""Gateway monitoring over the audit log: which rows are calls, what is an error, percentiles, windows, flags."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from console.gateway import monitoring
from console.gateway.monitoring import ERROR_RATE_LIMIT, MIN_CALLS, P95_LIMIT_MS, Flag, Stats, percentile
from console.migrations import migrate_console
from mcp_bridge.audit import rows as audit_rows
from mcp_bridge.audit.log import AuditLog
from mcp_bridge.reads import call_row, result_row
from mcp_bridge.store import make_engine, utcnow
from mcp_bridge.types import Caller, Source, ToolOutcome

KEY = "test-audit-key"
NOW = dt.datetime(2026, 11, 20, 12, 0)
BY_KEY = "group=ads-team key=7"
KEY_ACTOR = "group:ads-team/dify-prod"


def record_call(audit: AuditLog, tool: str, *, outcome: str = "ok", ms: float = 100.0, ref: str = BY_KEY,
                actor: str = KEY_ACTOR, event: str = "read", channel: str = "gateway") -> None:
    """One gateway call's rows as the gateway and the bridge write them.

    `event`: "read" (tool_call requested + tool_result), "refused" (one tool_call with the error code),
    "gateway_refused" (the gateway's own refusal), "proposed" (a write filed as a pending operation).
    """
    caller, source = Caller(actor, channel=channel), Source("gateway", ref)
    args = {"site": "us"}
    status = "ok" if outcome == "ok" else "error"
    code = None if outcome == "ok" else outcome
    done = ToolOutcome(tool, status, "…", code=code, duration_ms=ms)
    if event == "read":
        (request,) = audit.append_entries([call_row(caller, tool, args, source)])
        audit.append_entries([result_row(caller, tool, "us", request.id, done, source)])
    elif event == "refused":
        audit.append_entries([call_row(caller, tool, args, source, done)])
    elif event == "gateway_refused":
        audit.append("gateway_refused", actor=actor, channel=channel, tool=tool, outcome=outcome, duration_ms=ms,
                     detail={"source_ref": ref})
    elif event == "proposed":
        audit.append("proposed", actor=actor, channel=channel, site="us", tool=tool, arguments=args,
                     outcome="pending", detail={"operation_id": 1, "source": "gateway", "source_ref": ref})
    else:
        raise ValueError(event)


@pytest.fixture
def engine(console_url: str) -> Iterator[Engine]:
    migrate_console(console_url)
    eng = make_engine(console_url)
    yield eng
    eng.dispose()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[dt.datetime]:
    """The time new audit rows get: `clock[0] = …` moves it (the rows stay properly chained and MACed)."""
    now = [NOW]
    monkeypatch.setattr(audit_rows, "utcnow", lambda: now[0])
    return now


@pytest.fixture
def audit(engine: Engine, clock: list[dt.datetime]) -> Iterator[AuditLog]:
    log = AuditLog(engine, key=KEY)
    yield log
    log.close()


def stats(kind: str, name: str, **values) -> Stats:
    return Stats(kind=kind, name=name, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("values", "p50", "p95"), [
    ([], None, None),
    ([40.0], 40.0, 40.0),
    ([10.0, 20.0], 10.0, 20.0),
    ([30.0, 10.0, 20.0, 50.0, 40.0], 30.0, 50.0),
    ([float(v) for v in range(1, 101)], 50.0, 95.0),
    ([float(v) for v in range(1, 21)], 10.0, 19.0),
])
def test_percentiles_are_nearest_rank(values: list[float], p50: float | None, p95: float | None) -> None:
    assert (percentile(values, 50), percentile(values, 95)) == (p50, p95)


@pytest.mark.parametrize(("ref", "parsed"), [
    ("group=ads-team key=7", ("ads-team", 7)),
    ("group=ads-team user", ("ads-team", None)),
    ("user", (None, None)),
    (None, (None, None)),
    ("group=ads key=x", ("ads", None)),
])
def test_source_ref_names_the_group_and_the_key(ref: str | None, parsed: tuple) -> None:
    assert monitoring.parse_source(ref) == parsed


@pytest.mark.parametrize(("outcome", "error"), [
    ("ok", False), ("pending", False), ("CONFIRMATION_REQUIRED", False), ("UPSTREAM_ERROR", True),
    ("RATE_LIMITED", True), ("PERMISSION_DENIED", True), ("error", True),
])
def test_what_counts_as_an_error(outcome: str, error: bool) -> None:
    assert monitoring.is_error(outcome) is error


# calls, errors, timed, p95 → which limits are crossed. Limits are exclusive; under MIN_CALLS nothing is flagged.
@pytest.mark.parametrize(("calls", "errors", "timed", "p95", "crossed"), [
    (20, 1, 20, P95_LIMIT_MS, []),  # exactly 5% errors and exactly 1 s: at the limits, not above
    (20, 2, 20, P95_LIMIT_MS + 1, ["p95 latency", "error rate"]),
    (100, 6, 100, 200.0, ["error rate"]),
    (MIN_CALLS, MIN_CALLS, MIN_CALLS, 5000.0, ["p95 latency", "error rate"]),
    (MIN_CALLS - 1, MIN_CALLS - 1, MIN_CALLS - 1, 5000.0, []),  # too few calls to judge by
    (MIN_CALLS, 0, MIN_CALLS - 1, 5000.0, []),  # latency needs MIN_CALLS timed calls (proposals have no duration)
    (0, 0, 0, None, []),
])
def test_flags_at_above_and_below_the_limits(calls: int, errors: int, timed: int, p95: float | None,
                                             crossed: list[str]) -> None:
    figures = stats("tool", "ads__x", calls=calls, errors=errors, timed=timed, p50_ms=p95, p95_ms=p95)
    assert [b[0] for b in figures.breaches()] == crossed
    assert figures.flagged is bool(crossed)
    assert ERROR_RATE_LIMIT == 0.05 and P95_LIMIT_MS == 1000.0


def test_a_read_is_one_call_with_its_result_duration(engine: Engine, audit: AuditLog) -> None:
    for ms in (100.0, 200.0, 300.0):
        record_call(audit, "ads__list_campaigns", ms=ms)
    report = monitoring.report(engine, "hour", now=NOW + dt.timedelta(minutes=1))
    assert report.tools == [stats("tool", "ads__list_campaigns", calls=3, errors=0, timed=3, p50_ms=200.0,
                                  p95_ms=300.0)]
    assert report.groups == [stats("group", "ads-team", calls=3, errors=0, timed=3, p50_ms=200.0, p95_ms=300.0)]
    assert report.keys == [stats("key", "7", calls=3, errors=0, timed=3, p50_ms=200.0, p95_ms=300.0,
                                 label=KEY_ACTOR)]
    assert report.calls == 3


def test_errors_refusals_and_proposals(engine: Engine, audit: AuditLog) -> None:
    record_call(audit, "ads__list_campaigns", outcome="UPSTREAM_ERROR", ms=20_000.0)
    record_call(audit, "ads__list_campaigns", outcome="SITE_SCOPE_REQUIRED", ms=2.0, event="refused")
    record_call(audit, "ads__list_campaigns", outcome="RATE_LIMITED", ms=1.0, event="gateway_refused")
    record_call(audit, "ads__list_campaigns", outcome="ok", ms=50.0)
    record_call(audit, "ads__update_bid", event="proposed")  # a write waiting for approval: a call, not an error
    record_call(audit, "ads__list_campaigns", channel="chat", ref="conversation-1")  # not the gateway: left out
    report = monitoring.report(engine, now=NOW + dt.timedelta(minutes=1))
    assert report.tools == [
        stats("tool", "ads__list_campaigns", calls=4, errors=3, timed=4, p50_ms=2.0, p95_ms=20_000.0),
        stats("tool", "ads__update_bid", calls=1, errors=0, timed=0, p50_ms=None, p95_ms=None),
    ]
    assert report.tools[0].error_rate == 0.75 and report.tools[1].error_rate == 0.0
    assert [(s.name, s.calls, s.errors) for s in report.groups] == [("ads-team", 5, 3)]


def test_calls_per_group_and_key_from_the_source_ref(engine: Engine, audit: AuditLog) -> None:
    record_call(audit, "ads__a", ref="group=ads-team key=7")
    record_call(audit, "ads__a", ref="group=ads-team key=8", actor="group:ads-team/script")
    record_call(audit, "ads__a", ref="group=ads-team user", actor="approver@demo.local")
    record_call(audit, "ads__a", ref="group=finance key=9", actor="group:finance/bi")
    record_call(audit, "ads__a", ref="user", actor="admin@demo.local")
    report = monitoring.report(engine, now=NOW + dt.timedelta(minutes=1))
    assert [(s.name, s.calls) for s in report.groups] == [("ads-team", 3), ("/mcp", 1), ("finance", 1)]
    assert [(s.name, s.label, s.calls) for s in report.keys] == [
        ("7", "group:ads-team/dify-prod", 1), ("8", "group:ads-team/script", 1), ("9", "group:finance/bi", 1)]


def test_the_hour_and_the_day(engine: Engine, audit: AuditLog, clock: list[dt.datetime]) -> None:
    clock[0] = NOW - dt.timedelta(hours=3)
    record_call(audit, "ads__old", ms=10.0)
    clock[0] = NOW - dt.timedelta(days=2)
    record_call(audit, "ads__older", ms=10.0)
    clock[0] = NOW - dt.timedelta(minutes=5)
    record_call(audit, "ads__new", ms=10.0)
    hour = monitoring.report(engine, "hour", now=NOW)
    day = monitoring.report(engine, "day", now=NOW)
    assert [s.name for s in hour.tools] == ["ads__new"]
    assert sorted(s.name for s in day.tools) == ["ads__new", "ads__old"]
    assert (hour.since, day.since) == (NOW - dt.timedelta(hours=1), NOW - dt.timedelta(days=1))
    assert audit.verify().ok  # the rows were written at those times through the real chain
    with pytest.raises(ValueError, match="unknown window"):
        monitoring.report(engine, "week", now=NOW)  # type: ignore[arg-type]


def test_flags_for_a_slow_tool_and_a_failing_key(engine: Engine, audit: AuditLog) -> None:
    for ms in (100.0, 120.0, 130.0, 150.0, 2500.0, 3000.0):  # p95 3 s over 6 calls of one tool
        record_call(audit, "ads__slow", ms=ms, ref="group=bi key=3", actor="group:bi/sheets")
    for outcome in ("ok", "ok", "ok", "UPSTREAM_ERROR", "CONFIRMATION_REQUIRED"):
        record_call(audit, "ads__fast", outcome=outcome, ms=5.0, ref="group=ops key=4", actor="group:ops/bot")
    found = monitoring.flags(engine, NOW + dt.timedelta(minutes=1))
    assert found == [
        Flag("tool", "ads__slow", "", "hour", "p95 latency", 3000.0, P95_LIMIT_MS, 6),
        Flag("tool", "ads__fast", "", "hour", "error rate", 0.2, ERROR_RATE_LIMIT, 5),
        Flag("group", "bi", "", "hour", "p95 latency", 3000.0, P95_LIMIT_MS, 6),
        Flag("group", "ops", "", "hour", "error rate", 0.2, ERROR_RATE_LIMIT, 5),
        Flag("key", "3", "group:bi/sheets", "hour", "p95 latency", 3000.0, P95_LIMIT_MS, 6),
        Flag("key", "4", "group:ops/bot", "hour", "error rate", 0.2, ERROR_RATE_LIMIT, 5),
    ]
    assert [monitoring.flag_text(f) for f in found[:2]] == [
        "Tool ads__slow: p95 latency 3.0 s (limit 1.0 s) over 6 calls",
        "Tool ads__fast: error rate 20.0% (limit 5%) over 5 calls",
    ]
    assert monitoring.flag_text(found[4]) == "Key #3 group:bi/sheets: p95 latency 3.0 s (limit 1.0 s) over 6 calls"
    assert monitoring.flags(engine, NOW + dt.timedelta(hours=2)) == []  # an hour later it is history


def test_no_calls_no_figures(engine: Engine, audit: AuditLog) -> None:
    report = monitoring.report(engine, "day")
    assert (report.calls, report.tools, report.groups, report.keys, report.flags()) == (0, [], [], [], [])
    assert report.until <= utcnow()
