"""Inventory tools: stock levels with days of supply, and the on-hand / inbound write."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from servers.commerce.arguments import (
    UNITS_MAX,
    Before,
    Descending,
    DryRun,
    IdemKey,
    Limit,
    Offset,
    ProductFilter,
    Site,
    Token,
    VariantId,
)
from servers.commerce.models import InventoryLevelInfo, InventoryLevelList
from servers.commerce.query import count_of, ordered, owned
from servers.common.config import ServerConfig
from servers.common.errors import ValidationFailed
from servers.common.server import READ, WRITE_ADDITIVE, MarketServer
from servers.common.server import sent_arguments as signed_arguments
from servers.market.db import MarketDB, require_site
from servers.market.metrics import days_of_supply_sql
from servers.market.models import InventoryLevel, Product, Variant
from servers.market.writes import Plan, WriteResult, run_write, write_control

InventorySort = Literal["days_of_supply", "velocity_per_day", "on_hand", "available", "inbound", "sku"]


def register(mcp: MarketServer, db: MarketDB, config: ServerConfig) -> None:
    @mcp.tool(annotations=READ)
    def get_inventory_levels(
        site: Site,
        sku: Annotated[str | None, Field(description="Exact SKU")] = None,
        product_id: ProductFilter = None,
        max_days_of_supply: Annotated[
            float | None, Field(ge=0, description="Only SKUs with at most this many days of supply (out of stock: 0)")
        ] = None,
        out_of_stock: Annotated[bool | None, Field(description="True: only SKUs with nothing available")] = None,
        sort_by: InventorySort = "days_of_supply",
        descending: Descending = False,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> InventoryLevelList:
        """Stock per SKU: on hand, reserved, inbound, sales velocity and days of supply."""
        with db.reader() as s:
            require_site(s, site)
            available = InventoryLevel.on_hand - InventoryLevel.reserved
            days_of_supply = days_of_supply_sql(available, InventoryLevel.velocity_per_day)
            query = (
                select(InventoryLevel, Variant, Product.title, available, days_of_supply)
                .join(Variant, Variant.id == InventoryLevel.variant_id)
                .join(Product, Product.id == Variant.product_id)
                .where(InventoryLevel.site_id == site)
            )
            if sku:
                query = query.where(Variant.sku == sku)
            if product_id is not None:
                owned(s, Product, product_id, site, noun="product", listed_by="list_products")
                query = query.where(Variant.product_id == product_id)
            if max_days_of_supply is not None:
                query = query.where(days_of_supply <= max_days_of_supply)
            if out_of_stock is not None:
                query = query.where(available <= 0 if out_of_stock else available > 0)
            sort_columns = {"days_of_supply": days_of_supply, "velocity_per_day": InventoryLevel.velocity_per_day,
                            "on_hand": InventoryLevel.on_hand, "available": available,
                            "inbound": InventoryLevel.inbound, "sku": Variant.sku}
            total = count_of(s, query)
            rows = s.execute(query.order_by(ordered(sort_columns[sort_by], descending), Variant.id).limit(limit).offset(offset))
            return InventoryLevelList(total=total, levels=[
                InventoryLevelInfo(
                    variant_id=v.id, product_id=v.product_id, sku=v.sku, title=title, option=v.option,
                    on_hand=inv.on_hand, reserved=inv.reserved, available=avail, inbound=inv.inbound,
                    velocity_per_day=inv.velocity_per_day, lead_time_days=inv.lead_time_days,
                    days_of_supply=round(dos, 1) if dos is not None else None, updated_at=inv.updated_at,
                )
                for inv, v, title, avail, dos in rows
            ])

    @mcp.tool(annotations=WRITE_ADDITIVE)
    def update_inventory(
        site: Site,
        variant_id: VariantId,
        reason: Annotated[str, Field(min_length=3, max_length=200, description="Why: 'cycle count', 'PO 1234 placed'…")],
        on_hand: Annotated[int | None, Field(ge=0, le=UNITS_MAX, description="Set units on hand to this count")] = None,
        add_inbound: Annotated[
            int | None, Field(ge=-UNITS_MAX, le=UNITS_MAX, description="Add to inbound units (negative: cancel inbound)")
        ] = None,
        dry_run: DryRun = False,
        approval_token: Token = None,
        idempotency_key: IdemKey = None,
        expected_before: Before = None,
    ) -> WriteResult:
        """Set a SKU's units on hand and/or add inbound units, with a reason (a write: needs approval)."""
        arguments = {"site": site, "variant_id": variant_id, "reason": reason, "on_hand": on_hand,
                     "add_inbound": add_inbound}

        def plan(s: Session) -> Plan:
            if on_hand is None and not add_inbound:
                raise ValidationFailed("pass on_hand (a new count) or add_inbound (a non-zero change), or both")
            v = owned(s, Variant, variant_id, site, noun="variant", listed_by="list_variants")
            inv = s.get(InventoryLevel, v.id)
            if inv is None:
                raise ValidationFailed(f"variant {v.sku} has no inventory record; commit_product_import creates one")
            before = {"on_hand": inv.on_hand, "inbound": inv.inbound}
            after = {"on_hand": inv.on_hand if on_hand is None else on_hand,
                     "inbound": inv.inbound + (add_inbound or 0)}
            if after["inbound"] < 0:
                raise ValidationFailed(f"inbound would drop to {after['inbound']}; {v.sku} has {inv.inbound} inbound")
            if after == before:
                raise ValidationFailed(f"{v.sku} already has on_hand={inv.on_hand}, inbound={inv.inbound}; nothing to change")

            def apply(s: Session) -> None:
                inv.on_hand, inv.inbound = after["on_hand"], after["inbound"]
                inv.updated_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)

            changed = ", ".join(f"{k} {before[k]} → {after[k]}" for k in before if before[k] != after[k])
            return Plan(target=f"inventory of variant #{v.id} {v.sku}", before=before, after=after,
                        summary=f"{changed} ({reason})", impact={"on_hand_delta": after["on_hand"] - before["on_hand"],
                                                               "inbound_delta": after["inbound"] - before["inbound"]},
                        apply=apply)

        return run_write(db, config, tool="update_inventory", site=site, arguments=signed_arguments(arguments),
                         control=write_control(dry_run, approval_token, idempotency_key, expected_before), plan=plan)
