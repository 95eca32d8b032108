"""`python -m console setup`: migrate both databases, seed the demo market and demo users when absent."""

from __future__ import annotations

import argparse
import time

from console.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("setup", help="migrate the databases; seed demo data and demo users on first start")
    parser.add_argument("--scale", choices=["demo", "large"], default="demo", help="market data size when seeding")
    parser.add_argument("--no-seed", action="store_true", help="migrate only")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from console.runtime import Runtime
    from mcp_bridge.keys import Keyring
    from servers.market.db import MarketDB, migrate
    from servers.market.models import Site
    from servers.market.seed import seed_market

    settings = Settings()
    started = time.perf_counter()
    migrate(settings.market_database_url)
    market = MarketDB(settings.market_database_url)
    with market.reader() as session:
        sites = session.scalar(select(func.count()).select_from(Site))
    market.engine.dispose()
    if sites:
        print(f"market database: {sites} sites already there; not seeding")
    elif not args.no_seed:
        summary = seed_market(settings.market_database_url, scale=args.scale)
        print(f"market database: seeded '{args.scale}' data ({summary})")
    if settings.keyring and Keyring(settings.approval_secret.get_secret_value(), settings.keyring).ensure_file():
        print(f"keyring: {settings.keyring} created (the master secret as key k0; rotate with `secrets rotate`)")
    runtime = Runtime.create(settings, start_bridge=False)
    try:
        if not args.no_seed:
            created = runtime.users.seed_demo()
            print(f"console database: demo users ready ({created} created)")
    finally:
        runtime.close()
    print(f"setup done in {time.perf_counter() - started:.1f} s")
    return 0
