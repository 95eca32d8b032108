"""Accounts: advertising profiles and the site's region, marketplace and currency."""

from __future__ import annotations

from sqlalchemy import select

from servers.ads.models import Profile, ProfileList, RegionInfo, Site
from servers.common.config import ServerConfig
from servers.common.server import READ, MarketServer
from servers.market.db import MarketDB, require_site
from servers.market.models import AdProfile

# The Amazon Ads API host per advertising region.
API_ENDPOINTS = {
    "NA": "advertising-api.amazon.com",
    "EU": "advertising-api-eu.amazon.com",
    "FE": "advertising-api-fe.amazon.com",
}


def register(mcp: MarketServer, db: MarketDB, config: ServerConfig) -> None:
    @mcp.tool(annotations=READ)
    def list_profiles(site: Site) -> ProfileList:
        """List the advertising profiles (accounts per platform) of a site."""
        with db.reader() as s:
            require_site(s, site)
            rows = s.scalars(select(AdProfile).where(AdProfile.site_id == site).order_by(AdProfile.id))
            return ProfileList(profiles=[
                Profile(id=r.id, site=r.site_id, platform=r.platform, account_name=r.account_name,
                        account_type=r.account_type)
                for r in rows
            ])

    @mcp.tool(annotations=READ)
    def get_regions(site: Site) -> RegionInfo:
        """Show a site's advertising region, marketplace, API endpoint, currency, time zone and ACOS target."""
        with db.reader() as s:
            row = require_site(s, site)
            platforms = s.scalars(
                select(AdProfile.platform).where(AdProfile.site_id == site).distinct().order_by(AdProfile.platform)
            )
            return RegionInfo(
                site=row.id, name=row.name, marketplace=row.marketplace, region=row.region,
                api_endpoint=API_ENDPOINTS.get(row.region, "advertising-api.amazon.com"), currency=row.currency,
                timezone=row.timezone, acos_target=row.acos_target, platforms=list(platforms),
            )
