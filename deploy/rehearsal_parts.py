"""The pieces of the scale-out rehearsal: a private PostgreSQL cluster, the processes, the browser and the clients."""

from __future__ import annotations

import asyncio
import glob
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
READY_TIMEOUT_S = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise SystemExit("PostgreSQL is not installed: apt-get install -y postgresql")
    return Path(found[-1]).parent


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd  # initdb refuses root


class Cluster:
    """A throw-away PostgreSQL cluster on loopback (fsync off: a rehearsal, not a database to keep), in a directory of
    its own under the system's temporary directory: run as root, the cluster belongs to the postgres user, who must
    reach it, and its Unix socket's path must stay under 108 bytes."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="rehearse-pg-"))
        self.dir, self.port, self.bin = self.base / "data", free_port(), _pg_bin()

    def __enter__(self) -> Cluster:
        self.dir.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres")
            shutil.chown(self.dir, "postgres")
        subprocess.run(_as_postgres([str(self.bin / "initdb"), "-D", str(self.dir), "-U", "postgres", "--auth=trust",
                                     "--no-sync"]), check=True, capture_output=True)
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off -c max_connections=300"
        subprocess.run(_as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.dir), "-w", "-l",
                                     str(self.dir / "log"), "-o", opts, "start"]), check=True, capture_output=True)
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run(_as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.dir), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)

    def database(self, name: str) -> str:
        engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres",
                               isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


class Processes:
    """Named child processes with their logs; every one is stopped on the way out, whatever happened."""

    def __init__(self, work: Path, say: Any) -> None:
        self.work, self.say = work, say
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def __enter__(self) -> Processes:
        (self.work / "logs").mkdir(exist_ok=True)
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.running.values():
            if proc.poll() is None:
                proc.terminate()
        for name, proc in self.running.items():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                self.say(f"{name} did not stop; killed")
                proc.kill()

    @staticmethod
    def ports(names: list[str]) -> dict[str, int]:
        return {name: free_port() for name in names}

    def run(self, env: dict[str, str], *args: str) -> str:
        argv = [sys.executable, *args[1:]] if args[0] == "python" else list(args)
        # One-shot: a warm command-line agent (console/cli_agent/) would outlive the rehearsal's cluster.
        done = subprocess.run(argv, cwd=ROOT, env={**env, "CONSOLE_CLI_AGENT": "off"}, capture_output=True, text=True,
                              timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {done.stderr.strip()[-2000:]}")
        return done.stdout

    def start(self, name: str, env: dict[str, str], *args: str) -> None:
        log = (self.work / "logs" / f"{name}.log").open("ab")
        self.running[name] = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=log,
                                              stderr=subprocess.STDOUT)

    def wait_ready(self, name: str, url: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.running[name].poll() is not None:
                raise RuntimeError(f"{name} exited: see {self.work / 'logs' / (name + '.log')}")
            try:
                if httpx2.get(url, timeout=2).status_code == 200:
                    return
            except httpx2.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{name} not ready at {url} after {READY_TIMEOUT_S:g} s")

    def kill(self, name: str) -> None:
        self.running[name].send_signal(signal.SIGKILL)
        self.running[name].wait(10)

    def key(self, env: dict[str, str]) -> str:
        """A tool group for the rehearsal's reads, and its API key."""
        self.run(env, "python", "-m", "console", "groups", "create", "rehearsal", "--tools", "ads__get_regions",
                 "--sites", "us", "--as", "admin@demo.local")
        created = self.run(env, "python", "-m", "console", "keys", "create", "--group", "rehearsal", "--label",
                           "rehearsal", "--as", "admin@demo.local", "--json")
        return json.loads(created)["key"]


