"""Result types of the commerce tools (each gives its tool an outputSchema and structured content)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

# --- catalogue ---------------------------------------------------------------------------------


class ProductSummary(BaseModel):
    id: int
    title: str
    brand: str
    status: str
    category_id: int | None
    category: str | None
    variant_count: int
    total_stock: int = Field(description="Units on hand over all variants")
    min_price: float | None
    max_price: float | None
    created_at: dt.datetime


class ProductList(BaseModel):
    total: int = Field(description="Products matching the filters, over all pages")
    products: list[ProductSummary]


class VariantInfo(BaseModel):
    id: int
    product_id: int
    product_title: str
    sku: str
    asin: str
    option: str
    price: float
    cost: float
    status: str
    on_hand: int | None = Field(description="None when the variant has no inventory record")
    reserved: int | None
    inbound: int | None


class VariantList(BaseModel):
    total: int
    variants: list[VariantInfo]


class RatingSummary(BaseModel):
    count: int
    average: float | None = Field(description="Mean star rating, None without reviews")
    by_star: dict[str, int] = Field(description="Number of reviews per star, '1' to '5'")


class ProductDetail(BaseModel):
    id: int
    title: str
    brand: str
    description: str
    status: str
    category_id: int | None
    category: str | None
    created_at: dt.datetime
    total_stock: int
    variants: list[VariantInfo]
    rating: RatingSummary


class CategoryInfo(BaseModel):
    id: int
    name: str
    parent_id: int | None
    product_count: int
    active_product_count: int


class CategoryList(BaseModel):
    categories: list[CategoryInfo]


class InventoryLevelInfo(BaseModel):
    variant_id: int
    product_id: int
    sku: str
    title: str
    option: str
    on_hand: int
    reserved: int
    available: int = Field(description="on_hand - reserved")
    inbound: int
    velocity_per_day: float = Field(description="Units sold per day, trailing 30 days")
    lead_time_days: int
    days_of_supply: float | None = Field(description="available / velocity; 0 when out of stock, None when nothing sells")
    updated_at: dt.datetime


class InventoryLevelList(BaseModel):
    total: int
    levels: list[InventoryLevelInfo]


# --- orders, returns, customers -------------------------------------------------------------


class OrderSummary(BaseModel):
    id: int
    number: str
    status: str
    placed_at: dt.datetime
    total: float
    currency: str
    customer_id: int
    customer_name: str
    item_count: int = Field(description="Units over all lines")
    shipped_at: dt.datetime | None
    carrier: str | None
    tracking_number: str | None


class OrderList(BaseModel):
    total: int
    orders: list[OrderSummary]


class OrderItemInfo(BaseModel):
    id: int
    variant_id: int
    sku: str
    title: str
    quantity: int
    unit_price: float
    line_total: float


class ReturnInfo(BaseModel):
    id: int
    order_id: int
    order_number: str
    order_item_id: int
    sku: str
    quantity: int
    reason: str
    status: str
    created_at: dt.datetime
    resolved_at: dt.datetime | None


class ReturnList(BaseModel):
    total: int
    returns: list[ReturnInfo]


class CustomerContact(BaseModel):
    id: int
    name: str
    email: str
    phone: str
    country: str
    masked: bool = Field(description="True when email and phone are masked (no PII grant)")


class OrderDetail(BaseModel):
    order: OrderSummary
    next_statuses: list[str] = Field(description="Statuses update_order_status accepts from here")
    items: list[OrderItemInfo]
    customer: CustomerContact
    returns: list[ReturnInfo]


class CustomerSummary(BaseModel):
    id: int
    name: str
    email: str
    phone: str
    country: str
    created_at: dt.datetime
    order_count: int = Field(description="All orders, any status")
    total_spent: float = Field(description="Sum of paid-or-later order totals (pending and cancelled excluded)")
    last_order_at: dt.datetime | None


class CustomerList(BaseModel):
    total: int
    masked: bool = Field(description="True when emails and phones are masked (no PII grant)")
    customers: list[CustomerSummary]


class CustomerDetail(BaseModel):
    customer: CustomerSummary
    masked: bool
    recent_orders: list[OrderSummary] = Field(description="The ten newest orders")


# --- promotions -----------------------------------------------------------------------------


class DiscountCodeInfo(BaseModel):
    id: int
    code: str
    kind: str
    value: float
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    usage_limit: int | None
    used_count: int
    status: str


class DiscountCodeList(BaseModel):
    total: int
    discount_codes: list[DiscountCodeInfo]


class CouponInfo(BaseModel):
    id: int
    variant_id: int
    sku: str
    kind: str
    value: float
    budget: float
    spent: float
    budget_left: float
    status: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None


class CouponList(BaseModel):
    total: int
    coupons: list[CouponInfo]


# --- product import -------------------------------------------------------------------------


class ImportRow(BaseModel):
    """One import row after validation and normalisation (what commit would write)."""

    row: int = Field(description="1-based position in the input")
    handle: str = Field(description="Rows with one handle become variants of one product")
    sku: str
    title: str
    price: float
    cost: float
    category: str
    stock: int
    brand: str
    asin: str
    option: str
    status: str


class ImportProblem(BaseModel):
    row: int = Field(description="1-based row; 0 for problems of the whole input")
    field: str
    message: str


class ImportAnalysis(BaseModel):
    site: str
    draft_id: str = Field(description="SHA-256 of the canonical rows: the same rows give the same id")
    ok: bool = Field(description="True when commit_product_import would accept these rows")
    row_count: int
    products_to_create: int
    variants_to_create: int
    new_categories: list[str] = Field(description="Categories commit would create")
    rows: list[ImportRow]
    problems: list[ImportProblem]
