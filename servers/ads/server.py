"""The ads server: the Amazon Ads MCP surface (profiles, campaigns, ad groups, keywords, reports)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from servers.common.config import ServerConfig
from servers.common.errors import NotFound
from servers.common.server import READ, WRITE_IDEMPOTENT, MarketServer
from servers.market.db import MarketDB, require_site
from servers.market.models import AdProfile, Keyword
from servers.market.writes import Plan, WriteResult, run_write, write_control

Site = Annotated[str, Field(description="Site id the call acts on, e.g. 'us', 'de', 'jp'")]
DryRun = Annotated[bool, Field(description="Only describe the change (before → after); needs no approval")]
Token = Annotated[str | None, Field(description="Approval token from the console; required unless dry_run")]
IdemKey = Annotated[str | None, Field(description="Idempotency key: a repeated delivery is not applied twice")]
Before = Annotated[dict[str, Any] | None, Field(description="Values the approver saw; a mismatch answers CONFLICT")]


class Profile(BaseModel):
    id: int
    site: str
    platform: str
    account_name: str
    account_type: str


class ProfileList(BaseModel):
    profiles: list[Profile]


def build_server(config: ServerConfig | None = None) -> MarketServer:
    config = config or ServerConfig.from_env()
    db = MarketDB(config.market_database_url)
    mcp = MarketServer("ads", instructions="Sponsored ads of the marketplace: reads are free, writes need approval.")

    @mcp.tool(annotations=READ)
    def list_profiles(site: Site) -> ProfileList:
        """List the advertising profiles (accounts per platform) of a site."""
        with db.reader() as s:
            require_site(s, site)
            rows = s.scalars(select(AdProfile).where(AdProfile.site_id == site).order_by(AdProfile.id))
            return ProfileList(profiles=[Profile(id=r.id, site=r.site_id, platform=r.platform, account_name=r.account_name, account_type=r.account_type) for r in rows])

    @mcp.tool(annotations=WRITE_IDEMPOTENT)
    def update_bid(
        site: Site,
        keyword_id: int,
        bid: Annotated[float, Field(gt=0, le=100, description="New bid in the site's currency")],
        dry_run: DryRun = False,
        approval_token: Token = None,
        idempotency_key: IdemKey = None,
        expected_before: Before = None,
    ) -> WriteResult:
        """Set a keyword's bid (a write: needs approval)."""
        arguments = {"site": site, "keyword_id": keyword_id, "bid": bid}

        def plan(s: Session) -> Plan:
            kw = s.get(Keyword, keyword_id)
            if kw is None or kw.site_id != site:
                raise NotFound(f"keyword {keyword_id} does not exist on site {site}; list_keywords shows the ids")
            new_bid = round(bid, 2)

            def apply(s: Session) -> None:
                kw.bid = new_bid

            return Plan(
                target=f"keyword #{kw.id} '{kw.text}' ({kw.match_type})",
                before={"bid": kw.bid},
                after={"bid": new_bid},
                summary=f"bid {kw.bid:.2f} → {new_bid:.2f}",
                apply=apply,
            )

        return run_write(db, config.approval_secret, tool="update_bid", site=site, arguments=arguments,
                         control=write_control(dry_run, approval_token, idempotency_key, expected_before), plan=plan)

    return mcp
