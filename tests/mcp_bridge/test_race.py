"""Exactly once: many approvers (threads, or processes on PostgreSQL) approving one operation run it once."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from console.settings import PROJECT_ROOT
from mcp_bridge.errors import Conflict
from mcp_bridge.types import Source
from tests.support.console_db import applied_writes, cli_env, keyword, make_runtime, market_value

APPROVERS = ("approver@demo.local", "approver2@demo.local", "admin@demo.local")


def _propose(rt, market_url: str) -> tuple[int, int, float]:
    kid, bid = keyword(market_url)
    new = round(bid * 0.8, 2)
    outcome = rt.bridge.call(rt.users.caller("seller@demo.local", "chat"), "ads__update_bid",
                             {"site": "us", "keyword_id": kid, "bid": new}, source=Source("chat", ref="race"))
    assert outcome.status == "pending", outcome.text
    return outcome.operation_id, kid, new


def _assert_ran_once(rt, market_url: str, op_id: int, kid: int, new: float) -> None:
    assert market_value(market_url, "SELECT bid FROM keywords WHERE id = :k", k=kid) == [(new,)]
    assert applied_writes(market_url) == [(rt.bridge.gate.get(op_id).nonce, "update_bid")]
    assert [r.outcome for r in rt.bridge.audit.query(event="executed")] == ["succeeded"]
    assert len(rt.bridge.audit.query(event="approved")) == 1
    assert rt.bridge.gate.get(op_id).status == "succeeded"
    assert rt.bridge.audit.verify().ok


def _thread_race(rt, market_url: str) -> None:
    op_id, kid, new = _propose(rt, market_url)
    barrier = threading.Barrier(8)
    results: list[str] = []

    def approve(n: int) -> None:
        caller = rt.users.caller(APPROVERS[n % 3], "ui")
        barrier.wait()
        try:
            results.append(rt.bridge.gate.approve(op_id, caller).status)
        except Conflict as exc:
            assert f"operation #{op_id} was already approved by" in exc.message
            results.append("conflict")

    threads = [threading.Thread(target=approve, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict"] * 7 + ["succeeded"]
    _assert_ran_once(rt, market_url, op_id, kid, new)


def test_eight_threads_on_sqlite_run_it_once(runtime, gate_market_url) -> None:
    _thread_race(runtime, gate_market_url)


@pytest.mark.postgres
def test_eight_threads_on_postgres_run_it_once(postgres_url, gate_market_url) -> None:
    rt = make_runtime(postgres_url, gate_market_url)
    try:
        _thread_race(rt, gate_market_url)
    finally:
        rt.close()


@pytest.mark.slow
@pytest.mark.parametrize("database", [pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"])
def test_eight_processes_run_it_once(database, request, console_url, gate_market_url) -> None:
    """Eight `python -m console ops approve` processes (think: replicas) against one console DB."""
    url = request.getfixturevalue("postgres_url") if database == "postgres" else console_url
    rt = make_runtime(url, gate_market_url)
    try:
        op_id, kid, new = _propose(rt, gate_market_url)
        env = cli_env(url, gate_market_url)
        procs = [subprocess.Popen([sys.executable, "-m", "console", "ops", "approve", str(op_id), "--as",
                                   APPROVERS[n % 3], "--json"], cwd=PROJECT_ROOT, env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for n in range(8)]
        outputs = [p.communicate(timeout=180) for p in procs]
        answers = [(p.returncode, out, err) for p, (out, err) in zip(procs, outputs, strict=True)]
        winners = [json.loads(out) for code, out, _ in answers if code == 0]
        losers = [(code, json.loads(out), err) for code, out, err in answers if code != 0]
        assert [w["status"] for w in winners] == ["succeeded"], answers
        assert len(losers) == 7
        for code, out, err in losers:
            assert code == 2 and out["error"]["code"] == "CONFLICT", (code, out, err)
            assert f"operation #{op_id} was already approved by" in err
        _assert_ran_once(rt, gate_market_url, op_id, kid, new)
        assert {r.channel for r in rt.bridge.audit.query(event="approved")} == {"cli"}
    finally:
        rt.close()


def test_a_server_killed_before_the_write_never_double_writes(runtime, gate_market_url) -> None:
    """The ads server dies between the claim and the call: the outcome is recorded once and never retried."""
    import os
    import signal

    op_id, kid, new = _propose(runtime, gate_market_url)
    bridge = runtime.bridge
    real_execute = bridge.writes.execute

    def kill_then_execute(server, tool, arguments, **control):
        pid = next(s.pid for s in bridge.pool.status() if s.name == server)
        os.kill(pid, signal.SIGKILL)
        return real_execute(server, tool, arguments, **control)

    bridge.writes.execute = kill_then_execute
    op = bridge.gate.approve(op_id, runtime.users.caller("approver@demo.local"))
    bridge.writes.execute = real_execute
    writes = applied_writes(gate_market_url)
    assert op.status in ("succeeded", "failed", "unknown")
    if op.status == "succeeded":
        assert writes == [(bridge.gate.get(op_id).nonce, "update_bid")]
    elif op.status == "failed":  # known not to have run
        assert writes == []
    assert len(writes) <= 1  # "unknown": it ran at most once, and a person reconciles it
    with pytest.raises(Conflict):
        bridge.gate.approve(op_id, runtime.users.caller("approver2@demo.local"))
    assert applied_writes(gate_market_url) == writes
    assert [r.outcome for r in bridge.audit.query(event="executed")] == [op.status]
