"""Order tools: list and read orders; move an order along its lifecycle (one order per operation)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from servers.commerce.arguments import (
    Before,
    CustomerFilter,
    Descending,
    DryRun,
    EndDate,
    IdemKey,
    Limit,
    Offset,
    OrderId,
    PiiGrant,
    Site,
    StartDate,
    Token,
)
from servers.commerce.models import CustomerContact, OrderDetail, OrderItemInfo, OrderList, OrderSummary
from servers.commerce.order_stock import plan_stock_move
from servers.commerce.pii import mask_email, mask_phone, pii_allowed
from servers.commerce.query import count_of, ordered, owned
from servers.commerce.returns import return_rows
from servers.common.config import ServerConfig
from servers.common.errors import ValidationFailed
from servers.common.server import READ, WRITE_DESTRUCTIVE, WRITE_IDEMPOTENT, MarketServer
from servers.common.server import sent_arguments as signed_arguments
from servers.market.db import MarketDB, parse_date_range, require_site
from servers.market.models import Customer, Order, OrderItem, Product, Return, Variant
from servers.market.rollups import refresh_rollups
from servers.market.writes import Plan, WriteResult, run_write, write_control

OrderStatus = Literal["pending", "paid", "shipped", "delivered", "cancelled", "returned"]
OrderSort = Literal["placed_at", "total", "number", "item_count"]
# The lifecycle: pending → paid → shipped → delivered (→ returned); pending/paid → cancelled.
NEXT_STATUSES: dict[str, list[str]] = {
    "pending": ["paid", "cancelled"],
    "paid": ["shipped", "cancelled"],
    "shipped": ["delivered"],
    "delivered": ["returned"],
    "cancelled": [],
    "returned": [],
}
Carrier = Annotated[str | None, Field(min_length=2, max_length=40, description="Carrier, e.g. 'UPS' (status shipped)")]
Tracking = Annotated[str | None, Field(min_length=4, max_length=64, description="Tracking number (status shipped)")]


def item_count_of_order() -> ColumnElement[Any]:
    """Units of the order in the current row (a correlated subquery: computed only for the rows returned)."""
    return (
        select(func.coalesce(func.sum(OrderItem.quantity), 0))
        .where(OrderItem.order_id == Order.id)
        .scalar_subquery()
    )


def order_summaries(session: Session, query: Select[Any]) -> list[OrderSummary]:
    """Run a select of (Order, customer name, item count) into summaries."""
    return [
        OrderSummary(id=o.id, number=o.number, status=o.status, placed_at=o.placed_at, total=o.total,
                     currency=o.currency, customer_id=o.customer_id, customer_name=name, item_count=items,
                     shipped_at=o.shipped_at, carrier=o.carrier, tracking_number=o.tracking_number)
        for o, name, items in session.execute(query)
    ]


def summary_select(item_count: ColumnElement[Any]) -> Select[Any]:
    return select(Order, Customer.name, item_count).join(Customer, Customer.id == Order.customer_id)


def contact(customer: Customer, *, unmasked: bool) -> CustomerContact:
    return CustomerContact(
        id=customer.id, name=customer.name, country=customer.country, masked=not unmasked,
        email=customer.email if unmasked else mask_email(customer.email),
        phone=customer.phone if unmasked else mask_phone(customer.phone),
    )


def plan_status_change(s: Session, site: str, order_id: OrderId, status: str, carrier: str | None, tracking: str | None) -> Plan:
    """The before → after of one order's status change and the stock it moves, refusing what cannot happen.

    Stock follows the seed's meaning of the inventory row: `on_hand` counts the units in the warehouse,
    `reserved` the part of them held for orders not yet shipped (`available = on_hand - reserved`).
    The hold is one number per SKU, not a record per order (the seed draws it, 0–2 units; it is not the
    sum of the open orders), so an order releases what it needs but never more than is held:

    - shipped (from paid): per SKU, `on_hand -= units` and `reserved -= min(units, reserved)`; refused
      (VALIDATION_FAILED, nothing written) when a SKU has fewer units on hand than the order, or no
      inventory record at all.
    - cancelled (from pending or paid; both hold stock, as a placed order does in Shopify): per SKU,
      `reserved -= min(units, reserved)`; `on_hand` is untouched, the units never left.
    - paid, delivered, returned: no stock moves. The units left when the order shipped; returned units
      come back only through `confirm_return(restock=true)`, once someone has seen them.

    The per-SKU rows (`on_hand[SKU]`, `reserved[SKU]`) are in before/after for the approver and are
    re-checked here at apply time rather than against `expected_before`, so approving several orders
    of one SKU does not make every one after the first stale.
    """
    order = owned(s, Order, order_id, site, noun="order", listed_by="list_orders")
    allowed = NEXT_STATUSES.get(order.status, [])
    if status not in allowed:
        nexts = ", ".join(allowed) if allowed else "none (it is final)"
        raise ValidationFailed(f"order {order.number} is {order.status}; it cannot become {status}. Allowed next: {nexts}")
    before: dict[str, Any] = {"status": order.status}
    after: dict[str, Any] = {"status": status}
    if status == "shipped":
        if not carrier or not tracking:
            raise ValidationFailed("status shipped needs carrier and tracking_number")
        before |= {"carrier": order.carrier, "tracking_number": order.tracking_number}
        after |= {"carrier": carrier, "tracking_number": tracking}
    elif carrier or tracking:
        raise ValidationFailed("carrier and tracking_number apply only when the status becomes shipped")
    stock = plan_stock_move(s, order, status)

    def apply(s: Session) -> None:
        order.status = status
        if status == "shipped":
            order.carrier, order.tracking_number = carrier, tracking
            order.shipped_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        stock.apply()
        refresh_rollups(s, site, [order.placed_date])

    shipping = f" via {carrier} {tracking}" if status == "shipped" else ""
    units = ", ".join(f"{n} × {sku}" for sku, n in stock.units.items())
    moved = ""
    if status == "shipped":
        moved = f"; ships {units} from stock"
    elif stock.impact.get("reserved_delta"):
        moved = f"; releases {-stock.impact['reserved_delta']:g} held unit(s)"
    impact = {"revenue_delta": -order.total} if status in ("cancelled", "returned") else {}
    return Plan(
        target=f"order #{order.id} {order.number}",
        before=before | stock.before,
        after=after | stock.after,
        summary=f"status {order.status} → {status}{shipping}{moved}",
        impact=impact | stock.impact,
        apply=apply,
        informational=frozenset(stock.before),
    )


def register(mcp: MarketServer, db: MarketDB, config: ServerConfig) -> None:
    @mcp.tool(annotations=READ)
    def list_orders(
        site: Site,
        status: OrderStatus | None = None,
        start_date: StartDate = None,
        end_date: EndDate = None,
        customer_id: CustomerFilter = None,
        min_total: Annotated[float | None, Field(ge=0, description="Only orders worth at least this much")] = None,
        sort_by: OrderSort = "placed_at",
        descending: Descending = True,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> OrderList:
        """List a site's orders placed in a date range (default: the last 30 days), newest first."""
        start, end = parse_date_range(start_date, end_date, today=config.today())
        with db.reader() as s:
            require_site(s, site)
            filters = [Order.site_id == site, Order.placed_date >= start, Order.placed_date <= end]
            if status:
                filters.append(Order.status == status)
            if customer_id is not None:
                owned(s, Customer, customer_id, site, noun="customer", listed_by="list_customers")
                filters.append(Order.customer_id == customer_id)
            if min_total is not None:
                filters.append(Order.total >= min_total)
            item_count = item_count_of_order()
            sort_columns = {"placed_at": Order.placed_at, "total": Order.total, "number": Order.number,
                            "item_count": item_count}
            total = count_of(s, select(Order.id).where(*filters))
            page = (summary_select(item_count).where(*filters)
                    .order_by(ordered(sort_columns[sort_by], descending), Order.id.desc() if descending else Order.id)
                    .limit(limit).offset(offset))
            return OrderList(total=total, orders=order_summaries(s, page))

    @mcp.tool(annotations=READ)
    def get_order(site: Site, order_id: OrderId, pii_grant: PiiGrant = None) -> OrderDetail:
        """One order: its lines, its customer (contact masked without a PII grant), its returns."""
        unmasked = pii_allowed(config, pii_grant, site)
        with db.reader() as s:
            require_site(s, site)
            order = owned(s, Order, order_id, site, noun="order", listed_by="list_orders")
            summary = order_summaries(s, summary_select(item_count_of_order()).where(Order.id == order.id))[0]
            lines = s.execute(
                select(OrderItem, Product.title)
                .join(Variant, Variant.id == OrderItem.variant_id)
                .join(Product, Product.id == Variant.product_id)
                .where(OrderItem.order_id == order.id)
                .order_by(OrderItem.id)
            )
            return OrderDetail(
                order=summary,
                next_statuses=NEXT_STATUSES.get(order.status, []),
                items=[OrderItemInfo(id=i.id, variant_id=i.variant_id, sku=i.sku, title=title, quantity=i.quantity,
                                     unit_price=i.unit_price, line_total=round(i.quantity * i.unit_price, 2))
                       for i, title in lines],
                customer=contact(s.get_one(Customer, order.customer_id), unmasked=unmasked),
                returns=return_rows(s, Return.order_id == order.id),
            )

    @mcp.tool(annotations=WRITE_DESTRUCTIVE)
    def update_order_status(
        site: Site,
        order_id: OrderId,
        status: Annotated[Literal["paid", "shipped", "delivered", "cancelled", "returned"],
                          Field(description="Next status; get_order lists the allowed ones")],
        carrier: Carrier = None,
        tracking_number: Tracking = None,
        dry_run: DryRun = False,
        approval_token: Token = None,
        idempotency_key: IdemKey = None,
        expected_before: Before = None,
    ) -> WriteResult:
        """Move one order to its next status; cancelling cannot be undone (a write: needs approval)."""
        arguments = {"site": site, "order_id": order_id, "status": status, "carrier": carrier,
                     "tracking_number": tracking_number}
        return run_write(db, config, tool="update_order_status", site=site, arguments=signed_arguments(arguments),
                         control=write_control(dry_run, approval_token, idempotency_key, expected_before),
                         plan=lambda s: plan_status_change(s, site, order_id, status, carrier, tracking_number))

    @mcp.tool(annotations=WRITE_IDEMPOTENT)
    def mark_order_shipped(
        site: Site,
        order_id: OrderId,
        carrier: Annotated[str, Field(min_length=2, max_length=40, description="Carrier, e.g. 'UPS'")],
        tracking_number: Annotated[str, Field(min_length=4, max_length=64, description="The carrier's tracking number")],
        dry_run: DryRun = False,
        approval_token: Token = None,
        idempotency_key: IdemKey = None,
        expected_before: Before = None,
    ) -> WriteResult:
        """Mark one paid order shipped with carrier and tracking number (a write: needs approval)."""
        arguments = {"site": site, "order_id": order_id, "carrier": carrier, "tracking_number": tracking_number}
        return run_write(db, config, tool="mark_order_shipped", site=site, arguments=signed_arguments(arguments),
                         control=write_control(dry_run, approval_token, idempotency_key, expected_before),
                         plan=lambda s: plan_status_change(s, site, order_id, "shipped", carrier, tracking_number))
