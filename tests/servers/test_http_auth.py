"""A bundled server over streamable HTTP answers only the bridge's service credential; `/healthz` and `/readyz` anyone.

The ads server runs as its own process (`python -m servers.ads --transport streamable-http`) with a keyring whose
env key `k0` has retired and whose file key `k1` signs; the readiness cases run the same app in-process.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from alembic import command
from alembic.script import ScriptDirectory
from mcp import Client
from mcp.shared.exceptions import MCPError

from servers.ads.server import build_server
from servers.common.config import ServerConfig
from servers.common.http import http_app
from servers.common.keys import Key, Keyring, service_credential
from servers.market.db import alembic_config, migrate
from tests.support.fault_servers.harness import seed_ads_market
from tests.support.market import sqlite_url
from tests.support.service_http import http_transport

ROOT = Path(__file__).resolve().parents[2]
SECRET = "http-auth-test-secret"
K1 = base64.urlsafe_b64encode(b"k1-material-for-the-http-tests!!").rstrip(b"=").decode()
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "stranger", "version": "1"}}}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_keyring(path: Path) -> Path:
    """k0 (the master secret) retired long ago; k1 signs."""
    path.write_text(json.dumps({"version": 1, "keys": [
        {"kid": "k0", "source": "env", "created": "2019-01-01T00:00:00+00:00", "retires": "2020-01-01T00:00:00+00:00"},
        {"kid": "k1", "secret": K1, "created": "2020-01-01T00:00:00+00:00", "retires": None},
    ]}))
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The ads server over streamable HTTP on a free loopback port: its base URL and the keyring it reads."""
    home = tmp_path_factory.mktemp("http-auth")
    migrate(sqlite_url(home / "market.db"))
    seed_ads_market(sqlite_url(home / "market.db"))
    keyring = write_keyring(home / "keyring.json")
    env = {**os.environ, "MARKET_DATABASE_URL": sqlite_url(home / "market.db"), "CONSOLE_APPROVAL_SECRET": SECRET,
           "CONSOLE_KEYRING": str(keyring), "MARKET_TODAY": "2026-11-20"}
    env.pop("CONSOLE_SERVER_AUDIENCE", None)
    port, log = free_port(), home / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "servers.ads", "--transport", "streamable-http", "--host", "127.0.0.1",
             "--port", str(port)], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the ads server exited with {process.returncode}:\n{log.read_text()}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise AssertionError("the ads server did not listen in time")
            time.sleep(0.05)
        yield {"base": f"http://127.0.0.1:{port}", "keyring": Keyring(SECRET, keyring), "log": log}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def credential(server: dict[str, Any], audience: str = "ads") -> str:
    return service_credential(server["keyring"], audience)


def retired_credential() -> str:
    """What the master secret alone (k0) makes: valid before the rotation, worthless after its retirement."""
    return f"k0.{Key('k0', SECRET.encode()).derive('service', 'ads').hex()}"


