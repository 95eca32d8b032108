"""`python -m console …`: operator and script entry point (setup, serve, users, ops, audit, chat, daily-ops, bench).

`ops` and `chat` go through the command line's warm agent when one can serve (console/cli_agent/); everything else,
and those too when no agent can, runs in this process (console/cli/).
"""

from __future__ import annotations

import sys

from console.cli_agent import run_through_agent


def main(argv: list[str] | None = None) -> int:
    from console.cli import main as run_here

    return run_here(argv)


def entry() -> int:
    argv = sys.argv[1:]
    code = run_through_agent(argv)
    return main(argv) if code is None else code


if __name__ == "__main__":
    sys.exit(entry())
