"""The console under measurement: `python -m console serve` (what `make run` starts) on a temporary copy of a seeded market (seeded once per
scale and kept under artifacts/bench/), a fresh console database with the demo users and the benchmark's own
managers, and a count of the audit rows each page load writes."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from console.settings import PROJECT_ROOT, Settings
from mcp_bridge.store import AuditRow

CACHE = PROJECT_ROOT / "artifacts" / "bench"
MARKET_TODAY = dt.date(2026, 11, 21)  # fixed, so a cached market stays the same market
SEED = 7
START_TIMEOUT_S, STOP_GRACE_S = 180.0, 15.0


def seeded_market(scale: str, *, say=print) -> Path:
    """artifacts/bench/market-<scale>.db, seeded the first time (`large` takes minutes); delete it to reseed."""
    from servers.market.seed import seed_market

    target, stamp = CACHE / f"market-{scale}.db", CACHE / f"market-{scale}.json"
    wanted = {"scale": scale, "seed": SEED, "today": MARKET_TODAY.isoformat()}
    with suppress(OSError, ValueError):
        if target.exists() and json.loads(stamp.read_text()) == wanted:
            return target
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = CACHE / f"market-{scale}.seeding-{os.getpid()}.db"  # two runs seeding at once do not mix
    say(f"seeding a {scale} market into {target} (once: later runs reuse it)…")
    started = time.perf_counter()
    try:
        seed_market(f"sqlite:///{partial}", scale=scale, seed=SEED, today=MARKET_TODAY)
        partial.replace(target)  # the seed folded its write-ahead log into the file: the file is the whole market
    finally:
        for leftover in (partial, *(partial.with_name(partial.name + s) for s in ("-wal", "-shm"))):
            leftover.unlink(missing_ok=True)
    stamp.write_text(json.dumps(wanted))
    say(f"seeded in {time.perf_counter() - started:.0f} s")
    return target


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy (SQLite's backup API), whatever journal the source is in."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ConsoleApp:
    """A running console: where it answers, its databases and log; when it was spawned (monotonic and epoch)."""

    url: str
    workdir: Path
    console_url: str
    process: subprocess.Popen
    log_path: Path
    spawned_at: float
    spawned_wall: float

    async def wait_healthy(self) -> float:
        """Seconds from the spawn to the first answer of Streamlit's health check."""
        deadline = self.spawned_at + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the console exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            if await asyncio.to_thread(self._answers):
                return time.monotonic() - self.spawned_at
            await asyncio.sleep(0.05)
        raise RuntimeError(f"the console did not answer within {START_TIMEOUT_S:.0f} s:\n{self.log()[-3000:]}")

    def _answers(self) -> bool:
        with suppress(OSError), urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
            return response.status == 200
        return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        """SIGTERM to the app's process group (it and the MCP servers it started); SIGKILL after a grace period."""
        if self.process.poll() is not None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _environment(workdir: Path) -> dict[str, str]:
    """The temporary databases, fresh secrets, no CONSOLE_/ANTHROPIC_/STREAMLIT_ setting of ours (offline chat)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONSOLE_", "ANTHROPIC_", "STREAMLIT_"))}
    return {**env, "CONSOLE_ENV": "test", "CONSOLE_DATABASE_URL": f"sqlite:///{workdir / 'console.db'}",
            "MARKET_DATABASE_URL": f"sqlite:///{workdir / 'market.db'}", "MARKET_TODAY": MARKET_TODAY.isoformat(),
            "CONSOLE_KEYRING": str(workdir / "keyring.json"), "CONSOLE_AUDIT_ANCHOR": str(workdir / "anchor.jsonl"),
            "CONSOLE_APPROVAL_SECRET": secrets.token_urlsafe(32), "CONSOLE_AUDIT_SECRET": secrets.token_urlsafe(32),
            "PYTHONUNBUFFERED": "1"}


def prepare(workdir: Path, market: Path, *, managers: list[str]) -> dict[str, str]:
    """Copy the market, migrate it, make the console database with the demo users and `managers` (every site)."""
    from console.runtime import Runtime
    from console.users import ALL
    from servers.market.db import migrate

    workdir.mkdir(parents=True, exist_ok=True)
    env = _environment(workdir)
    copy_sqlite(market, workdir / "market.db")
    migrate(env["MARKET_DATABASE_URL"])  # a market cached before a newer migration
    settings = Settings(env="test", database_url=env["CONSOLE_DATABASE_URL"],
                        market_database_url=env["MARKET_DATABASE_URL"], keyring=env["CONSOLE_KEYRING"],
                        audit_anchor=env["CONSOLE_AUDIT_ANCHOR"], approval_secret=env["CONSOLE_APPROVAL_SECRET"],
                        audit_secret=env["CONSOLE_AUDIT_SECRET"])
    with Runtime.create(settings) as runtime:
        runtime.users.seed_demo()
        for email in managers:
            runtime.users.create(email, name=email.split("@")[0], roles=("manager",), sites=ALL)
    return env


def spawn(workdir: Path, env: dict[str, str]) -> ConsoleApp:
    """Start the console (demo sign-in: an absent secrets file) in a process group of its own; does not wait."""
    port = free_port()
    log_path = workdir / "streamlit.log"
    command = [sys.executable, "-m", "console", "serve", "--server.headless", "true", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType",
               "none", "--secrets.files", str(workdir / "secrets.toml")]
    spawned_at, spawned_wall = time.monotonic(), time.time()
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    return ConsoleApp(f"http://127.0.0.1:{port}", workdir, env["CONSOLE_DATABASE_URL"], process, log_path, spawned_at,
                      spawned_wall)


def tree_cpu_seconds(*roots: int) -> list[float]:
    """CPU time so far of each process with all its descendants, living or reaped (Linux /proc; 0 elsewhere)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, ValueError, IndexError):
            fields = entry.read_text().rpartition(")")[2].split()  # after the command, which may hold spaces
            pid = int(entry.parent.name)
            # ppid; utime + stime, and the same of children it has reaped (Chromium's closed tabs)
            parents[pid], ticks[pid] = int(fields[1]), sum(int(f) for f in fields[11:15])
    found = []
    for root in roots:
        tree, grew = {root}, True
        while grew:
            more = {pid for pid, parent in parents.items() if parent in tree} - tree
            tree, grew = tree | more, bool(more)
        found.append(sum(ticks.get(pid, 0) for pid in tree) / os.sysconf("SC_CLK_TCK"))
    return found


