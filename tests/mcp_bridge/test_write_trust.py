"""The approval promise against a dishonest party (issue: single-use tokens bound to one server, outside servers).

Each test reproduces an attack found on the earlier main and shows the refusal: a captured token replayed with its
key, a new key or none; a token relayed by an outside server to a bundled one; an outside server written by the
preview; a restored console database or a second console making a new operation replay an old one.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from mcp import Client
from pydantic import SecretStr

from console.runtime import Runtime
from console.settings import PROJECT_ROOT, Settings
from mcp_bridge.types import Source
from servers.commerce.server import build_server as build_commerce
from servers.common.config import ServerConfig
from tests.support.console_db import SECRET, TODAY, market_value, servers_document

pytestmark = pytest.mark.anyio
CLI = Source("cli", reason="restock")


def server_env(market_url: str) -> dict[str, str]:
    return {"MARKET_DATABASE_URL": market_url, "CONSOLE_APPROVAL_SECRET": SECRET, "CONSOLE_ENV": "test",
            "MARKET_TODAY": TODAY.isoformat()}


def make_runtime(console_url: str, market_url: str, outside: dict[str, dict] | None = None,
                 bundled: tuple[str, ...] = ("commerce",)) -> Runtime:
    document = servers_document(bundled, server_env(market_url))
    for name, entry in (outside or {}).items():
        document["mcpServers"][name] = {"command": sys.executable, "cwd": str(PROJECT_ROOT), **entry}
    settings = Settings(env="test", database_url=console_url, market_database_url=market_url,
                        approval_secret=SecretStr(SECRET), mcp_servers=json.dumps(document), call_timeout_s=20.0,
                        keyring="", audit_anchor="")
    rt = Runtime.create(settings)
    rt.users.seed_demo()
    return rt


def inbound(market_url: str, variant_id: int) -> int:
    return market_value(market_url, "SELECT inbound FROM inventory_levels WHERE variant_id = :v", v=variant_id)[0][0]


def a_variant(market_url: str) -> int:
    return market_value(market_url, "SELECT variant_id FROM inventory_levels WHERE site_id = 'us' "
                                    "ORDER BY variant_id LIMIT 1")[0][0]


def capture_sent(rt: Runtime) -> list[dict]:
    """Record what the bridge sends to the servers (the wire, as an attacker on the network would see it)."""
    sent: list[dict] = []
    pool = rt.bridge.pool
    real = pool.call

    def call(server, tool, arguments, **kwargs):
        sent.append({"server": server, "tool": tool, "arguments": dict(arguments)})
        return real(server, tool, arguments, **kwargs)

    pool.call = call
    return sent


@pytest.fixture
def runtime(console_url, market_url):
    rt = make_runtime(console_url, market_url)
    yield rt
    rt.close()


def approve_inbound(rt: Runtime, market_url: str, amount: int = 100):
    variant = a_variant(market_url)
    seller, approver = rt.users.caller("seller@demo.local", "cli"), rt.users.caller("approver@demo.local", "cli")
    outcome = rt.bridge.call(seller, "commerce__update_inventory",
                             {"site": "us", "variant_id": variant, "add_inbound": amount, "reason": "restock"},
                             source=CLI)
    assert outcome.status == "pending", outcome.text
    return rt.bridge.gate.approve(outcome.operation_id, approver), variant


@pytest.mark.parametrize("key", ["same", "new", None])
async def test_a_captured_token_replayed_changes_nothing(runtime, market_url, key) -> None:
    sent = capture_sent(runtime)
    start = inbound(market_url, a_variant(market_url))
    op, variant = approve_inbound(runtime, market_url)
    assert op.status == "succeeded" and inbound(market_url, variant) == start + 100
    wire = next(s["arguments"] for s in sent if s["tool"] == "update_inventory" and "approval_token" in s["arguments"])
    assert "idempotency_key" not in wire  # the key is the token's own nonce, not something a caller picks
    replay = {k: v for k, v in wire.items() if k != "idempotency_key"}
    if key is not None:
        replay["idempotency_key"] = f"op-{op.id}" if key == "same" else "attacker-chosen-key"
    config = ServerConfig(market_database_url=market_url, approval_secret=SECRET, today_override=TODAY)
    async with Client(build_commerce(config)) as commerce:  # straight to the server, skipping the bridge
        for _ in range(3):
            again = await commerce.call_tool("update_inventory", replay)
            assert not again.is_error and again.structured_content["replayed"] is True
        other = await commerce.call_tool("update_inventory", {**replay, "add_inbound": 5000})
        assert other.is_error and other.content[0].text.startswith("CONFIRMATION_REQUIRED: ")
    assert inbound(market_url, variant) == start + 100


def test_a_token_relayed_by_an_outside_server_to_a_bundled_one_is_refused(console_url, market_url, tmp_path) -> None:
    """An outside `notes` server claims the write contract, is approved for 'add a note', and relays the token it
    gets to the bundled commerce server with add_inbound=5000 (and with the very arguments approved)."""
    log = tmp_path / "relay.json"
    relay = {"args": ["-m", "tests.support.outside_servers.relay"],
             "env": {"RELAY_TARGET_ENV": json.dumps(server_env(market_url)), "RELAY_LOG": str(log)}}
    rt = make_runtime(console_url, market_url, outside={"notes": relay})
    try:
        variant = a_variant(market_url)
        start = inbound(market_url, variant)
        admin, approver = rt.users.caller("admin@demo.local", "cli"), rt.users.caller("approver@demo.local", "cli")
        outcome = rt.bridge.call(admin, "notes__update_inventory", {"site": "us", "variant_id": variant, "reason": "reorder soon"},
                                 source=CLI)
        assert outcome.status == "pending", outcome.text
        rt.bridge.gate.approve(outcome.operation_id, approver)
        answers = json.loads(log.read_text())
        assert len(answers) == 2
        for answer in answers:
            assert answer.startswith("CONFIRMATION_REQUIRED: the approval token was refused (issued for server 'notes', "
                                     "not 'commerce')"), answer
        assert inbound(market_url, variant) == start
    finally:
        rt.close()


def test_an_outside_server_is_called_once_after_approval_never_for_the_preview(console_url, market_url,
                                                                               tmp_path) -> None:
    ledger = tmp_path / "calls.jsonl"
    thirdparty = {"args": ["-m", "tests.support.outside_servers.thirdparty"], "env": {"THIRDPARTY_LEDGER": str(ledger)}}
    rt = make_runtime(console_url, market_url, outside={"thirdparty": thirdparty})
    try:
        sent = capture_sent(rt)
        admin, approver = rt.users.caller("admin@demo.local", "cli"), rt.users.caller("approver@demo.local", "cli")
        args = {"site": "us", "campaign_id": "AMZ-42", "daily_budget": 80.0}
        outcome = rt.bridge.call(admin, "thirdparty__update_daily_budget", args, source=CLI)
        assert outcome.status == "pending", outcome.text
        assert not ledger.exists()  # proposing read nothing and wrote nothing on it
        op = rt.bridge.gate.get(outcome.operation_id)
        assert op.verified is False and op.preview["before"] == {}
        assert op.preview["after"] == {"campaign_id": "AMZ-42", "daily_budget": 80.0}
        assert "does not implement the write contract" in op.preview["unverified_reason"]
        done = rt.bridge.gate.approve(op.id, approver)
        assert done.status == "succeeded"
        calls = [json.loads(line) for line in ledger.read_text().splitlines()]
        assert calls == [{"campaign_id": "AMZ-42", "daily_budget": 80.0, "dry_run": False}]
        wire = [s["arguments"] for s in sent if s["server"] == "thirdparty"]
        assert wire == [args]  # no dry_run, no token, no expected_before: nothing of ours leaves for it
        # Nothing can run it again, and it has no ledger to reconcile with.
        assert rt.bridge.gate.reconcile(op.id).status == "succeeded"
        assert len(ledger.read_text().splitlines()) == 1
    finally:
        rt.close()


def test_a_new_operation_after_a_restore_from_backup_runs_for_real(console_url, market_url, tmp_path) -> None:
    rt = make_runtime(console_url, market_url)
    console_file = Path(console_url.split("///", 1)[1])
    backup = tmp_path / "backup.db"
    rt.close()
    shutil.copyfile(console_file, backup)
    try:
        rt = make_runtime(console_url, market_url)
        first, variant = approve_inbound(rt, market_url)
        start = inbound(market_url, variant)
        rt.close()
        for suffix in ("", "-wal", "-shm"):  # restore the backup taken before operation #1
            Path(f"{console_file}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(backup, console_file)
        rt = make_runtime(console_url, market_url)
        second, _ = approve_inbound(rt, market_url)
        assert second.id == first.id and second.nonce != first.nonce
        assert (second.status, second.result["replayed"]) == ("succeeded", False)
        assert inbound(market_url, variant) == start + 100
    finally:
        rt.close()


def test_two_consoles_sharing_a_market_never_answer_each_other(tmp_path, market_url) -> None:
    a = make_runtime(f"sqlite:///{tmp_path / 'a.db'}", market_url)
    b = make_runtime(f"sqlite:///{tmp_path / 'b.db'}", market_url)
    try:
        start = inbound(market_url, a_variant(market_url))
        op_a, variant = approve_inbound(a, market_url)
        op_b, _ = approve_inbound(b, market_url)
        assert op_a.id == op_b.id == 1
        assert [op.result["replayed"] for op in (op_a, op_b)] == [False, False]
        assert inbound(market_url, variant) == start + 200
    finally:
        a.close()
        b.close()
