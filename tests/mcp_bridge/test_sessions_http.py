"""SessionPool over streamable HTTP: the bundled ads server run as its own process on loopback.

The server answers only the bridge's service credential (derived from the shared secret and keyring for the server's
name); the pool sends it to bundled servers only, made afresh for every request.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx2
import pytest

from mcp_bridge.errors import UpstreamError
from mcp_bridge.keys import Keyring
from mcp_bridge.sessions.pool import SessionPool
from mcp_bridge.types import BridgeConfig
from tests.support.fault_servers.harness import ROOT, seed_ads_market

SECRET = "s"

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HttpServer:
    def __init__(self, market_url: str, port: int, keyring: Path) -> None:
        self.market_url, self.port, self.keyring, self.process = market_url, port, keyring, None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def start(self) -> None:
        env = {**os.environ, "MARKET_DATABASE_URL": self.market_url, "CONSOLE_APPROVAL_SECRET": SECRET,
               "CONSOLE_KEYRING": str(self.keyring)}
        env.pop("CONSOLE_SERVER_AUDIENCE", None)
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
def http_server(empty_market_url: str, tmp_path: Path) -> Iterator[HttpServer]:
    server = HttpServer(seed_ads_market(empty_market_url), free_port(), tmp_path / "keyring.json")
    server.start()
    yield server
    server.stop()


def test_the_pool_talks_streamable_http_and_reconnects_after_the_server_comes_back(http_server: HttpServer) -> None:
    url = http_server.url
    config = BridgeConfig({"mcpServers": {"ads": {"type": "http", "url": url}}}, approval_secret=SECRET, call_timeout_s=10,
                          keyring_path=str(http_server.keyring))
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


def profiles(pool: SessionPool, server: str) -> list[str]:
    result = pool.call(server, "list_profiles", {"site": "us"}, retry=True)
    assert not result.is_error, result.content
    return [p["account_name"] for p in result.structured_content["profiles"]]


def test_a_key_rotation_reaches_the_open_session_without_a_reconnect(http_server: HttpServer) -> None:
    config = BridgeConfig({"mcpServers": {"ads": {"url": http_server.url}}}, approval_secret=SECRET, call_timeout_s=10,
                          keyring_path=str(http_server.keyring))
    keyring = Keyring(SECRET, http_server.keyring)
    before = keyring.service_credential("ads")
    with SessionPool(config) as pool:
        assert profiles(pool, "ads") == ["US seller"]
        keyring.rotate(grace=timedelta(0))  # the old key stops verifying right away: no grace period
        after = keyring.service_credential("ads")
        assert before.split(".")[0] == "k0" and after.split(".")[0] != "k0"
        assert profiles(pool, "ads") == ["US seller"]  # the same session, now sending the new key's credential
        assert (pool.status()[0].state, pool.status()[0].restarts) == ("up", 0)
    with httpx2.Client(timeout=10) as http:
        stale = http.post(http_server.url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                          headers={"Authorization": f"Bearer {before}", "Accept": "application/json, text/event-stream"})
    assert stale.status_code == 401 and stale.json()["error"]["message"].startswith("AUTH_REQUIRED: ")


def test_outside_servers_never_get_our_credential_but_keep_their_own_headers(http_server: HttpServer) -> None:
    # The bundled ads server, configured as if it were someone else's: if the pool sent our credential, it would pass.
    credential = Keyring(SECRET).service_credential("ads")
    document = {"mcpServers": {
        "ads": {"url": http_server.url},
        "partner": {"url": http_server.url, "headers": {"Authorization": f"Bearer {credential}"}},
    }}
    config = BridgeConfig(document, approval_secret=SECRET, call_timeout_s=10, bundled=frozenset())
    with SessionPool(config) as pool:
        with pytest.raises(UpstreamError) as refused:
            pool.list_tools("ads")
        assert "AUTH_REQUIRED: " in refused.value.message
        assert profiles(pool, "partner") == ["US seller"]


def test_a_bridge_with_another_secret_is_refused(http_server: HttpServer) -> None:
    config = BridgeConfig({"mcpServers": {"ads": {"url": http_server.url}}}, approval_secret="not-the-servers-secret",
                          call_timeout_s=10)
    with SessionPool(config) as pool:
        with pytest.raises(UpstreamError) as refused:
            pool.call("ads", "list_profiles", {"site": "us"}, retry=True)
        assert "AUTH_REQUIRED: " in refused.value.message
        [status] = pool.status()
        assert status.state == "down" and status.last_error.startswith("could not start: AUTH_REQUIRED: ")
