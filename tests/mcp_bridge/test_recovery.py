"""An execution is never lost between the market and the console: in doubt, it is settled from the server's ledger.

Found on the earlier main: with the console database locked between the claim and the result (another writer
holding it), the market was written, the operation stayed `executing` with no `executed` audit row, the CLI died
with a traceback, and nothing short of editing the database could finish or clear it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import update

from console.settings import PROJECT_ROOT
from mcp_bridge.errors import Conflict, PermissionDenied, UpstreamError, ValidationFailed
from mcp_bridge.store import OperationRow, utcnow
from mcp_bridge.types import Source
from tests.mcp_bridge.test_write_trust import a_variant, inbound, make_runtime
from tests.support.console_db import cli_env
from tests.support.market import copy_sqlite

SELLER, APPROVER = "seller@demo.local", "approver@demo.local"


def hold_write_lock(console_url: str, seconds: float) -> threading.Thread:
    """Another writer holding the console database's write lock (a backup, a migration, a stuck process)."""
    path = console_url.split("///", 1)[1]
    taken = threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        conn.execute("BEGIN IMMEDIATE")
        taken.set()
        time.sleep(seconds)
        conn.execute("ROLLBACK")
        conn.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert taken.wait(10)
    return thread


class LockAfterWrite:
    """The bridge as the gate's runner, except that right after the market was written the console DB is locked."""

    def __init__(self, bridge, console_url: str, seconds: float) -> None:
        self.bridge, self.console_url, self.seconds = bridge, console_url, seconds
        self.holder: threading.Thread | None = None

    def __getattr__(self, name):
        return getattr(self.bridge, name)

    def execute(self, *args, **kwargs):
        result = self.bridge.execute(*args, **kwargs)
        self.holder = hold_write_lock(self.console_url, self.seconds)
        return result


def propose_inbound(rt, market_url: str) -> tuple[int, int, int]:
    variant = a_variant(market_url)
    outcome = rt.bridge.call(rt.users.caller(SELLER, "cli"), "commerce__update_inventory",
                             {"site": "us", "variant_id": variant, "add_inbound": 100, "reason": "restock"},
                             source=Source("cli"))
    assert outcome.status == "pending", outcome.text
    return outcome.operation_id, variant, inbound(market_url, variant)


@pytest.fixture
def rt(console_url, market_url):
    runtime = make_runtime(console_url, market_url)
    yield runtime
    runtime.close()


def events(rt, op_id: int) -> list[tuple[str, str | None]]:
    rows = rt.bridge.audit.query(limit=1000)
    return [(r.event, r.outcome) for r in reversed(rows) if (r.detail or {}).get("operation_id") == op_id]


def test_a_short_lock_after_the_write_is_waited_out(rt, console_url, market_url) -> None:
    op_id, variant, start = propose_inbound(rt, market_url)
    rt.bridge.gate.runner = LockAfterWrite(rt.bridge.writes, console_url, seconds=1.0)
    done = rt.bridge.gate.approve(op_id, rt.users.caller(APPROVER, "cli"))
    assert done.status == "succeeded" and inbound(market_url, variant) == start + 100
    assert events(rt, op_id)[-1] == ("executed", "succeeded")


def test_an_execution_whose_result_cannot_be_recorded_is_reconciled_from_the_ledger(rt, console_url, market_url) -> None:
    op_id, variant, start = propose_inbound(rt, market_url)
    gate = rt.bridge.gate
    gate.config = dataclasses.replace(gate.config, result_write_timeout_s=0.5)
    runner = gate.runner = LockAfterWrite(rt.bridge.writes, console_url, seconds=3.0)
    with pytest.raises(UpstreamError, match=rf"operation #{op_id} was sent to the server, but its outcome \(succeeded\) "
                                            "could not be recorded: the console database is locked"):
        gate.approve(op_id, rt.users.caller(APPROVER, "cli"))
    assert inbound(market_url, variant) == start + 100  # the market was written
    runner.holder.join()
    assert gate.get(op_id).status == "executing" and events(rt, op_id)[-1] == ("approved", "executing")
    gate.runner = rt.bridge.writes
    settled = gate.reconcile(op_id)
    assert (settled.status, settled.result["applied"], settled.result["after"]["inbound"]) == ("succeeded", True,
                                                                                              start + 100)
    row = [r for r in rt.bridge.audit.query(event="executed") if r.detail["operation_id"] == op_id][0]
    assert (row.outcome, row.detail["reconciled"], row.detail["ledger"]) == ("succeeded", True, "applied")
    assert gate.reconcile(op_id).status == "succeeded" and len(events(rt, op_id)) == 3  # once only
    assert inbound(market_url, variant) == start + 100


def test_an_operation_the_server_never_saw_fails_once_its_token_has_expired(rt, market_url) -> None:
    op_id, variant, start = propose_inbound(rt, market_url)
    gate = rt.bridge.gate
    now = dt.datetime(2026, 11, 20, 12, 0)
    with gate.store.write() as s:  # claimed, then the process died before the call left
        s.execute(update(OperationRow).where(OperationRow.id == op_id).values(
            status="executing", decided_by=APPROVER, decided_at=now, token_expires_at=now + dt.timedelta(minutes=5)))
    assert gate.reconcile(op_id, now=now + dt.timedelta(minutes=1)).status == "executing"  # may still be in flight
    settled = gate.reconcile(op_id, now=now + dt.timedelta(minutes=10))
    assert settled.status == "failed" and "never applied" in settled.error
    assert inbound(market_url, variant) == start


