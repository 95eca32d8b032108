"""`python -m console bench bridge`: one read through the pool and the bridge vs the bare SDK session vs spawn-per-call.

All paths are measured in one run, interleaved in rounds so that a busy machine slows them alike;
the ratios are what to compare. Audit append throughput with 8 writers comes from `mcp_bridge.audit.log.bench_append`.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from console.settings import PROJECT_ROOT, Settings, default_mcp_servers
from mcp_bridge.sessions import SessionPool
from mcp_bridge.types import BridgeConfig, Caller, Source

SERVER = "ads"
# A light read (what the bridge itself adds is most visible), a small one, and a filtered, aggregating one (a real
# question: most reads at `large` scale aggregate 30 days of metrics and take the server ~100 ms).
CASES: list[tuple[str, dict[str, Any]]] = [
    ("list_profiles", {"site": "us"}),
    ("get_regions", {"site": "us"}),
    ("list_keywords", {"site": "us", "min_acos": 0.3, "sort_by": "acos", "descending": True, "limit": 50}),
]
TARGET_P50_RATIO, TARGET_P99_MS = 1.2, 10.0
CALLER = Caller("bench@console.local", frozenset({"admin"}), frozenset({"us", "de", "jp"}), "cli")


def figures(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    return {
        "n": len(ordered),
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
        "mean_ms": statistics.fmean(ordered),
    }


def _timed(fn: Callable[[], Any], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _server_entry(settings: Settings) -> dict[str, Any]:
    return dict(default_mcp_servers(settings)["mcpServers"][SERVER])  # MARKET_TODAY, when set, goes along


def _console_engine(directory: Path, name: str) -> Any:
    from console.migrations import migrate_console
    from mcp_bridge.store import make_engine

    url = f"sqlite:///{directory / name}"
    migrate_console(url)
    return make_engine(url)


def _bridge_call(pool: SessionPool, config: BridgeConfig, directory: Path) -> tuple[Callable[..., None], Any] | None:
    """Bridge.call on the pool's own session (policy, scope, catalog, audit), when the bridge exists.

    Each call's answer waits for its request row; its result row is written by the flusher (or at close).
    """
    try:
        bridge_module = importlib.import_module("mcp_bridge.bridge")
    except ImportError:
        return None
    bridge = bridge_module.Bridge(_console_engine(directory, "bridge.db"), config, pool=pool)
    bridge.start()
    source = Source("cli", ref="bench")

    def call(tool: str, arguments: dict[str, Any]) -> None:
        outcome = bridge.call(CALLER, f"{SERVER}__{tool}", arguments, source=source)
        if outcome.status != "ok":
            raise RuntimeError(f"Bridge.call answered {outcome.status}: {outcome.text}")

    return call, bridge


def _spawn_per_call(entry: dict[str, Any], tool: str, arguments: dict[str, Any], n: int) -> list[float]:
    """The naive pattern: a new server process, handshake and teardown for every call."""
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env=entry["env"], cwd=entry["cwd"])

    async def measure() -> list[float]:
        samples = []
        for _ in range(n):
            started = time.perf_counter()
            async with Client(params) as client:
                await client.call_tool(tool, arguments)
            samples.append((time.perf_counter() - started) * 1000)
        return samples

    return anyio.run(measure)


def _audit_throughput(directory: Path) -> dict[str, Any] | None:
    audit = importlib.import_module("mcp_bridge.audit.log")
    if not hasattr(audit, "bench_append"):
        return None
    engine = _console_engine(directory, "audit.db")
    try:
        # Keyed and anchored as in production: a checkpoint every 100 rows goes to a file beside the database.
        rows_per_s = audit.bench_append(engine, writers=8, per_writer=200, anchor=directory)
        verified = audit.AuditLog(engine, key=audit.BENCH_KEY, anchor=directory).verify()
        return {"writers": 8, "rows_per_s": rows_per_s, "chain_ok": bool(verified.ok), "rows": verified.checked}
    finally:
        engine.dispose()


def _measure_case(pool: SessionPool, bridged: Callable[..., None] | None, tool: str, arguments: dict[str, Any], *,
                  n: int, rounds: int) -> dict[str, Any]:
    first = pool.call(SERVER, tool, arguments, retry=True)
    if first.is_error:
        raise RuntimeError(f"{SERVER}.{tool} failed: {first.content[0].text if first.content else '?'}")
    structured = first.structured_content or {}
    matched = structured.get("total", next((len(v) for v in structured.values() if isinstance(v, list)), None))

    async def bare(count: int) -> list[float]:
        client = await pool.client(SERVER)  # the very session the pool uses, called from inside its loop
        out = []
        for _ in range(count):
            started = time.perf_counter()
            await client.session.call_tool(tool, arguments)
            out.append((time.perf_counter() - started) * 1000)
        return out

    paths: dict[str, Callable[[int], list[float]]] = {
        "bare": lambda k: pool.run(bare, k),
        "pool": lambda k: _timed(lambda: pool.call(SERVER, tool, arguments, retry=True), k),
    }
    if bridged is not None:
        paths["bridge"] = lambda k: _timed(lambda: bridged(tool, arguments), k)
    samples: dict[str, list[float]] = {key: [] for key in paths}
    for measure in paths.values():  # warm every path (caches, the catalog, the first audit rows)
        measure(20)
    for _ in range(rounds):  # interleaved, so a busy machine slows every path alike
        for key, measure in paths.items():
            samples[key] += measure(max(1, n // rounds))
    case: dict[str, Any] = {"tool": tool, "arguments": arguments, "matched": matched,
                            **{key: figures(values) for key, values in samples.items()}}
    case["pool_over_bare_p50"] = case["pool"]["p50_ms"] / case["bare"]["p50_ms"]
    if "bridge" in case:
        case["bridge_over_bare_p50"] = case["bridge"]["p50_ms"] / case["bare"]["p50_ms"]
    return case


def run(target: Settings | str, *, n: int = 300, spawn_n: int = 10, rounds: int | None = None) -> dict[str, Any]:
    """Measure every path on one market (a Settings, or a market database URL); returns the figures."""
    settings = target if isinstance(target, Settings) else Settings(market_database_url=target)
    entry = _server_entry(settings)
    config = BridgeConfig({"mcpServers": {SERVER: entry}}, approval_secret=settings.approval_secret.get_secret_value(),
                          call_timeout_s=settings.call_timeout_s)
    with tempfile.TemporaryDirectory(prefix="bench-bridge-") as tmp, SessionPool(config) as pool:
        bridged = _bridge_call(pool, config, Path(tmp))
        try:
            # Rounds of 10 calls per path: the shared machine's slow spells fall on every path alike.
            cases = [_measure_case(pool, bridged[0] if bridged else None, tool, arguments, n=n,
                                   rounds=rounds or max(5, n // 10))
                     for tool, arguments in CASES]
        finally:
            if bridged:
                bridged[1].engine.dispose()
        async def nothing() -> None:
            return None

        hop = figures(_timed(lambda: pool.run(nothing), 1000))  # the sync wrapper's own cost: one loop round trip
        spawn_tool, spawn_arguments = CASES[0]
        spawn = figures(_spawn_per_call(entry, spawn_tool, spawn_arguments, spawn_n))
        audit = _audit_throughput(Path(tmp))
    return {"market_url": settings.market_database_url, "server": SERVER, "cases": cases, "loop_round_trip": hop,
            "spawn_per_call": {"tool": spawn_tool, **spawn,
                               "over_pool_p50": spawn["p50_ms"] / cases[0]["pool"]["p50_ms"]},
            "audit_append": audit}


def report(result: dict[str, Any]) -> str:
    """The figures as a small table per read, with the targets checked."""
    lines = [f"market: {result['market_url']}" + (f"\n  note: {result['note']}" if result.get("note") else "")]
    for case in result["cases"]:
        lines += ["", f"read: {result['server']}.{case['tool']} {case['arguments']} -> {case['matched']} rows",
                  f"  {'path':46} {'n':>5} {'p50 ms':>9} {'p99 ms':>9} {'mean ms':>9}"]
        for label, key in (("bare SDK session (inside the pool's loop)", "bare"),
                           ("SessionPool.call (any thread, via the portal)", "pool"),
                           ("Bridge.call (scope, catalog, audit request)", "bridge")):
            if f := case.get(key):
                lines.append(f"  {label:46} {f['n']:>5} {f['p50_ms']:>9.2f} {f['p99_ms']:>9.2f} {f['mean_ms']:>9.2f}")
        light = case["bare"]["p50_ms"] < TARGET_P99_MS  # the p99 target is about what the bridge adds
        for key in ("pool", "bridge"):
            if key in case:
                ratio, p99 = case[f"{key}_over_bare_p50"], case[key]["p99_ms"]
                added = case[key]["p50_ms"] - case["bare"]["p50_ms"]
                tail = (f"{key} p99 {p99:.2f} ms (target < {TARGET_P99_MS:g} ms: {ok(p99 < TARGET_P99_MS)})" if light else
                        f"adds {added:+.2f} ms at p50 (no p99 target: the server itself spends "
                        f"{case['bare']['p50_ms']:.0f} ms on this read)")
                lines.append(f"  {key}/bare at p50 {ratio:.2f} (target <= {TARGET_P50_RATIO}: "
                             f"{ok(ratio <= TARGET_P50_RATIO)}); {tail}")
    hop, spawn = result["loop_round_trip"], result["spawn_per_call"]
    lines += ["", f"thread -> pool loop -> thread round trip, no I/O: p50 {hop['p50_ms'] * 1000:.0f} µs, "
                  f"p99 {hop['p99_ms'] * 1000:.0f} µs (what the sync wrapper adds to every call)",
              f"spawn-per-call ({spawn['tool']}): n {spawn['n']}, p50 {spawn['p50_ms']:.0f} ms, "
                  f"p99 {spawn['p99_ms']:.0f} ms = {spawn['over_pool_p50']:.0f}x the pooled p50"]
    audit = result.get("audit_append")
    if audit:
        lines.append(f"audit append, {audit['writers']} concurrent writers: {audit['rows_per_s']:.0f} rows/s "
                     f"({audit['rows']} rows, chain {'verified' if audit['chain_ok'] else 'BROKEN'})")
    else:
        lines.append("audit append: mcp_bridge.audit.log.bench_append is not available")
    return "\n".join(lines)


def ok(good: bool) -> str:
    return "ok" if good else "MISSED"


def _demo_market(directory: Path) -> str:
    url = f"sqlite:///{directory / 'market-demo.db'}"
    subprocess.run([sys.executable, "-m", "servers.market", "seed", "--scale", "demo", "--url", url], cwd=PROJECT_ROOT,
                   check=True, capture_output=True)
    return url


def main(args: argparse.Namespace) -> int:
    """Entry point of `python -m console bench bridge [--market-url URL] [-n N]`."""
    settings, note = Settings(), None
    url = getattr(args, "market_url", None) or settings.market_database_url
    keep: tempfile.TemporaryDirectory[str] | None = None
    path = url.split("///", 1)[-1] if url.startswith("sqlite") else None
    if path and not Path(path).exists():
        keep = tempfile.TemporaryDirectory(prefix="bench-market-")
        url, note = _demo_market(Path(keep.name)), (
            f"{path} does not exist: measured on a temporary demo seed; for the real figures seed one with "
            "`python -m servers.market seed --scale large --url URL` and pass --market-url URL")
    try:
        settings = Settings(market_database_url=url)
        result = run(settings, n=getattr(args, "iterations", 300) or 300)
        result["note"] = note
        print(report(result))
    finally:
        if keep is not None:
            keep.cleanup()
    return 0
