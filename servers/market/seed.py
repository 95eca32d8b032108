"""Deterministic demo data for the market database: `seed_market(url, scale="demo"|"large", seed=7)`.

The data is shaped so every playbook in DESIGN.md §6 finds something: healthy and bad campaigns,
keywords that burn money, harvestable auto-campaign search terms, budgets that run out early or sit
unused, SKUs days from stock-out (and out of stock with live ads), a week-over-week sales anomaly,
low-star reviews, today's paid orders waiting to ship. Everything comes from one `random.Random(seed)`;
the only wall-clock input is the default `today`.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass, field

from sqlalchemy import Connection, Integer, delete, func, select

from servers.market.db import make_engine, migrate
from servers.market.models import Base, Site
from servers.market.rollups import rebuild_rollups
from servers.market.seed_ads import seed_ads
from servers.market.seed_commerce import seed_catalog, seed_sales
from servers.market.seed_context import BulkWriter, Scale, SeedContext
from servers.market.seed_words import SITES


class MarketNotEmpty(RuntimeError):
    """Seeding would mix with data already there; pass force=True to wipe the market tables first."""


SCALES = {
    "demo": Scale("demo", groups_per_site=6, products_per_group=5, manual_ad_groups=2, keywords_per_ad_group=8,
                  extra_campaigns=2, customers_per_site=1500, orders_per_day=150, reviews_per_product=4,
                  manual_term_share=0.35),
    "large": Scale("large", groups_per_site=60, products_per_group=10, manual_ad_groups=4, keywords_per_ad_group=32,
                   extra_campaigns=10, customers_per_site=50000, orders_per_day=3000, reviews_per_product=4,
                   manual_term_share=0.08),
}

WEEKDAY = (1.04, 1.0, 0.98, 0.97, 0.93, 0.86, 1.08)  # Monday .. Sunday: weekends dip on Saturday, peak Sunday
EVENTS = {(10, 7): 1.6, (10, 8): 1.45}  # a fall deal event


@dataclass
class SeedSummary:
    url: str
    scale: str
    seed: int
    today: dt.date
    first_day: dt.date
    last_day: dt.date
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        rows = "\n".join(f"  {name:28} {n:>10,}" for name, n in self.counts.items() if n)
        return (f"seeded {self.scale} (seed {self.seed}) {self.first_day} .. {self.last_day}, today {self.today}, "
                f"in {self.seconds:.1f}s\n{rows}")


def demand_multipliers(rng: random.Random, days: list[dt.date]) -> list[float]:
    """Weekday × Q4 ramp × deal-event bump × a little noise, one factor per day."""
    n = len(days)
    out = []
    for i, d in enumerate(days):
        season = 1.0 + 0.35 * (i / max(n - 1, 1)) ** 2
        out.append(WEEKDAY[d.weekday()] * season * EVENTS.get((d.month, d.day), 1.0) * rng.uniform(0.95, 1.05))
    return out


def wipe_market(conn: Connection) -> None:
    """Delete every row of every market table (the schema and its migration version stay)."""
    if conn.dialect.name == "postgresql":  # row-by-row DELETE checks unindexed foreign keys per row: far too slow
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        return
    for table in reversed(Base.metadata.sorted_tables):
        conn.execute(delete(table))


def _advance_sequences(conn: Connection) -> None:
    """Rows were written with explicit ids: move PostgreSQL's id sequences past them."""
    for table in Base.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and pk[0].name == "id" and isinstance(pk[0].type, Integer):
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)")


def seed_market(url: str, *, scale: str = "demo", seed: int = 7, today: dt.date | None = None,
                force: bool = False) -> SeedSummary:
    """Migrate, then fill the market database with deterministic demo data; refuses a non-empty one unless force."""

    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, not {scale!r}")
    started = time.perf_counter()
    today = today or dt.date.today()
    size = SCALES[scale]
    days = [today - dt.timedelta(days=size.days - i) for i in range(size.days)]  # ends the day before today
    migrate(url)
    engine = make_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.begin() as conn:
            if conn.scalar(select(func.count()).select_from(Site)):
                if not force:
                    raise MarketNotEmpty(f"{url} already has market data; use --force to wipe and reseed")
                wipe_market(conn)
            rng = random.Random(seed)
            out = BulkWriter(conn)
            ctx = SeedContext(rng=rng, scale=size, today=today, days=days, out=out)
            for site in SITES:
                out.add(Site, {"id": site.id, "name": site.name, "marketplace": site.marketplace, "region": site.region,
                               "currency": site.currency, "timezone": site.timezone, "acos_target": site.acos_target})
                ctx.day_mult[site.id] = demand_multipliers(rng, days)
            for site in SITES:
                seed_catalog(ctx, site)
                seed_ads(ctx, site)
                seed_sales(ctx, site)
            out.flush()
            out.counts.update(rebuild_rollups(conn))
            if engine.dialect.name == "postgresql":
                _advance_sequences(conn)
        if sqlite:
            with engine.connect() as conn:  # fold the WAL into the file so copies of it are complete
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    return SeedSummary(url=url, scale=scale, seed=seed, today=today, first_day=days[0], last_day=days[-1],
                       seconds=round(time.perf_counter() - started, 2), counts=dict(out.counts))
