"""Latency of a read tool over a warm stdio session with the official client: p50/p99 in milliseconds.

    measure_stdio_read("sqlite:////tmp/large.db", server="ads", tool="list_keywords",
                       arguments={"site": "us", "min_acos": 0.3, "start_date": "2026-08-22", "end_date": "2026-11-19"})

The server runs as its own process (`python -m servers.<server>`), exactly as the bridge starts it;
the session is opened and warmed once, then `n` calls are timed one after another.
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ARGUMENTS: dict[str, Any] = {"site": "us", "min_acos": 0.3, "start_date": "2026-08-22", "end_date": "2026-11-19"}


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0..100) by the nearest-rank method."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


async def _measure(params: StdioServerParameters, tool: str, arguments: dict[str, Any], n: int, warmup: int) -> dict[str, Any]:
    started = time.perf_counter()
    async with Client(params) as client:
        ready_s = time.perf_counter() - started
        errors = 0
        for _ in range(warmup):
            await client.call_tool(tool, arguments)
        samples = []
        for _ in range(n):
            t0 = time.perf_counter()
            result = await client.call_tool(tool, arguments)
            samples.append((time.perf_counter() - t0) * 1000)
            errors += bool(result.is_error)
        if errors:
            first = (await client.call_tool(tool, arguments)).content
            raise RuntimeError(f"{tool} failed {errors}/{n} times: {first}")
    return {
        "n": n, "p50_ms": round(percentile(samples, 50), 3), "p99_ms": round(percentile(samples, 99), 3),
        "mean_ms": round(statistics.fmean(samples), 3), "max_ms": round(max(samples), 3),
        "spawn_and_initialise_s": round(ready_s, 3),
    }


def measure_stdio_read(url: str, *, server: str = "ads", tool: str = "list_keywords",
                       arguments: dict[str, Any] | None = None, n: int = 200, warmup: int = 10,
                       today: str | None = None) -> dict[str, Any]:
    """Spawn `python -m servers.<server>` on `url`, warm one stdio session, time `n` calls of `tool`."""
    env = {**os.environ, "MARKET_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    if today:
        env["MARKET_TODAY"] = today
    params = StdioServerParameters(command=sys.executable, args=["-m", f"servers.{server}"], cwd=str(ROOT), env=env)
    result = anyio.run(_measure, params, tool, arguments or DEFAULT_ARGUMENTS, n, warmup)
    return {"server": server, "tool": tool, "arguments": arguments or DEFAULT_ARGUMENTS, **result}


if __name__ == "__main__":  # python -m servers.market.bench URL [server tool]
    import json

    target = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{ROOT / 'data' / 'market.db'}"
    srv, name = (sys.argv[2], sys.argv[3]) if len(sys.argv) > 3 else ("ads", "list_keywords")
    print(json.dumps(measure_stdio_read(target, server=srv, tool=name, today="2026-11-20"), indent=2))
