"""`python -m servers.market migrate | seed --scale demo|large [--seed N] [--today YYYY-MM-DD] [--url URL] [--force]`."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys

from servers.common.config import ServerConfig
from servers.market.db import migrate
from servers.market.seed import SCALES, MarketNotEmpty, seed_market


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m servers.market", description="The market database: migrate or seed it.")
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
    args = parser.parse_args(argv)
    url = args.sub_url or args.url or ServerConfig.from_env().market_database_url
    if args.command == "migrate":
        migrate(url)
        print(f"migrated {url}")
        return 0
    today = args.today or (dt.date.fromisoformat(os.environ["MARKET_TODAY"]) if os.environ.get("MARKET_TODAY") else None)
    try:
        summary = seed_market(url, scale=args.scale, seed=args.seed, today=today, force=args.force)
    except MarketNotEmpty as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