def cpu_split(app_pid: int) -> tuple[float, float]:
    """CPU seconds so far of the console (with its MCP servers) and of the browser side: this process, Playwright's
    driver and Chromium, i.e. all of this process's tree but the console's."""
    console, everything = tree_cpu_seconds(app_pid, os.getpid())
    return console, everything - console


@dataclass(frozen=True)
class Load:
    """What one load cost: audit rows by event (`tool_call`: one per read through the bridge), and CPU time of the
    console with its MCP servers and of the browser (steadier than wall time on a busy machine); None: unknown."""

    audit: Counter[str] | None = None
    cpu_ms: float | None = None
    browser_cpu_ms: float | None = None
    tool_ms: float | None = None  # the reads' own time (their result rows' durations: the server and the hop to it)

    @property
    def reads(self) -> int | None:
        return None if self.audit is None else self.audit["tool_call"]


class Probe:
    """Measures a load from the console's side, when the benchmark started the console (else every figure is None)."""

    SETTLE_S = 0.15  # a read's result row is flushed within 50 ms of its answer

    def __init__(self, app: ConsoleApp | None = None) -> None:
        self.app = app
        self.engine = create_engine(app.console_url, poolclass=NullPool) if app else None

    def _last_row(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.max(AuditRow.id))) or 0)

    def _rows_since(self, mark: int) -> tuple[Counter[str], float]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(AuditRow.event, func.count(), func.sum(AuditRow.duration_ms))
                                .where(AuditRow.id > mark).group_by(AuditRow.event))
            counted, tool_ms = Counter(), 0.0
            for event, n, duration in rows:
                counted[event] = int(n)
                tool_ms += float(duration or 0) if event == "tool_result" else 0.0
            return counted, tool_ms

    async def cpu(self) -> tuple[float, float]:
        return await asyncio.to_thread(cpu_split, self.app.process.pid)

    async def start(self) -> tuple[int, tuple[float, float]] | None:
        if self.app is None:
            return None
        return await asyncio.to_thread(self._last_row), await self.cpu()

    async def stop(self, started: tuple[int, tuple[float, float]] | None) -> Load:
        if started is None:
            return Load()
        mark, (console, browser) = started
        now = await self.cpu()
        await asyncio.sleep(self.SETTLE_S)
        audit, tool_ms = await asyncio.to_thread(self._rows_since, mark)
        return Load(audit, (now[0] - console) * 1000, (now[1] - browser) * 1000, tool_ms)

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
