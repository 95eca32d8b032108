"""Product targets: bid on shoppers viewing one product (an ASIN) from an ad group of a manual campaign."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servers.ads.models import Asin, Before, Bid, DryRun, IdemKey, Site, Token
from servers.ads.rules import check_bid, inserting, manual_ad_group
from servers.common.config import ServerConfig
from servers.common.errors import Conflict
from servers.common.inputs import Id
from servers.common.server import WRITE_ADDITIVE, MarketServer
from servers.market.db import MarketDB
from servers.market.models import ProductTarget
from servers.market.writes import Plan, WriteResult, run_write, write_control


def register(mcp: MarketServer, db: MarketDB, config: ServerConfig) -> None:
    @mcp.tool(annotations=WRITE_ADDITIVE)
    def create_product_target(
        site: Site,
        ad_group_id: Annotated[Id, Field(description="Ad group of a manual campaign (list_ad_groups shows them)")],
        asin: Asin,
        bid: Annotated[Bid | None, Field(description="Bid per click (default: the ad group's default bid)")] = None,
        dry_run: DryRun = False,
        approval_token: Token = None,
        idempotency_key: IdemKey = None,
        expected_before: Before = None,
    ) -> WriteResult:
        """Target shoppers viewing a product (ASIN) from an ad group of a manual campaign (a write: needs approval)."""
        arguments = {"site": site, "ad_group_id": ad_group_id, "asin": asin, "bid": bid}

        def plan(s: Session) -> Plan:
            group, campaign = manual_ad_group(s, ad_group_id, site, takes="targets",
                                              belongs="product targets go in manual campaigns")
            product = asin.upper()
            clash = s.scalar(select(ProductTarget.id).where(
                ProductTarget.ad_group_id == group.id, func.upper(ProductTarget.asin) == product,
                ProductTarget.state != "archived",
            ))
            if clash is not None:
                raise Conflict(f"ad group {group.id} already targets ASIN {product} (product target {clash})")
            fields = {"campaign_id": campaign.id, "ad_group_id": group.id, "asin": product,
                      "bid": check_bid(s, site, bid if bid is not None else group.default_bid), "state": "enabled"}

            return Plan(target=f"new product target ASIN {product} in ad group #{group.id} '{group.name}'",
                        before={}, after=fields, apply=inserting(ProductTarget, site, fields),
                        summary=f"target ASIN {product} at bid {fields['bid']:.2f}")

        return run_write(db, config, tool="create_product_target", site=site, arguments=arguments,
                         control=write_control(dry_run, approval_token, idempotency_key, expected_before), plan=plan)
