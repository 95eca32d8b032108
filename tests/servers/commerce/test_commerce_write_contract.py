"""The write contract on every commerce write: dry run, approval token, idempotency, stale `before`."""

from __future__ import annotations

from typing import Any

import pytest

from servers.common.approval import sign_approval, sign_pii_grant
from servers.market.models import InventoryLevel, Variant
from tests.servers.commerce.calls import approved, ok, refused, snapshot
from tests.servers.commerce.conftest import SECRET

# Parametrised tokens are signed at collection time; a long suite must not outlive the ones meant to be valid.
DAY = 86_400

pytestmark = pytest.mark.anyio

# One valid call per write tool (business arguments only); every one must honour the contract.
WRITES: dict[str, dict[str, Any]] = {
    "update_price": {"site": "us", "variant_id": 1, "price": 22.5},
    "update_inventory": {"site": "us", "variant_id": 1, "reason": "PO 1234 placed", "add_inbound": 50},
    "update_product_status": {"site": "us", "product_id": 2, "status": "active"},
    "update_order_status": {"site": "us", "order_id": 1, "status": "paid"},
    "mark_order_shipped": {"site": "us", "order_id": 2, "carrier": "UPS", "tracking_number": "1Z999AA1"},
    "confirm_return": {"site": "us", "return_id": 1, "decision": "confirmed", "restock": True},
    "create_discount_code": {"site": "us", "code": "SPRING20", "kind": "percent", "value": 20},
    "disable_discount_code": {"site": "us", "discount_code_id": 1},
    "create_coupon": {"site": "us", "variant_id": 3, "kind": "fixed", "value": 2, "budget": 80},
    "update_coupon": {"site": "us", "coupon_id": 1, "status": "paused"},
    "commit_product_import": {"site": "us", "rows": [
        {"sku": "STRAP-1", "title": "Yoga Strap", "price": 9.5, "category": "Yoga", "stock": 12}]},
}


@pytest.mark.parametrize("tool", sorted(WRITES))
async def test_dry_run_describes_without_writing(commerce, commerce_url, tool):
    before = snapshot(commerce_url)
    result = await ok(commerce, tool, **WRITES[tool], dry_run=True)
    assert (result["tool"], result["site"], result["dry_run"], result["applied"]) == (tool, "us", True, False)
    assert result["changes"], "a proposal that changes nothing is refused, not proposed"
    assert snapshot(commerce_url) == before


@pytest.mark.parametrize("tool", sorted(WRITES))
async def test_without_a_token_nothing_is_written(commerce, commerce_url, tool):
    before = snapshot(commerce_url)
    text = await refused(commerce, tool, "CONFIRMATION_REQUIRED", **WRITES[tool])
    assert "dry_run" in text
    assert snapshot(commerce_url) == before


@pytest.mark.parametrize("tool", sorted(WRITES))
async def test_a_token_applies_once_and_a_redelivery_replays(commerce, commerce_url, tool):
    call = approved(SECRET, tool, operation_id=41, **WRITES[tool])
    first = await ok(commerce, tool, **call)
    assert (first["applied"], first["replayed"], first["dry_run"]) == (True, False, False)
    after_first = snapshot(commerce_url)
    again = await ok(commerce, tool, **call)
    assert again == {**first, "replayed": True}
    assert snapshot(commerce_url) == after_first


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (sign_approval(SECRET, audience="commerce", operation_id=1, tool="update_inventory", arguments=WRITES["update_price"], ttl_s=DAY), "issued for"),
        (sign_approval(SECRET, audience="commerce", operation_id=1, tool="update_price", arguments={**WRITES["update_price"], "price": 1.0}, ttl_s=DAY),
         "does not cover"),
        (sign_approval("another-secret", audience="commerce", operation_id=1, tool="update_price", arguments=WRITES["update_price"]),
         "bad signature"),
        (sign_approval(SECRET, audience="commerce", operation_id=1, tool="update_price", arguments=WRITES["update_price"], ttl_s=-10), "expired"),
        (sign_pii_grant(SECRET, audience="commerce", site="us", subject="x", ttl_s=DAY), "bad signature"),
        (sign_approval(SECRET, audience="ads", operation_id=1, tool="update_price", arguments=WRITES["update_price"],
                       ttl_s=DAY), "issued for server 'ads', not 'commerce'"),
        ("not-a-token", "malformed"),
    ],
)
async def test_tokens_for_something_else_are_refused(commerce, commerce_url, token, reason):
    before = snapshot(commerce_url)
    text = await refused(commerce, "update_price", "CONFIRMATION_REQUIRED", **WRITES["update_price"], approval_token=token)
    assert reason in text
    assert snapshot(commerce_url) == before


async def test_update_price_applies_with_impact(commerce, store):
    result = await ok(commerce, "update_price", **approved(SECRET, "update_price", **WRITES["update_price"]))
    assert result == {
        "tool": "update_price", "site": "us", "target": "variant #1 MAT-BLU", "summary": "price 25.00 → 22.50",
        "dry_run": False, "applied": True, "replayed": False, "before": {"price": 25.0}, "after": {"price": 22.5},
        "changes": [{"field": "price", "before": 25.0, "after": 22.5}], "created_id": None,
        # 6 units a day × −2.50
        "impact": {"daily_revenue_delta": -15.0, "unit_margin_after": 12.5},
    }
    with store.reader() as s:
        assert s.get_one(Variant, 1).price == 22.5


