"""`python -m console bench servers`: p50/p99 of a read tool over a warm stdio session (official client)."""

from __future__ import annotations

import argparse

from console.settings import Settings


def main(args: argparse.Namespace) -> int:
    import datetime as dt
    import os

    from servers.market.bench import measure_stdio_read

    url = args.market_url or Settings().market_database_url
    today = dt.date.fromisoformat(os.environ["MARKET_TODAY"]) if os.environ.get("MARKET_TODAY") else dt.date.today()
    ninety = {"start_date": (today - dt.timedelta(days=89)).isoformat(), "end_date": today.isoformat()}
    keywords = {"site": "us", "min_acos": 0.3, "sort_by": "acos", "descending": True, "limit": 50}
    cases = [
        ("ads", "list_profiles", {"site": "us"}),
        ("ads", "list_keywords", keywords),
        ("ads", "list_keywords", {**keywords, **ninety}),
        ("analytics", "get_acos_alerts", {"site": "us"}),
    ]
    print(f"market: {url}")
    print(f"{'server':10} {'tool':16} {'range':8} {'n':>5} {'p50 ms':>8} {'p99 ms':>8}")
    for server, tool, arguments in cases:
        figures = measure_stdio_read(url, server=server, tool=tool, arguments=arguments, n=args.iterations)
        span = "90 days" if "start_date" in arguments else "default"
        print(f"{server:10} {tool:16} {span:8} {args.iterations:>5} {figures['p50_ms']:>8.2f} {figures['p99_ms']:>8.2f}")
    return 0
