"""`python -m console ops …` starts only the servers a command needs: none to list or show, the operation's to approve.

Every configured server is started through a shell that first appends the server's name to a log, so the log lists
each process the command spawned.
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import update

from console.runtime import Runtime, bridge_config
from console.settings import PROJECT_ROOT, Settings
from mcp_bridge.store import OperationRow, utcnow
from mcp_bridge.types import Source
from tests.support.console_db import cli_env, gate_settings, keyword, make_runtime

SERVERS = ("ads", "commerce", "analytics")
SELLER, APPROVER = "seller@demo.local", "approver@demo.local"


@pytest.fixture
def proposed(console_url: str, gate_market_url: str) -> int:
    """A bid change waiting for approval (proposed in this process, on its own ads server)."""
    rt = make_runtime(console_url, gate_market_url)
    try:
        kid, bid = keyword(gate_market_url)
        outcome = rt.bridge.call(rt.users.caller(SELLER, "cli"), "ads__update_bid",
                                 {"site": "us", "keyword_id": kid, "bid": round(bid * 0.9, 2)}, source=Source("cli"))
        assert outcome.status == "pending" and outcome.operation_id, outcome.text
        return outcome.operation_id
    finally:
        rt.close()


@pytest.fixture
def cli(console_url: str, gate_market_url: str, tmp_path: Path):
    """Runs `python -m console …` with all three bundled servers configured; returns (exit code, output, spawned)."""
    log = tmp_path / "spawned.log"
    env = cli_env(console_url, gate_market_url, SERVERS)
    document = json.loads(env["CONSOLE_MCP_SERVERS"])
    for name, entry in document["mcpServers"].items():
        command = shlex.join([entry["command"], *entry["args"]])
        entry.update(command="/bin/sh", args=["-c", f"echo {name} >> {shlex.quote(str(log))}; exec {command}"])
    env["CONSOLE_MCP_SERVERS"] = json.dumps(document)

    def run(*args: str) -> tuple[int, str, list[str]]:
        log.unlink(missing_ok=True)
        proc = subprocess.run([sys.executable, "-m", "console", *args], cwd=PROJECT_ROOT, env=env, text=True,
                              capture_output=True, timeout=180)
        spawned = log.read_text().split() if log.exists() else []
        return proc.returncode, proc.stdout + proc.stderr, spawned

    return run


@pytest.mark.slow
def test_listing_and_showing_spawn_no_server_and_approving_spawns_the_operations_one(cli, proposed: int) -> None:
    code, out, spawned = cli("ops", "list")
    assert (code, spawned) == (0, []) and f"#{proposed} [proposed]" in out, out
    code, out, spawned = cli("ops", "show", str(proposed))
    assert (code, spawned) == (0, []) and out.startswith(f"#{proposed} [proposed]"), out
    code, out, spawned = cli("ops", "approve", str(proposed), "--as", APPROVER)
    assert (code, spawned) == (0, ["ads"]) and out.startswith(f"#{proposed} [succeeded by {APPROVER}]"), out


@pytest.mark.slow
def test_listing_with_an_operation_in_doubt_starts_only_its_server(cli, proposed: int, console_url: str) -> None:
    rt = make_runtime(console_url, "sqlite://")  # the console database only: no server is called here
    try:
        with rt.bridge.gate.store.write() as s:  # its answer was lost a minute ago
            s.execute(update(OperationRow).where(OperationRow.id == proposed).values(
                status="executing", decided_by=APPROVER, decided_at=utcnow() - dt.timedelta(minutes=1)))
    finally:
        rt.close()
    code, out, spawned = cli("ops", "list")
    # The ledger has not seen its nonce and its approval has not expired: still in doubt, asked of ads alone.
    assert (code, spawned) == (0, ["ads"]) and f"#{proposed} [executing by {APPROVER}]" in out, out


def test_the_runtime_sizes_its_pool_from_the_settings_and_opens_it_at_start_only_when_asked(
        monkeypatch: pytest.MonkeyPatch, console_url: str, gate_market_url: str) -> None:
    monkeypatch.setenv("CONSOLE_SESSIONS_PER_SERVER", "2")
    settings = gate_settings(console_url, gate_market_url, ("ads", "commerce"))
    assert bridge_config(settings).sessions_per_server == 2
    with pytest.raises(ValidationError):
        Settings(sessions_per_server=0)
    with Runtime.create(settings) as rt:
        assert [(s.name, s.state) for s in rt.bridge.pool.status()] == [("ads", "down"), ("commerce", "down")]
        # What the app does at start, off its first page: one session of each server opens (a second one opens
        # when the first is busy; six spawns at once held the first page back).
        rt.reconcile_in_background().join(120)
        assert [(s.name, s.state, s.sessions) for s in rt.bridge.pool.status()] == [("ads", "up", 1),
                                                                                    ("commerce", "up", 1)]
