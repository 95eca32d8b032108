"""The approval gate end to end against the real ads server: propose, approve once, reject, edit, expire, batches."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from mcp_bridge.catalog.policy import SitePolicy, save_policy
from mcp_bridge.errors import Conflict, NotFound, PermissionDenied, UpstreamError, ValidationFailed
from mcp_bridge.gate.gate import Gate
from mcp_bridge.store import OperationRow, Store
from mcp_bridge.types import Caller, Source
from tests.support.console_db import applied_writes, keyword, market_value

CHAT = Source("chat", ref="conv-1", batch_id="turn-1", reason="ACOS over target")


def events(bridge) -> list[str]:
    return [r.event for r in reversed(bridge.audit.query(limit=1000))]


def bid_of(market_url: str, keyword_id: int) -> float:
    return market_value(market_url, "SELECT bid FROM keywords WHERE id = :k", k=keyword_id)[0][0]


def propose_bid(bridge, caller: Caller, market_url: str, factor: float = 0.8, offset: int = 0, source: Source = CHAT):
    kid, bid = keyword(market_url, offset=offset)
    outcome = bridge.call(caller, "ads__update_bid", {"site": "us", "keyword_id": kid, "bid": round(bid * factor, 2)},
                          source=source)
    return outcome, kid, bid


def test_a_write_becomes_a_pending_operation(bridge, callers, gate_market_url) -> None:
    outcome, kid, bid = propose_bid(bridge, callers["seller"], gate_market_url)
    new = round(bid * 0.8, 2)
    assert (outcome.status, outcome.code, outcome.batch_id) == ("pending", None, "turn-1")
    assert outcome.text.startswith(f"pending approval #{outcome.operation_id} (update_bid keyword #{kid} ")
    assert outcome.text.endswith(f"bid {bid:.2f} → {new:.2f})")
    op = bridge.gate.get(outcome.operation_id)
    assert (op.status, op.proposer, op.source_kind, op.source_ref, op.reason) == (
        "proposed", "seller@demo.local", "chat", "conv-1", "ACOS over target")
    assert op.arguments == {"site": "us", "keyword_id": kid, "bid": new}
    assert (op.preview["before"], op.preview["after"]) == ({"bid": bid}, {"bid": new})
    assert op.expires_at - op.created_at == dt.timedelta(hours=24)
    assert bid_of(gate_market_url, kid) == bid and applied_writes(gate_market_url) == []
    assert events(bridge)[-1] == "proposed"
    assert bridge.gate.pending_count(callers["approver"]) == 1
    assert bridge.gate.pending_count(callers["seller-jp"]) == 0


def test_control_arguments_from_the_caller_are_dropped(bridge, callers, gate_market_url) -> None:
    kid, bid = keyword(gate_market_url)
    outcome = bridge.call(callers["seller"], "ads__update_bid",
                          {"site": "us", "keyword_id": kid, "bid": bid - 0.1, "approval_token": "forged",
                           "dry_run": False, "idempotency_key": "x"}, source=CHAT)
    assert outcome.status == "pending"
    assert set(bridge.gate.get(outcome.operation_id).arguments) == {"site", "keyword_id", "bid"}


@pytest.mark.parametrize(("user", "args", "code"), [
    ("seller-jp", {"site": "us", "bid": 1.0}, "SITE_SCOPE_REQUIRED"),
    ("seller", {"bid": 1.0}, "SITE_SCOPE_REQUIRED"),
    ("seller", {"site": "us", "keyword_id": 999999, "bid": 1.0}, "NOT_FOUND"),
    ("seller", {"site": "us", "bid": 500}, "VALIDATION_FAILED"),
    ("manager", {"site": "us", "bid": 1.0}, "PERMISSION_DENIED"),
])
def test_refused_proposals_queue_nothing(bridge, callers, gate_market_url, user, args, code) -> None:
    kid, _ = keyword(gate_market_url)
    outcome = bridge.call(callers[user], "ads__update_bid", {"keyword_id": kid, **args}, source=CHAT)
    assert (outcome.status, outcome.code, outcome.operation_id) == ("error", code, None)
    assert outcome.text.startswith(f"{code}: ")
    assert bridge.gate.list() == []
    assert bridge.audit.query(limit=1)[0].outcome == code


def test_the_policy_refuses_before_a_person_sees_it(bridge, callers, gate_market_url) -> None:
    outcome, _, bid = propose_bid(bridge, callers["seller"], gate_market_url, factor=3.0)
    assert outcome.code == "VALIDATION_FAILED"
    assert "+200%" in outcome.text and "exceeds the us limit of 50% per operation" in outcome.text
    assert bridge.gate.list() == []


def test_approval_runs_the_write_once(bridge, callers, gate_market_url) -> None:
    outcome, kid, bid = propose_bid(bridge, callers["seller"], gate_market_url)
    op = bridge.gate.approve(outcome.operation_id, callers["approver"])
    assert (op.status, op.decided_by, op.error) == ("succeeded", "approver@demo.local", None)
    assert op.result["applied"] is True and op.result["after"] == {"bid": round(bid * 0.8, 2)}
    assert bid_of(gate_market_url, kid) == round(bid * 0.8, 2)
    assert applied_writes(gate_market_url) == [(op.nonce, "update_bid")] and len(op.nonce) == 32
    with pytest.raises(Conflict, match=rf"operation #{op.id} was already approved by approver@demo.local at "):
        bridge.gate.approve(op.id, callers["approver2"])
    tail = [e for e in events(bridge) if e in ("proposed", "approved", "executed")]
    assert tail == ["proposed", "approved", "executed"]
    assert bridge.audit.verify().ok


def test_no_self_approval_unless_the_site_allows_it(bridge, callers, gate_market_url) -> None:
    outcome, _, _ = propose_bid(bridge, callers["admin"], gate_market_url)
    with pytest.raises(PermissionDenied, match="may not approve it too"):
        bridge.gate.approve(outcome.operation_id, callers["admin"])
    with bridge.store.write() as s:
        save_policy(s, SitePolicy(site="us", allow_self_approval=True))
    assert bridge.gate.approve(outcome.operation_id, callers["admin"]).status == "succeeded"


def test_only_approvers_with_the_site_decide(bridge, callers, runtime, gate_market_url) -> None:
    outcome, _, _ = propose_bid(bridge, callers["seller"], gate_market_url)
    runtime.users.create("approver-de@demo.local", roles=("approver",), sites=("de",))
    with pytest.raises(PermissionDenied, match="needs the approver role"):
        bridge.gate.approve(outcome.operation_id, callers["manager"])
    with pytest.raises(PermissionDenied, match="no access to site us"):
        bridge.gate.reject(outcome.operation_id, runtime.users.caller("approver-de@demo.local"), "no")
    with pytest.raises(NotFound):
        bridge.gate.approve(424242, callers["approver"])
    assert bridge.gate.get(outcome.operation_id).status == "proposed"


def test_reject_needs_a_reason_and_is_final(bridge, callers, gate_market_url) -> None:
    outcome, kid, bid = propose_bid(bridge, callers["seller"], gate_market_url)
    with pytest.raises(ValidationFailed):
        bridge.gate.reject(outcome.operation_id, callers["approver"], " ")
    op = bridge.gate.reject(outcome.operation_id, callers["approver"], "too aggressive")
    assert (op.status, op.decision_reason, op.decided_by) == ("rejected", "too aggressive", "approver@demo.local")
    with pytest.raises(Conflict, match="already rejected by approver@demo.local"):
        bridge.gate.approve(op.id, callers["approver2"])
    assert bid_of(gate_market_url, kid) == bid


def test_expired_operations_are_refused_and_marked(bridge, callers, gate_market_url) -> None:
    first, _, _ = propose_bid(bridge, callers["seller"], gate_market_url)
    second, _, _ = propose_bid(bridge, callers["seller"], gate_market_url, offset=1)
    with bridge.store.write() as s:
        s.execute(update(OperationRow).values(expires_at=dt.datetime(2020, 1, 1)))
    with pytest.raises(Conflict, match=f"operation #{first.operation_id} expired at 2020-01-01"):
        bridge.gate.approve(first.operation_id, callers["approver"])
    assert bridge.gate.get(first.operation_id).status == "expired"
    assert bridge.gate.expire_due() == 1
    assert bridge.gate.get(second.operation_id).status == "expired"
    assert bridge.gate.expire_due() == 0
    assert events(bridge).count("expired") == 2
    assert applied_writes(gate_market_url) == []


def test_edit_and_approve_rechecks_the_limits(bridge, callers, gate_market_url) -> None:
    outcome, kid, bid = propose_bid(bridge, callers["seller"], gate_market_url)
    op_id = outcome.operation_id
    with pytest.raises(ValidationFailed, match="exceeds the us limit of 50%"):
        bridge.gate.approve(op_id, callers["approver"], arguments={"site": "us", "keyword_id": kid, "bid": bid * 2})
    with pytest.raises(ValidationFailed, match="another site"):
        bridge.gate.approve(op_id, callers["approver"], arguments={"site": "de", "keyword_id": kid, "bid": bid})
    assert bridge.gate.get(op_id).status == "proposed"
    edited = round(bid * 0.9, 2)
    op = bridge.gate.approve(op_id, callers["approver"], arguments={"site": "us", "keyword_id": kid, "bid": edited})
    assert (op.status, op.arguments["bid"], op.original_arguments["bid"]) == ("succeeded", edited, round(bid * 0.8, 2))
    assert op.edit_history[0]["by"] == "approver@demo.local"
    assert bid_of(gate_market_url, kid) == edited
    edit = bridge.audit.query(event="edited")[0]
    assert (edit.detail["old"]["bid"], edit.detail["new"]["bid"]) == (round(bid * 0.8, 2), edited)


@pytest.mark.parametrize(("edit", "named"), [
    (lambda args, other: {**args, "keyword_id": other}, "keyword_id is the target"),
    (lambda args, other: {k: v for k, v in args.items() if k != "keyword_id"}, "keyword_id is the target"),
    (lambda args, other: {**args, "campaign_id": other}, "campaign_id is the target"),
    (lambda args, other: {**args, "site": "de", "keyword_id": other}, "keyword_id and site are the target"),
])
def test_an_edit_may_not_change_what_the_change_applies_to(bridge, callers, gate_market_url, edit, named) -> None:
    outcome, kid, bid = propose_bid(bridge, callers["seller"], gate_market_url)
    other, other_bid = keyword(gate_market_url, offset=1)
    op = bridge.gate.get(outcome.operation_id)
    edited = edit(op.arguments, other)
    with pytest.raises(ValidationFailed, match=f"{named}; propose a new change for another one") as refused:
        bridge.gate.approve(op.id, callers["approver"], arguments={**edited, "bid": round(bid * 0.9, 2)})
    assert refused.value.code == "VALIDATION_FAILED"
    after = bridge.gate.get(op.id)
    assert (after.status, after.arguments, after.edit_history, after.decided_by) == ("proposed", op.arguments, [], None)
    assert (bid_of(gate_market_url, kid), bid_of(gate_market_url, other)) == (bid, other_bid)
    assert applied_writes(gate_market_url) == []
    assert not {"edited", "approved", "executed"} & set(events(bridge))


def test_a_target_changed_since_the_proposal_fails_with_conflict(bridge, callers, gate_market_url) -> None:
    outcome, kid, bid = propose_bid(bridge, callers["seller"], gate_market_url)
    from sqlalchemy import create_engine, text

    engine = create_engine(gate_market_url)
    with engine.begin() as c:
        c.execute(text("UPDATE keywords SET bid = :b WHERE id = :k"), {"b": bid + 0.33, "k": kid})
    engine.dispose()
    op = bridge.gate.approve(outcome.operation_id, callers["approver"])
    assert (op.status, op.error_code) == ("failed", "CONFLICT")
    assert "changed since the proposal" in op.error
    assert bid_of(gate_market_url, kid) == pytest.approx(bid + 0.33)


def test_batches_are_decided_per_operation(bridge, callers, gate_market_url) -> None:
    batch = Source("chat", ref="conv-2", batch_id="turn-9")
    ids = [propose_bid(bridge, callers["seller"], gate_market_url, offset=i, source=batch)[0].operation_id for i in range(3)]
    bridge.gate.reject(ids[1], callers["approver"], "not this one")
    items = bridge.gate.approve_batch("turn-9", callers["approver2"])
    assert [(i.operation_id, i.status, i.code) for i in items] == [
        (ids[0], "succeeded", None), (ids[1], "rejected", "CONFLICT"), (ids[2], "succeeded", None)]
    assert len(applied_writes(gate_market_url)) == 2
    other = Source("job", ref="daily-ops", batch_id="job-1")
    more = [propose_bid(bridge, callers["seller"], gate_market_url, offset=3 + i, source=other)[0].operation_id for i in range(2)]
    items = bridge.gate.reject_batch("job-1", callers["approver"], "not today")
    assert [(i.operation_id, i.status) for i in items] == [(more[0], "rejected"), (more[1], "rejected")]
    with pytest.raises(NotFound):
        bridge.gate.approve_batch("nope", callers["approver"])


class StubRunner:
    def __init__(self, error: Exception | None) -> None:
        self.error, self.executions = error, 0

    def prepare(self):
        pass

    def dry_run(self, server, tool, arguments):
        return {"target": "keyword #1", "summary": "bid 1.00 → 0.90", "before": {"bid": 1.0}, "after": {"bid": 0.9}}

    def write_status(self, server, site, nonce):
        return None

    def execute(self, server, tool, arguments, *, operation_id, nonce, expires, expected_before):
        self.executions += 1
        assert (operation_id, len(nonce), expected_before) == (1, 32, {"bid": 1.0})
        if self.error:
            raise self.error
        return {"summary": "bid 1.00 → 0.90", "applied": True}


class OutcomeUnknown(UpstreamError):
    """Same name as the session pool's error: the gate recognises it without importing the pool."""


