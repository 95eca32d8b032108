"""What the seed's generators share: the scale, the bulk writer, and the context of one run (the floor of the seed)."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from servers.market.models import Base
from servers.market.seed_words import SiteSpec


@dataclass(frozen=True)
class Scale:
    name: str
    groups_per_site: int  # product groups; each has an SP auto and an SP manual campaign
    products_per_group: int
    manual_ad_groups: int
    keywords_per_ad_group: int
    extra_campaigns: int  # per site and per kind: SB, SD, meta, google
    customers_per_site: int
    orders_per_day: int  # for `us`; other sites scale by their volume
    reviews_per_product: int
    manual_term_share: float  # share of manual keywords that also report search terms
    days: int = 90


class BulkWriter:
    """Buffers rows per table and inserts them in large executemany batches, parents before children."""

    def __init__(self, conn: Connection, batch: int = 50_000) -> None:
        self.conn = conn
        self.batch = batch
        self.buffers: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.counts: dict[str, int] = {t.name: 0 for t in Base.metadata.sorted_tables}
        self._pending = 0
        self._deferred = False

    def defer(self, on: bool) -> None:
        """Hold rows back (no automatic flush) while children are buffered ahead of their parents."""
        self._deferred = on

    def add(self, model: type[Base], row: dict[str, Any]) -> None:
        self.buffers[model.__tablename__].append(row)
        self._pending += 1
        if self._pending >= self.batch and not self._deferred:
            self.flush()

    def flush(self) -> None:
        for table in Base.metadata.sorted_tables:  # dependency order keeps foreign keys satisfied
            rows = self.buffers.pop(table.name, None)
            if rows:
                self.conn.execute(table.insert(), rows)
                self.counts[table.name] += len(rows)
        self._pending = 0


@dataclass
class SeedContext:
    """What the ads and commerce generators share while one seed runs."""

    rng: random.Random
    scale: Scale
    today: dt.date
    days: list[dt.date]
    out: BulkWriter
    ids: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    day_mult: dict[str, list[float]] = field(default_factory=dict)  # site -> demand multiplier per day
    catalog: dict[str, Any] = field(default_factory=dict)  # site -> seed_commerce.Catalog
    advertised: dict[str, list[int]] = field(default_factory=dict)  # site -> variant ids with enabled ads

    def next_id(self, model: type[Base]) -> int:
        self.ids[model.__tablename__] += 1
        return self.ids[model.__tablename__]

    def money(self, site: SiteSpec, usd: float) -> float:
        """A USD amount in the site's currency, rounded the way the currency is."""
        return round(usd * site.fx, site.money_digits)
