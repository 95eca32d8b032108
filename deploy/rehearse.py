"""Scale-out rehearsal: the documented multi-machine deployment, on one machine, working as one.

A private PostgreSQL cluster holds both databases; the three tool servers run over streamable HTTP as their own
processes; two console replicas and two gateway replicas share them. Then, as people would: a browser session on each
console replica approves the same operation at the same moment (it must run once); the ads server is killed and
restarted (reads must recover, nothing may run twice); and read throughput through one gateway replica is compared
with two. `make rehearse` runs it; `--json` prints the figures for the CI test (tests/e2e/test_rehearsal.py).

Needs the Debian packages `postgresql` (binaries under /usr/lib/postgresql/<v>/bin) and `chromium`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deploy.rehearsal_parts import (  # noqa: E402 - the project root goes on the path first
    Cluster,
    Processes,
    approve_from_both,
    gateway_read,
    gateway_throughput,
    market_rows,
    propose_one,
)

SECRET = "rehearsal-approval-secret-0123456789abcdef"
AUDIT_SECRET = "rehearsal-audit-secret-0123456789abcdef0"
SERVERS = {"ads": 0, "commerce": 1, "analytics": 2}


def environment(work: Path, console_url: str, market_url: str, ports: dict[str, int]) -> dict[str, str]:
    servers = {name: {"url": f"http://127.0.0.1:{ports[name]}/mcp"} for name in SERVERS}
    return {**os.environ, "CONSOLE_ENV": "test", "CONSOLE_DATABASE_URL": console_url,
            "MARKET_DATABASE_URL": market_url, "CONSOLE_APPROVAL_SECRET": SECRET,
            "CONSOLE_AUDIT_SECRET": AUDIT_SECRET, "CONSOLE_KEYRING": str(work / "keyring.json"),
            "CONSOLE_AUDIT_ANCHOR": str(work / "anchor"), "CONSOLE_MCP_SERVERS": json.dumps({"mcpServers": servers}),
            "CONSOLE_GATEWAY_RATE_PER_MINUTE": "1000000", "CONSOLE_GATEWAY_BURST": "100000",
            "MARKET_TODAY": os.environ.get("MARKET_TODAY", "2026-11-21"), "PYTHONPATH": str(ROOT),
            "ANTHROPIC_API_KEY": ""}


def rehearse(work: Path, *, seconds: float, clients: int, say: Any) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    started = time.perf_counter()
    with Cluster() as cluster, Processes(work, say) as procs:
        console_url, market_url = cluster.database("console"), cluster.database("market")
        say(f"PostgreSQL cluster on port {cluster.port} ({time.perf_counter() - started:.1f} s)")
        ports = procs.ports(["ads", "commerce", "analytics", "console_a", "console_b", "gateway_a", "gateway_b"])
        env = environment(work, console_url, market_url, ports)
        procs.run(env, "python", "-m", "console", "setup")
        say(f"migrated and seeded both databases ({time.perf_counter() - started:.1f} s)")
        for name in SERVERS:
            procs.start(name, env, "-m", f"servers.{name}", "--transport", "streamable-http", "--host", "127.0.0.1",
                        "--port", str(ports[name]))
        for name in SERVERS:
            procs.wait_ready(name, f"http://127.0.0.1:{ports[name]}/readyz")
        for name in ("console_a", "console_b"):
            procs.start(name, env, "-m", "console", "serve", "--server.headless", "true", "--server.port",
                        str(ports[name]), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false")
        for name in ("gateway_a", "gateway_b"):
            procs.start(name, env, "-m", "console", "gateway", "--port", str(ports[name]))
        for name in ("console_a", "console_b"):
            procs.wait_ready(name, f"http://127.0.0.1:{ports[name]}/_stcore/health")
        for name in ("gateway_a", "gateway_b"):
            procs.wait_ready(name, f"http://127.0.0.1:{ports[name]}/readyz")
        figures["start_s"] = round(time.perf_counter() - started, 1)
        say(f"3 servers, 2 console replicas, 2 gateway replicas up ({figures['start_s']} s)")

        key = procs.key(env)
        gateways = [f"http://127.0.0.1:{ports[n]}" for n in ("gateway_a", "gateway_b")]
        replicas = [f"http://127.0.0.1:{ports[n]}" for n in ("console_a", "console_b")]

        op_id, keyword_id = propose_one(procs, env, market_url)
        outcome = asyncio.run(approve_from_both(replicas, op_id, work / "screenshots"))
        executions = market_rows(market_url, "SELECT count(*) FROM applied_writes WHERE tool = 'update_bid'")[0][0]
        status = market_rows(console_url, "SELECT status FROM operations WHERE id = :id", id=op_id)[0][0]
        approvals = market_rows(console_url, "SELECT count(*) FROM audit_log WHERE event = 'approved' AND "
                                             "tool = 'ads__update_bid'")[0][0]
        figures["double_approval"] = {"operation": op_id, "keyword": keyword_id, "status": status,
                                      "executions": executions, "approved_rows": approvals, **outcome}
        say(f"operation #{op_id} approved from both replicas at once: status {status}, executed {executions}x; "
            f"replica answers: {outcome['answers']}")

        before = asyncio.run(gateway_read(gateways[0], key))
        procs.kill("ads")
        during = asyncio.run(gateway_read(gateways[0], key))
        procs.start("ads", env, "-m", "servers.ads", "--transport", "streamable-http", "--host", "127.0.0.1",
                    "--port", str(ports["ads"]))
        procs.wait_ready("ads", f"http://127.0.0.1:{ports['ads']}/readyz")
        recovered = [asyncio.run(gateway_read(url, key)) for url in gateways]
        executions_after = market_rows(market_url, "SELECT count(*) FROM applied_writes")[0][0]
        figures["restart"] = {"before": before, "while_down": during, "after": recovered,
                              "applied_writes_before": executions, "applied_writes_after": executions_after}
        say(f"ads server killed: reads answered {during}; restarted: reads answered {recovered}; "
            f"writes applied {executions} → {executions_after}")

        one = asyncio.run(gateway_throughput(gateways[:1], key, clients=clients, seconds=seconds))
        two = asyncio.run(gateway_throughput(gateways, key, clients=clients, seconds=seconds))
        figures["throughput"] = {"one_replica": one, "two_replicas": two,
                                 "ratio": round(two["per_s"] / one["per_s"], 2) if one["per_s"] else None}
        say(f"reads through the gateway, {clients} clients for {seconds:g} s: one replica {one['per_s']:.0f}/s "
            f"(p50 {one['p50_ms']:.0f} ms, errors {one['errors']}), two replicas {two['per_s']:.0f}/s "
            f"(p50 {two['p50_ms']:.0f} ms, errors {two['errors']}): {figures['throughput']['ratio']}x")
    figures["total_s"] = round(time.perf_counter() - started, 1)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, help="where the cluster, logs and screenshots go (default: a temp dir)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each throughput run")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object at the end")
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="rehearsal-"))
    work.mkdir(parents=True, exist_ok=True)

    def say(line: str) -> None:
        print(line, file=sys.stderr if args.json else sys.stdout, flush=True)

    figures = rehearse(work, seconds=args.seconds, clients=args.clients, say=say)
    ok = (figures["double_approval"]["executions"] == 1 and figures["double_approval"]["status"] == "succeeded"
          and all(r == "ok" for r in figures["restart"]["after"])
          and figures["restart"]["applied_writes_after"] == figures["restart"]["applied_writes_before"])
    figures["ok"] = ok
    if args.json:
        print(json.dumps(figures))
    else:
        say(f"rehearsal {'passed' if ok else 'FAILED'} in {figures['total_s']} s; logs and screenshots in {work}")
    if not args.workdir and ok:
        shutil.rmtree(work / "pg", ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
