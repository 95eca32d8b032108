"""The approvals queue without a browser: rows, filters, sorting, pages, bulk decisions, edits and their one line."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from console.approvals.edits import edited_arguments, value_fields
from console.approvals.operations import edit_line, outcome_text, source_label
from console.approvals.queue import (
    Decision,
    QueueFilters,
    decide_each,
    decision_report,
    filter_queue,
    fit,
    queue_choices,
    queue_page,
    queue_row,
    sort_queue,
)
from mcp_bridge.catalog.policy import SitePolicy
from mcp_bridge.errors import Conflict, PermissionDenied
from mcp_bridge.types import Caller, Operation

NOW = dt.datetime(2026, 11, 21, 12, 0)
WASTED = {"kind": "keyword", "label": "'yoga mat' (exact)", "window": {"start": "2026-10-22", "end": "2026-11-20", "days": 30},
          "metrics": {"impressions": 12000, "clicks": 301, "spend": 41.2, "orders": 0, "sales": 0.0, "acos": None,
                      "cpc": 0.137, "ctr": 0.025, "cvr": 0.0},
          "rule": "wasted_spend", "rule_text": "spend over $20 and no orders in 30 days", "request": None,
          "currency": "USD"}


def operation(op_id: int = 1, **overrides: Any) -> Operation:
    values: dict[str, Any] = {
        "id": op_id, "batch_id": None, "status": "proposed", "site": "us", "server": "ads", "tool": "update_bid",
        "arguments": {"site": "us", "keyword_id": 7, "bid": 1.2},
        "preview": {"target": "keyword #7 'yoga mat' (exact)", "summary": "bid: 1.50 → 1.20",
                    "changes": [{"field": "bid", "before": 1.5, "after": 1.2}], "impact": {"daily_spend_delta": -4.2}},
        "reason": None, "proposer": "seller@demo.local", "source_kind": "chat", "source_ref": None,
        "created_at": NOW - dt.timedelta(minutes=12), "expires_at": NOW + dt.timedelta(hours=24),
    }
    values.update(overrides)
    return Operation(**values)


def test_a_queue_row_says_what_where_how_much_why_who_and_since_when() -> None:
    op = operation(evidence=WASTED, source_kind="ui")
    assert queue_row(op, now=NOW) == {
        "#": 1, "Site": "US", "Target": "keyword #7 'yoga mat' (exact)", "Change": "bid $1.50 → $1.20",
        "Impact": "-$4.20/day", "Evidence": "spend $41.20 · 0 orders · 30 d", "From": "seller · wasted spend",
        "Age": "12 min"}
    jp = operation(site="jp", preview={"target": "keyword #9", "changes": [{"field": "bid", "before": 100, "after": 90}]})
    assert queue_row(jp, now=NOW)["Change"] == "bid ¥100 → ¥90"
    assert queue_row(jp, now=NOW)["Impact"] == "—" and queue_row(jp, now=NOW)["Evidence"] == "no evidence recorded"
    long = operation(preview={"target": "new keyword 'eco friendly premium vacuum storage bags' (exact) in ad group #3"})
    assert queue_row(long, now=NOW)["Target"] == "new keyword 'eco friendly premium vacuum storage…"
    assert fit("keyword #9 'ヨガマットヨガマットヨガマットヨガマット'", 30) == "keyword #9 'ヨガマットヨガマッ…"
    assert fit("abcd", 3) == "ab…" and fit("abc", 3) == "abc" and fit("ab cd ef", 6) == "ab cd…"


@pytest.mark.parametrize(("filters", "expected"), [
    (QueueFilters(), [1, 2, 3, 4]),
    (QueueFilters(tool="pause_keyword"), [2]),
    (QueueFilters(proposer="daily-ops@system"), [3, 4]),
    (QueueFilters(source="alert: acos over target"), [3]),
    (QueueFilters(source="chat"), [1, 2]),
    (QueueFilters(batch="job-1"), [3, 4]),
    (QueueFilters(search="YOGA"), [1, 3]),
    (QueueFilters(search="#2"), [2]),
    (QueueFilters(search="blue mat"), [4]),  # the evidence's label
    (QueueFilters(batch="job-1", search="yoga"), [3]),
])
def test_filters_and_search(filters: QueueFilters, expected: list[int]) -> None:
    ops = [operation(1), operation(2, tool="pause_keyword", preview={"target": "keyword #8 'cork block'"}),
           operation(3, proposer="daily-ops@system", source_kind="job", batch_id="job-1",
                     evidence={**WASTED, "rule": "acos_over_target"}),
           operation(4, proposer="daily-ops@system", source_kind="job", batch_id="job-1",
                     preview={"target": "campaign #3"}, evidence={"kind": "campaign", "label": "Blue mat SP"})]
    assert [op.id for op in filter_queue(ops, filters)] == expected
    assert queue_choices(ops) == {"tool": ["pause_keyword", "update_bid"],
                                  "proposer": ["daily-ops@system", "seller@demo.local"],
                                  "source": ["alert: acos over target", "chat", "scheduled job"], "batch": ["job-1"]}


def test_sorting_by_impact_and_age_and_paging() -> None:
    ops = [operation(i, created_at=NOW - dt.timedelta(minutes=i),
                     preview={"impact": {"daily_spend_delta": -float(i % 4), "daily_sales_delta": 0.5}}) for i in range(1, 8)]
    assert [op.id for op in sort_queue(ops, "impact")] == [7, 3, 6, 2, 5, 1, 4]
    assert [op.id for op in sort_queue(ops, "newest")] == [1, 2, 3, 4, 5, 6, 7]
    assert [op.id for op in sort_queue(ops, "oldest")] == [7, 6, 5, 4, 3, 2, 1]
    page = queue_page(ops, 2, size=3)
    assert ([op.id for op in page.items], page.page, page.pages, page.total, page.first, page.last) == (
        [4, 5, 6], 2, 3, 7, 4, 6)
    assert queue_page(ops, 9, size=3).page == 3 and queue_page([], 1).pages == 1


class FakeGate:
    """approve/reject as the gate answers them: #2 was decided by someone else, #3 is the approver's own."""

    def approve(self, op_id: int, approver: Caller, *, arguments: dict | None = None) -> Operation:
        if op_id == 2:
            raise Conflict("operation #2 was already approved by approver2@demo.local at 2026-11-21 11:58:03 UTC "
                           "(status succeeded)")
        if op_id == 3:
            raise PermissionDenied("approver@demo.local proposed operation #3 and may not approve it too")
        return operation(op_id, status="failed" if op_id == 4 else "succeeded",
                         error="CONFLICT: the bid changed" if op_id == 4 else None,
                         error_code="CONFLICT" if op_id == 4 else None)

    def reject(self, op_id: int, approver: Caller, reason: str) -> Operation:
        return operation(op_id, status="rejected", decision_reason=reason)


