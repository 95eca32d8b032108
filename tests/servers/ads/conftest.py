"""A small hand-built ads market whose answers are worked out by hand, and a connected ads client.

Today is 2026-11-20; the default window is 2026-10-22..2026-11-20; "last 7 days" is 11-13..11-19.

Sites: us (USD, profiles 1 amazon, 2 meta), de (EUR, profile 3 amazon).
Campaigns (us unless said):                          ad groups        keywords
  1 'US Mats - Manual'  amazon SP manual enabled  50   1 'Mats' 1.00     1 'yoga mat' exact 1.20, 2 'thick yoga mat' phrase 0.90,
                                                                          3 'exercise mat' broad 0.70 paused
  2 'US Mats - Auto'    amazon SP auto   enabled  30   2 'Auto' 0.80     4 'close-match' broad 0.80 (the auto target)
  3 'US Brand Video'    amazon SB manual paused   20   3 'Video' 1.50    5 'yoga mat bag' exact 1.50
  4 'US Meta Audience'  meta   SD manual enabled  40   4 'Audience' 0.50 6 'yoga' broad 0.50
  5 'DE Matten'  (de)   amazon SP manual enabled  25   5 'Matten' 0.90   7 'yogamatte' exact 0.95
Keyword metrics (impressions, clicks, spend, orders, sales):
  kw1 11-18 (1000, 50, 40, 5, 200) + 11-19 (1000, 30, 20, 3, 100) → 2000, 80, 60, 8, 300: acos .2, roas 5, ctr .04, cvr .1, cpc .75
  kw2 11-19 (500, 25, 25, 0, 0) → acos None, roas 0, ctr .05, cvr 0, cpc 1
  kw3 10-01 (100, 10, 10, 1, 20) → outside the default window
  kw4 11-19 (2000, 40, 30, 2, 40) → acos .75, roas 1.3333, ctr .02, cvr .05, cpc .75
  kw6 11-18 (4000, 20, 10, 1, 50) → acos .2, roas 5, ctr .005, cvr .05, cpc .5
  kw7 (de) 11-19 (300, 10, 8, 2, 64)
  us in window: 8500, 165, 125, 11, 390 → acos .3205, roas 3.12, ctr .0194, cvr .0667, cpc .7576
Search terms (us, campaign 2 / ad group 2 unless said):
  'cork yoga mat' 11-19 (300, 20, 15, 4, 80); 'yoga mat' 11-19 (200, 10, 8, 1, 20); 'free yoga' 11-18 (100, 10, 7, 0, 0);
  'yoga mat' in campaign 1 / ad group 1 / kw1 11-18 (1000, 50, 40, 5, 200); de 'yogamatte' campaign 5 / kw7 11-19 (300, 10, 8, 2, 64)
  negative: campaign 2 'free yoga' negative_exact.
Product ads: 1 MAT-BLUE (campaign 1), 2 MAT-BLUE (campaign 2), 3 MAT-RED (campaign 1), 4 (de) MAT-BLUE campaign 5.
  Stock: MAT-BLUE us on hand 0; MAT-RED on hand 40 (reserved 5).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from sqlalchemy import Integer, select

from servers.ads.server import build_server
from servers.common.approval import sign_approval
from servers.common.config import ServerConfig
from servers.market.db import MarketDB, migrate
from servers.market.models import (
    AdGroup,
    AdProfile,
    Base,
    Campaign,
    InventoryLevel,
    Keyword,
    KeywordDailyMetric,
    NegativeKeyword,
    Product,
    ProductAd,
    SearchTermDailyMetric,
    Site,
    Variant,
)

TODAY = dt.date(2026, 11, 20)
SECRET = "ads-test-secret"


def d(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


def _fill(db: MarketDB) -> None:
    now = dt.datetime(2026, 11, 1, 9, 0)
    with db.session() as s:
        s.add_all([
            Site(id="us", name="United States", marketplace="amazon.com", region="NA", currency="USD",
                 timezone="America/Los_Angeles", acos_target=0.30),
            Site(id="de", name="Germany", marketplace="amazon.de", region="EU", currency="EUR",
                 timezone="Europe/Berlin", acos_target=0.30),
        ])
        s.flush()
        s.add_all([
            AdProfile(id=1, site_id="us", platform="amazon", account_name="Acme US", account_type="seller"),
            AdProfile(id=2, site_id="us", platform="meta", account_name="Acme Meta", account_type="seller"),
            AdProfile(id=3, site_id="de", platform="amazon", account_name="Acme DE", account_type="seller"),
        ])
        s.flush()
        for cid, site, profile, platform, name, ctype, targeting, state, budget in [
            (1, "us", 1, "amazon", "US Mats - Manual", "SP", "manual", "enabled", 50.0),
            (2, "us", 1, "amazon", "US Mats - Auto", "SP", "auto", "enabled", 30.0),
            (3, "us", 1, "amazon", "US Brand Video", "SB", "manual", "paused", 20.0),
            (4, "us", 2, "meta", "US Meta Audience", "SD", "manual", "enabled", 40.0),
            (5, "de", 3, "amazon", "DE Matten", "SP", "manual", "enabled", 25.0),
        ]:
            s.add(Campaign(id=cid, site_id=site, profile_id=profile, platform=platform, name=name, campaign_type=ctype,
                           targeting=targeting, state=state, daily_budget=budget, start_date=d(9, 1)))
        s.flush()
        for gid, site, name, bid in [(1, "us", "Mats", 1.0), (2, "us", "Auto", 0.8), (3, "us", "Video", 1.5),
                                     (4, "us", "Audience", 0.5), (5, "de", "Matten", 0.9)]:
            s.add(AdGroup(id=gid, site_id=site, campaign_id=gid, name=name, default_bid=bid, state="enabled"))
        s.flush()
        for kid, site, cid, text, match, bid, state in [
            (1, "us", 1, "yoga mat", "exact", 1.20, "enabled"),
            (2, "us", 1, "thick yoga mat", "phrase", 0.90, "enabled"),
            (3, "us", 1, "exercise mat", "broad", 0.70, "paused"),
            (4, "us", 2, "close-match", "broad", 0.80, "enabled"),
            (5, "us", 3, "yoga mat bag", "exact", 1.50, "enabled"),
            (6, "us", 4, "yoga", "broad", 0.50, "enabled"),
            (7, "de", 5, "yogamatte", "exact", 0.95, "enabled"),
        ]:
            s.add(Keyword(id=kid, site_id=site, campaign_id=cid, ad_group_id=cid, text=text, match_type=match, bid=bid,
                          state=state))
        s.flush()
        for kid, site, cid, day, imp, clicks, spend, orders, sales in [
            (1, "us", 1, d(11, 18), 1000, 50, 40.0, 5, 200.0),
            (1, "us", 1, d(11, 19), 1000, 30, 20.0, 3, 100.0),
            (2, "us", 1, d(11, 19), 500, 25, 25.0, 0, 0.0),
            (3, "us", 1, d(10, 1), 100, 10, 10.0, 1, 20.0),
            (4, "us", 2, d(11, 19), 2000, 40, 30.0, 2, 40.0),
            (6, "us", 4, d(11, 18), 4000, 20, 10.0, 1, 50.0),
            (7, "de", 5, d(11, 19), 300, 10, 8.0, 2, 64.0),
        ]:
            s.add(KeywordDailyMetric(keyword_id=kid, date=day, site_id=site, campaign_id=cid, impressions=imp,
                                     clicks=clicks, spend=spend, orders=orders, units=orders, sales=sales))
        for site, cid, gid, kid, term, day, imp, clicks, spend, orders, sales in [
            ("us", 2, 2, None, "cork yoga mat", d(11, 19), 300, 20, 15.0, 4, 80.0),
            ("us", 2, 2, None, "yoga mat", d(11, 19), 200, 10, 8.0, 1, 20.0),
            ("us", 2, 2, None, "free yoga", d(11, 18), 100, 10, 7.0, 0, 0.0),
            ("us", 1, 1, 1, "yoga mat", d(11, 18), 1000, 50, 40.0, 5, 200.0),
            ("de", 5, 5, 7, "yogamatte", d(11, 19), 300, 10, 8.0, 2, 64.0),
        ]:
            s.add(SearchTermDailyMetric(site_id=site, campaign_id=cid, ad_group_id=gid, keyword_id=kid, search_term=term,
                                        date=day, impressions=imp, clicks=clicks, spend=spend, orders=orders,
                                        units=orders, sales=sales))
        s.add(NegativeKeyword(site_id="us", campaign_id=2, ad_group_id=None, text="free yoga", match_type="negative_exact",
                              created_at=now))
        s.add_all([
            Product(id=1, site_id="us", title="Yoga mat", brand="Acme", status="active", created_at=now),
            Product(id=2, site_id="de", title="Yogamatte", brand="Acme", status="active", created_at=now),
        ])
        s.flush()
        s.add_all([
            Variant(id=1, site_id="us", product_id=1, sku="MAT-BLUE", asin="B0BLUE", option="Blue", price=30, cost=10),
            Variant(id=2, site_id="us", product_id=1, sku="MAT-RED", asin="B0RED", option="Red", price=30, cost=10),
            Variant(id=3, site_id="de", product_id=2, sku="MAT-BLUE", asin="B0BLUEDE", option="Blau", price=28, cost=9),
        ])
        s.flush()
        s.add_all([
            InventoryLevel(variant_id=1, site_id="us", on_hand=0, reserved=0, velocity_per_day=3, updated_at=now),
            InventoryLevel(variant_id=2, site_id="us", on_hand=40, reserved=5, velocity_per_day=2, updated_at=now),
            InventoryLevel(variant_id=3, site_id="de", on_hand=12, reserved=0, velocity_per_day=1, updated_at=now),
        ])
        for aid, site, cid, variant, sku in [(1, "us", 1, 1, "MAT-BLUE"), (2, "us", 2, 1, "MAT-BLUE"),
                                             (3, "us", 1, 2, "MAT-RED"), (4, "de", 5, 3, "MAT-BLUE")]:
            s.add(ProductAd(id=aid, site_id=site, campaign_id=cid, ad_group_id=cid, variant_id=variant, sku=sku,
                            state="enabled"))


@pytest.fixture(scope="session")
def ads_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-built market, migrated and filled once; each test works on a copy."""
    path = tmp_path_factory.mktemp("ads-template") / "market.db"
    url = f"sqlite:///{path}"
    migrate(url)
    db = MarketDB(url)
    _fill(db)
    with db.engine.connect() as conn:  # move the WAL into the file we copy (migrate's engine stays open)
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.engine.dispose()
    return path


