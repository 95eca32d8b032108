"""What the README promises of the gateway and no other test showed, each against a real gateway on a port driven by
the official `mcp` client (or plain HTTP where the status line is the point): a tool group's own timeout cuts a slow
read short; a signed-in person's calls share one rate-limit bucket; a write without a site among several is refused
and queues nothing; an outside server's tool in a group is listed, proposed through the bridge and audited; a key
older than 90 days is flagged for rotation."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import update
from starlette.testclient import TestClient

from console.gateway.app import Gateway
from console.gateway.groups import ToolGroups
from console.gateway.keys import ApiKeys
from console.gateway.serve import build_gateway
from console.runtime import Runtime
from console.settings import PROJECT_ROOT
from mcp_bridge.store import ApiKey, utcnow
from tests.console.gateway.gateway_support import ADMIN, audit_rows, client, free_port, make_group, serving, unwrap
from tests.console.gateway.oauth_support import BASE, SELLER, AuthServer, Clock, signed_in_tokens
from tests.support.console_db import cli_env, gate_settings, keyword
from tests.support.market import sqlite_url
from tests.support.oidc_provider import OIDCProvider, OIDCUser

pytestmark = pytest.mark.anyio
APPROVER = "approver@demo.local"
MCP_ACCEPT = {"Accept": "application/json, text/event-stream"}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}


def runtime_at(home: Path, market_template: Path, *, outside: dict[str, dict[str, Any]] | None = None,
               **overrides: Any) -> Runtime:
    """A console on its own market copy whose bridge runs the bundled ads server and the `outside` ones (over stdio,
    as CONSOLE_MCP_SERVERS would name them), started."""
    shutil.copy(market_template, home / "market.db")
    settings = gate_settings(f"sqlite:///{home / 'console.db'}", sqlite_url(home / "market.db"), ("ads",))
    document = json.loads(settings.mcp_servers or "{}")
    for name, entry in (outside or {}).items():
        document["mcpServers"][name] = {"command": sys.executable, "cwd": str(PROJECT_ROOT), **entry}
    rt = Runtime.create(settings.model_copy(update={"mcp_servers": json.dumps(document), **overrides}))
    rt.users.seed_demo()
    rt.bridge.start()
    return rt


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("thirdparty") / "calls.jsonl"


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory, market_template: Path, ledger: Path) -> Iterator[Runtime]:
    thirdparty = {"args": ["-m", "tests.support.outside_servers.thirdparty"], "env": {"THIRDPARTY_LEDGER": str(ledger)}}
    runtime = runtime_at(tmp_path_factory.mktemp("gateway-promises"), market_template,
                         outside={"thirdparty": thirdparty})
    try:
        yield runtime
    finally:
        runtime.close()


@pytest.fixture(scope="module")
def base(rt: Runtime) -> Iterator[str]:
    port = free_port()
    with serving(Gateway(rt, base_url=f"http://127.0.0.1:{port}")) as url:
        yield url


@contextmanager
def market_busy(market_db: Path) -> Iterator[None]:
    """Another process holds the market database exclusively (a long migration, say): a server's read waits for it
    (the servers' busy timeout is 30 s) until it is let go."""
    holder = sqlite3.connect(market_db, isolation_level=None, timeout=5)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("CREATE TABLE busy_elsewhere (x INTEGER)")  # the first write takes the exclusive lock
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


# -- 1. a group's per-tool timeout ------------------------------------------------------------------------------
async def test_a_tools_timeout_in_its_group_cuts_a_slow_read_short_with_a_coded_error(
        tmp_path: Path, market_template: Path) -> None:
    own = runtime_at(tmp_path, market_template)  # its ads server has not opened the market yet: nothing holds it
    try:
        key = make_group(own, "impatient", ["ads__list_campaigns"], ["us"])
        ToolGroups(own.engine, own.bridge.audit).set_tool("impatient", "ads__list_campaigns", timeout_s=0.5,
                                                          actor=ADMIN)
        port = free_port()
        with serving(Gateway(own, base_url=f"http://127.0.0.1:{port}")) as url:
            async with client(f"{url}/mcp/impatient", key) as c:
                with market_busy(tmp_path / "market.db"):
                    started = time.monotonic()
                    slow = await c.call_tool("ads__list_campaigns", {"site": "us"})
                    took = time.monotonic() - started
                again = await c.call_tool("ads__list_campaigns", {"site": "us"})  # the market is free again
        assert slow.is_error and slow.structured_content["code"] == "UPSTREAM_ERROR", slow.content
        assert slow.content[0].text.startswith("UPSTREAM_ERROR: ") and "timed out after 0.5s" in slow.content[0].text
        assert took < 5, took  # the server would have waited 30 s for the market, and the default timeout is 20 s
        assert again.is_error is False and again.structured_content["campaigns"]
        results = [(r.tool, r.outcome) for r in audit_rows(own, event="tool_result", actor="group:impatient/impatient-key")]
        assert results == [("ads__list_campaigns", "ok"), ("ads__list_campaigns", "UPSTREAM_ERROR")]  # newest first
    finally:
        own.close()


# -- 2. the per-person rate limit over HTTP ---------------------------------------------------------------------
async def test_a_signed_in_persons_clients_share_one_bucket_and_an_empty_one_answers_429_with_retry_after(
        rt: Runtime) -> None:
    ToolGroups(rt.engine, rt.bridge.audit).create("ads-us", tools=["ads__get_regions"], sites=["us"], actor=ADMIN)
    bystander = make_group(rt, "bystander", ["ads__get_regions"], ["us"])
    limited = replace(rt, settings=rt.settings.model_copy(update={"gateway_rate_per_minute": 6.0,
                                                                   "gateway_burst": 3}))
    oidc = OIDCProvider(user=OIDCUser(SELLER, "Sam Seller")).start()
    try:
        gateway = build_gateway(limited, base_url=BASE, auth={
            "client_id": oidc.client_id, "client_secret": oidc.client_secret, "server_metadata_url": oidc.metadata_url})
        signin = AuthServer(limited, gateway.provider, TestClient(gateway.other, base_url=BASE, follow_redirects=False),
                            Clock(), oidc)
        _, first = signed_in_tokens(signin)  # one client at the group's address
        _, second = signed_in_tokens(signin, resource=f"{BASE}/mcp")  # another client, the person's own catalog
        signin.http.close()
        with serving(gateway, free_port()) as url:  # BASE is the public address; the resource check uses it
            def post(path: str, token: str) -> httpx2.Response:
                return httpx2.post(f"{url}{path}", json=TOOLS_LIST,
                                   headers={"Authorization": f"Bearer {token}", **MCP_ACCEPT})

            answered = 0
            with pytest.raises(BaseException) as refused:
                async with client(f"{url}/mcp/ads-us", first["access_token"]) as c:
                    for answered in range(1, 10):  # noqa: B007 - how many got through is the point
                        await c.call_tool("ads__get_regions", {})
            other_client = post("/mcp", second["access_token"])
            someone_else = post("/mcp/bystander", bystander)
            metrics = httpx2.get(f"{url}/metrics").text
    finally:
        oidc.close()
    assert answered <= 3  # the burst of 3 (the client's own set-up requests count too)
    message = unwrap(refused.value).message
    assert message.startswith(f"RATE_LIMITED: too many calls from user {SELLER}: 6 a minute with bursts of 3"), message
    assert other_client.status_code == 429, other_client.text  # the same person through another client and address
    assert 1 <= int(other_client.headers["retry-after"]) <= 10
    assert other_client.json()["error"]["data"]["code"] == "RATE_LIMITED"
    assert f"from user {SELLER}" in other_client.json()["error"]["message"]
    assert someone_else.status_code == 200, someone_else.text  # a key of another group has a bucket of its own
    assert 'gateway_refusals_total{code="RATE_LIMITED"} 2.0' in metrics


# -- 3. a write never guesses its site --------------------------------------------------------------------------
async def test_a_write_without_a_site_among_several_answers_site_scope_required_and_queues_nothing(
        rt: Runtime, base: str) -> None:
    key = make_group(rt, "two-site-bidder", ["ads__update_bid", "ads__list_keywords"], ["us", "de"], writes=True)
    kid, bid = keyword(str(rt.settings.market_database_url))
    queued_before = [op.id for op in rt.bridge.gate.list(limit=1000)]
    async with client(f"{base}/mcp/two-site-bidder", key) as c:
        unnamed = await c.call_tool("ads__update_bid", {"keyword_id": kid, "bid": round(bid * 0.9, 2)})
        nulled = await c.call_tool("ads__update_bid", {"site": None, "keyword_id": kid, "bid": round(bid * 0.9, 2)})
        queued_between = [op.id for op in rt.bridge.gate.list(limit=1000)]
        await c.call_tool("select_site", {"site": "us"})
        chosen = await c.call_tool("ads__update_bid", {"keyword_id": kid, "bid": round(bid * 0.9, 2)})
    for refused in (unnamed, nulled):
        assert refused.is_error and refused.structured_content["code"] == "SITE_SCOPE_REQUIRED", refused.content
        assert refused.content[0].text == ("SITE_SCOPE_REQUIRED: name the site for a change (`site`) or pick one with "
                                           "select_site; your sites: de, us")
    assert queued_between == queued_before  # nothing waits in the queue for a guessed site
    rows = audit_rows(rt, actor="group:two-site-bidder/two-site-bidder-key", tool="ads__update_bid")
    assert [(r.event, r.site, r.outcome) for r in rows] == [("proposed", "us", "pending"),  # newest first
                                                          ("gateway_refused", None, "SITE_SCOPE_REQUIRED"),
                                                          ("gateway_refused", None, "SITE_SCOPE_REQUIRED")]
    # With a site picked, the same call is a proposal for that site: only the site was missing.
    assert chosen.structured_content["code"] == "CONFIRMATION_REQUIRED", chosen.content
    assert rt.bridge.gate.get(chosen.structured_content["operation_id"]).site == "us"


# -- 4. an outside server's tool in a group ---------------------------------------------------------------------
async def test_an_outside_servers_tool_in_a_group_is_listed_proposed_through_the_bridge_and_audited(
        rt: Runtime, base: str, ledger: Path) -> None:
    key = make_group(rt, "platform-budgets", ["thirdparty__update_daily_budget"], ["us"], writes=True)
    actor = "group:platform-budgets/platform-budgets-key"
    async with client(f"{base}/mcp/platform-budgets", key) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        proposed = await c.call_tool("thirdparty__update_daily_budget", {"campaign_id": "AMZ-7", "daily_budget": 55.0})
        op_id = proposed.structured_content["operation_id"]
        rt.bridge.gate.approve(op_id, rt.users.caller(APPROVER, "ui"))
        done = await c.call_tool("get_operation", {"operation_id": op_id})
    assert set(tools) == {"auth_status", "list_sites", "select_site", "get_operation", "thirdparty__update_daily_budget"}
    assert tools["thirdparty__update_daily_budget"].input_schema["properties"]["site"]["enum"] == ["us"]
    assert proposed.is_error and proposed.content[0].text.startswith(
        f"CONFIRMATION_REQUIRED: operation #{op_id} waits for a person's approval")
    op = rt.bridge.gate.get(op_id)
    assert (op.server, op.tool, op.site, op.proposer, op.source_kind) == (
        "thirdparty", "update_daily_budget", "us", actor, "gateway")
    assert op.verified is False  # an outside server: an unverified preview, never called before approval
    assert done.structured_content["status"] == "succeeded", done.structured_content
    assert [json.loads(line) for line in ledger.read_text().splitlines()] == [
        {"campaign_id": "AMZ-7", "daily_budget": 55.0, "dry_run": False}]  # it ran once, after approval
    proposals = audit_rows(rt, event="proposed", actor=actor)
    assert [(r.tool, r.site, r.outcome) for r in proposals] == [("thirdparty__update_daily_budget", "us", "pending")]
    assert proposals[0].detail["source_ref"].startswith("group=platform-budgets key=")


# -- 5. a stale key -------------------------------------------------------------------------------------------
def make_old(rt: Runtime, key_id: int, days: float) -> None:
    with rt.bridge.store.write() as s:
        s.execute(update(ApiKey).where(ApiKey.id == key_id).values(created_at=utcnow() - dt.timedelta(days=days)))


def test_a_key_older_than_90_days_is_flagged_stale_in_keys_list(rt: Runtime) -> None:
    make_group(rt, "aging", ["ads__get_regions"], ["us"])
    keys = ApiKeys(rt.engine, rt.bridge.audit)
    old, almost = (keys.create("aging", label=label, actor=ADMIN).info for label in ("old-one", "almost-old"))
    make_old(rt, old.id, 91)
    make_old(rt, almost.id, 89)
    by_label = {k.label: k for k in keys.list("aging")}
    assert {label: k.stale() for label, k in by_label.items()} == {"aging-key": False, "old-one": True,
                                                                   "almost-old": False}
    env = cli_env(str(rt.settings.database_url), str(rt.settings.market_database_url))
    listed = subprocess.run([sys.executable, "-m", "console", "keys", "list", "--group", "aging"], env=env,
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[1]: line for line in listed.stdout.splitlines() if line.startswith("#")}
    assert lines["aging/old-one"].endswith("ROTATE: older than 90 days"), listed.stdout
    assert "ROTATE" not in lines["aging/almost-old"] and "ROTATE" not in lines["aging/aging-key"]
    as_json = subprocess.run([sys.executable, "-m", "console", "keys", "list", "--group", "aging", "--json"], env=env,
                             cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert {k["label"]: k["stale"] for k in json.loads(as_json.stdout)} == {"aging-key": False, "old-one": True,
                                                                           "almost-old": False}
