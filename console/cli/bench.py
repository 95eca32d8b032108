"""`python -m console bench bridge|cli|concurrency|dashboards|gateway|pages|servers`: benchmarks that print figures (ratios in one run)."""

from __future__ import annotations

import argparse
import importlib


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("bench", help="run a benchmark and print its figures")
    parser.add_argument("suite", choices=["bridge", "cli", "concurrency", "dashboards", "gateway", "pages",
                                                 "servers"])
    parser.add_argument("--market-url", help="market database to measure (default: settings; use the 'large' seed)")
    parser.add_argument("-n", "--iterations", type=int, default=300)
    parser.add_argument("--clients", type=int, default=50, help="gateway: concurrent MCP clients per path")
    parser.add_argument("--seconds", type=float, default=5.0, help="gateway: length of each measured round")
    parser.add_argument("--rounds", type=int, default=3, help="gateway: alternating rounds per path")
    parser.add_argument("--scale", choices=["demo", "large"], default="demo", help="pages: the seeded market")
    parser.add_argument("--sessions", type=int, default=10, help="pages: simultaneous sessions (0: none)")
    parser.add_argument("--url", help="pages: measure the console running there instead of starting one")
    parser.add_argument("--role", action="append", choices=["seller", "manager", "approver", "admin"],
                        help="pages: only this role (repeatable)")
    parser.add_argument("--page", action="append", help="pages: only this navigation title (repeatable)")
    parser.add_argument("--json", action="store_true", help="pages: the figures as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    module = importlib.import_module(f"console.bench.{args.suite}")
    return int(module.main(args) or 0)
