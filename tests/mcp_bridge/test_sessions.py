"""SessionPool on real stdio sessions of the bundled ads server: one process, many threads, restart on death."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator

import pytest

from mcp_bridge.errors import UpstreamError, ValidationFailed
from mcp_bridge.sessions.pool import OutcomeUnknown, ServerSpec, SessionPool, parse_servers
from mcp_bridge.types import BridgeConfig
from tests.support.fault_servers.harness import alive, seed_ads_market, stdio_entry, wait_for


@pytest.fixture
def ads_market(empty_market_url: str) -> str:
    return seed_ads_market(empty_market_url)


@pytest.fixture
def pool(ads_market: str) -> Iterator[SessionPool]:
    config = BridgeConfig({"mcpServers": {"ads": stdio_entry("servers.ads", MARKET_DATABASE_URL=ads_market)}},
                          approval_secret="test-secret", call_timeout_s=20)
    with SessionPool(config) as pool:
        yield pool


@pytest.mark.parametrize(("entry", "expected"), [
    ({"command": "python", "args": ["-m", "x"], "env": {"A": 1}, "cwd": "/tmp"}, ("stdio", None)),
    ({"type": "stdio", "command": "python"}, ("stdio", None)),
    ({"url": "http://127.0.0.1:8101/mcp"}, ("http", "http://127.0.0.1:8101/mcp")),
    ({"type": "http", "url": "http://h/mcp"}, ("http", "http://h/mcp")),
    ({"transport": "streamable-http", "url": "http://h/mcp", "headers": {"X": "1"}}, ("http", "http://h/mcp")),
])
def test_parse_servers_reads_the_claude_desktop_shape(entry: dict, expected: tuple) -> None:
    spec = parse_servers({"mcpServers": {"s": entry}})["s"]
    assert (spec.transport, spec.url) == expected
    if spec.transport == "stdio":
        assert spec.params is not None and spec.params.command == entry["command"]
        assert spec.params.env == {k: str(v) for k, v in entry.get("env", {}).items()}


def test_parse_servers_accepts_the_inner_mapping_and_skips_disabled() -> None:
    specs = parse_servers({"a": {"url": "http://h/mcp"}, "b": {"command": "x", "disabled": True}})
    assert specs == {"a": ServerSpec("a", "http", url="http://h/mcp")}


def test_parse_servers_keeps_the_headers_of_a_url_entry() -> None:
    spec = parse_servers({"s": {"url": "http://h/mcp", "headers": {"Authorization": "Bearer theirs", "X-Id": 7}}})["s"]
    assert spec.headers == {"Authorization": "Bearer theirs", "X-Id": "7"}


@pytest.mark.parametrize("entry", [{"type": "sse", "url": "http://h/sse"}, {"args": ["x"]}, "python -m x",
                                   {"url": "http://h/mcp", "headers": ["Authorization: Bearer x"]}])
def test_parse_servers_refuses_what_it_cannot_run(entry: object) -> None:
    with pytest.raises(ValidationFailed, match="mcpServers"):
        parse_servers({"mcpServers": {"s": entry}})


def test_sessions_open_lazily_and_report_status(pool: SessionPool) -> None:
    assert [(s.name, s.transport, s.state, s.pid, s.calls) for s in pool.status()] == [("ads", "stdio", "down", None, 0)]
    names = {tool.name for tool in pool.list_tools("ads")}
    assert {"list_profiles", "update_bid"} <= names
    result = pool.call("ads", "list_profiles", {"site": "us"}, retry=True)
    assert not result.is_error
    assert [p["account_name"] for p in result.structured_content["profiles"]] == ["US seller"]
    [status] = pool.status()
    assert (status.state, status.calls, status.restarts, status.last_error) == ("up", 1, 0, None)
    assert status.pid is not None and alive(status.pid)


def test_a_tool_error_is_a_result_not_an_exception(pool: SessionPool) -> None:
    result = pool.call("ads", "list_profiles", {"site": "zz"})
    assert result.is_error
    assert result.content[0].text.startswith("SITE_SCOPE_REQUIRED: unknown site 'zz'")
    assert pool.status()[0].state == "up"


def test_meanwhile_runs_once_on_the_loop_while_the_server_works(pool: SessionPool) -> None:
    """The bridge writes a read's audit row there: after the request left, before its answer can arrive."""
    seen: list[tuple[str, bool]] = []
    futures = []

    def meanwhile() -> None:
        seen.append((threading.current_thread().name, futures[0].done()))

    futures.append(pool.submit("ads", "list_profiles", {"site": "us"}, retry=True, meanwhile=meanwhile))
    assert not futures[0].result().is_error
    assert seen == [("mcp-bridge-loop", False)]  # on the loop thread, and the answer was not in yet
    assert not pool.submit("ads", "list_profiles", {"site": "us"}).result().is_error and len(seen) == 1


