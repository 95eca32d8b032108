"""Fault tests: a server that hangs, prints garbage, answers nonsense or dies mid-write.

The pool reports the failure, restarts the server, retries reads once, and never re-sends a write:
`bump` counts its executions in a file, which proves a write ran at most once.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_bridge.errors import UpstreamError
from mcp_bridge.sessions.pool import OutcomeUnknown, SessionPool
from mcp_bridge.types import BridgeConfig
from tests.support.fault_servers.harness import FAULTY, wait_for


@pytest.fixture
def pool() -> Iterator[SessionPool]:
    config = BridgeConfig({"mcpServers": {"faulty": FAULTY}}, approval_secret="s", call_timeout_s=1.5)
    with SessionPool(config) as pool:
        pool.start()
        yield pool


@pytest.fixture
def counter(tmp_path: Path) -> Path:
    return tmp_path / "bump-count"


def count(path: Path) -> int:
    return int(path.read_text()) if path.exists() else 0


def pid(pool: SessionPool) -> int:
    value = pool.status()[0].pid
    assert value is not None
    return value


def test_a_read_that_hangs_times_out_and_the_server_is_restarted(pool: SessionPool) -> None:
    hung = pid(pool)
    with pytest.raises(UpstreamError, match=r"faulty.hang failed: hang timed out after 1.5s") as caught:
        pool.call("faulty", "hang", {}, retry=True)
    assert not isinstance(caught.value, OutcomeUnknown)
    status = pool.status()[0]
    assert (status.state, status.last_error) == ("down", "hang timed out after 1.5s; the session was restarted")
    assert pool.call("faulty", "echo", {"text": "hi"}).structured_content["pid"] != hung
    assert pool.status()[0].restarts == 1


def test_a_write_that_hangs_is_outcome_unknown_and_not_retried(pool: SessionPool, counter: Path) -> None:
    with pytest.raises(OutcomeUnknown, match="faulty.bump may or may not have run: bump timed out"):
        pool.call("faulty", "bump", {"counter": str(counter), "then": "hang"}, timeout=1)
    assert pool.call("faulty", "echo", {"text": "after"}, retry=True).structured_content["text"] == "after"
    assert count(counter) == 1


def test_a_write_whose_server_dies_mid_call_is_outcome_unknown(pool: SessionPool, counter: Path) -> None:
    assert pool.call("faulty", "bump", {"counter": str(counter)}).structured_content == {"count": 1}
    with pytest.raises(OutcomeUnknown, match=r"exit code 3\); it was not retried"):
        pool.call("faulty", "bump", {"counter": str(counter), "then": "die"})
    assert pool.status()[0].state == "down"
    assert pool.call("faulty", "echo", {"text": "back"}).structured_content["text"] == "back"
    assert count(counter) == 2  # one normal run, one that died: never a third


def test_killing_the_server_mid_write_is_outcome_unknown(pool: SessionPool, counter: Path) -> None:
    errors: list[BaseException] = []

    def write() -> None:
        try:
            pool.call("faulty", "bump", {"counter": str(counter), "then": "hang"}, timeout=30)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    wait_for(lambda: count(counter) == 1)
    os.kill(pid(pool), signal.SIGKILL)
    thread.join(10)
    assert not thread.is_alive()
    [error] = errors
    assert isinstance(error, OutcomeUnknown) and "killed by SIGKILL" in str(error)
    assert pool.status()[0].last_error == "server closed its stdout (killed by SIGKILL)"
    assert count(counter) == 1


def test_killing_the_server_mid_read_retries_the_read(pool: SessionPool) -> None:
    results: list[dict] = []
    first = pid(pool)
    thread = threading.Thread(target=lambda: results.append(
        pool.call("faulty", "hang", {"seconds": 0.3}, retry=True, timeout=10).structured_content))
    thread.start()
    wait_for(lambda: pool.status()[0].calls == 1)
    os.kill(first, signal.SIGKILL)
    thread.join(15)
    assert results and results[0]["text"] == "woke up" and results[0]["pid"] != first
    assert pool.status()[0].restarts == 1


@pytest.mark.parametrize(("retry", "error"), [(True, UpstreamError), (False, OutcomeUnknown)])
def test_garbage_on_stdout_breaks_the_session(pool: SessionPool, retry: bool, error: type) -> None:
    with pytest.raises(error, match="server wrote something that is not JSON-RPC to stdout: 'Traceback") as caught:
        pool.call("faulty", "garbage", {}, retry=retry)
    assert type(caught.value) is error
    status = pool.status()[0]
    assert status.state == "down" and status.last_error.startswith("server wrote something that is not JSON-RPC")
    # A read was retried once after a restart (and met the garbage again); a write was sent once.
    assert (status.calls, status.restarts) == ((2, 1) if retry else (1, 0))
    assert pool.call("faulty", "echo", {"text": "ok"}).structured_content["text"] == "ok"


def test_a_result_that_fails_validation_is_an_upstream_error_and_restarts(pool: SessionPool) -> None:
    first = pid(pool)
    with pytest.raises(UpstreamError, match="the server returned an invalid result for nonsense"):
        pool.call("faulty", "nonsense", {}, retry=True)
    assert pool.status()[0].calls == 1  # not a lost server: not retried
    assert pool.call("faulty", "echo", {"text": "x"}).structured_content["pid"] != first
