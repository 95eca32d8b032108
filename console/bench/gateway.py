"""`python -m console bench gateway`: many outside agents calling one light read through the gateway vs the ads
server itself, each over streamable HTTP on loopback, on a fresh demo market in a temporary directory.

Bare: the ads server (`python -m servers.ads --transport streamable-http`) with the bridge's service credential.
Gateway: `python -m console gateway` with a tool group's API key; it runs the read through the bridge to its own ads
server over stdio. Every client is its own `mcp.Client` over its own HTTP connection, all in this process: the client
CPU column shows they stay well below one core, so more client processes would not change the pace on 2 CPUs. Rounds
alternate, so that a busy machine slows both paths alike; the CPU each call costs (from /proc) is the steadier figure
when other work shares the machine.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from console.settings import PROJECT_ROOT, Settings
from mcp_bridge.keys import Keyring
from mcp_bridge.store import AuditRow

CLIENTS, SECONDS, ROUNDS = 50, 5.0, 3
TOOL, ARGUMENTS = "get_regions", {"site": "us"}
GROUP, ADMIN = "bench", "admin@demo.local"
TARGET_RATIO = 0.8
# The gateway's default limit (600 calls a minute, bursts of 120, per key) would refuse most of the benchmark's calls,
# all made with one key: raised far beyond what one machine can send.
RATE_PER_MINUTE, BURST = 60_000_000, 1_000_000
START_TIMEOUT_S, STOP_GRACE_S = 60.0, 15.0


@dataclass(frozen=True)
class Target:
    """One path under load: where its clients connect, what they send, and the process that answers."""

    name: str
    url: str
    headers: dict[str, str]
    tool: str
    pid: int


@dataclass
class Round:
    """One round of one path: latencies of the calls answered inside the window, calls sent, errors, CPU used."""

    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    sent: int = 0
    errors: int = 0
    first_error: str | None = None
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0  # the answering process and its children (the gateway's tool servers)

    def failed(self, what: object) -> None:
        self.errors += 1
        self.first_error = self.first_error or str(what)[:300]


# -- load -----------------------------------------------------------------------------------------------------
@asynccontextmanager
async def _transport(url: str, headers: dict[str, str]) -> AsyncIterator[Any]:
    async with (httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=60)) as http,
                streamable_http_client(url, http_client=http) as streams):
        yield streams


class _Start:
    """Every client connects and makes one untimed call first; the window opens when all are in."""

    def __init__(self, clients: int) -> None:
        self.waiting, self.all_in, self.go, self.closes = clients, anyio.Event(), anyio.Event(), 0.0

    def arrived(self) -> None:
        self.waiting -= 1
        if self.waiting == 0:
            self.all_in.set()


async def _call(client: Client, target: Target, out: Round) -> bool:
    out.sent += 1
    result = await client.call_tool(target.tool, ARGUMENTS)
    if result.is_error:
        out.failed(getattr(result.content[0], "text", "?") if result.content else "is_error without content")
    return not result.is_error


async def _agent(target: Target, start: _Start, out: Round) -> None:
    arrived = False
    try:
        async with Client(_transport(target.url, target.headers)) as client:
            await _call(client, target, out)  # lists the tools (the SDK checks results against them), warms up
            start.arrived()
            arrived = True
            await start.go.wait()
            while (began := time.perf_counter()) < start.closes:
                ok = await _call(client, target, out)
                ended = time.perf_counter()
                if ok and ended <= start.closes:
                    out.latencies_ms.append((ended - began) * 1000)
    except Exception as exc:  # the client is lost; what broke it is the error
        while isinstance(exc, ExceptionGroup) and exc.exceptions:
            exc = exc.exceptions[0]
        out.failed(f"{type(exc).__name__}: {exc}")
    finally:
        if not arrived:
            start.arrived()


async def load_round(target: Target, clients: int, seconds: float) -> Round:
    """`clients` agents calling the target's tool back to back for `seconds`, all in this process."""
    out, start = Round(seconds), _Start(clients)
    async with anyio.create_task_group() as tg:
        for _ in range(clients):
            tg.start_soon(_agent, target, start, out)
        await start.all_in.wait()
        cpu, server_cpu = time.process_time(), _cpu_seconds(target.pid)
        start.closes = time.perf_counter() + seconds
        start.go.set()
        await anyio.sleep(seconds)
        out.client_cpu_s, out.server_cpu_s = time.process_time() - cpu, _cpu_seconds(target.pid) - server_cpu
    return out