REFUSED: dict[str, Any] = {
    "no header": lambda s: [],
    "wrong bearer": lambda s: [("Authorization", "Bearer k1." + "0" * 64)],
    "not a credential": lambda s: [("Authorization", "Bearer hello")],
    "scheme without a token": lambda s: [("Authorization", "Bearer")],
    "another server's audience": lambda s: [("Authorization", f"Bearer {credential(s, 'commerce')}")],
    "a retired key": lambda s: [("Authorization", f"Bearer {retired_credential()}")],
    "an unknown key id": lambda s: [("Authorization", "Bearer k9." + credential(s).split(".")[1])],
    "right credential, Basic scheme": lambda s: [("Authorization", f"Basic {credential(s)}")],
    "right credential, no scheme": lambda s: [("Authorization", credential(s))],
    "basic auth": lambda s: [("Authorization", "Basic " + base64.b64encode(b"admin:admin").decode())],
    "non-ASCII": lambda s: [(b"Authorization", "Bearer k1.é✓".encode() + b"\xff\xfe")],
    "huge": lambda s: [("Authorization", "Bearer k1." + "a" * 20_000)],
    "two Authorization headers": lambda s: [("Authorization", f"Bearer {credential(s)}"), ("Authorization", "Bearer x")],
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_without_the_service_credential_nothing_reaches_the_mcp_layer(server, case):
    headers = REFUSED[case](server)
    with httpx2.Client(base_url=server["base"], headers=MCP_HEADERS, timeout=10) as http:
        answers = [http.post("/mcp", json=INITIALIZE, headers=headers),
                   http.post("/mcp", json=TOOLS_LIST, headers=headers),
                   http.get("/mcp", headers=headers),
                   http.get("/anything-else", headers=headers)]
    for answer in answers:
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == 'Bearer realm="ads"'
        assert "mcp-session-id" not in answer.headers
        error = answer.json()["error"]
        assert error["message"].startswith("AUTH_REQUIRED: ")
        assert "Authorization: Bearer" in error["message"]
        assert answer.content == answers[0].content  # one answer for every refusal: nothing to tell them apart
        assert "list_campaigns" not in answer.text


@pytest.mark.anyio
async def test_the_sdk_client_without_the_credential_is_refused_with_auth_required(server):
    with pytest.raises(BaseException) as refused:
        async with Client(http_transport(server["base"] + "/mcp", {"Authorization": f"Bearer {retired_credential()}"})):
            pass
    error = refused.value
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:  # the SDK's task groups wrap it
        error = error.exceptions[0]
    assert isinstance(error, MCPError) and error.message.startswith("AUTH_REQUIRED: ")


@pytest.mark.anyio
async def test_the_service_credential_lists_the_tools_and_reads(server):
    async with Client(http_transport(server["base"] + "/mcp", {"Authorization": f"Bearer {credential(server)}"})) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        regions = await client.call_tool("get_regions", {"site": "us"})
        refused = await client.call_tool("update_bid", {"site": "us", "keyword_id": 1, "bid": 1.0})
        profiles = await client.call_tool("list_profiles", {"site": "us"})
    assert {"list_campaigns", "update_bid", "get_regions"} <= names
    assert (regions.is_error, regions.structured_content["site"], regions.structured_content["currency"]) == (
        False, "us", "USD")
    assert [p["account_name"] for p in profiles.structured_content["profiles"]] == ["US seller"]
    # The credential opens the door to reads; a write still needs an approval token.
    assert refused.is_error and refused.content[0].text.startswith("CONFIRMATION_REQUIRED: ")


def test_the_scheme_name_is_case_insensitive(server):
    with httpx2.Client(base_url=server["base"], headers=MCP_HEADERS, timeout=10) as http:
        answer = http.post("/mcp", json=INITIALIZE, headers={"Authorization": f"bearer {credential(server)}"})
    assert answer.status_code == 200 and answer.headers["mcp-session-id"]


def test_probes_answer_without_a_credential(server):
    with httpx2.Client(base_url=server["base"], timeout=10) as http:
        health, ready = http.get("/healthz"), http.get("/readyz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


# -- readiness, with the same app in-process (a real uvicorn on a loopback port) ---------------------------------


@contextmanager
def serving(config: ServerConfig) -> Iterator[httpx2.Client]:
    config = config.for_server("ads")
    app = http_app(build_server(config), config, host="127.0.0.1")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            yield http
    finally:
        server.should_exit = True
        thread.join(10)


def not_ready(http: httpx2.Client) -> str:
    answer = http.get("/readyz")
    assert answer.status_code == 503 and answer.json()["status"] == "unavailable"
    assert http.get("/healthz").status_code == 200  # the process is up all the same
    return answer.json()["reason"]


def test_readyz_is_503_while_the_market_database_is_missing(tmp_path):
    path = tmp_path / "missing.db"
    with serving(ServerConfig(sqlite_url(path), SECRET)) as http:
        reason = not_ready(http)
    assert reason == "the market database does not exist; run `python -m servers.market migrate`"
    assert not path.exists()  # probing did not create an empty database


def test_readyz_is_503_until_the_migrations_reach_head(tmp_path):
    url = sqlite_url(tmp_path / "old.db")
    script = ScriptDirectory.from_config(alembic_config(url))
    head = script.get_current_head()
    previous = script.get_revision(head).down_revision
    command.upgrade(alembic_config(url), previous)
    with serving(ServerConfig(url, SECRET)) as http:
        assert not_ready(http) == (f"the market database schema is at {previous}, not at {head}; "
                                   "run `python -m servers.market migrate`")
        command.upgrade(alembic_config(url), "head")
        assert (http.get("/readyz").status_code, http.get("/readyz").json()) == (200, {"status": "ready"})


def test_readyz_is_503_when_the_market_database_does_not_answer():
    url = f"postgresql+psycopg://market:hunter2@127.0.0.1:{free_port()}/market"
    with serving(ServerConfig(url, SECRET)) as http:
        reason = not_ready(http)
    assert reason == "the market database is unreachable (OperationalError); the details are in the server log"
