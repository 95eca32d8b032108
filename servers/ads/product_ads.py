"""Product ads (which SKU an ad group advertises): find the ones of out-of-stock SKUs and pause them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from servers.ads.models import Before, DryRun, IdemKey, Limit, Offset, ProductAdList, ProductAdRow, Site, State, Token
from servers.ads.queries import owned
from servers.ads.sql import page
from servers.common.config import ServerConfig
from servers.common.errors import NotFound
from servers.common.inputs import Id
from servers.common.server import READ, WRITE_IDEMPOTENT, MarketServer
from servers.market.db import MarketDB, require_site
from servers.market.models import Campaign, InventoryLevel, ProductAd
from servers.market.writes import Plan, WriteResult, run_write, write_control

Sku = Annotated[str, Field(min_length=1, max_length=64, description="Seller SKU, e.g. 'YM-BLUE-6MM'")]


def register(mcp: MarketServer, db: MarketDB, config: ServerConfig) -> None:
    @mcp.tool(annotations=READ)
    def list_product_ads(
        site: Site,
        sku: Annotated[str | None, Field(max_length=64, description="Only this SKU's ads")] = None,
        campaign_id: Annotated[Id | None, Field(description="Only this campaign's product ads")] = None,
        state: State | None = None,
        out_of_stock_only: Annotated[bool, Field(description="Only SKUs with nothing available (on hand minus reserved ≤ 0)")] = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> ProductAdList:
        """List the product ads of a site (SKU per ad group) with the SKU's stock on hand."""
        available = (InventoryLevel.on_hand - InventoryLevel.reserved).label("available")
        stmt = (
            select(ProductAd, Campaign.name.label("campaign_name"), InventoryLevel.on_hand, available)
            .join(Campaign, Campaign.id == ProductAd.campaign_id)
            .outerjoin(InventoryLevel, and_(InventoryLevel.variant_id == ProductAd.variant_id,
                                            InventoryLevel.site_id == ProductAd.site_id))
            .where(ProductAd.site_id == site)
            .order_by(ProductAd.id)
        )
        if sku is not None:
            stmt = stmt.where(ProductAd.sku == sku)
        if state is not None:
            stmt = stmt.where(ProductAd.state == state)
        if out_of_stock_only:
            stmt = stmt.where(available <= 0)
        with db.reader() as s:
            require_site(s, site)
            if campaign_id is not None:
                owned(s, Campaign, campaign_id, site, "list_campaigns")
                stmt = stmt.where(ProductAd.campaign_id == campaign_id)
            found = page(s, stmt, None, limit=limit, offset=offset)
        return ProductAdList(site=site, total=found.total, product_ads=[
            ProductAdRow(id=ad.id, sku=ad.sku, variant_id=ad.variant_id, campaign_id=ad.campaign_id,
                         campaign_name=r["campaign_name"], ad_group_id=ad.ad_group_id, state=ad.state,
                         on_hand=r["on_hand"], available=r["available"])
            for r in found.rows
            for ad in [r["ProductAd"]]
        ])

    @mcp.tool(annotations=WRITE_IDEMPOTENT)
    def pause_product_ads(
        site: Site,
        sku: Sku,
        dry_run: DryRun = False,
        approval_token: Token = None,
        idempotency_key: IdemKey = None,
        expected_before: Before = None,
    ) -> WriteResult:
        """Pause every product ad of a SKU, e.g. one that is out of stock (a write: needs approval)."""
        arguments = {"site": site, "sku": sku}

        def plan(s: Session) -> Plan:
            ads = list(s.scalars(
                select(ProductAd).where(ProductAd.site_id == site, ProductAd.sku == sku, ProductAd.state != "archived")
                .order_by(ProductAd.id)
            ))
            if not ads:
                raise NotFound(f"no product ads advertise SKU {sku!r} on site {site}; list_product_ads shows them")
            stock = s.get(InventoryLevel, ads[0].variant_id)
            on_hand = "no inventory record" if stock is None else f"{stock.on_hand} on hand"
            live = sum(ad.state == "enabled" for ad in ads)

            def apply(s: Session) -> None:
                for ad in ads:
                    ad.state = "paused"

            return Plan(
                target=f"product ads of SKU {sku} ({len(ads)} ads, {on_hand})",
                before={f"product_ad #{ad.id} state": ad.state for ad in ads},
                after={f"product_ad #{ad.id} state": "paused" for ad in ads},
                summary=f"pause {live} live product ads of SKU {sku} ({on_hand})",
                apply=apply,
                impact={"product_ads_paused": float(live)},
            )

        return run_write(db, config, tool="pause_product_ads", site=site, arguments=arguments,
                         control=write_control(dry_run, approval_token, idempotency_key, expected_before), plan=plan)
