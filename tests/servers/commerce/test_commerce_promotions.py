"""Promotions: discount codes and coupons (list, create, disable, pause, budget)."""

from __future__ import annotations

import pytest

from servers.market.models import Coupon, DiscountCode
from tests.servers.commerce.calls import approved, ok, refused, snapshot
from tests.servers.commerce.conftest import SECRET

pytestmark = pytest.mark.anyio

WELCOME = {"id": 1, "code": "WELCOME10", "kind": "percent", "value": 10.0, "starts_at": "2026-01-01T00:00:00",
           "ends_at": None, "usage_limit": None, "used_count": 12, "status": "active"}
OLD5 = {"id": 2, "code": "OLD5", "kind": "fixed", "value": 5.0, "starts_at": "2025-01-01T00:00:00",
        "ends_at": "2025-12-31T00:00:00", "usage_limit": 100, "used_count": 100, "status": "disabled"}
MAT_COUPON = {"id": 1, "variant_id": 1, "sku": "MAT-BLU", "kind": "percent", "value": 15.0, "budget": 100.0, "spent": 40.0,
              "budget_left": 60.0, "status": "active", "starts_at": "2026-11-01T00:00:00", "ends_at": "2026-11-30T00:00:00"}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [({}, [OLD5, WELCOME]), ({"status": "active"}, [WELCOME]), ({"search": "old"}, [OLD5]), ({"limit": 1}, [OLD5])],
)
async def test_list_discount_codes(commerce, filters, expected):
    result = await ok(commerce, "list_discount_codes", site="us", **filters)
    assert result == {"total": 2 if "limit" in filters else len(expected), "discount_codes": expected}


@pytest.mark.parametrize(
    ("site", "filters", "expected"),
    [
        ("us", {}, [MAT_COUPON]),
        ("us", {"sku": "MAT-BLU"}, [MAT_COUPON]),
        ("us", {"status": "paused"}, []),
        ("de", {}, [{"id": 2, "variant_id": 5, "sku": "MAT-BLU", "kind": "fixed", "value": 2.0, "budget": 50.0,
                     "spent": 0.0, "budget_left": 50.0, "status": "active", "starts_at": "2026-11-01T00:00:00",
                     "ends_at": None}]),
    ],
)
async def test_list_coupons(commerce, site, filters, expected):
    assert await ok(commerce, "list_coupons", site=site, **filters) == {"total": len(expected), "coupons": expected}


async def test_create_discount_code(commerce, store):
    args = {"site": "us", "code": "spring20", "kind": "percent", "value": 20}
    dry = await ok(commerce, "create_discount_code", **args, dry_run=True)
    after = {"code": "SPRING20", "kind": "percent", "value": 20, "starts_at": "2026-11-20T00:00:00", "ends_at": None,
             "usage_limit": None, "status": "active"}
    assert dry == {
        "tool": "create_discount_code", "site": "us", "target": "discount code SPRING20",
        "summary": "new code SPRING20: 20% off", "dry_run": True, "applied": False, "replayed": False,
        "before": {}, "after": after,
        "changes": [{"field": k, "before": None, "after": after[k]} for k in ("code", "kind", "value", "starts_at", "status")],
        "created_id": None, "impact": {},
    }
    applied = await ok(commerce, "create_discount_code", **approved(SECRET, "create_discount_code", **args))
    assert applied == {**dry, "dry_run": False, "applied": True, "created_id": 4}
    listed = await ok(commerce, "list_discount_codes", site="us", search="SPRING")
    assert listed["discount_codes"] == [{"id": 4, "code": "SPRING20", "kind": "percent", "value": 20.0,
                                         "starts_at": "2026-11-20T00:00:00", "ends_at": None, "usage_limit": None,
                                         "used_count": 0, "status": "active"}]


async def test_create_discount_code_with_a_window_and_limit(commerce, store):
    args = {"site": "de", "code": "WELCOME10", "kind": "fixed", "value": 5, "starts_on": "2026-12-01",
            "ends_on": "2026-12-24", "usage_limit": 500}
    result = await ok(commerce, "create_discount_code", **approved(SECRET, "create_discount_code", **args))
    assert result["after"] == {"code": "WELCOME10", "kind": "fixed", "value": 5, "starts_at": "2026-12-01T00:00:00",
                               "ends_at": "2026-12-24T23:59:59", "usage_limit": 500, "status": "active"}
    with store.reader() as s:
        assert s.get_one(DiscountCode, result["created_id"]).site_id == "de"  # the same code on another site is fine


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ({"code": "welcome10", "kind": "percent", "value": 5}, "CONFLICT",
         "discount code WELCOME10 already exists on us (id 1, active); pick another code"),
        ({"code": "HALF", "kind": "percent", "value": 150}, "VALIDATION_FAILED", "at most 100"),
        ({"code": "X1", "kind": "percent", "value": 5}, "VALIDATION_FAILED", "code"),
        ({"code": "TWO WORDS", "kind": "percent", "value": 5}, "VALIDATION_FAILED", "code"),
        ({"code": "ZERO", "kind": "fixed", "value": 0}, "VALIDATION_FAILED", "value"),
        ({"code": "LATE", "kind": "fixed", "value": 5, "starts_on": "2026-12-24", "ends_on": "2026-12-01"},
         "VALIDATION_FAILED", "starts_on 2026-12-24 is after ends_on 2026-12-01"),
    ],
)
async def test_create_discount_code_refusals(commerce, commerce_url, args, code, message):
    before = snapshot(commerce_url)
    text = await refused(commerce, "create_discount_code", code, **approved(SECRET, "create_discount_code", site="us", **args))
    assert message in text
    assert snapshot(commerce_url) == before


