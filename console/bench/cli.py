"""`python -m console bench cli [-n N]`: the command line's wall time, each command in its own process against the
same commands through the warm agent (console/cli_agent/), in one run on a copy of the demo market.

Measured: `ops list`, `ops approve` (a bid change proposed untimed just before; "besides the write" subtracts the
server's execution, the `executed` audit row's duration) and a `chat` turn with the offline assistant (one read).
The agent's first command (which starts it) is reported apart from the warm ones."""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path
from statistics import median
from typing import Any

from console import cli_agent as agent
from console.bench import console_app
from console.settings import PROJECT_ROOT

CHAT = "show the 5 campaigns with the highest ACOS in the last 7 days"
DEFAULT_N = 5
TARGET_S = 1.0  # issue: `ops approve` and `chat` ≤ 1 s wall besides the write or the answer


class Commands:
    def __init__(self, env: dict[str, str], console_db: Path, market_db: Path) -> None:
        self.env, self.console_db, self.market_db = env, console_db, market_db
        self.keywords = self._keywords()

    def _keywords(self) -> list[tuple[int, float]]:
        with closing(sqlite3.connect(self.market_db)) as db:
            return db.execute("SELECT id, bid FROM keywords WHERE site_id = 'us' AND state = 'enabled' "
                              "AND bid >= 0.5 ORDER BY id LIMIT 200").fetchall()

    def run(self, *args: str, agent_on: bool) -> tuple[float, str]:
        env = {**self.env, "CONSOLE_CLI_AGENT": "auto" if agent_on else "off"}
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "console", *args], cwd=PROJECT_ROOT, env=env, text=True,
                              capture_output=True, timeout=300)
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError(f"`{' '.join(args)}` exited {proc.returncode}: {proc.stderr.strip()[:300]}")
        return wall, proc.stdout

    def propose(self) -> int:
        kid, bid = self.keywords.pop(0)
        _, out = self.run("ops", "propose", "--as", "seller@demo.local", "--site", "us", "--tool", "ads.update_bid",
                          "--args", json.dumps({"keyword_id": kid, "bid": round(bid * 0.9, 2)}), "--json",
                          agent_on=True)
        return int(json.loads(out)["operation_id"])

    def write_ms(self, op_id: int) -> float:
        with closing(sqlite3.connect(self.console_db)) as db:
            row = db.execute("SELECT duration_ms FROM audit_log WHERE event = 'executed' "
                             "AND json_extract(detail, '$.operation_id') = ?", (op_id,)).fetchone()
        if row is None:
            raise RuntimeError(f"operation #{op_id} has no executed row")
        return float(row[0] or 0)


def measure(commands: Commands, n: int) -> dict[str, Any]:
    cases: dict[str, dict[str, Any]] = {}

    def sample(name: str, agent_on: bool, fn) -> None:
        key = f"{name}|{'agent' if agent_on else 'own process'}"
        walls, besides = [], []
        for _ in range(n):
            wall, extra = fn(agent_on)
            walls.append(wall)
            besides.append(wall - extra)
        cases[key] = {"command": name, "how": "agent" if agent_on else "own process",
                      "median_s": median(walls), "besides_s": median(besides), "samples_s": walls}

    def ops_list(agent_on: bool) -> tuple[float, float]:
        return commands.run("ops", "list", "--status", "pending", agent_on=agent_on)[0], 0.0

    def approve(agent_on: bool) -> tuple[float, float]:
        op_id = commands.propose()
        wall, _ = commands.run("ops", "approve", str(op_id), "--as", "approver@demo.local", agent_on=agent_on)
        return wall, commands.write_ms(op_id) / 1000

    def chat(agent_on: bool) -> tuple[float, float]:
        return commands.run("chat", "--as", "seller@demo.local", "--site", "us", CHAT, agent_on=agent_on)[0], 0.0

    first, _ = commands.run("ops", "list", agent_on=True)  # starts the agent
    for name, fn in (("ops list", ops_list), ("ops approve", approve), ("chat", chat)):
        sample(name, False, fn)
        sample(name, True, fn)
    return {"agent_start_s": first, "cases": list(cases.values()), "n": n}


def report(result: dict[str, Any]) -> str:
    rows = [f"bench cli: median of {result['n']} runs each, every command a new `python -m console` process; "
            "approve: 'besides' subtracts the server's write (the executed audit row's duration)",
            f"the agent's first command (starts it): {result['agent_start_s'] * 1000:,.0f} ms",
            f"{'command':<12} {'own process':>12} {'agent':>9} {'ratio':>7} {'agent besides the write':>24}"]
    by = {(c["command"], c["how"]): c for c in result["cases"]}
    for name in ("ops list", "ops approve", "chat"):
        own, warm = by[(name, "own process")], by[(name, "agent")]
        met = "ok" if warm["besides_s"] <= TARGET_S else "MISSED"
        rows.append(f"{name:<12} {own['median_s'] * 1000:>9,.0f} ms {warm['median_s'] * 1000:>6,.0f} ms "
                    f"{warm['median_s'] / own['median_s']:>6.2f}× {warm['besides_s'] * 1000:>18,.0f} ms {met}")
    return "\n".join(rows)


def main(args: argparse.Namespace) -> int:
    n = getattr(args, "iterations", None) or DEFAULT_N
    n = DEFAULT_N if n == 300 else max(1, min(n, 50))  # 300 is the parser's default, sized for the bridge bench
    market = console_app.seeded_market("demo")
    with tempfile.TemporaryDirectory(prefix="bench-cli-", dir="/tmp") as workdir:
        env = console_app.prepare(Path(workdir), market, managers=[])
        env = {**os.environ, **env, "CONSOLE_CLI_AGENT_DIR": str(Path(workdir) / "agents")}
        commands = Commands(env, Path(workdir) / "console.db", Path(workdir) / "market.db")
        try:
            result = measure(commands, n)
        finally:
            place = agent.agent_dir(env)
            for path in place.glob("*.sock") if place else ():
                agent.stop(path)
    print(json.dumps(result, indent=2) if getattr(args, "json", False) else report(result))
    return 0
