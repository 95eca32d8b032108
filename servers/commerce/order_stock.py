"""What an order's status change does to stock: shipping takes its units out, cancelling releases their hold."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servers.common.errors import ValidationFailed
from servers.market.models import InventoryLevel, Order, OrderItem


@dataclass
class StockMove:
    """The stock side of a status change: per-SKU before → after, totals for `impact`, and the rows to write."""

    before: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    impact: dict[str, float] = field(default_factory=dict)
    levels: dict[str, InventoryLevel] = field(default_factory=dict)
    units: dict[str, int] = field(default_factory=dict)

    def apply(self) -> None:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        for sku, level in self.levels.items():
            level.on_hand = self.after.get(f"on_hand[{sku}]", level.on_hand)
            level.reserved = self.after.get(f"reserved[{sku}]", level.reserved)
            level.updated_at = now


def order_units(s: Session, order: Order) -> list[tuple[int, str, int]]:
    """(variant id, SKU, units) of an order, one row per variant, by SKU."""
    rows = s.execute(
        select(OrderItem.variant_id, OrderItem.sku, func.sum(OrderItem.quantity))
        .where(OrderItem.order_id == order.id)
        .group_by(OrderItem.variant_id, OrderItem.sku)
        .order_by(OrderItem.sku)
    )
    return [(vid, sku, int(units)) for vid, sku, units in rows]


def locked_levels(s: Session, variant_ids: list[int]) -> dict[int, InventoryLevel]:
    """The inventory rows of these variants, locked until the transaction ends (ordered, so two writers cannot deadlock)."""
    if not variant_ids:
        return {}
    query = select(InventoryLevel).where(InventoryLevel.variant_id.in_(variant_ids)).order_by(InventoryLevel.variant_id)
    return {level.variant_id: level for level in s.scalars(query.with_for_update())}


def plan_stock_move(s: Session, order: Order, status: str) -> StockMove:
    """The stock an order's move to `status` changes (nothing unless it ships or is cancelled); see `plan_status_change`."""
    move = StockMove()
    if status not in ("shipped", "cancelled"):
        return move
    lines = order_units(s, order)
    levels = locked_levels(s, [vid for vid, _, _ in lines])
    short: list[str] = []
    for vid, sku, units in lines:
        level = levels.get(vid)
        if level is None:
            if status == "shipped":
                short.append(f"{sku} has no inventory record")
            continue  # nothing is counted for it, so nothing is held to release
        released = min(units, max(level.reserved, 0))
        move.levels[sku], move.units[sku] = level, units
        if status == "shipped":
            if level.on_hand < units:
                short.append(f"{sku} has {level.on_hand} on hand, the order needs {units}")
            move.before[f"on_hand[{sku}]"], move.after[f"on_hand[{sku}]"] = level.on_hand, level.on_hand - units
        move.before[f"reserved[{sku}]"], move.after[f"reserved[{sku}]"] = level.reserved, level.reserved - released
    if short:
        raise ValidationFailed(f"order {order.number} cannot ship: {'; '.join(short)}. "
                               "Receive stock (or correct the count with update_inventory) first")
    if status == "shipped":
        move.impact["on_hand_delta"] = -sum(move.units.values())
    move.impact["reserved_delta"] = sum(move.after[k] - move.before[k] for k in move.before if k.startswith("reserved["))
    return move