def market_rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def propose_one(procs: Processes, env: dict[str, str], market_url: str) -> tuple[int, int]:
    """The seller proposes a 10% bid cut on a US keyword from the command line; its operation id."""
    keyword_id, bid = market_rows(market_url, "SELECT id, bid FROM keywords WHERE site_id = 'us' AND "
                                              "state = 'enabled' ORDER BY id LIMIT 1")[0]
    answer = procs.run(env, "python", "-m", "console", "ops", "propose", "--as", "seller@demo.local", "--site", "us",
                       "--tool", "ads.update_bid", "--args",
                       json.dumps({"keyword_id": keyword_id, "bid": round(float(bid) * 0.9, 2)}),
                       "--reason", "rehearsal", "--json")
    return int(json.loads(answer)["operation_id"]), int(keyword_id)


async def approve_from_both(replicas: list[str], op_id: int, shots: Path) -> dict[str, Any]:
    """The approver signs in on each replica, opens the queue, and both click Approve on `op_id` together."""
    from playwright.async_api import async_playwright

    shots.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        pages = []
        for url in replicas:
            context = await browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-US")
            context.set_default_timeout(60_000)
            page = await context.new_page()
            await page.goto(url)
            row = page.locator("[data-testid='stVerticalBlock']").filter(has_text="approver@demo.local").filter(
                has=page.get_by_role("button", name="Sign in")).last
            await row.get_by_role("button", name="Sign in").click()
            await page.locator("[data-testid='stSidebar']").get_by_text("approver@demo.local").wait_for()
            await page.locator("[data-testid='stSidebarNav']").get_by_role("link", name="Approvals").click()
            try:  # the queue holds this one operation: select it, and the bulk button is armed
                await page.get_by_role("button", name="Select all 1").click()
                await page.get_by_role("button", name="Approve selected (1)").wait_for()
            except Exception:
                await page.screenshot(path=str(shots / f"replica-{len(pages)}-no-operation.png"), full_page=True)
                raise
            pages.append(page)
        buttons = [page.get_by_role("button", name="Approve selected (1)") for page in pages]
        started = time.perf_counter()
        await asyncio.gather(*(button.click() for button in buttons))
        answers = []
        for n, page in enumerate(pages):
            message = page.get_by_text(re.compile(r"^(Approved #|Approved \d+ of|Already decided|Not approved)")).first
            try:
                await message.wait_for()
            except Exception:
                await page.screenshot(path=str(shots / f"replica-{'ab'[n]}-no-answer.png"), full_page=True)
                raise
            answers.append((await message.inner_text()).strip()[:160])
            await page.screenshot(path=str(shots / f"replica-{'ab'[n]}-approved.png"), full_page=True)
        await browser.close()
    return {"answers": answers, "clicks_within_ms": round((time.perf_counter() - started) * 1000)}


async def gateway_read(base: str, key: str) -> str:
    """One light read through a gateway replica: "ok", or the error code it answered."""
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    try:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http, \
                Client(streamable_http_client(f"{base}/mcp/rehearsal", http_client=http)) as client:
            result = await client.call_tool("ads__get_regions", {"site": "us"})
    except BaseException as exc:
        return f"failed: {type(exc).__name__}"
    if result.is_error:
        return result.content[0].text.split(":", 1)[0]
    return "ok"


async def gateway_throughput(bases: list[str], key: str, *, clients: int, seconds: float) -> dict[str, Any]:
    """`clients` concurrent clients, spread over `bases`, reading for `seconds`: reads/s, p50, p99, errors."""
    import anyio
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    samples: list[float] = []
    errors = 0

    async def one(n: int) -> None:
        nonlocal errors
        base = bases[n % len(bases)]
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http, \
                Client(streamable_http_client(f"{base}/mcp/rehearsal", http_client=http)) as client:
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                try:
                    result = await client.call_tool("ads__get_regions", {"site": "us"})
                    errors += bool(result.is_error)
                except Exception:
                    errors += 1
                samples.append((time.perf_counter() - t) * 1000)

    started = time.perf_counter()
    async with anyio.create_task_group() as group:
        for n in range(clients):
            group.start_soon(one, n)
    elapsed = time.perf_counter() - started
    ordered = sorted(samples) or [0.0]
    return {"reads": len(samples), "per_s": round(len(samples) / elapsed, 1), "errors": errors,
            "p50_ms": round(statistics.median(ordered), 1),
            "p99_ms": round(ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))], 1)}
