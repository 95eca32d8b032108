"""`python -m console groups|keys|gateway` as a script uses them: create a group and a key, serve, call, revoke."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from tests.console.gateway.gateway_support import client, free_port, unwrap
from tests.support.console_db import PROJECT_ROOT, cli_env, make_runtime

pytestmark = pytest.mark.anyio


def console(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "console", *args], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def env(console_url: str, market_url: str) -> dict[str, str]:
    make_runtime(console_url, market_url).close()  # migrated, demo users
    return cli_env(console_url, market_url)


def test_groups_and_keys_from_the_command_line(env) -> None:
    refused = console(env, "groups", "create", "scripts", "--tools", "ads__get_regions", "--sites", "us",
                      "--as", "seller@demo.local")
    assert (refused.returncode, refused.stderr.strip()) == (
        2, "PERMISSION_DENIED: seller@demo.local may not change the gateway: that needs the admin role")
    made = console(env, "groups", "create", "scripts", "--tools", "ads.get_regions,ads__list_campaigns",
                   "--sites", "us,de", "--as", "admin@demo.local", "--json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout) | {"tools": None} == {
        "code": "scripts", "name": "scripts", "description": "", "sites": ["de", "us"], "writes": False,
        "enabled": True, "tools": None}
    unknown = console(env, "groups", "create", "typo", "--tools", "ads__nope", "--sites", "us", "--as",
                      "admin@demo.local")
    assert unknown.returncode == 2 and unknown.stderr.startswith("NOT_FOUND: no tool named ads__nope in the catalog")
    key = json.loads(console(env, "keys", "create", "--group", "scripts", "--label", "nightly", "--as",
                             "admin@demo.local", "--json").stdout)
    assert key["key"].startswith("ock_") and key["state"] == "active" and key["shown"] == key["key"][:12]
    listed = console(env, "keys", "list")
    assert f"#{key['id']} scripts/nightly {key['shown']}… active" in listed.stdout
    assert key["key"] not in listed.stdout
    off = console(env, "groups", "tool", "scripts", "ads__list_campaigns", "--off", "--as", "admin@demo.local")
    assert off.returncode == 0 and "off ads__list_campaigns" in off.stdout
    rotated = json.loads(console(env, "keys", "rotate", str(key["id"]), "--grace-hours", "0", "--as",
                                 "admin@demo.local", "--json").stdout)
    assert rotated["id"] != key["id"] and rotated["key"] != key["key"]
    states = {k["id"]: k["state"] for k in json.loads(console(env, "keys", "list", "--json").stdout)}
    assert states == {key["id"]: "expired", rotated["id"]: "active"}


async def test_the_gateway_command_serves_a_key_until_it_is_revoked(env, tmp_path: Path) -> None:
    console(env, "groups", "create", "served", "--tools", "ads__get_regions", "--sites", "us", "--as",
            "admin@demo.local")
    key = json.loads(console(env, "keys", "create", "--group", "served", "--label", "ci", "--as", "admin@demo.local",
                             "--json").stdout)
    port = free_port()
    log = (tmp_path / "gateway.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "console", "gateway", "--port", str(port)], cwd=PROJECT_ROOT,
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx2.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "gateway.log").read_text()
            time.sleep(0.2)
        async with client(f"{base}/mcp/served", key["key"]) as c:
            regions = await c.call_tool("ads__get_regions", {})
        assert regions.is_error is False and regions.structured_content["currency"] == "USD"
        assert console(env, "keys", "revoke", str(key["id"]), "--as", "admin@demo.local").returncode == 0
        with pytest.raises(BaseException) as refused:
            async with client(f"{base}/mcp/served", key["key"]) as c:
                await c.list_tools()
        assert str(unwrap(refused.value)).startswith("AUTH_REQUIRED: API key ")
    finally:
        process.terminate()
        process.wait(20)
        log.close()