def _cpu_seconds(root: int) -> float:
    """CPU time so far of a process and all its descendants (Linux /proc; 0 elsewhere)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, ValueError, IndexError):
            fields = entry.read_text().rpartition(")")[2].split()  # after the command, which may hold spaces
            pid = int(entry.parent.name)
            parents[pid], ticks[pid] = int(fields[1]), int(fields[11]) + int(fields[12])  # ppid; utime + stime
    tree, grew = {root}, True
    while grew:
        found = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree, grew = tree | found, bool(found)
    return sum(ticks.get(pid, 0) for pid in tree) / os.sysconf("SC_CLK_TCK")


# -- the processes ----------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(home: Path) -> dict[str, str]:
    """What every process gets: the temporary databases, fresh secrets, the raised rate limit (no CONSOLE_* of ours)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSOLE_") or k == "CONSOLE_MARKET_TODAY"}
    return {**env, "CONSOLE_ENV": "development", "CONSOLE_DATABASE_URL": f"sqlite:///{home / 'console.db'}",
            "MARKET_DATABASE_URL": f"sqlite:///{home / 'market.db'}", "CONSOLE_KEYRING": str(home / "keyring.json"),
            "CONSOLE_APPROVAL_SECRET": secrets.token_urlsafe(32), "CONSOLE_AUDIT_SECRET": secrets.token_urlsafe(32),
            "CONSOLE_AUDIT_ANCHOR": str(home / "audit-anchor.jsonl"),
            "CONSOLE_GATEWAY_RATE_PER_MINUTE": str(RATE_PER_MINUTE), "CONSOLE_GATEWAY_BURST": str(BURST)}


def _prepare(env: dict[str, str]) -> str:
    """Seed as `python -m console setup` does, then a tool group with the one read for site us; returns its key."""
    from console.gateway.groups import ToolGroups
    from console.gateway.keys import ApiKeys
    from console.runtime import Runtime

    done = subprocess.run([sys.executable, "-m", "console", "setup"], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True)
    if done.returncode:
        raise RuntimeError(f"`python -m console setup` failed:\n{(done.stdout + done.stderr)[-2000:]}")
    settings = Settings(env="development", database_url=env["CONSOLE_DATABASE_URL"],
                        market_database_url=env["MARKET_DATABASE_URL"], keyring=env["CONSOLE_KEYRING"],
                        approval_secret=env["CONSOLE_APPROVAL_SECRET"], audit_secret=env["CONSOLE_AUDIT_SECRET"],
                        audit_anchor=env["CONSOLE_AUDIT_ANCHOR"])
    with Runtime.create(settings) as rt:
        ToolGroups(rt.engine, rt.bridge.audit).create(GROUP, tools=[f"ads__{TOOL}"], sites=["us"], actor=ADMIN)
        return ApiKeys(rt.engine, rt.bridge.audit).create(GROUP, label="bench", actor=ADMIN).secret


@contextmanager
def _process(argv: list[str], env: dict[str, str], log: Path, ready_url: str) -> Iterator[int]:
    """`python -m …` in a session of its own until it answers `ready_url`; stopped, with its children, on the way out."""
    with log.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", *argv], cwd=PROJECT_ROOT, env=env, stdout=sink,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            with suppress(OSError), urllib.request.urlopen(ready_url, timeout=2) as response:
                if response.status == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"`python -m {' '.join(argv)}` did not get ready (exit {process.poll()}):\n{tail}")
            time.sleep(0.1)
        yield process.pid
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # uvicorn stops gracefully, then the gateway closes its tool servers
            try:
                process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)  # its whole session: it and whatever it started
                process.wait()