@pytest.mark.parametrize(("error", "status", "code"), [
    (None, "succeeded", None),
    (OutcomeUnknown("the server died mid-call"), "unknown", "UPSTREAM_ERROR"),
    (UpstreamError("could not reach the server"), "failed", "UPSTREAM_ERROR"),
])
def test_execution_outcomes_are_recorded_and_never_retried(runtime, error, status, code) -> None:
    runner = StubRunner(error)
    gate = Gate(Store(runtime.engine), runtime.bridge.audit, runtime.bridge.config, runner)
    seller = runtime.users.caller("seller@demo.local", "chat")
    op = gate.propose(seller, "ads", "update_bid", {"site": "us", "keyword_id": 1, "bid": 0.9}, source=CHAT)
    done = gate.approve(op.id, runtime.users.caller("approver@demo.local"))
    assert (done.status, done.error_code, runner.executions) == (status, code, 1)
    with pytest.raises(Conflict):
        gate.approve(op.id, runtime.users.caller("approver2@demo.local"))
    assert runner.executions == 1
    assert runtime.bridge.audit.query(event="executed")[0].outcome == status


def test_an_approval_whose_audit_row_fails_runs_nothing(bridge, callers, gate_market_url, monkeypatch) -> None:
    outcome, kid, bid = propose_bid(bridge, callers["seller"], gate_market_url)
    real_append = bridge.audit.append

    def append(event, **kwargs):
        if event == "approved":
            raise RuntimeError("disk full")
        return real_append(event, **kwargs)

    monkeypatch.setattr(bridge.audit, "append", append)
    with pytest.raises(RuntimeError, match="disk full"):
        bridge.gate.approve(outcome.operation_id, callers["approver"])
    assert bridge.gate.get(outcome.operation_id).status == "proposed"
    assert bid_of(gate_market_url, kid) == bid and applied_writes(gate_market_url) == []
