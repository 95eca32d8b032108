"""Inventory: get_inventory_levels (days of supply in SQL) and update_inventory."""

from __future__ import annotations

import pytest

from servers.market.models import InventoryLevel
from tests.servers.commerce.calls import approved, ok, refused, snapshot
from tests.servers.commerce.conftest import SECRET

pytestmark = pytest.mark.anyio

STAMP = "2026-11-19T06:00:00"
MAT_BLU = {"variant_id": 1, "product_id": 1, "sku": "MAT-BLU", "title": "Yoga Mat Pro", "option": "Blue", "on_hand": 40,
           "reserved": 4, "available": 36, "inbound": 0, "velocity_per_day": 6.0, "lead_time_days": 14,
           "days_of_supply": 6.0, "updated_at": STAMP}
MAT_RED = {"variant_id": 2, "product_id": 1, "sku": "MAT-RED", "title": "Yoga Mat Pro", "option": "Red", "on_hand": 5,
           "reserved": 5, "available": 0, "inbound": 20, "velocity_per_day": 2.0, "lead_time_days": 10,
           "days_of_supply": 0.0, "updated_at": STAMP}
BLOCK = {"variant_id": 3, "product_id": 2, "sku": "BLK-1", "title": "Cork Yoga Block", "option": "", "on_hand": 30,
         "reserved": 0, "available": 30, "inbound": 0, "velocity_per_day": 0.0, "lead_time_days": 14,
         "days_of_supply": None, "updated_at": STAMP}


async def test_levels_most_urgent_first_and_unsold_last(commerce):
    assert await ok(commerce, "get_inventory_levels", site="us") == {"total": 3, "levels": [MAT_RED, MAT_BLU, BLOCK]}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"max_days_of_supply": 5}, [MAT_RED]),
        ({"max_days_of_supply": 6}, [MAT_RED, MAT_BLU]),
        ({"out_of_stock": True}, [MAT_RED]),
        ({"out_of_stock": False}, [MAT_BLU, BLOCK]),
        ({"sku": "BLK-1"}, [BLOCK]),
        ({"product_id": 1}, [MAT_RED, MAT_BLU]),
        ({"sort_by": "days_of_supply", "descending": True}, [MAT_BLU, MAT_RED, BLOCK]),
        ({"sort_by": "velocity_per_day", "descending": True}, [MAT_BLU, MAT_RED, BLOCK]),
        ({"sort_by": "inbound", "descending": True, "limit": 1}, [MAT_RED]),
    ],
)
async def test_level_filters_and_sorts(commerce, filters, expected):
    result = await ok(commerce, "get_inventory_levels", site="us", **filters)
    assert result["levels"] == expected
    assert result["total"] == (3 if "limit" in filters else len(expected))


async def test_levels_stay_inside_their_site(commerce):
    de = await ok(commerce, "get_inventory_levels", site="de")
    assert [(level["variant_id"], level["days_of_supply"]) for level in de["levels"]] == [(5, 10.0)]
    await refused(commerce, "get_inventory_levels", "NOT_FOUND", site="de", product_id=1)


async def test_update_inventory_dry_run(commerce):
    result = await ok(commerce, "update_inventory", site="us", variant_id=1, on_hand=42, reason="cycle count", dry_run=True)
    assert result == {
        "tool": "update_inventory", "site": "us", "target": "inventory of variant #1 MAT-BLU",
        "summary": "on_hand 40 → 42 (cycle count)", "dry_run": True, "applied": False, "replayed": False,
        "before": {"on_hand": 40, "inbound": 0}, "after": {"on_hand": 42, "inbound": 0},
        "changes": [{"field": "on_hand", "before": 40, "after": 42}], "created_id": None,
        "impact": {"on_hand_delta": 2.0, "inbound_delta": 0.0},
    }


async def test_update_inventory_sets_on_hand_and_adds_inbound(commerce, store):
    args = {"site": "us", "variant_id": 2, "on_hand": 0, "add_inbound": 30, "reason": "recount, PO 77"}
    result = await ok(commerce, "update_inventory", **approved(SECRET, "update_inventory", **args))
    assert (result["before"], result["after"]) == ({"on_hand": 5, "inbound": 20}, {"on_hand": 0, "inbound": 50})
    with store.reader() as s:
        level = s.get_one(InventoryLevel, 2)
        assert (level.on_hand, level.inbound, level.reserved) == (0, 50, 5)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ({"variant_id": 1}, "VALIDATION_FAILED", "pass on_hand"),
        ({"variant_id": 1, "add_inbound": -1}, "VALIDATION_FAILED", "inbound would drop to -1"),
        ({"variant_id": 1, "on_hand": 40}, "VALIDATION_FAILED", "nothing to change"),
        ({"variant_id": 1, "on_hand": -3}, "VALIDATION_FAILED", "on_hand"),
        ({"variant_id": 4, "on_hand": 3}, "VALIDATION_FAILED", "no inventory record"),
        ({"variant_id": 5, "on_hand": 3}, "NOT_FOUND", "variant 5 does not exist on site us; list_variants shows the ids"),
    ],
)
async def test_update_inventory_refusals(commerce, commerce_url, args, code, message):
    before = snapshot(commerce_url)
    text = await refused(commerce, "update_inventory", code, site="us", reason="cycle count", dry_run=True, **args)
    assert message in text
    assert snapshot(commerce_url) == before