@pytest.mark.parametrize("key", [None, "op-7", "another-key"])
async def test_an_additive_write_redelivered_adds_once_whatever_key_it_carries(commerce, store, key):
    """A captured token replayed with its key, a new key or none: the nonce in the token is what is spent."""
    call = approved(SECRET, "update_inventory", **WRITES["update_inventory"])
    first = await ok(commerce, "update_inventory", **call, idempotency_key="op-7")
    again = await ok(commerce, "update_inventory", **call, **({"idempotency_key": key} if key else {}))
    assert (first["replayed"], again["replayed"]) == (False, True)
    with store.reader() as s:
        assert s.get_one(InventoryLevel, 1).inbound == 50


async def test_a_nonce_spent_on_other_arguments_is_a_conflict(commerce, store):
    await ok(commerce, "update_price", **approved(SECRET, "update_price", 1, **WRITES["update_price"]))
    other = {**WRITES["update_price"], "price": 21.0}
    text = await refused(commerce, "update_price", "CONFLICT", **approved(SECRET, "update_price", 1, **other))
    assert "already used for a different write" in text
    with store.reader() as s:
        assert s.get_one(Variant, 1).price == 22.5


async def test_a_refused_approval_stays_refused_when_redelivered(commerce, store):
    """A token refused once (the target had changed) cannot be spent later, when the value is back."""
    call = {**approved(SECRET, "update_price", **WRITES["update_price"]), "expected_before": {"price": 24.0}}
    await refused(commerce, "update_price", "CONFLICT", **call)
    with store.session() as s:
        s.get_one(Variant, 1).price = 24.0
    text = await refused(commerce, "update_price", "CONFLICT", **call)
    assert "already used and the write was refused" in text
    with store.reader() as s:
        assert s.get_one(Variant, 1).price == 24.0


async def test_a_stale_before_is_a_conflict_and_writes_nothing(commerce, commerce_url):
    before = snapshot(commerce_url)
    text = await refused(commerce, "update_price", "CONFLICT", **approved(SECRET, "update_price", **WRITES["update_price"]),
                         expected_before={"price": 24.0})
    assert text == ("CONFLICT: variant #1 MAT-BLU changed since the proposal: price was 24.0, is now 25.0; "
                    "reject this operation and propose again from the current value")
    assert snapshot(commerce_url) == before


async def test_the_before_the_approver_saw_lets_the_write_through(commerce):
    result = await ok(commerce, "update_price", **approved(SECRET, "update_price", **WRITES["update_price"]),
                      expected_before={"price": 25.0})
    assert result["applied"] is True


@pytest.mark.parametrize("tool", sorted(WRITES))
async def test_writes_need_a_known_site(commerce, tool):
    await refused(commerce, tool, "SITE_SCOPE_REQUIRED", **{**WRITES[tool], "site": "fr"}, dry_run=True)


async def test_write_annotations_are_honest(commerce):
    tools = {t.name: t.annotations for t in (await commerce.list_tools()).tools}
    hints = {name: (a.read_only_hint, a.destructive_hint, a.idempotent_hint) for name, a in tools.items() if name in WRITES}
    assert hints == {
        "update_price": (False, False, True),
        "update_inventory": (False, False, False),  # add_inbound adds again on every new call
        "update_product_status": (False, False, True),
        "update_order_status": (False, True, True),  # cancelling cannot be undone
        "mark_order_shipped": (False, False, True),
        "confirm_return": (False, True, True),  # a refund cannot be undone
        "create_discount_code": (False, False, False),
        "disable_discount_code": (False, True, True),  # there is no re-enable
        "create_coupon": (False, False, False),
        "update_coupon": (False, False, True),
        "commit_product_import": (False, False, False),
    }
    reads = {name for name, a in tools.items() if a.read_only_hint}
    assert reads == set(tools) - set(WRITES)
    assert len(tools) == 25  # 24 of the store and get_write_status


@pytest.mark.parametrize("price", [20, 20.0, 20.00])
async def test_the_token_covers_the_arguments_as_sent(commerce, store, price):
    """Validation turns 20 into 20.0; the token still matches, because the server hashes what was sent."""
    args = {"site": "us", "variant_id": 1, "price": price}
    result = await ok(commerce, "update_price", **approved(SECRET, "update_price", **args))
    assert result["after"] == {"price": 20.0}


async def test_an_omitted_default_is_not_part_of_what_was_approved(commerce):
    """The bridge signs what the model sent; `restock` left out must not turn into `restock: false` in the hash."""
    args = {"site": "us", "return_id": 1, "decision": "rejected"}
    result = await ok(commerce, "confirm_return", **approved(SECRET, "confirm_return", **args))
    assert result["after"] == {"status": "rejected"}


async def test_get_write_status_answers_from_the_ledger(commerce):
    call = approved(SECRET, "update_price", 5, **WRITES["update_price"])
    applied = await ok(commerce, "update_price", **call)
    status = await ok(commerce, "get_write_status", site="us", nonce="test-nonce-000000000005")
    assert (status["state"], status["tool"], status["result"]) == ("applied", "update_price", applied)
    assert (await ok(commerce, "get_write_status", site="us", nonce="test-nonce-000000000006"))["state"] == "unknown"