async def test_disable_discount_code(commerce, store):
    result = await ok(commerce, "disable_discount_code", **approved(SECRET, "disable_discount_code", site="us",
                                                                     discount_code_id=1))
    assert (result["target"], result["before"], result["after"]) == (
        "discount code #1 WELCOME10", {"status": "active"}, {"status": "disabled"})
    with store.reader() as s:
        assert s.get_one(DiscountCode, 1).status == "disabled"


@pytest.mark.parametrize(("code_id", "code", "message"), [
    (2, "VALIDATION_FAILED", "discount code OLD5 is disabled; only active codes can be disabled"),
    (3, "NOT_FOUND", "discount code 3 does not exist on site us; list_discount_codes shows the ids"),
])
async def test_disable_discount_code_refusals(commerce, code_id, code, message):
    assert message in await refused(commerce, "disable_discount_code", code, site="us", discount_code_id=code_id,
                                    dry_run=True)


async def test_create_coupon(commerce):
    args = {"site": "us", "variant_id": 3, "kind": "fixed", "value": 2, "budget": 80, "ends_on": "2026-12-31"}
    result = await ok(commerce, "create_coupon", **approved(SECRET, "create_coupon", **args))
    assert {k: result[k] for k in ("target", "summary", "before", "after", "impact", "created_id")} == {
        "target": "coupon on variant #3 BLK-1", "summary": "new coupon 2.00 off BLK-1, budget 80.00", "before": {},
        "after": {"variant_id": 3, "kind": "fixed", "value": 2, "budget": 80, "starts_at": "2026-11-20T00:00:00",
                  "ends_at": "2026-12-31T23:59:59", "status": "active"},
        "impact": {"budget_delta": 80.0}, "created_id": 3,
    }
    listed = await ok(commerce, "list_coupons", site="us", sku="BLK-1")
    assert listed["coupons"][0] == {"id": 3, "variant_id": 3, "sku": "BLK-1", "kind": "fixed", "value": 2.0,
                                               "budget": 80.0, "spent": 0.0, "budget_left": 80.0, "status": "active",
                                               "starts_at": "2026-11-20T00:00:00", "ends_at": "2026-12-31T23:59:59"}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ({"variant_id": 1, "kind": "percent", "value": 10, "budget": 50}, "CONFLICT",
         "MAT-BLU already has coupon 1 (active); update_coupon changes it"),
        ({"variant_id": 3, "kind": "fixed", "value": 12, "budget": 50}, "VALIDATION_FAILED", "below the price of BLK-1"),
        ({"variant_id": 5, "kind": "fixed", "value": 1, "budget": 50}, "NOT_FOUND", "list_variants shows the ids"),
        ({"variant_id": 3, "kind": "percent", "value": 10, "budget": 0}, "VALIDATION_FAILED", "budget"),
    ],
)
async def test_create_coupon_refusals(commerce, args, code, message):
    assert message in await refused(commerce, "create_coupon", code, site="us", dry_run=True, **args)


async def test_update_coupon_pause_and_budget(commerce, store):
    args = {"site": "us", "coupon_id": 1, "status": "paused", "budget": 150}
    result = await ok(commerce, "update_coupon", **approved(SECRET, "update_coupon", **args))
    assert (result["before"], result["after"], result["impact"], result["summary"]) == (
        {"status": "active", "budget": 100.0}, {"status": "paused", "budget": 150.0}, {"budget_delta": 50.0},
        "status: active → paused; budget: 100.0 → 150.0")
    with store.reader() as s:
        coupon = s.get_one(Coupon, 1)
        assert (coupon.status, coupon.budget) == ("paused", 150.0)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ({"budget": 30}, "VALIDATION_FAILED", "already spent 40.00"),
        ({}, "VALIDATION_FAILED", "pass status and/or budget"),
        ({"status": "active", "budget": 100}, "VALIDATION_FAILED", "nothing to change"),
        ({"status": "ended"}, "VALIDATION_FAILED", "status"),
    ],
)
async def test_update_coupon_refusals(commerce, args, code, message):
    assert message in await refused(commerce, "update_coupon", code, site="us", coupon_id=1, dry_run=True, **args)


async def test_update_coupon_of_another_site_is_not_found(commerce):
    await refused(commerce, "update_coupon", "NOT_FOUND", site="us", coupon_id=2, status="paused", dry_run=True)
