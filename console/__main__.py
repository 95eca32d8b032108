"""`python -m console …`: operator and script entry point (setup, users, ops, audit, chat, daily-ops, bench)."""

from __future__ import annotations

import argparse
import importlib
import sys

from console.cli import GROUPS
from console.logs import configure_logging


def main(argv: list[str] | None = None) -> int:
    configure_logging()
    parser = argparse.ArgumentParser(prog="python -m console", description="Operator console command line.")
    sub = parser.add_subparsers(dest="group", required=True)
    for name in GROUPS:
        try:
            module = importlib.import_module(f"console.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"console.cli.{name}":
                raise
            continue
        module.register(sub)
    args = parser.parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
