"""The analytics server as a separate process: over stdio and over streamable HTTP, with the official client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from tests.support.service_http import service_client

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[3]


def server_env(market_url: str) -> dict[str, str]:
    return {**os.environ, "MARKET_DATABASE_URL": market_url, "MARKET_TODAY": "2026-11-20", "PYTHONPATH": str(ROOT)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early: {proc.stderr.read().decode(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listening on {port} after {timeout}s")


async def test_over_stdio(market_url):
    params = StdioServerParameters(command=sys.executable, args=["-m", "servers.analytics"], cwd=str(ROOT),
                                   env=server_env(market_url))
    async with Client(params) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert {"get_daily_sales", "find_harvest_candidates", "get_weekly_report_data"} <= names
        result = await client.call_tool("get_sales_anomalies", {"site": "us"})
    assert not result.is_error
    assert [(r["key"], r["direction"]) for r in result.structured_content["items"]] == [("Kitchen Tools", "drop")]


async def test_over_streamable_http(market_url):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "servers.analytics", "--transport", "streamable-http", "--port", str(port)],
        cwd=ROOT, env=server_env(market_url), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, proc)
        async with service_client(f"http://127.0.0.1:{port}/mcp", server_env(market_url), "analytics") as client:
            result = await client.call_tool("get_cross_platform_report", {"site": "jp"})
            unknown = await client.call_tool("get_daily_sales", {"site": "mars"})
        assert not result.is_error
        assert [p["platform"] for p in result.structured_content["platforms"]] == ["amazon", "google", "meta"]
        assert unknown.is_error and unknown.content[0].text.startswith("SITE_SCOPE_REQUIRED")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
