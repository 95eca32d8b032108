"""Return tools: list returns; confirm, reject or refund one (optionally putting the units back in stock)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from servers.commerce.arguments import (
    Before,
    DryRun,
    EndDate,
    IdemKey,
    Limit,
    Offset,
    OrderFilter,
    ReturnId,
    Site,
    StartDate,
    Token,
)
from servers.commerce.models import ReturnInfo, ReturnList
from servers.commerce.query import count_of, owned
from servers.common.config import ServerConfig
from servers.common.errors import ValidationFailed
from servers.common.server import READ, WRITE_DESTRUCTIVE, MarketServer
from servers.common.server import sent_arguments as signed_arguments
from servers.market.db import MarketDB, parse_date_range, require_site
from servers.market.models import InventoryLevel, Order, OrderItem, Return
from servers.market.rollups import refresh_rollups
from servers.market.writes import Plan, WriteResult, run_write, write_control

ReturnStatus = Literal["requested", "confirmed", "rejected", "refunded"]
# requested → confirmed | rejected | refunded; confirmed → refunded. Rejected and refunded are final.
NEXT_RETURN_STATUSES: dict[str, list[str]] = {"requested": ["confirmed", "rejected", "refunded"], "confirmed": ["refunded"]}


def return_rows(session: Session, *conditions: ColumnElement[bool], limit: int | None = None, offset: int = 0) -> list[ReturnInfo]:
    """Returns with their order number and SKU, newest first."""
    query = (
        select(Return, Order.number, OrderItem.sku)
        .join(Order, Order.id == Return.order_id)
        .join(OrderItem, OrderItem.id == Return.order_item_id)
        .where(*conditions)
        .order_by(Return.created_at.desc(), Return.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [
        ReturnInfo(id=r.id, order_id=r.order_id, order_number=number, order_item_id=r.order_item_id, sku=sku,
                   quantity=r.quantity, reason=r.reason, status=r.status, created_at=r.created_at, resolved_at=r.resolved_at)
        for r, number, sku in session.execute(query)
    ]


def register(mcp: MarketServer, db: MarketDB, config: ServerConfig) -> None:
    @mcp.tool(annotations=READ)
    def list_returns(
        site: Site,
        status: ReturnStatus | None = None,
        order_id: OrderFilter = None,
        start_date: Annotated[StartDate, Field(description="Requested on or after this ISO date (default: no limit)")] = None,
        end_date: Annotated[EndDate, Field(description="Requested on or before this ISO date (default: no limit)")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> ReturnList:
        """List a site's returns, newest first; status 'requested' are the ones waiting for a decision."""
        with db.reader() as s:
            require_site(s, site)
            conditions: list[ColumnElement[bool]] = [Return.site_id == site]
            if status:
                conditions.append(Return.status == status)
            if order_id is not None:
                owned(s, Order, order_id, site, noun="order", listed_by="list_orders")
                conditions.append(Return.order_id == order_id)
            if start_date or end_date:
                start, end = parse_date_range(start_date, end_date, today=config.today())
                conditions += [Return.created_at >= dt.datetime.combine(start, dt.time()),
                               Return.created_at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time())]
            total = count_of(s, select(Return.id).where(*conditions))
            return ReturnList(total=total, returns=return_rows(s, *conditions, limit=limit, offset=offset))

    @mcp.tool(annotations=WRITE_DESTRUCTIVE)
    def confirm_return(
        site: Site,
        return_id: ReturnId,
        decision: Annotated[Literal["confirmed", "rejected", "refunded"],
                            Field(description="confirmed (accepted), rejected, or refunded (money back; final)")],
        restock: Annotated[bool, Field(description="Put the returned units back on hand (only when accepting)")] = False,
        dry_run: DryRun = False,
        approval_token: Token = None,
        idempotency_key: IdemKey = None,
        expected_before: Before = None,
    ) -> WriteResult:
        """Decide a customer return, optionally restocking its units; a refund cannot be undone (needs approval)."""
        arguments = {"site": site, "return_id": return_id, "decision": decision, "restock": restock}

        def plan(s: Session) -> Plan:
            ret = owned(s, Return, return_id, site, noun="return", listed_by="list_returns")
            allowed = NEXT_RETURN_STATUSES.get(ret.status, [])
            if decision not in allowed:
                nexts = ", ".join(allowed) if allowed else "none (it is final)"
                raise ValidationFailed(f"return {ret.id} is {ret.status}; it cannot become {decision}. Allowed next: {nexts}")
            item = s.get_one(OrderItem, ret.order_item_id)
            before: dict[str, Any] = {"status": ret.status}
            after: dict[str, Any] = {"status": decision}
            impact: dict[str, float] = {}
            inventory = None
            if restock:
                # Units go back once: when the return is first accepted, never on a later refund.
                if decision == "rejected" or ret.status != "requested":
                    raise ValidationFailed("restock applies only when a requested return is confirmed or refunded")
                inventory = s.get(InventoryLevel, item.variant_id)
                if inventory is None:
                    raise ValidationFailed(f"{item.sku} has no inventory record to restock")
                before["on_hand"] = inventory.on_hand
                after["on_hand"] = inventory.on_hand + ret.quantity
                impact["on_hand_delta"] = ret.quantity
            if decision == "refunded":
                impact["refund_amount"] = round(ret.quantity * item.unit_price, 2)

            def apply(s: Session) -> None:
                now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
                ret.status, ret.resolved_at = decision, now
                if inventory is not None:
                    inventory.on_hand, inventory.updated_at = after["on_hand"], now
                refresh_rollups(s, site, [order.placed_date])  # returned units count by the order's day

            order = s.get_one(Order, ret.order_id)
            stock = f", restock {ret.quantity} × {item.sku}" if restock else ""
            return Plan(target=f"return #{ret.id} of order {order.number} ({ret.quantity} × {item.sku})",
                        before=before, after=after, summary=f"status {ret.status} → {decision}{stock}",
                        impact=impact, apply=apply,
                        # Stock is shown, not compared: other writes (another restock, a ship) may move it
                        # between the proposal and the approval; the restock adds to the count it finds then.
                        informational=frozenset({"on_hand"}))

        return run_write(db, config, tool="confirm_return", site=site, arguments=signed_arguments(arguments),
                         control=write_control(dry_run, approval_token, idempotency_key, expected_before), plan=plan)
