"""SessionPool opens a server on its first call, and gives a busy stdio server more sessions (processes)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mcp_bridge.catalog.catalog import Catalog
from mcp_bridge.catalog.pins import ToolPin
from mcp_bridge.errors import NotFound
from mcp_bridge.sessions.pool import OutcomeUnknown, SessionPool
from mcp_bridge.store import make_engine
from mcp_bridge.types import BridgeConfig
from tests.support.fault_servers.harness import FAULTY, ROOT, alive, wait_for


def faulty_pool(*names: str, sessions: int = 1, timeout: float = 10) -> SessionPool:
    return SessionPool(BridgeConfig({"mcpServers": dict.fromkeys(names, FAULTY)}, approval_secret="s",
                                    call_timeout_s=timeout, sessions_per_server=sessions))


@pytest.fixture
def pool() -> Iterator[SessionPool]:
    with faulty_pool("a", "b", "c", sessions=3) as pool:
        yield pool


def together(count: int, fn: Callable[[], object]) -> list[object]:
    """`count` threads calling `fn` at once; their results in no particular order."""
    results: list[object] = []
    gate = threading.Barrier(count)

    def run() -> None:
        gate.wait()
        results.append(fn())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == count
    return results


def busy_until(pool: SessionPool, sessions: int, timeout: float = 90) -> None:
    """Overlapping reads on server `a` until it has `sessions` open (a start takes seconds on a busy machine)."""
    deadline = time.monotonic() + timeout
    while pool.status()[0].sessions < sessions and time.monotonic() < deadline:
        together(6, lambda: echo_pid(pool, seconds=0.2))


def echo_pid(pool: SessionPool, server: str = "a", seconds: float = 0.0) -> int:
    result = pool.call(server, "hang" if seconds else "echo", {"seconds": seconds} if seconds else {"text": "x"},
                       retry=True)
    assert not result.is_error, result.content
    return int(result.structured_content["pid"])


def states(pool: SessionPool) -> dict[str, tuple[str, int]]:
    return {s.name: (s.state, s.sessions) for s in pool.status()}


def test_a_server_opens_on_its_first_call_and_the_others_stay_down(pool: SessionPool) -> None:
    assert states(pool) == {"a": ("down", 0), "b": ("down", 0), "c": ("down", 0)}
    pid = echo_pid(pool, "b")
    assert states(pool) == {"a": ("down", 0), "b": ("up", 1), "c": ("down", 0)}
    assert [(s.pid, s.pids, s.calls) for s in pool.status()] == [(None, (), 0), (pid, (pid,), 1), (None, (), 0)]


def test_one_caller_at_a_time_never_needs_a_second_session(pool: SessionPool) -> None:
    pids = {echo_pid(pool) for _ in range(20)}
    assert len(pids) == 1 and states(pool)["a"] == ("up", 1)


def test_open_starts_several_servers_side_by_side_with_one_session_each(pool: SessionPool) -> None:
    pool.open(["a", "c"])
    assert states(pool) == {"a": ("up", 1), "b": ("down", 0), "c": ("up", 1)}
    pool.open(["a", "c"])  # already open: nothing more
    assert states(pool) == {"a": ("up", 1), "b": ("down", 0), "c": ("up", 1)}


def test_start_opens_every_session_of_every_server(pool: SessionPool) -> None:
    pool.start()
    assert states(pool) == {"a": ("up", 3), "b": ("up", 3), "c": ("up", 3)}
    assert len({pid for s in pool.status() for pid in s.pids}) == 9


def test_a_busy_server_grows_sessions_up_to_the_limit_and_spreads_the_calls(pool: SessionPool) -> None:
    echo_pid(pool)
    busy_until(pool, 3)  # overlapping calls: each busy moment opens one more session in the background
    assert states(pool)["a"] == ("up", 3)
    served = set(together(6, lambda: echo_pid(pool, seconds=0.3)))
    assert len(served) >= 2 and served <= set(pool.status()[0].pids)
    assert states(pool)["b"] == ("down", 0)  # only the busy server grew


def test_a_killed_session_is_replaced_while_the_others_keep_serving(pool: SessionPool) -> None:
    pool.start()
    first, *others = pool.status()[0].pids
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: first not in pool.status()[0].pids)
    assert all(alive(pid) for pid in others)
    assert {echo_pid(pool) for _ in range(5)} <= set(others)  # reads go to the live sessions meanwhile
    busy_until(pool, 3)  # a busy moment opens the dead one's replacement
    status = pool.status()[0]
    assert status.sessions == 3 and first not in status.pids and status.restarts == 1


def test_a_read_on_a_session_that_dies_is_retried_and_a_write_is_not(tmp_path: Path) -> None:
    counter = tmp_path / "count"
    with faulty_pool("a", sessions=2) as pool:
        pool.start()
        with pytest.raises(OutcomeUnknown, match="may or may not have run"):
            pool.call("a", "bump", {"counter": str(counter), "then": "die"})
        assert counter.read_text() == "1"  # sent once, never again
        [survivor] = pool.status()[0].pids
        read = pool.submit("a", "hang", {"seconds": 0.5}, retry=True)
        wait_for(lambda: pool.status()[0].calls == 2)
        os.kill(survivor, signal.SIGKILL)
        assert read.result(timeout=30).structured_content["text"] == "woke up"
        assert survivor not in pool.status()[0].pids


def test_a_session_that_fails_to_open_in_the_background_is_not_tried_again_at_once(tmp_path: Path) -> None:
    """The first process starts; every later one exits at once: the server keeps serving on the one it has."""
    marker = tmp_path / "starts"
    script = (f"import pathlib, runpy, sys; p = pathlib.Path({str(marker)!r}); p.open('a').write('x'); "
              "len(p.read_text()) > 1 and sys.exit(2); sys.argv = ['faulty']; "
              "runpy.run_module('tests.support.fault_servers.faulty', run_name='__main__')")
    entry = {**FAULTY, "args": ["-c", script]}
    config = BridgeConfig({"mcpServers": {"a": entry}}, approval_secret="s", call_timeout_s=10, sessions_per_server=2)
    with SessionPool(config) as pool:
        echo_pid(pool)
        for _ in range(5):
            together(4, lambda: echo_pid(pool, seconds=0.2))
        [status] = pool.status()
        assert marker.read_text() == "xx" and (status.state, status.sessions) == ("up", 1)
        assert status.last_error.startswith("could not start")


def test_http_servers_get_one_session_however_many_are_allowed() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "tests.support.fault_servers.faulty", "--transport",
                               "streamable-http", "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, timeout=30)
        config = BridgeConfig({"mcpServers": {"h": {"url": f"http://127.0.0.1:{port}/mcp"}}}, approval_secret="s",
                              call_timeout_s=10, sessions_per_server=4)
        with SessionPool(config) as pool:
            pool.start()
            together(4, lambda: pool.call("h", "hang", {"seconds": 0.2}, retry=True))
            [status] = pool.status()
            assert (status.transport, status.state, status.sessions, status.calls) == ("http", "up", 1, 4)
    finally:
        server.kill()
        server.wait()


def test_the_catalog_opens_only_the_server_a_tool_name_points_at(pool: SessionPool, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'console.db'}")
    ToolPin.metadata.create_all(engine, tables=[ToolPin.__table__])
    catalog = Catalog(pool, engine, pool.config)
    assert catalog.get("b__echo").server == "b"
    assert states(pool) == {"a": ("down", 0), "b": ("up", 1), "c": ("down", 0)}
    with pytest.raises(NotFound):
        catalog.get("b__nothing")  # b has no such tool: every server is asked, the others opened side by side
    assert states(pool) == {"a": ("up", 1), "b": ("up", 1), "c": ("up", 1)}
    engine.dispose()