def _audit_rows(url: str) -> int:
    """Rows in the console's audit log, once the count stops moving (a read's result row follows its answer)."""
    engine, counts = create_engine(url, poolclass=NullPool), [-2, -1]
    for _ in range(20):
        with engine.connect() as conn:
            counts.append(int(conn.scalar(select(func.count()).select_from(AuditRow)) or 0))
        if counts[-1] == counts[-2]:
            break
        time.sleep(0.5)
    engine.dispose()
    return counts[-1]


# -- the benchmark --------------------------------------------------------------------------------------------
def run(*, clients: int = CLIENTS, seconds: float = SECONDS, rounds: int = ROUNDS) -> dict[str, Any]:
    """Set everything up in a temporary directory, measure both paths in alternating rounds; returns the figures."""
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as tmp, ExitStack() as stack:
        home = Path(tmp)
        env = _environment(home)
        key = _prepare(env)
        ads, gateway = _free_port(), _free_port()
        ads_pid = stack.enter_context(_process(
            ["servers.ads", "--transport", "streamable-http", "--host", "127.0.0.1", "--port", str(ads)], env,
            home / "ads.log", f"http://127.0.0.1:{ads}/readyz"))
        gateway_pid = stack.enter_context(_process(
            ["console", "gateway", "--host", "127.0.0.1", "--port", str(gateway)], env, home / "gateway.log",
            f"http://127.0.0.1:{gateway}/readyz"))
        credential = Keyring(env["CONSOLE_APPROVAL_SECRET"], env["CONSOLE_KEYRING"]).service_credential("ads")
        targets = [Target("bare", f"http://127.0.0.1:{ads}/mcp", {"Authorization": f"Bearer {credential}"}, TOOL,
                          ads_pid),
                   Target("gateway", f"http://127.0.0.1:{gateway}/mcp/{GROUP}", {"Authorization": f"Bearer {key}"},
                          f"ads__{TOOL}", gateway_pid)]
        rows_before = _audit_rows(env["CONSOLE_DATABASE_URL"])
        warm = {t.name: anyio.run(load_round, t, clients, min(1.0, seconds)) for t in targets}  # not timed
        measured: dict[str, list[Round]] = {t.name: [] for t in targets}
        for _ in range(rounds):  # alternating: a slow spell of the machine falls on both paths
            for target in targets:
                measured[target.name].append(anyio.run(load_round, target, clients, seconds))
        rows = _audit_rows(env["CONSOLE_DATABASE_URL"]) - rows_before
    paths = {name: _summary(found, warm[name]) for name, found in measured.items()}
    ratio = paths["gateway"]["rps"] / paths["bare"]["rps"] if paths["bare"]["rps"] else 0.0
    sent, cpu = paths["gateway"]["sent"], {k: p["server_cpu_ms"] + p["client_cpu_ms"] for k, p in paths.items()}
    return {"clients": clients, "seconds": seconds, "rounds": rounds, "paths": paths, "ratio": ratio,
            "met": ratio >= TARGET_RATIO and not any(p["errors"] for p in paths.values()), "cpu_ms": cpu,
            "audit_rows": rows, "gateway_calls": sent, "rows_per_call": rows / sent if sent else 0.0}


def _summary(rounds: list[Round], warm: Round) -> dict[str, Any]:
    latencies = sorted(ms for r in rounds for ms in r.latencies_ms)
    seconds, calls = sum(r.seconds for r in rounds), len(latencies)
    return {"calls": calls, "rps": calls / seconds, "round_rps": [len(r.latencies_ms) / r.seconds for r in rounds],
            "p50_ms": statistics.median(latencies) if latencies else float("nan"),
            "p99_ms": latencies[min(calls - 1, round(0.99 * (calls - 1)))] if latencies else float("nan"),
            "errors": warm.errors + sum(r.errors for r in rounds), "sent": warm.sent + sum(r.sent for r in rounds),
            "first_error": next((r.first_error for r in [warm, *rounds] if r.first_error), None),
            "server_cpu_ms": 1000 * sum(r.server_cpu_s for r in rounds) / calls if calls else float("nan"),
            "client_cpu_ms": 1000 * sum(r.client_cpu_s for r in rounds) / calls if calls else float("nan"),
            "server_cpu": sum(r.server_cpu_s for r in rounds) / seconds,
            "client_cpu": sum(r.client_cpu_s for r in rounds) / seconds}