def test_bulk_decisions_report_each_row_and_who_decided_first() -> None:
    approver = Caller("approver@demo.local", frozenset({"approver"}), frozenset({"us"}))
    decisions = decide_each(FakeGate(), [1, 2, 3, 4], approver)
    assert [(d.operation_id, d.done, d.status, d.code) for d in decisions] == [
        (1, True, "succeeded", None), (2, False, None, "CONFLICT"), (3, False, None, "PERMISSION_DENIED"),
        (4, True, "failed", "CONFLICT")]
    assert decision_report(decisions, "Approved") == [
        ("success", "Approved 2 of 4: #1, #4."),
        ("warning", "Already decided — operation #2 was already approved by approver2@demo.local at 2026-11-21 "
                    "11:58:03 UTC (status succeeded)."),
        ("error", "#3 not approved: PERMISSION_DENIED — approver@demo.local proposed operation #3 and may not "
                  "approve it too"),
        ("warning", "#4 was approved, but the write failed: CONFLICT: CONFLICT: the bid changed"),
    ]
    assert decision_report([Decision(5, True, "rejected")], "Rejected") == [("success", "Rejected #5.")]
    assert [d.status for d in decide_each(FakeGate(), [5, 6], approver, reject_reason="no")] == ["rejected"] * 2


