"""Orders and returns: list_orders, get_order, update_order_status, mark_order_shipped, list_returns, confirm_return."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from servers.market.models import InventoryLevel, Order, Return
from tests.servers.commerce.calls import approved, ok, refused, snapshot
from tests.servers.commerce.conftest import SECRET

pytestmark = pytest.mark.anyio

NOT_SHIPPED = {"shipped_at": None, "carrier": None, "tracking_number": None}
O1 = {"id": 1, "number": "US-1001", "status": "pending", "placed_at": "2026-11-19T10:00:00", "total": 25.0, "currency": "USD",
      "customer_id": 1, "customer_name": "Jane Doe", "item_count": 1, **NOT_SHIPPED}
O2 = {"id": 2, "number": "US-1002", "status": "paid", "placed_at": "2026-11-18T09:00:00", "total": 52.0, "currency": "USD",
      "customer_id": 1, "customer_name": "Jane Doe", "item_count": 2, **NOT_SHIPPED}
O3 = {"id": 3, "number": "US-1003", "status": "shipped", "placed_at": "2026-11-10T08:00:00", "total": 12.0, "currency": "USD",
      "customer_id": 2, "customer_name": "Bob Ray", "item_count": 1, "shipped_at": "2026-11-11T08:00:00", "carrier": "UPS",
      "tracking_number": "1Z0003"}
O4 = {"id": 4, "number": "US-1004", "status": "delivered", "placed_at": "2026-11-01T12:00:00", "total": 50.0,
      "currency": "USD", "customer_id": 2, "customer_name": "Bob Ray", "item_count": 2, "shipped_at": "2026-11-02T12:00:00",
      "carrier": "UPS", "tracking_number": "1Z0004"}
O5 = {"id": 5, "number": "US-1005", "status": "cancelled", "placed_at": "2026-10-01T12:00:00", "total": 27.0,
      "currency": "USD", "customer_id": 1, "customer_name": "Jane Doe", "item_count": 1, **NOT_SHIPPED}
R1 = {"id": 1, "order_id": 4, "order_number": "US-1004", "order_item_id": 5, "sku": "MAT-BLU", "quantity": 2,
      "reason": "damaged", "status": "requested", "created_at": "2026-11-05T09:00:00", "resolved_at": None}
R2 = {"id": 2, "order_id": 3, "order_number": "US-1003", "order_item_id": 4, "sku": "BLK-1", "quantity": 1,
      "reason": "changed mind", "status": "rejected", "created_at": "2026-11-12T09:00:00", "resolved_at": "2026-11-13T09:00:00"}


async def test_list_orders_last_30_days_newest_first(commerce):
    assert await ok(commerce, "list_orders", site="us") == {"total": 4, "orders": [O1, O2, O3, O4]}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": "paid"}, [O2]),
        ({"customer_id": 2}, [O3, O4]),
        ({"min_total": 30}, [O2, O4]),
        ({"start_date": "2026-09-01"}, [O1, O2, O3, O4, O5]),
        ({"start_date": "2026-11-05", "end_date": "2026-11-18"}, [O2, O3]),
        ({"sort_by": "total", "descending": False}, [O3, O1, O4, O2]),
        ({"sort_by": "item_count"}, [O4, O2, O3, O1]),
        ({"sort_by": "number", "descending": False, "limit": 2, "offset": 1}, [O2, O3]),
    ],
)
async def test_list_orders_filters_sorts_pages(commerce, filters, expected):
    result = await ok(commerce, "list_orders", site="us", **filters)
    assert result["orders"] == expected
    assert result["total"] == (4 if "limit" in filters else len(expected))


@pytest.mark.parametrize(
    ("filters", "code", "message"),
    [
        ({"start_date": "2026-11-20", "end_date": "2026-11-01"}, "VALIDATION_FAILED", "is after end_date"),
        ({"start_date": "20 Nov"}, "VALIDATION_FAILED", "start_date must look like 2026-11-21; got '20 Nov'"),
        ({"customer_id": 3}, "NOT_FOUND", "customer 3 does not exist on site us; list_customers shows the ids"),
    ],
)
async def test_list_orders_refusals(commerce, filters, code, message):
    assert message in await refused(commerce, "list_orders", code, site="us", **filters)


async def test_get_order_masks_the_customer(commerce):
    assert await ok(commerce, "get_order", site="us", order_id=4) == {
        "order": O4,
        "next_statuses": ["returned"],
        "items": [{"id": 5, "variant_id": 1, "sku": "MAT-BLU", "title": "Yoga Mat Pro", "quantity": 2, "unit_price": 25.0,
                   "line_total": 50.0}],
        "customer": {"id": 2, "name": "Bob Ray", "email": "b***@mail.test", "phone": "***-***-9876", "country": "CA",
                     "masked": True},
        "returns": [R1],
    }


async def test_get_order_of_another_site_is_not_found(commerce):
    assert await refused(commerce, "get_order", "NOT_FOUND", site="us", order_id=6) == (
        "NOT_FOUND: order 6 does not exist on site us; list_orders shows the ids")


@pytest.mark.parametrize(
    ("filters", "expected"),
    [({}, [R2, R1]), ({"status": "requested"}, [R1]), ({"order_id": 3}, [R2]), ({"start_date": "2026-11-10"}, [R2]),
     ({"end_date": "2026-11-10", "start_date": "2026-11-01"}, [R1]), ({"limit": 1, "offset": 1}, [R1])],
)
async def test_list_returns(commerce, filters, expected):
    result = await ok(commerce, "list_returns", site="us", **filters)
    assert result == {"total": 2 if "limit" in filters else len(expected), "returns": expected}


async def test_list_returns_refuses_an_order_of_another_site(commerce):
    await refused(commerce, "list_returns", "NOT_FOUND", site="us", order_id=6)


# (on_hand, reserved) per variant in the hand-built store; conftest lists what each order holds.
STOCK = {1: (40, 4), 2: (5, 5), 3: (30, 0), 5: (10, 0)}


@pytest.mark.parametrize(
    ("order_id", "status", "extra", "after", "stock_after", "impact", "stock"),
    [
        (1, "paid", {}, {"status": "paid"}, {}, {}, STOCK),
        (1, "cancelled", {}, {"status": "cancelled"}, {"reserved[MAT-BLU]": 3},
         {"revenue_delta": -25.0, "reserved_delta": -1.0}, STOCK | {1: (40, 3)}),
        (2, "cancelled", {}, {"status": "cancelled"}, {"reserved[MAT-BLU]": 3, "reserved[MAT-RED]": 4},
         {"revenue_delta": -52.0, "reserved_delta": -2.0}, STOCK | {1: (40, 3), 2: (5, 4)}),
        (2, "shipped", {"carrier": "DHL", "tracking_number": "JD0001"},
         {"status": "shipped", "carrier": "DHL", "tracking_number": "JD0001"},
         {"on_hand[MAT-BLU]": 39, "reserved[MAT-BLU]": 3, "on_hand[MAT-RED]": 4, "reserved[MAT-RED]": 4},
         {"on_hand_delta": -2.0, "reserved_delta": -2.0}, STOCK | {1: (39, 3), 2: (4, 4)}),
        (3, "delivered", {}, {"status": "delivered"}, {}, {}, STOCK),
        (4, "returned", {}, {"status": "returned"}, {}, {"revenue_delta": -50.0}, STOCK),
    ],
)
async def test_update_order_status_legal_transitions(commerce, store, order_id, status, extra, after, stock_after, impact, stock):
    args = {"site": "us", "order_id": order_id, "status": status, **extra}
    result = await ok(commerce, "update_order_status", **approved(SECRET, "update_order_status", **args))
    assert (result["after"], result["impact"], result["applied"]) == (after | stock_after, impact, True)
    with store.reader() as s:
        order = s.get_one(Order, order_id)
        assert {k: getattr(order, k) for k in after} == after
        assert {i.variant_id: (i.on_hand, i.reserved) for i in s.scalars(select(InventoryLevel))} == stock


@pytest.mark.parametrize(
    ("order_id", "status", "extra", "message"),
    [
        (1, "delivered", {}, "order US-1001 is pending; it cannot become delivered. Allowed next: paid, cancelled"),
        (1, "shipped", {"carrier": "UPS", "tracking_number": "1Z0001"}, "Allowed next: paid, cancelled"),
        (3, "cancelled", {}, "order US-1003 is shipped; it cannot become cancelled. Allowed next: delivered"),
        (5, "paid", {}, "order US-1005 is cancelled; it cannot become paid. Allowed next: none (it is final)"),
        (2, "shipped", {}, "status shipped needs carrier and tracking_number"),
        (1, "paid", {"carrier": "UPS"}, "carrier and tracking_number apply only when the status becomes shipped"),
    ],
)
async def test_update_order_status_illegal_transitions(commerce, commerce_url, order_id, status, extra, message):
    before = snapshot(commerce_url)
    args = {"site": "us", "order_id": order_id, "status": status, **extra}
    text = await refused(commerce, "update_order_status", "VALIDATION_FAILED",
                         **approved(SECRET, "update_order_status", **args))
    assert message in text
    assert snapshot(commerce_url) == before


async def test_update_order_status_refuses_pending_as_a_target(commerce):
    await refused(commerce, "update_order_status", "VALIDATION_FAILED", site="us", order_id=2, status="pending", dry_run=True)


async def test_mark_order_shipped(commerce, store):
    args = {"site": "us", "order_id": 2, "carrier": "UPS", "tracking_number": "1Z999AA1"}
    dry = await ok(commerce, "mark_order_shipped", **args, dry_run=True)
    assert dry == {
        "tool": "mark_order_shipped", "site": "us", "target": "order #2 US-1002",
        "summary": "status paid → shipped via UPS 1Z999AA1; ships 1 × MAT-BLU, 1 × MAT-RED from stock",
        "dry_run": True, "applied": False, "replayed": False,
        "before": {"status": "paid", "carrier": None, "tracking_number": None,
                   "on_hand[MAT-BLU]": 40, "reserved[MAT-BLU]": 4, "on_hand[MAT-RED]": 5, "reserved[MAT-RED]": 5},
        "after": {"status": "shipped", "carrier": "UPS", "tracking_number": "1Z999AA1",
                  "on_hand[MAT-BLU]": 39, "reserved[MAT-BLU]": 3, "on_hand[MAT-RED]": 4, "reserved[MAT-RED]": 4},
        "changes": [{"field": "status", "before": "paid", "after": "shipped"},
                    {"field": "carrier", "before": None, "after": "UPS"},
                    {"field": "tracking_number", "before": None, "after": "1Z999AA1"},
                    {"field": "on_hand[MAT-BLU]", "before": 40, "after": 39},
                    {"field": "reserved[MAT-BLU]", "before": 4, "after": 3},
                    {"field": "on_hand[MAT-RED]", "before": 5, "after": 4},
                    {"field": "reserved[MAT-RED]", "before": 5, "after": 4}],
        "created_id": None, "impact": {"on_hand_delta": -2.0, "reserved_delta": -2.0},
    }
    applied = await ok(commerce, "mark_order_shipped", **approved(SECRET, "mark_order_shipped", **args))
    assert applied == {**dry, "dry_run": False, "applied": True}
    with store.reader() as s:
        order = s.get_one(Order, 2)
        assert (order.status, order.carrier, order.tracking_number) == ("shipped", "UPS", "1Z999AA1")
        assert order.shipped_at is not None
    again = await refused(commerce, "mark_order_shipped", "VALIDATION_FAILED", **args, dry_run=True)
    assert "order US-1002 is shipped" in again


async def test_mark_order_shipped_refuses_other_sites_and_unpaid_orders(commerce):
    args = {"carrier": "UPS", "tracking_number": "1Z999AA1", "dry_run": True}
    await refused(commerce, "mark_order_shipped", "NOT_FOUND", site="us", order_id=6, **args)
    assert "Allowed next: paid, cancelled" in await refused(commerce, "mark_order_shipped", "VALIDATION_FAILED",
                                                            site="us", order_id=1, **args)


async def test_confirm_return_dry_run_with_refund_and_restock(commerce):
    result = await ok(commerce, "confirm_return", site="us", return_id=1, decision="refunded", restock=True, dry_run=True)
    assert result == {
        "tool": "confirm_return", "site": "us", "target": "return #1 of order US-1004 (2 × MAT-BLU)",
        "summary": "status requested → refunded, restock 2 × MAT-BLU", "dry_run": True, "applied": False,
        "replayed": False, "before": {"status": "requested", "on_hand": 40},
        "after": {"status": "refunded", "on_hand": 42},
        "changes": [{"field": "status", "before": "requested", "after": "refunded"},
                    {"field": "on_hand", "before": 40, "after": 42}],
        "created_id": None, "impact": {"on_hand_delta": 2.0, "refund_amount": 50.0},
    }


async def test_confirm_then_refund_restocks_once(commerce, store):
    confirm = {"site": "us", "return_id": 1, "decision": "confirmed", "restock": True}
    await ok(commerce, "confirm_return", **approved(SECRET, "confirm_return", operation_id=1, **confirm))
    refund_restock = {"site": "us", "return_id": 1, "decision": "refunded", "restock": True}
    text = await refused(commerce, "confirm_return", "VALIDATION_FAILED",
                         **approved(SECRET, "confirm_return", operation_id=2, **refund_restock))
    assert "restock applies only when a requested return" in text
    refund = {"site": "us", "return_id": 1, "decision": "refunded"}
    result = await ok(commerce, "confirm_return", **approved(SECRET, "confirm_return", operation_id=3, **refund))
    assert (result["before"], result["after"], result["impact"]) == (
        {"status": "confirmed"}, {"status": "refunded"}, {"refund_amount": 50.0})
    with store.reader() as s:
        assert s.get_one(InventoryLevel, 1).on_hand == 42
        ret = s.get_one(Return, 1)
        assert ret.status == "refunded" and ret.resolved_at is not None


@pytest.mark.parametrize(
    ("return_id", "decision", "restock", "code", "message"),
    [
        (1, "rejected", True, "VALIDATION_FAILED", "restock applies only"),
        (2, "refunded", False, "VALIDATION_FAILED", "return 2 is rejected; it cannot become refunded. Allowed next: none"),
        (3, "confirmed", False, "NOT_FOUND", "return 3 does not exist on site us; list_returns shows the ids"),
    ],
)
async def test_confirm_return_refusals(commerce, return_id, decision, restock, code, message):
    text = await refused(commerce, "confirm_return", code, site="us", return_id=return_id, decision=decision,
                         restock=restock, dry_run=True)
    assert message in text
