"""The ads server as its own process, as any MCP client meets it: over stdio and over streamable HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from tests.support.service_http import service_client

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[3]
US_REGION = {"site": "us", "name": "United States", "marketplace": "amazon.com", "region": "NA",
             "api_endpoint": "advertising-api.amazon.com", "currency": "USD", "timezone": "America/Los_Angeles",
             "acos_target": 0.3, "platforms": ["amazon", "meta"]}


def server_env(ads_config) -> dict[str, str]:
    return {"MARKET_DATABASE_URL": ads_config.market_database_url,
            "CONSOLE_APPROVAL_SECRET": ads_config.approval_secret,
            "MARKET_TODAY": ads_config.today().isoformat()}


async def exercise(client: Client) -> None:
    """List the tools, read, and have a write refused: the same answers as in memory."""
    names = {t.name for t in (await client.list_tools()).tools}
    assert {"list_campaigns", "update_bid", "generate_report"} <= names
    regions = await client.call_tool("get_regions", {"site": "us"})
    assert (regions.is_error, regions.structured_content) == (False, US_REGION)
    campaigns = await client.call_tool("list_campaigns", {"site": "us", "limit": 1})
    assert (campaigns.structured_content["total"], campaigns.structured_content["campaigns"][0]["spend"]) == (4, 85.0)
    refused = await client.call_tool("update_bid", {"site": "us", "keyword_id": 1, "bid": 1.0})
    assert refused.is_error and refused.content[0].text.startswith("CONFIRMATION_REQUIRED: ")


async def test_over_stdio(ads_config):
    params = StdioServerParameters(command=sys.executable, args=["-m", "servers.ads"], env=server_env(ads_config),
                                   cwd=str(ROOT))
    async with Client(params) as client:
        await exercise(client)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the ads server exited with {process.returncode}:\n{log.read_text()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"the ads server did not listen on port {port} within {timeout_s}s")


@pytest.fixture
def http_server(ads_config, tmp_path) -> Iterator[str]:
    port, log = free_port(), tmp_path / "ads-server.log"
    with log.open("wb") as sink:  # a file, not a pipe: a full pipe would stall the server
        process = subprocess.Popen(
            [sys.executable, "-m", "servers.ads", "--transport", "streamable-http", "--host", "127.0.0.1",
             "--port", str(port)],
            cwd=ROOT, env={**os.environ, **server_env(ads_config)}, stdout=sink, stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, process, log)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_over_streamable_http(http_server, ads_config):
    async with service_client(http_server, {**os.environ, **server_env(ads_config)}, "ads") as client:
        await exercise(client)
