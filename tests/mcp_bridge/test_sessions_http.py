"""SessionPool over streamable HTTP: the bundled ads server run as its own process on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from mcp_bridge.errors import UpstreamError
from mcp_bridge.sessions import SessionPool
from mcp_bridge.types import BridgeConfig
from tests.support.fault_servers.harness import ROOT, seed_ads_market


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HttpServer:
    def __init__(self, market_url: str, port: int) -> None:
        self.market_url, self.port, self.process = market_url, port, None

    def start(self) -> None:
        env = {**os.environ, "MARKET_DATABASE_URL": self.market_url}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "servers.ads", "--transport", "streamable-http", "--port", str(self.port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError("the HTTP server did not start listening")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def http_server(empty_market_url: str) -> Iterator[HttpServer]:
    server = HttpServer(seed_ads_market(empty_market_url), free_port())
    server.start()
    yield server
    server.stop()


def test_the_pool_talks_streamable_http_and_reconnects_after_the_server_comes_back(http_server: HttpServer) -> None:
    url = f"http://127.0.0.1:{http_server.port}/mcp"
    config = BridgeConfig({"mcpServers": {"ads": {"type": "http", "url": url}}}, approval_secret="s", call_timeout_s=10)
    with SessionPool(config) as pool:
        assert "list_profiles" in {t.name for t in pool.list_tools("ads")}
        result = pool.call("ads", "list_profiles", {"site": "us"}, retry=True)
        assert [p["account_name"] for p in result.structured_content["profiles"]] == ["US seller"]
        [status] = pool.status()
        assert (status.transport, status.state, status.pid, status.calls) == ("http", "up", None, 1)

        http_server.stop()
        with pytest.raises(UpstreamError):
            pool.call("ads", "list_profiles", {"site": "us"}, retry=True)
        assert pool.status()[0].state == "down" and pool.status()[0].last_error

        http_server.start()
        ran: list[int] = []
        result = pool.submit("ads", "list_profiles", {"site": "us"}, retry=True, meanwhile=lambda: ran.append(1)).result()
        assert not result.is_error and ran == [1]  # over HTTP it runs just before the request is sent
        assert pool.status()[0].state == "up" and pool.status()[0].restarts >= 1
