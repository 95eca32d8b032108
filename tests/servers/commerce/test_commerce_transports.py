"""The commerce server as its own process: over stdio and over streamable HTTP, with the official client."""

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

from tests.servers.commerce.calls import ok, refused
from tests.servers.commerce.conftest import SECRET, TODAY
from tests.support.service_http import service_client

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[3]


def server_env(url: str) -> dict[str, str]:
    return {**os.environ, "MARKET_DATABASE_URL": url, "CONSOLE_APPROVAL_SECRET": SECRET, "MARKET_TODAY": TODAY.isoformat()}


async def exercise(client: Client) -> None:
    tools = (await client.list_tools()).tools
    assert len(tools) == 25  # and get_write_status
    orders = await ok(client, "list_orders", site="us", status="paid")
    assert [(o["number"], o["customer_name"], o["item_count"]) for o in orders["orders"]] == [("US-1002", "Jane Doe", 2)]
    await refused(client, "mark_order_shipped", "CONFIRMATION_REQUIRED", site="us", order_id=2, carrier="UPS",
                  tracking_number="1Z999AA1")
    await refused(client, "get_order", "NOT_FOUND", site="de", order_id=2)


async def test_over_stdio(commerce_url):
    params = StdioServerParameters(command=sys.executable, args=["-m", "servers.commerce"], cwd=str(ROOT),
                                   env=server_env(commerce_url))
    async with Client(params) as client:
        await exercise(client)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def http_server(commerce_url: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = (tmp_path / "server.log").open("wb")  # a file, not a pipe: a chatty server never blocks on it
    proc = subprocess.Popen(
        [sys.executable, "-m", "servers.commerce", "--transport", "streamable-http", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=server_env(commerce_url), stdout=subprocess.DEVNULL, stderr=log,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited: {(tmp_path / 'server.log').read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("the server did not listen within 30 s")
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


async def test_over_streamable_http(http_server, commerce_url):
    async with service_client(http_server, server_env(commerce_url), "commerce") as client:
        await exercise(client)
