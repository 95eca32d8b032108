"""One proposal per intent: the same change is filed once while it waits, a different one supersedes it."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select, update

from mcp_bridge.catalog.intents import intent_of, same_change
from mcp_bridge.errors import Conflict, ValidationFailed
from mcp_bridge.gate.gate import Gate
from mcp_bridge.store import OperationRow, Store
from mcp_bridge.types import Source

CHAT = Source("chat", ref="conv-1", batch_id="turn-1", reason="ACOS over target")
JOB = Source("job", ref="daily-2", batch_id="daily-2", reason="wasted spend")


@pytest.mark.parametrize(("tool", "arguments", "key"), [
    ("update_bid", {"site": "us", "keyword_id": 7, "bid": 1.2}, "ads:us:keyword[keyword_id=7]|bid"),
    ("pause_keyword", {"site": "us", "keyword_id": 7}, "ads:us:keyword[keyword_id=7]|state"),
    ("update_campaign", {"site": "us", "campaign_id": 3, "daily_budget": 80.0, "state": None},
     "ads:us:campaign[campaign_id=3]|daily_budget"),
    ("update_campaign", {"site": "us", "campaign_id": 3, "daily_budget": 80.0, "state": "paused"},
     "ads:us:campaign[campaign_id=3]|daily_budget,state"),
    ("create_keyword", {"site": "us", "ad_group_id": 5, "text": " Yoga  Mat ", "match_type": "exact", "bid": 1.1},
     "ads:us:new keyword[ad_group_id=5,text=yoga mat,match_type=exact]|create"),
    ("create_product_target", {"site": "us", "ad_group_id": 5, "asin": "B00TEST123", "bid": None},
     "ads:us:new product_target[ad_group_id=5,asin=b00test123]|create"),
    ("create_negative", {"site": "us", "campaign_id": 2, "text": "free", "match_type": "negative_exact",
                         "ad_group_id": None}, "ads:us:new negative[campaign_id=2,text=free,match_type=negative_exact]|create"),
    ("pause_product_ads", {"site": "de", "sku": "MAT-1"}, "ads:de:product_ads[sku=mat-1]|state"),
    ("update_inventory", {"site": "us", "variant_id": 9, "add_inbound": 40, "reason": "reorder", "on_hand": None},
     "commerce:us:inventory[variant_id=9]|inbound"),
    ("update_coupon", {"site": "us", "coupon_id": 4, "budget": 900.0, "status": None}, "commerce:us:coupon[coupon_id=4]|budget"),
    ("create_coupon", {"site": "us", "variant_id": 9, "kind": "percent", "value": 10, "budget": 500},
     "commerce:us:new coupon[variant_id=9]|create"),
    ("create_discount_code", {"site": "us", "code": "spring10", "kind": "percent", "value": 10},
     "commerce:us:new discount_code[code=spring10]|create"),
    ("mark_order_shipped", {"site": "us", "order_id": 11, "carrier": "UPS", "tracking_number": "1Z99"},
     "commerce:us:order[order_id=11]|status"),
    ("set_listing_price", {"site": "us", "listing_id": 3, "amount": 9.99}, "shop:us:set_listing_price[listing_id=3]|amount"),
])
def test_intent_keys_name_the_target_and_the_fields(tool: str, arguments: dict, key: str) -> None:
    server = "shop" if tool == "set_listing_price" else "commerce" if "coupon" in tool or tool in (
        "update_inventory", "create_discount_code", "mark_order_shipped") else "ads"
    assert intent_of(server, tool, arguments).key == key


def test_an_import_is_named_by_its_rows_and_long_targets_stay_storable() -> None:
    rows = [{"sku": "A", "price": 1}]
    first = intent_of("commerce", "commit_product_import", {"site": "us", "rows": rows, "source_name": "a.csv"})
    again = intent_of("commerce", "commit_product_import", {"site": "us", "rows": rows, "source_name": "b.csv"})
    other = intent_of("commerce", "commit_product_import", {"site": "us", "rows": [{"sku": "B", "price": 1}]})
    assert first.key == again.key != other.key and first.key.endswith("|create")
    long = intent_of("ads", "create_keyword", {"site": "us", "ad_group_id": 5, "text": "x" * 200, "match_type": "exact"})
    assert len(long.key) < 255 and long.overlaps(long.key)


def test_fields_decide_what_overlaps() -> None:
    budget = intent_of("ads", "update_campaign", {"site": "us", "campaign_id": 3, "daily_budget": 80.0})
    both = intent_of("ads", "update_campaign", {"site": "us", "campaign_id": 3, "daily_budget": 90.0, "state": "paused"})
    state = intent_of("ads", "update_campaign", {"site": "us", "campaign_id": 3, "state": "paused"})
    elsewhere = intent_of("ads", "update_campaign", {"site": "us", "campaign_id": 33, "daily_budget": 80.0})
    assert [budget.overlaps(k.key) for k in (both, state, elsewhere)] == [True, False, False]
    assert same_change("update_inventory", {"site": "us", "variant_id": 9, "add_inbound": 40, "reason": "a"},
                       "update_inventory", {"site": "us", "variant_id": 9, "add_inbound": 40, "reason": "b"})


class Market:
    """A write runner on an in-memory market: keyword bids and states; creations preview their arguments."""

    def __init__(self, delay: float = 0.0) -> None:
        self.bids = {7: 2.0, 8: 1.0}
        self.states = {7: "enabled", 8: "enabled"}
        self.delay, self.executed = delay, []

    def prepare(self) -> None:
        pass

    def write_status(self, server, site, nonce):
        return None

    def dry_run(self, server: str, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        time.sleep(self.delay)
        if tool == "update_bid":
            old = self.bids[args["keyword_id"]]
            return {"target": f"keyword #{args['keyword_id']}", "summary": f"bid {old:.2f} → {args['bid']:.2f}",
                    "before": {"bid": old}, "after": {"bid": args["bid"]}}
        if tool == "pause_keyword":
            return {"target": f"keyword #{args['keyword_id']}", "summary": "state enabled → paused",
                    "before": {"state": self.states[args["keyword_id"]]}, "after": {"state": "paused"}}
        return {"target": f"new {tool}", "summary": tool, "before": {},
                "after": {k: v for k, v in args.items() if k != "site"}}

    def execute(self, server, tool, arguments, *, operation_id, nonce, expires, expected_before):
        self.executed.append(operation_id)
        if tool == "update_bid":
            self.bids[arguments["keyword_id"]] = arguments["bid"]
        return {"applied": True, "summary": "done"}


@pytest.fixture
def market() -> Market:
    return Market()


@pytest.fixture
def gate(runtime, market) -> Gate:
    return Gate(Store(runtime.engine), runtime.bridge.audit, runtime.bridge.config, market)


def rows(gate: Gate) -> list[tuple]:
    with gate.store.read() as s:
        return [tuple(r) for r in s.execute(select(OperationRow.id, OperationRow.status, OperationRow.supersedes,
                                                   OperationRow.decision_reason).order_by(OperationRow.id))]


def audit_events(runtime, event: str) -> list[dict]:
    return [r.detail for r in reversed(runtime.bridge.audit.query(event=event, limit=100))]


def bid(keyword_id: int, value: float) -> dict[str, Any]:
    return {"site": "us", "keyword_id": keyword_id, "bid": value}


def test_the_same_change_is_filed_once_while_it_waits(gate, runtime, callers) -> None:
    first = gate.propose(callers["seller"], "ads", "update_bid", bid(7, 1.5), source=CHAT)
    again = gate.propose(callers["approver"], "ads", "update_bid", bid(7, 1.5), source=JOB)
    assert (first.already_waiting, again.already_waiting, again.id, again.batch_id) == (False, True, first.id, "turn-1")
    assert again.summary == f"already waiting as #{first.id}: update_bid keyword #7: bid 2.00 → 1.50"
    assert gate.get(first.id).intent == "ads:us:keyword[keyword_id=7]|bid" and not gate.get(first.id).already_waiting
    assert rows(gate) == [(first.id, "proposed", None, None)]
    [dup] = audit_events(runtime, "proposal_deduplicated")
    assert (dup["operation_id"], dup["proposer"], dup["batch_id"], dup["source"]) == (
        first.id, "seller@demo.local", "daily-2", "job")
    assert runtime.bridge.audit.verify().ok


def test_a_different_change_of_the_same_field_supersedes_the_waiting_one(gate, runtime, callers) -> None:
    older = gate.propose(callers["seller"], "ads", "update_bid", bid(7, 1.5), source=CHAT)
    pause = gate.propose(callers["seller"], "ads", "pause_keyword", {"site": "us", "keyword_id": 7}, source=CHAT)
    other = gate.propose(callers["seller"], "ads", "update_bid", bid(8, 0.9), source=CHAT)
    newer = gate.propose(callers["seller"], "ads", "update_bid", bid(7, 1.3), source=JOB)
    assert newer.supersedes == older.id and not newer.already_waiting
    assert rows(gate) == [(older.id, "rejected", None, f"superseded by #{newer.id}"), (pause.id, "proposed", None, None),
                          (other.id, "proposed", None, None), (newer.id, "proposed", older.id, None)]
    rejected = [d for d in audit_events(runtime, "rejected") if d.get("superseded_by")]
    assert rejected == [{"operation_id": older.id, "reason": f"superseded by #{newer.id}", "superseded_by": newer.id,
                         "proposer": "seller@demo.local"}]
    assert audit_events(runtime, "proposed")[-1]["supersedes"] == [older.id]
    with pytest.raises(Conflict, match=f"superseded by #{newer.id}"):
        gate.approve(older.id, callers["approver"])
    assert gate.approve(newer.id, callers["approver"]).status == "succeeded"


def test_an_expired_or_decided_operation_does_not_stop_a_new_one(gate, callers) -> None:
    first = gate.propose(callers["seller"], "ads", "update_bid", bid(7, 1.5), source=CHAT)
    with gate.store.write() as s:
        s.execute(update(OperationRow).where(OperationRow.id == first.id)
                  .values(expires_at=dt.datetime(2000, 1, 1)))
    second = gate.propose(callers["seller"], "ads", "update_bid", bid(7, 1.5), source=CHAT)
    assert second.id != first.id and second.supersedes is None
    gate.reject(second.id, callers["approver"], "not now")
    third = gate.propose(callers["seller"], "ads", "update_bid", bid(7, 1.5), source=CHAT)
    assert third.id not in (first.id, second.id)


def test_two_identical_proposals_at_the_same_time_file_one(runtime, callers) -> None:
    gate = Gate(Store(runtime.engine), runtime.bridge.audit, runtime.bridge.config, Market(delay=0.05))
    barrier = threading.Barrier(4)
    ids: list[int] = []

    def propose() -> None:
        barrier.wait()
        ids.append(gate.propose(callers["seller"], "ads", "update_bid", bid(7, 1.5), source=CHAT).id)

    threads = [threading.Thread(target=propose) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 4 and len(set(ids)) == 1
    with gate.store.read() as s:
        assert s.scalar(select(func.count()).select_from(OperationRow)) == 1
    assert len(runtime.bridge.audit.query(event="proposal_deduplicated")) == 3


def test_stacked_cuts_of_one_bid_are_refused(gate, market, callers) -> None:
    cut = gate.propose(callers["seller"], "ads", "update_bid", bid(7, 1.0), source=JOB)  # wasted spend: −50%
    assert gate.approve(cut.id, callers["approver"]).status == "succeeded"
    with pytest.raises(ValidationFailed) as err:  # ACOS: another −50% twenty minutes later
        gate.propose(callers["seller"], "ads", "update_bid", bid(7, 0.5), source=CHAT)
    assert err.value.message.startswith(f"bid of keyword #7 would move -75% today (2.00 → 0.50, counting #{cut.id} "
                                        "and this one), over the us limit of ±50% per target per day; an admin can "
                                        "change “Largest total change of one bid, budget or price per day (%)”")
    assert gate.propose(callers["seller"], "ads", "update_bid", bid(8, 0.5), source=CHAT).status == "proposed"


def test_an_edit_at_approval_counts_the_day_too(gate, market, callers) -> None:
    first = gate.propose(callers["seller"], "ads", "update_bid", bid(7, 1.2), source=JOB)  # −40%
    gate.approve(first.id, callers["approver"])
    second = gate.propose(callers["seller"], "ads", "update_bid", bid(7, 1.0), source=CHAT)  # −50% from 2.00: fine
    with pytest.raises(ValidationFailed, match=r"would move -60% today \(2.00 → 0.80"):
        gate.approve(second.id, callers["approver"], arguments=bid(7, 0.8))
    assert gate.approve(second.id, callers["approver"]).status == "succeeded" and market.bids[7] == 1.0


def test_a_creation_edited_past_its_limit_is_refused_at_approval(gate, callers) -> None:
    new = {"site": "us", "ad_group_id": 5, "text": "cork block", "match_type": "exact", "bid": 1.0}
    op = gate.propose(callers["seller"], "ads", "create_keyword", new, source=CHAT)
    with pytest.raises(ValidationFailed, match="create_keyword sets bid 999.00 USD, over the us limit of 5.00 USD"):
        gate.approve(op.id, callers["approver"], arguments={**new, "bid": 999.0})
    assert gate.get(op.id).status == "proposed"
    with pytest.raises(ValidationFailed, match="create_keyword sets bid 6.00 USD"):
        gate.propose(callers["seller"], "ads", "create_keyword", {**new, "bid": 6.0}, source=CHAT)
    assert gate.get(op.id).status == "proposed"  # a refused proposal supersedes nothing