def test_value_fields_are_typed_and_never_the_target() -> None:
    op = operation(tool="create_coupon", arguments={
        "site": "us", "variant_id": 12, "sku": "YM-1", "kind": "percent", "value": 15.0, "budget": 200.0,
        "starts_on": "2026-12-01", "ends_on": None, "limit": 3, "active": True, "rows": [{"a": 1}]})
    schema = {"properties": {"kind": {"enum": ["percent", "fixed"], "type": "string"},
                             "ends_on": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]}}}
    fields = value_fields(op, schema=schema, policy=SitePolicy(site="us"))
    assert [(f.name, f.kind, f.value, f.options) for f in fields] == [
        ("kind", "choice", "percent", ("percent", "fixed")), ("value", "number", 15.0, ()),
        ("budget", "number", 200.0, ()), ("starts_on", "date", "2026-12-01", ()), ("ends_on", "date", None, ()),
        ("limit", "integer", 3, ()), ("active", "bool", True, ())]
    edited = edited_arguments(op, {"value": 15.000001, "budget": 150, "starts_on": dt.date(2026, 12, 2),
                                   "ends_on": None, "limit": 4.0, "keyword_id": 99, "sku": "OTHER"})
    assert edited == {**op.arguments, "budget": 150.0, "starts_on": "2026-12-02", "limit": 4}


def test_limits_are_shown_when_the_policy_can_say_them(monkeypatch) -> None:
    from mcp_bridge.catalog import policy

    monkeypatch.setattr(policy, "limits_for", lambda tool, field, p: f"{tool}.{field} at most 50%", raising=False)
    (bid,) = value_fields(operation(), policy=SitePolicy(site="us"))
    assert bid.limits == "update_bid.bid at most 50%"
    monkeypatch.delattr(policy, "limits_for", raising=False)
    assert value_fields(operation(), policy=SitePolicy(site="us"))[0].limits == ""


def test_an_edited_operation_reads_proposed_then_approved_as() -> None:
    edited = operation(status="succeeded", decided_by="approver@demo.local", arguments={"site": "us", "keyword_id": 7,
                                                                                        "bid": 1.55},
                       original_arguments={"site": "us", "keyword_id": 7, "bid": 1.5},
                       edit_history=[{"by": "approver@demo.local", "at": NOW.isoformat(),
                                      "before": {"site": "us", "keyword_id": 7, "bid": 1.5},
                                      "after": {"site": "us", "keyword_id": 7, "bid": 1.55}}])
    line = "bid: proposed 1.50 by seller@demo.local · approved as 1.55 by approver@demo.local"
    assert edit_line(edited) == line
    assert edit_line(dataclasses.asdict(edited)) == line  # the chat's cards may hold plain dicts
    assert edit_line(operation()) is None
    assert outcome_text(edited) == f"done by approver@demo.local · {line}"
    assert outcome_text(edited, brief=True) == "done · approved as 1.55 (asked 1.50)"
    rejected = operation(status="rejected", decided_by="approver@demo.local", decision_reason="bid already low")
    assert outcome_text(rejected) == "rejected by approver@demo.local: “bid already low”"
    assert outcome_text(operation()) == "waiting for approval"


def test_the_source_of_a_proposal() -> None:
    assert [source_label(operation(source_kind=k)) for k in ("chat", "job", "cli", "gateway", "ui")] == [
        "chat", "scheduled job", "command line", "MCP gateway", "console"]
    assert source_label(operation(source_kind="job", evidence=WASTED)) == "alert: wasted spend"