def test_a_refused_write_is_reconciled_as_failed(rt, market_url) -> None:
    op_id, variant, start = propose_inbound(rt, market_url)
    gate = rt.bridge.gate
    with gate.store.write() as s:  # the inventory was changed since the proposal, so the server refuses
        s.execute(update(OperationRow).where(OperationRow.id == op_id).values(
            preview={**gate.get(op_id).preview, "before": {"on_hand": -1, "inbound": -1}}))
    done = gate.approve(op_id, rt.users.caller(APPROVER, "cli"))
    assert (done.status, done.error_code) == ("failed", "CONFLICT")
    with gate.store.write() as s:  # pretend its answer was lost
        s.execute(update(OperationRow).where(OperationRow.id == op_id).values(status="unknown", error=None))
    settled = gate.reconcile(op_id)
    assert (settled.status, settled.error_code) == ("failed", "CONFLICT") and "changed since the proposal" in settled.error


def test_listing_the_queue_reconciles_operations_left_in_doubt(rt, console_url, market_url) -> None:
    op_id, variant, start = propose_inbound(rt, market_url)
    gate = rt.bridge.gate
    gate.config = dataclasses.replace(gate.config, result_write_timeout_s=0.3)
    runner = gate.runner = LockAfterWrite(rt.bridge.writes, console_url, seconds=2.0)
    with pytest.raises(UpstreamError):
        gate.approve(op_id, rt.users.caller(APPROVER, "cli"))
    runner.holder.join()
    gate.runner = rt.bridge.writes
    assert {op.id: op.status for op in gate.list()}[op_id] == "executing"  # its call may still be running
    with gate.store.write() as s:  # a minute later (past the call timeout): no call can still be running
        s.execute(update(OperationRow).where(OperationRow.id == op_id).values(
            decided_at=utcnow() - dt.timedelta(minutes=1)))
    gate._reconciled_at = 0.0
    listed = {op.id: op.status for op in gate.list()}
    assert listed[op_id] == "succeeded"


def test_a_person_resolves_what_no_ledger_can(rt, market_url) -> None:
    op_id, _, _ = propose_inbound(rt, market_url)
    gate = rt.bridge.gate
    with gate.store.write() as s:
        s.execute(update(OperationRow).where(OperationRow.id == op_id).values(status="unknown", nonce=None))
    assert gate.reconcile(op_id).status == "unknown"  # sent before nonces existed: no ledger can say
    admin = rt.users.caller("admin@demo.local", "cli")
    with pytest.raises(PermissionDenied):
        gate.resolve(op_id, rt.users.caller(APPROVER, "cli"), status="failed", reason="checked")
    with pytest.raises(ValidationFailed):
        gate.resolve(op_id, admin, status="failed", reason=" ")
    done = gate.resolve(op_id, admin, status="failed", reason="checked in Seller Central: inbound unchanged")
    assert (done.status, done.error) == ("failed", "checked in Seller Central: inbound unchanged")
    with pytest.raises(Conflict):
        gate.resolve(op_id, admin, status="succeeded", reason="again")


@pytest.mark.slow
def test_the_cli_reconciles_and_answers_a_locked_database_with_a_code(rt, console_url, market_url, tmp_path) -> None:
    op_id, variant, start = propose_inbound(rt, market_url)
    gate = rt.bridge.gate
    gate.config = dataclasses.replace(gate.config, result_write_timeout_s=0.3)
    runner = gate.runner = LockAfterWrite(rt.bridge.writes, console_url, seconds=2.0)
    with pytest.raises(UpstreamError):
        gate.approve(op_id, rt.users.caller(APPROVER, "cli"))
    runner.holder.join()
    env = {**cli_env(console_url, market_url, ("commerce",)), "CONSOLE_KEYRING": "", "CONSOLE_AUDIT_ANCHOR": ""}
    run = subprocess.run([sys.executable, "-m", "console", "ops", "reconcile"], env=env, cwd=PROJECT_ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert f"#{op_id} [succeeded" in run.stdout
    # A read-only console database: a coded error and exit 2, not a traceback.
    readonly = tmp_path / "readonly.db"
    copy_sqlite(Path(console_url.split("///", 1)[1]), readonly)
    ro_env = {**env, "CONSOLE_DATABASE_URL": f"sqlite:///file:{readonly}?mode=ro&uri=true"}
    run = subprocess.run([sys.executable, "-m", "console", "ops", "reject", str(op_id), "--as", APPROVER,
                          "--reason", "x"], env=ro_env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert run.stderr.strip().startswith("UPSTREAM_ERROR: the console database"), run.stderr


def test_the_console_settles_operations_in_doubt_when_it_starts(rt, console_url, market_url) -> None:
    op_id, variant, start = propose_inbound(rt, market_url)
    gate = rt.bridge.gate
    gate.config = dataclasses.replace(gate.config, result_write_timeout_s=0.3)
    runner = gate.runner = LockAfterWrite(rt.bridge.writes, console_url, seconds=2.0)
    with pytest.raises(UpstreamError):
        gate.approve(op_id, rt.users.caller(APPROVER, "cli"))
    runner.holder.join()
    rt.close()  # the process ends with the operation in doubt
    restarted = make_runtime(console_url, market_url)
    try:
        with restarted.bridge.gate.store.write() as s:  # as if it restarted a minute later
            s.execute(update(OperationRow).where(OperationRow.id == op_id).values(
                decided_at=utcnow() - dt.timedelta(minutes=1)))
        restarted.reconcile_in_background().join(timeout=60)
        assert restarted.bridge.gate.get(op_id).status == "succeeded"
    finally:
        restarted.close()