def report(result: dict[str, Any]) -> str:
    """The figures per path, the ratio against its target, and the gateway's audit rows per call."""
    lines = [f"gateway vs bare: {result['clients']} concurrent clients (one mcp.Client and HTTP connection each), "
             f"{result['rounds']} alternating rounds of {result['seconds']:g} s per path; "
             f"read {TOOL} {ARGUMENTS} on a demo market, {os.cpu_count()} CPUs",
             f"  note: the gateway's rate limit was raised to {RATE_PER_MINUTE:,} calls a minute with bursts of "
             f"{BURST:,} (CONSOLE_GATEWAY_RATE_PER_MINUTE, CONSOLE_GATEWAY_BURST; default 600 and 120 per key)",
             f"  {'path':38} {'calls':>6} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} "
             f"{'server CPU/call':>15} {'server CPU':>10} {'client CPU':>10}"]
    labels = {"bare": "bare: ads server, service credential", "gateway": f"gateway: /mcp/{GROUP}, API key"}
    share = {k: (p["server_cpu"] + p["client_cpu"]) / (os.cpu_count() or 1) for k, p in result["paths"].items()}
    shared = min(share.values()) < 0.75  # idle CPUs, or other work on them: the ratio then says little about cost
    for name, p in result["paths"].items():
        lines.append(f"  {labels[name]:38} {p['calls']:>6} {p['rps']:>7.1f} {p['p50_ms']:>7.1f} {p['p99_ms']:>7.1f} "
                     f"{p['errors']:>6} {p['server_cpu_ms']:>12.2f} ms {p['server_cpu']:>10.0%} {p['client_cpu']:>10.0%}")
    for name, p in result["paths"].items():
        lines.append(f"  {name} req/s per round: {', '.join(f'{rps:.0f}' for rps in p['round_rps'])}"
                     + (f"; first error: {p['first_error']}" if p["first_error"] else ""))
    caveat = "; the benchmark did not have the CPUs to itself, see below" if shared else ""
    lines += [f"gateway/bare throughput: {result['ratio']:.2f} (target >= {TARGET_RATIO} with 0 errors: "
              f"{'met' if result['met'] else 'MISSED'}{caveat})",
              f"  CPU per call, clients and servers together: bare {result['cpu_ms']['bare']:.2f} ms, gateway "
              f"{result['cpu_ms']['gateway']:.2f} ms; when the CPUs are the limit and the benchmark has them to itself, "
              f"gateway/bare throughput tends to {result['cpu_ms']['bare'] / result['cpu_ms']['gateway']:.2f}",
              f"  the benchmark's processes had {share['bare']:.0%} (bare rounds) and {share['gateway']:.0%} (gateway "
              f"rounds) of the machine's CPU" + ("; the rest was idle or went to other work, so the throughput ratio "
                                                 "shows how the CPUs were shared among processes (the gateway has "
                                                 "more of them) more than what a call costs: the line above is "
                                                 "steadier" if shared else ""),
              f"audit rows the gateway wrote per call: {result['rows_per_call']:.2f} "
              f"({result['audit_rows']} rows for {result['gateway_calls']} calls, warm-up included)"]
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    """Entry point of `python -m console bench gateway [--clients N] [--seconds S] [--rounds R]`; 1 on any error."""
    main_thread, previous = threading.current_thread() is threading.main_thread(), signal.getsignal(signal.SIGTERM)
    if main_thread:
        signal.signal(signal.SIGTERM, _stopped)  # a kill cleans up as Ctrl-C does
    try:
        result = run(clients=max(1, getattr(args, "clients", None) or CLIENTS),
                     seconds=max(0.1, getattr(args, "seconds", None) or SECONDS),
                     rounds=max(1, getattr(args, "rounds", None) or ROUNDS))
    except KeyboardInterrupt:
        print("interrupted; the servers it started are stopped", file=sys.stderr)
        return 130
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous or signal.SIG_DFL)
    print(report(result))
    return 1 if any(p["errors"] for p in result["paths"].values()) else 0


def _stopped(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
