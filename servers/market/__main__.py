"""`python -m servers.market migrate | seed --scale demo|large [--seed N] [--today YYYY-MM-DD] [--force]
| rollups rebuild|check [--site S]`, each with `[--url URL]`."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys

from servers.common.config import ServerConfig
from servers.market.db import MarketDB, migrate
from servers.market.rollups import rebuild_rollups, rollup_drift
from servers.market.seed import SCALES, MarketNotEmpty, seed_market


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m servers.market", description="The market database: migrate, seed, or repair its rollups.")
    parser.add_argument("--url", help="Market database URL (default: MARKET_DATABASE_URL or data/market.db)")
    sub = parser.add_subparsers(dest="command", required=True)
    migrate_cmd = sub.add_parser("migrate", help="Bring the schema to the newest migration")
    migrate_cmd.add_argument("--url", dest="sub_url", help="Market database URL")
    seed = sub.add_parser("seed", help="Fill the market database with deterministic demo data")
    seed.add_argument("--scale", choices=sorted(SCALES), default="demo")
    seed.add_argument("--seed", type=int, default=7)
    seed.add_argument("--today", type=dt.date.fromisoformat, default=None,
                      help="The day the data ends before (default: MARKET_TODAY or the real date)")
    seed.add_argument("--force", action="store_true", help="Wipe the market tables first if they hold data")
    seed.add_argument("--url", dest="sub_url", help="Market database URL")
    rollups = sub.add_parser("rollups", help="Repair or check the daily rollup tables the dashboards read")
    rollups.add_argument("action", choices=("rebuild", "check"),
                         help="rebuild: recompute them from the raw rows; check: count rows that differ (exit 1 if any)")
    rollups.add_argument("--site", help="Only this site (default: all)")
    rollups.add_argument("--url", dest="sub_url", help="Market database URL")
    args = parser.parse_args(argv)
    url = args.sub_url or args.url or ServerConfig.from_env().market_database_url
    if args.command == "migrate":
        migrate(url)
        print(f"migrated {url}")
        return 0
    if args.command == "rollups":
        return _rollups(url, args.action, args.site)
    today = args.today or (dt.date.fromisoformat(os.environ["MARKET_TODAY"]) if os.environ.get("MARKET_TODAY") else None)
    try:
        summary = seed_market(url, scale=args.scale, seed=args.seed, today=today, force=args.force)
    except MarketNotEmpty as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary)
    return 0


def _rollups(url: str, action: str, site: str | None) -> int:
    db = MarketDB(url)
    try:
        if action == "rebuild":
            with db.session() as s:
                written = rebuild_rollups(s, site)
            print("rebuilt " + ", ".join(f"{name} {n:,} rows" for name, n in written.items()))
            return 0
        with db.reader() as s:
            drift = rollup_drift(s, site)
        print(", ".join(f"{name}: {n:,} rows differ" for name, n in drift.items()))
        if any(drift.values()):
            print("run `python -m servers.market rollups rebuild` to recompute them", file=sys.stderr)
            return 1
        return 0
    finally:
        db.engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