@pytest.fixture
def ads_url(ads_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "market.db"
    shutil.copyfile(ads_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def ads_config(ads_url: str) -> ServerConfig:
    return ServerConfig(market_database_url=ads_url, approval_secret=SECRET, today_override=TODAY)


@pytest.fixture
def market(ads_url: str) -> MarketDB:
    """The test's market database, for checking what a write did (or did not do)."""
    return MarketDB(ads_url)


def test_nonce(operation_id: int) -> str:
    """A token nonce fixed by the operation id, so a test can deliver the same approval twice."""
    return f"test-nonce-{operation_id:012d}"


class AdsClient:
    """A connected client with the two ways a call can end: a structured result, or a coded error."""

    def __init__(self, client: Client, secret: str = SECRET) -> None:
        self.client = client
        self.secret = secret

    async def ok(self, tool: str, **arguments: Any) -> dict[str, Any]:
        result = await self.client.call_tool(tool, arguments)
        assert not result.is_error, result.content[0].text  # type: ignore[union-attr]
        assert result.structured_content is not None
        return result.structured_content

    async def error(self, tool: str, **arguments: Any) -> str:
        result = await self.client.call_tool(tool, arguments)
        assert result.is_error, result.structured_content
        return result.content[0].text  # type: ignore[union-attr]

    def token(self, tool: str, arguments: dict[str, Any], operation_id: int = 1, secret: str | None = None) -> str:
        """What the bridge attaches after an approver approved exactly these business arguments."""
        return sign_approval(secret or self.secret, audience="ads", operation_id=operation_id, tool=tool,
                             arguments=arguments, nonce=test_nonce(operation_id))

    async def approved(self, tool: str, operation_id: int = 1, **arguments: Any) -> dict[str, Any]:
        """Apply a write with a valid token over its business arguments."""
        return await self.ok(tool, **arguments, approval_token=self.token(tool, arguments, operation_id))


@pytest.fixture
async def ads(ads_config: ServerConfig) -> AsyncIterator[AdsClient]:
    async with Client(build_server(ads_config)) as client:
        yield AdsClient(client)


@pytest.fixture
async def demo_ads(server_config: ServerConfig) -> AsyncIterator[AdsClient]:
    """The ads server over a private copy of the seeded demo market (tests/support/market.py)."""
    async with Client(build_server(server_config)) as client:
        yield AdsClient(client, server_config.approval_secret)


WRITTEN_TABLES = ("campaigns", "ad_groups", "keywords", "negative_keywords", "product_ads", "product_targets",
                  "applied_writes")


@pytest.fixture
def snapshot(market: MarketDB) -> Callable[[], dict[str, list[tuple[Any, ...]]]]:
    """Every row a write could touch, to assert that a refused write changed nothing."""

    def take() -> dict[str, list[tuple[Any, ...]]]:
        with market.reader() as s:
            tables = {name: [tuple(r) for r in s.execute(select(Base.metadata.tables[name])).all()]
                      for name in WRITTEN_TABLES}
        # A refused write spends its token's nonce in the ledger; the market itself is what must not change.
        tables["applied_writes"] = [row for row in tables["applied_writes"] if "refused" not in row]
        return tables

    return take


@pytest.fixture
def fill_market() -> Callable[[str], None]:
    """Build the hand-built market of this module at a database URL (for other dialects)."""

    def fill(url: str) -> None:
        migrate(url)
        db = MarketDB(url)
        _fill(db)
        if db.engine.dialect.name == "postgresql":
            # Rows were written with explicit ids: move the id sequences past them, as the seed does.
            with db.engine.begin() as conn:
                for table in Base.metadata.sorted_tables:
                    if "id" in table.c and isinstance(table.c.id.type, Integer):
                        conn.exec_driver_sql(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)")
        db.engine.dispose()

    return fill
