"""`python -m console bench concurrency`: many sessions' light reads through one bridge vs the same reads sent
straight to the server over streamable HTTP, in alternating rounds of one run.

Bridge path: `--clients` threads, as many Streamlit sessions or gateway clients would, each calling `Bridge.call`
(scope, catalog, the audit's request row per read and result rows by the flusher) on one runtime whose pool was
started as the app starts it. HTTP path: as many `mcp.Client`s in this process, each over its own connection, calling
the ads server (`--transport streamable-http`, the bridge's service credential). A slow spell of the shared machine
falls on both paths alike: the throughput ratio is what to compare.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from console.settings import PROJECT_ROOT, Settings
from mcp_bridge.types import Caller, Source

CLIENTS, SECONDS, ROUNDS = 50, 5.0, 3
SERVER, TOOL, ARGUMENTS = "ads", "get_regions", {"site": "us"}
TARGET_P95_MS, TARGET_RATIO = 250.0, 0.8
CALLER = Caller("bench@console.local", frozenset({"admin"}), frozenset({"us"}), "cli")
START_TIMEOUT_S = 60.0


@dataclass
class Round:
    """One round of one path: latencies of the calls answered inside the window, errors, CPU used."""

    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None
    cpu_s: float = 0.0  # this process: the bridge and its callers, or the HTTP clients
    server_cpu_s: float = 0.0

    def failed(self, what: object) -> None:
        self.errors += 1
        self.first_error = self.first_error or str(what)[:300]


def bridge_round(bridge: Any, clients: int, seconds: float) -> Round:
    """`clients` threads calling the read through the bridge back to back for `seconds`."""
    out, ready, closes = Round(seconds), threading.Barrier(clients + 1), [0.0]
    source = Source("cli", ref="bench-concurrency")

    def call() -> bool:
        outcome = bridge.call(CALLER, f"{SERVER}__{TOOL}", ARGUMENTS, source=source)
        if outcome.status != "ok":
            out.failed(outcome.text)
        return outcome.status == "ok"

    def session() -> None:
        call()  # untimed: every thread is in before the window opens
        ready.wait()
        while (began := time.perf_counter()) < closes[0]:
            ok = call()
            if ok and (ended := time.perf_counter()) <= closes[0]:
                out.latencies_ms.append((ended - began) * 1000)

    threads = [threading.Thread(target=session, name=f"session-{i}") for i in range(clients)]
    for thread in threads:
        thread.start()
    while ready.n_waiting < clients:
        time.sleep(0.01)
    pids = [pid for status in bridge.pool.status() for pid in status.pids]
    cpu, server_cpu = time.process_time(), sum(cpu_seconds(pid) for pid in pids)
    closes[0] = time.perf_counter() + seconds
    ready.wait()
    for thread in threads:
        thread.join()
    out.cpu_s, out.server_cpu_s = time.process_time() - cpu, sum(cpu_seconds(pid) for pid in pids) - server_cpu
    return out


async def http_round(url: str, headers: dict[str, str], pid: int, clients: int, seconds: float) -> Round:
    """`clients` MCP clients, each over its own HTTP connection, calling the read back to back for `seconds`."""
    out, waiting, all_in, go, closes = Round(seconds), [clients], anyio.Event(), anyio.Event(), [0.0]

    async def call(client: Client) -> bool:
        result = await client.call_tool(TOOL, ARGUMENTS)
        if result.is_error:
            out.failed(getattr(result.content[0], "text", "?") if result.content else "is_error without content")
        return not result.is_error

    async def agent() -> None:
        try:
            async with (httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=60)) as http,
                        Client(streamable_http_client(url, http_client=http)) as client):
                await call(client)
                waiting[0] -= 1
                if not waiting[0]:
                    all_in.set()
                await go.wait()
                while (began := time.perf_counter()) < closes[0]:
                    ok = await call(client)
                    if ok and (ended := time.perf_counter()) <= closes[0]:
                        out.latencies_ms.append((ended - began) * 1000)
        except Exception as exc:  # the client is lost; what broke it is the error
            out.failed(f"{type(exc).__name__}: {exc}")
            waiting[0] -= 1
            if not waiting[0]:
                all_in.set()

    async with anyio.create_task_group() as tg:
        for _ in range(clients):
            tg.start_soon(agent)
        await all_in.wait()
        cpu, server_cpu = time.process_time(), cpu_seconds(pid)
        closes[0] = time.perf_counter() + seconds
        go.set()
        await anyio.sleep(seconds)
        out.cpu_s, out.server_cpu_s = time.process_time() - cpu, cpu_seconds(pid) - server_cpu
    return out


def cpu_seconds(pid: int) -> float:
    """CPU time so far of one process (Linux /proc; 0 elsewhere or once it is gone)."""
    with suppress(OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()  # after the command name
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return 0.0


@contextmanager
def http_server(env: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    """The ads server over streamable HTTP on a free loopback port until it answers /readyz; stopped on the way out."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    with log.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", f"servers.{SERVER}", "--transport", "streamable-http",
                                    "--host", "127.0.0.1", "--port", str(port)], cwd=PROJECT_ROOT, env=env,
                                   stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            with suppress(OSError), urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {SERVER} server did not get ready:\n{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp", process.pid
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run(settings: Settings, *, clients: int = CLIENTS, seconds: float = SECONDS, rounds: int = ROUNDS) -> dict[str, Any]:
    """Both paths on the settings' market, the bridge on a temporary console database; returns the figures."""
    from console.migrations import migrate_console
    from console.runtime import bridge_config
    from mcp_bridge.bridge import Bridge
    from mcp_bridge.keys import Keyring
    from mcp_bridge.sessions import SessionPool
    from mcp_bridge.store import make_engine

    with tempfile.TemporaryDirectory(prefix="bench-concurrency-") as tmp:
        home = Path(tmp)
        console_url = f"sqlite:///{home / 'console.db'}"
        migrate_console(console_url)
        # Only the server under test, over stdio as configured; the audit chain anchored beside its database.
        config = replace(bridge_config(settings), audit_anchor=str(home / "audit-anchor.jsonl"),
                         mcp_servers={"mcpServers": {SERVER: settings.mcp_servers_config["mcpServers"][SERVER]}})
        engine = make_engine(console_url)
        bridge = Bridge(engine, config, pool=SessionPool(config).start())  # every session open, as the app starts
        credential = Keyring(config.approval_secret, config.keyring_path).service_credential(SERVER)
        headers = {"Authorization": f"Bearer {credential}"}
        try:
            with http_server({**os.environ, **settings.server_env()}, home / "http.log") as (url, pid):
                bridge_round(bridge, clients, min(1.0, seconds))  # warm-up, not counted: caches, the first rows
                anyio.run(http_round, url, headers, pid, clients, min(1.0, seconds))
                measured: dict[str, list[Round]] = {"bridge": [], "http": []}
                for _ in range(rounds):  # alternating: a slow spell of the machine falls on both paths
                    measured["bridge"].append(bridge_round(bridge, clients, seconds))
                    measured["http"].append(anyio.run(http_round, url, headers, pid, clients, seconds))
                [status] = bridge.pool.status()
        finally:
            bridge.close()
            engine.dispose()
    paths = {name: summary(found) for name, found in measured.items()}
    ratio = paths["bridge"]["rps"] / paths["http"]["rps"] if paths["http"]["rps"] else 0.0
    return {"clients": clients, "seconds": seconds, "rounds": rounds, "paths": paths, "ratio": ratio,
            "sessions_per_server": config.sessions_per_server, "sessions_open": status.sessions,
            "met": {"p95": paths["bridge"]["p95_ms"] <= TARGET_P95_MS, "ratio": ratio >= TARGET_RATIO,
                    "errors": not any(p["errors"] for p in paths.values())}}


def summary(rounds: list[Round]) -> dict[str, Any]:
    latencies = sorted(ms for r in rounds for ms in r.latencies_ms)
    seconds, calls = sum(r.seconds for r in rounds), len(latencies)

    def pct(q: float) -> float:
        return latencies[min(calls - 1, round(q * (calls - 1)))] if latencies else float("nan")

    return {"calls": calls, "rps": calls / seconds, "round_rps": [len(r.latencies_ms) / r.seconds for r in rounds],
            "p50_ms": statistics.median(latencies) if latencies else float("nan"), "p95_ms": pct(0.95),
            "p99_ms": pct(0.99), "errors": sum(r.errors for r in rounds),
            "first_error": next((r.first_error for r in rounds if r.first_error), None),
            "cpu": sum(r.cpu_s for r in rounds) / seconds, "server_cpu": sum(r.server_cpu_s for r in rounds) / seconds,
            "cpu_ms": 1000 * sum(r.cpu_s + r.server_cpu_s for r in rounds) / calls if calls else float("nan")}


def report(result: dict[str, Any]) -> str:
    """Both paths side by side, then the targets."""
    met = result["met"]
    lines = [f"{result['clients']} concurrent light reads ({SERVER}.{TOOL} {ARGUMENTS}), {result['rounds']} "
             f"alternating rounds of {result['seconds']:g} s per path; bridge: {result['sessions_per_server']} "
             f"session(s) per server allowed, {result['sessions_open']} open at the end",
             f"  {'path':42} {'calls':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6} "
             f"{'CPU/call':>9} {'own CPU':>8} {'server CPU':>10}"]
    labels = {"bridge": "bridge: threads -> Bridge.call -> stdio", "http": "http: MCP clients -> server, no bridge"}
    for name, p in result["paths"].items():
        lines.append(f"  {labels[name]:42} {p['calls']:>6} {p['rps']:>7.1f} {p['p50_ms']:>7.1f} {p['p95_ms']:>7.1f} "
                     f"{p['p99_ms']:>7.1f} {p['errors']:>6} {p['cpu_ms']:>6.2f} ms {p['cpu']:>8.0%} "
                     f"{p['server_cpu']:>10.0%}")
    for name, p in result["paths"].items():
        lines.append(f"  {name} req/s per round: {', '.join(f'{rps:.0f}' for rps in p['round_rps'])}"
                     + (f"; first error: {p['first_error']}" if p["first_error"] else ""))
    bridge = result["paths"]["bridge"]
    lines += [f"bridge p95 {bridge['p95_ms']:.0f} ms (target <= {TARGET_P95_MS:g} ms: {verdict(met['p95'])}); "
              f"bridge/http throughput {result['ratio']:.2f} (target >= {TARGET_RATIO}: {verdict(met['ratio'])}); "
              f"errors: {verdict(met['errors'])}"]
    return "\n".join(lines)


def verdict(good: bool) -> str:
    return "met" if good else "MISSED"


def main(args: argparse.Namespace) -> int:
    """Entry point of `python -m console bench concurrency [--clients N] [--seconds S] [--rounds R] [--market-url]`."""
    url = getattr(args, "market_url", None)
    settings = Settings(market_database_url=url) if url else Settings()
    path = settings.market_database_url.split("///", 1)[-1] if settings.market_database_url.startswith("sqlite") else None
    with tempfile.TemporaryDirectory(prefix="bench-market-") as keep:
        if path and not Path(path).exists():  # no market yet: a demo one, seeded for this run
            url = f"sqlite:///{Path(keep) / 'market.db'}"
            subprocess.run([sys.executable, "-m", "servers.market", "seed", "--scale", "demo", "--url", url],
                           cwd=PROJECT_ROOT, check=True, capture_output=True)
            settings = Settings(market_database_url=url)
        result = run(settings, clients=getattr(args, "clients", None) or CLIENTS,
                     seconds=getattr(args, "seconds", None) or SECONDS, rounds=getattr(args, "rounds", None) or ROUNDS)
    print(report(result))
    return 0 if result["met"]["errors"] else 1