def test_a_failing_meanwhile_is_logged_and_the_call_goes_on(pool: SessionPool, caplog) -> None:
    def broken() -> None:
        raise RuntimeError("disk full")

    assert not pool.submit("ads", "list_profiles", {"site": "us"}, meanwhile=broken).result().is_error
    assert "a callback run while a tool call was in flight failed" in caplog.text and "disk full" in caplog.text
    assert pool.status()[0].state == "up"


def test_one_long_lived_process_serves_every_thread(pool: SessionPool) -> None:
    pool.start()
    pid = pool.status()[0].pid
    results: list[bool] = []

    def worker() -> None:
        for _ in range(10):
            results.append(not pool.call("ads", "list_profiles", {"site": "us"}, retry=True).is_error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 80
    [status] = pool.status()
    assert (status.pid, status.calls, status.restarts) == (pid, 80, 0)


def test_a_killed_server_is_reported_and_restarted_and_the_read_retried(pool: SessionPool) -> None:
    pool.start()
    first = pool.status()[0].pid
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: pool.status()[0].state == "down")
    assert pool.status()[0].last_error == "server closed its stdout (killed by SIGKILL)"
    # Killed without the pool noticing yet: the read fails once, restarts the server and is retried.
    assert not pool.call("ads", "list_profiles", {"site": "us"}, retry=True).is_error
    second = pool.status()[0].pid
    os.kill(second, signal.SIGKILL)
    ran: list[int] = []
    assert not pool.submit("ads", "list_profiles", {"site": "us"}, retry=True, meanwhile=lambda: ran.append(1)).result(
    ).is_error
    assert ran == [1]  # once, although the request went out twice
    [status] = pool.status()
    assert status.state == "up" and status.restarts == 2 and len({first, second, status.pid}) == 3


def test_close_stops_the_servers_and_refuses_later_calls(pool: SessionPool) -> None:
    pool.start()
    pid = pool.status()[0].pid
    pool.close()
    wait_for(lambda: not alive(pid))
    pool.close()  # idempotent
    with pytest.raises(UpstreamError, match="closed"):
        pool.call("ads", "list_profiles", {"site": "us"})


def test_unknown_server_is_named(pool: SessionPool) -> None:
    with pytest.raises(UpstreamError, match="no MCP server named 'nope'; configured: ads"):
        pool.call("nope", "x", {})


@pytest.mark.parametrize("entry", [
    {"command": "/nonexistent/server-binary"},
    {"command": sys.executable, "args": ["-c", "import sys; sys.stderr.write('boom: no database\\n'); sys.exit(2)"]},
])
def test_a_server_that_cannot_start_is_reported_and_a_write_is_not_unknown(entry: dict) -> None:
    config = BridgeConfig({"mcpServers": {"bad": entry}}, approval_secret="s", call_timeout_s=5)
    with SessionPool(config) as pool:
        pool.start()  # does not raise: the failure is in status()
        [status] = pool.status()
        assert status.state == "down" and status.last_error.startswith("could not start")
        ran: list[int] = []
        with pytest.raises(UpstreamError, match="could not start") as caught:
            # nothing was sent: a plain upstream error, not OutcomeUnknown, and nothing ran "meanwhile"
            pool.submit("bad", "anything", {}, meanwhile=lambda: ran.append(1)).result()
        assert not isinstance(caught.value, OutcomeUnknown) and ran == []
        if "args" in entry:
            assert "boom: no database" in status.last_error
