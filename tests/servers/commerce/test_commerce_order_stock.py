"""Stock that order status changes move: a ship takes units out of on_hand and reserved, a cancel releases the hold.

Known answers from the hand-built store (conftest): US-1001 pending 1 × MAT-BLU (v1, on hand 40, reserved 4);
US-1002 paid 1 × MAT-BLU + 1 × MAT-RED (v2, on hand 5, reserved 5); DE-2001 paid 1 × de MAT-BLU (v5, on hand 10,
reserved 0).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from servers.market.models import InventoryLevel, Order, OrderItem
from tests.servers.commerce.calls import approved, ok, refused, snapshot
from tests.servers.commerce.conftest import SECRET

pytestmark = pytest.mark.anyio

SHIP_2 = {"site": "us", "order_id": 2, "carrier": "UPS", "tracking_number": "1Z999AA1"}


def stock(store) -> dict[int, tuple[int, int]]:
    with store.reader() as s:
        return {i.variant_id: (i.on_hand, i.reserved) for i in s.scalars(select(InventoryLevel))}


async def test_shipping_takes_the_units_out_of_on_hand_and_reserved(commerce, store):
    result = await ok(commerce, "mark_order_shipped", **approved(SECRET, "mark_order_shipped", **SHIP_2))
    assert result["impact"] == {"on_hand_delta": -2.0, "reserved_delta": -2.0}
    assert stock(store) == {1: (39, 3), 2: (4, 4), 3: (30, 0), 5: (10, 0)}
    with store.reader() as s:
        assert s.get_one(InventoryLevel, 1).updated_at > dt.datetime(2026, 11, 19, 6)
        assert s.get_one(InventoryLevel, 3).updated_at == dt.datetime(2026, 11, 19, 6)


@pytest.mark.parametrize(
    ("site", "order_id", "before", "after", "stock_after"),
    [
        ("us", 1, {"reserved[MAT-BLU]": 4}, {"reserved[MAT-BLU]": 3}, {1: (40, 3)}),
        ("us", 2, {"reserved[MAT-BLU]": 4, "reserved[MAT-RED]": 5}, {"reserved[MAT-BLU]": 3, "reserved[MAT-RED]": 4},
         {1: (40, 3), 2: (5, 4)}),
        # Nothing is held for DE-2001's SKU: the release stops at 0, it never goes negative.
        ("de", 6, {"reserved[MAT-BLU]": 0}, {"reserved[MAT-BLU]": 0}, {}),
    ],
)
async def test_cancelling_releases_the_hold_and_leaves_on_hand(commerce, store, site, order_id, before, after, stock_after):
    args = {"site": site, "order_id": order_id, "status": "cancelled"}
    old_status = "pending" if order_id == 1 else "paid"
    result = await ok(commerce, "update_order_status", **approved(SECRET, "update_order_status", **args))
    assert (result["before"], result["after"]) == ({"status": old_status} | before, {"status": "cancelled"} | after)
    assert result["impact"]["reserved_delta"] == sum(after.values()) - sum(before.values())
    assert stock(store) == {1: (40, 4), 2: (5, 5), 3: (30, 0), 5: (10, 0)} | stock_after


async def test_a_dry_run_shows_the_stock_before_and_after_and_writes_nothing(commerce, commerce_url):
    before = snapshot(commerce_url)
    dry = await ok(commerce, "mark_order_shipped", **SHIP_2, dry_run=True)
    stock_changes = [c for c in dry["changes"] if "[" in c["field"]]
    assert stock_changes == [
        {"field": "on_hand[MAT-BLU]", "before": 40, "after": 39}, {"field": "reserved[MAT-BLU]", "before": 4, "after": 3},
        {"field": "on_hand[MAT-RED]", "before": 5, "after": 4}, {"field": "reserved[MAT-RED]", "before": 5, "after": 4},
    ]
    assert snapshot(commerce_url) == before


@pytest.mark.parametrize("dry_run", [True, False])
async def test_a_ship_without_the_units_on_hand_is_refused(commerce, store, commerce_url, dry_run):
    with store.session() as s:
        s.get_one(InventoryLevel, 2).on_hand = 0
        s.get_one(InventoryLevel, 2).reserved = 0
    before = snapshot(commerce_url)
    call = {**SHIP_2, "dry_run": True} if dry_run else approved(SECRET, "mark_order_shipped", **SHIP_2)
    text = await refused(commerce, "mark_order_shipped", "VALIDATION_FAILED", **call)
    assert text == ("VALIDATION_FAILED: order US-1002 cannot ship: MAT-RED has 0 on hand, the order needs 1. "
                    "Receive stock (or correct the count with update_inventory) first")
    assert snapshot(commerce_url) == before


async def test_a_ship_of_a_sku_without_an_inventory_record_is_refused(commerce, store, commerce_url):
    with store.session() as s:  # KNF-8 (variant 4) has no inventory row
        s.add(Order(id=7, site_id="us", number="US-1007", customer_id=2, status="paid", placed_at=dt.datetime(2026, 11, 19, 9),
                    placed_date=dt.date(2026, 11, 19), total=60.0, currency="USD"))
        s.flush()
        s.add(OrderItem(id=8, order_id=7, site_id="us", variant_id=4, sku="KNF-8", quantity=1, unit_price=60.0))
    before = snapshot(commerce_url)
    ship = {**SHIP_2, "order_id": 7}
    text = await refused(commerce, "mark_order_shipped", "VALIDATION_FAILED", **approved(SECRET, "mark_order_shipped", **ship))
    assert "order US-1007 cannot ship: KNF-8 has no inventory record" in text
    assert snapshot(commerce_url) == before
    cancel = {"site": "us", "order_id": 7, "status": "cancelled"}  # nothing held, nothing to release: it still cancels
    result = await ok(commerce, "update_order_status", **approved(SECRET, "update_order_status", 2, **cancel))
    assert (result["after"], result["impact"]) == ({"status": "cancelled"}, {"revenue_delta": -60.0, "reserved_delta": 0.0})


async def test_a_replayed_ship_moves_stock_once(commerce, store):
    call = approved(SECRET, "mark_order_shipped", operation_id=7, **SHIP_2)
    first = await ok(commerce, "mark_order_shipped", **call)
    again = await ok(commerce, "mark_order_shipped", **call)
    assert again == {**first, "replayed": True}
    assert stock(store) == {1: (39, 3), 2: (4, 4), 3: (30, 0), 5: (10, 0)}


async def test_stock_moved_by_another_approval_does_not_make_a_proposal_stale(commerce, store):
    """Both orders hold MAT-BLU: approving one changes the other's stock rows, which are re-checked, not compared."""
    cancel = {"site": "us", "order_id": 1, "status": "cancelled"}
    cancel_dry = await ok(commerce, "update_order_status", **cancel, dry_run=True)
    ship_dry = await ok(commerce, "mark_order_shipped", **SHIP_2, dry_run=True)
    await ok(commerce, "update_order_status", **approved(SECRET, "update_order_status", operation_id=1, **cancel),
             expected_before=cancel_dry["before"])
    shipped = await ok(commerce, "mark_order_shipped", **approved(SECRET, "mark_order_shipped", operation_id=2, **SHIP_2),
                       expected_before=ship_dry["before"])
    assert (shipped["before"]["reserved[MAT-BLU]"], shipped["after"]["reserved[MAT-BLU]"]) == (3, 2)
    assert stock(store) == {1: (39, 2), 2: (4, 4), 3: (30, 0), 5: (10, 0)}


