"""Argument types shared by the commerce tools (descriptions are what the model reads)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from servers.common import money
from servers.common.inputs import INT_MAX

Site = Annotated[str, Field(description="Site id the call acts on, e.g. 'us', 'de', 'jp'")]
Limit = Annotated[int, Field(ge=1, le=500, description="Page size (at most 500)")]
Offset = Annotated[int, Field(ge=0, le=INT_MAX, description="Rows to skip, for the next page")]
Descending = Annotated[bool, Field(description="Sort from largest to smallest")]
StartDate = Annotated[str | None, Field(description="First day, ISO date (default: 30 days before end_date)")]
EndDate = Annotated[str | None, Field(description="Last day, ISO date (default: today)")]
PiiGrant = Annotated[
    str | None,
    Field(description="PII grant from the console; without one, emails and phones are masked"),
]

# Sanity ceilings of the values themselves (servers/common/money.py); the bridge's per-site limits are policy.
Price = Annotated[float, Field(gt=0, le=money.PRICE.high, description="Price in the site's currency")]
UNITS_MAX = 10_000_000  # units of one SKU: on hand, inbound, imported stock

DryRun = Annotated[bool, Field(description="Only describe the change (before → after); needs no approval")]
Token = Annotated[str | None, Field(description="Approval token from the console; required unless dry_run")]
IdemKey = Annotated[str | None, Field(description="Idempotency key: a repeated delivery is not applied twice")]
Before = Annotated[dict[str, Any] | None, Field(description="Values the approver saw; a mismatch answers CONFLICT")]


def _id(noun: str, listed_by: str) -> Any:
    return Field(ge=1, le=INT_MAX, description=f"{noun} id ({listed_by} shows them)")


ProductId = Annotated[int, _id("Product", "list_products")]
VariantId = Annotated[int, _id("Variant", "list_variants")]
OrderId = Annotated[int, _id("Order", "list_orders")]
CustomerId = Annotated[int, _id("Customer", "list_customers")]
ReturnId = Annotated[int, _id("Return", "list_returns")]
CouponId = Annotated[int, _id("Coupon", "list_coupons")]
DiscountCodeId = Annotated[int, _id("Discount code", "list_discount_codes")]
ProductFilter = Annotated[int | None, Field(ge=1, le=INT_MAX, description="Only this product (list_products shows the ids)")]
CategoryFilter = Annotated[int | None, Field(ge=1, le=INT_MAX, description="Only this category (list_categories shows the ids)")]
OrderFilter = Annotated[int | None, Field(ge=1, le=INT_MAX, description="Only this order (list_orders shows the ids)")]
CustomerFilter = Annotated[int | None, Field(ge=1, le=INT_MAX, description="Only this customer (list_customers shows the ids)")]
