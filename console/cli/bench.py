"""`python -m console bench bridge|dashboards|servers`: benchmarks that print figures (ratios in one run)."""

from __future__ import annotations

import argparse
import importlib


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("bench", help="run a benchmark and print its figures")
    parser.add_argument("suite", choices=["bridge", "dashboards", "servers"])
    parser.add_argument("--market-url", help="market database to measure (default: settings; use the 'large' seed)")
    parser.add_argument("-n", "--iterations", type=int, default=300)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    module = importlib.import_module(f"console.bench.{args.suite}")
    return int(module.main(args) or 0)
