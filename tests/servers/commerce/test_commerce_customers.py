"""Customers and PII: list_customers, get_customer, and get_order's customer, masked unless granted."""

from __future__ import annotations

import pytest

from servers.commerce.pii import mask_email, mask_phone
from servers.common.approval import sign_approval, sign_pii_grant
from tests.servers.commerce.calls import ok, refused
from tests.servers.commerce.conftest import SECRET
from tests.servers.commerce.test_commerce_orders import O1, O2, O5

pytestmark = pytest.mark.anyio

# Jane: 3 orders; only the paid one (52) counts as spent: pending and cancelled are not revenue.
JANE = {"id": 1, "name": "Jane Doe", "email": "j***@example.com", "phone": "***-***-1234", "country": "US",
        "created_at": "2025-06-01T00:00:00", "order_count": 3, "total_spent": 52.0, "last_order_at": "2026-11-19T10:00:00"}
BOB = {"id": 2, "name": "Bob Ray", "email": "b***@mail.test", "phone": "***-***-9876", "country": "CA",
       "created_at": "2025-07-01T00:00:00", "order_count": 2, "total_spent": 62.0, "last_order_at": "2026-11-10T08:00:00"}
JANE_UNMASKED = {**JANE, "email": "jane@example.com", "phone": "+1 (555) 010-1234"}
BOB_UNMASKED = {**BOB, "email": "bob.ray@mail.test", "phone": "555 010 9876"}


def grant(site: str = "us", **kwargs) -> str:
    return sign_pii_grant(SECRET, audience="commerce", site=site, subject="manager@demo.local", **kwargs)


async def test_list_customers_masked_by_default(commerce):
    assert await ok(commerce, "list_customers", site="us") == {"total": 2, "masked": True, "customers": [JANE, BOB]}


async def test_list_customers_unmasked_with_a_grant(commerce):
    assert await ok(commerce, "list_customers", site="us", pii_grant=grant()) == {
        "total": 2, "masked": False, "customers": [JANE_UNMASKED, BOB_UNMASKED]}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"country": "ca"}, [BOB]),
        ({"search": "JANE"}, [JANE]),
        ({"sort_by": "total_spent", "descending": True}, [BOB, JANE]),
        ({"sort_by": "order_count", "descending": True}, [JANE, BOB]),
        ({"sort_by": "name"}, [BOB, JANE]),
        ({"limit": 1, "offset": 1}, [BOB]),
    ],
)
async def test_list_customers_filters_sorts_pages(commerce, filters, expected):
    result = await ok(commerce, "list_customers", site="us", **filters)
    assert result == {"total": 2 if "limit" in filters else len(expected), "masked": True, "customers": expected}


async def test_get_customer_masked_and_unmasked(commerce):
    masked = await ok(commerce, "get_customer", site="us", customer_id=1)
    assert masked == {"customer": JANE, "masked": True, "recent_orders": [O1, O2, O5]}
    unmasked = await ok(commerce, "get_customer", site="us", customer_id=1, pii_grant=grant())
    assert unmasked == {"customer": JANE_UNMASKED, "masked": False, "recent_orders": [O1, O2, O5]}


async def test_get_customer_of_another_site_is_not_found(commerce):
    assert await refused(commerce, "get_customer", "NOT_FOUND", site="us", customer_id=3) == (
        "NOT_FOUND: customer 3 does not exist on site us; list_customers shows the ids")


async def test_get_order_unmasked_with_a_grant(commerce):
    result = await ok(commerce, "get_order", site="us", order_id=4, pii_grant=grant())
    assert result["customer"] == {"id": 2, "name": "Bob Ray", "email": "bob.ray@mail.test", "phone": "555 010 9876",
                                  "country": "CA", "masked": False}


@pytest.mark.parametrize(
    ("bad_grant", "message"),
    [
        (grant("de", ttl_s=86_400), "the PII grant is for site 'de', not 'us'"),
        (sign_pii_grant("forged-secret", audience="commerce", site="us", subject="x"), "bad signature"),
        (grant(ttl_s=-10), "expired"),
        (sign_approval(SECRET, audience="commerce", operation_id=1, tool="list_customers", arguments={"site": "us"}, ttl_s=86_400), "bad signature"),
        ("garbage", "malformed"),
    ],
)
@pytest.mark.parametrize(("tool", "target"), [("list_customers", {}), ("get_customer", {"customer_id": 1}),
                                              ("get_order", {"order_id": 4})])
async def test_a_bad_grant_is_refused_not_ignored(commerce, tool, target, bad_grant, message):
    text = await refused(commerce, tool, "PERMISSION_DENIED", site="us", pii_grant=bad_grant, **target)
    assert message in text
    assert "@" not in text  # nothing of the customer leaks into the refusal


@pytest.mark.parametrize(("email", "phone", "masked_email", "masked_phone"), [
    ("jane@example.com", "+1 (555) 010-1234", "j***@example.com", "***-***-1234"),
    ("x@y.z", "12", "x***@y.z", "***"),
    ("no-at-sign", "", "***", "***"),
])
def test_masking_rules(email, phone, masked_email, masked_phone):
    assert (mask_email(email), mask_phone(phone)) == (masked_email, masked_phone)