async def test_a_stale_status_still_conflicts(commerce, store):
    ship_dry = await ok(commerce, "mark_order_shipped", **SHIP_2, dry_run=True)
    stale = ship_dry["before"] | {"status": "pending"}
    text = await refused(commerce, "mark_order_shipped", "CONFLICT", **approved(SECRET, "mark_order_shipped", **SHIP_2),
                         expected_before=stale)
    assert "status was 'pending', is now 'paid'" in text
    assert stock(store) == {1: (40, 4), 2: (5, 5), 3: (30, 0), 5: (10, 0)}


async def test_a_restock_proposed_before_a_ship_adds_to_the_stock_it_finds(commerce, store):
    """Return #1 (2 × MAT-BLU) is proposed at 40 on hand; a ship takes one first; the restock still applies, to 39."""
    confirm = {"site": "us", "return_id": 1, "decision": "confirmed", "restock": True}
    dry = await ok(commerce, "confirm_return", **confirm, dry_run=True)
    assert (dry["before"]["on_hand"], dry["after"]["on_hand"]) == (40, 42)
    await ok(commerce, "mark_order_shipped", **approved(SECRET, "mark_order_shipped", operation_id=1, **SHIP_2))
    done = await ok(commerce, "confirm_return", **approved(SECRET, "confirm_return", operation_id=2, **confirm),
                    expected_before=dry["before"])
    assert (done["before"]["on_hand"], done["after"]["on_hand"]) == (39, 41)
    assert stock(store)[1] == (41, 3)
    # The status is still compared: a refund proposed while the return was requested conflicts once it is confirmed.
    refund = {**confirm, "decision": "refunded", "restock": False}
    text = await refused(commerce, "confirm_return", "CONFLICT",
                         **approved(SECRET, "confirm_return", operation_id=3, **refund), expected_before=dry["before"])
    assert "status was 'requested', is now 'confirmed'" in text
