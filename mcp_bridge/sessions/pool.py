"""Long-lived MCP client sessions, opened per server on first use, on one background event-loop thread."""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Future
from contextlib import ExitStack, suppress
from typing import Any, TypeVar

import anyio
import anyio.abc
import mcp_types
from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, Tool

from mcp_bridge.errors import UpstreamError
from mcp_bridge.keys import Keyring
from mcp_bridge.sessions.config import OutcomeUnknown, ServerSpec, ServerStatus, parse_servers
from mcp_bridge.sessions.session import Failure, Once, Session, any_ready, next_to_grow, next_to_open, status_of
from mcp_bridge.sessions.transports import STOP_GRACE_S, ServiceCredentialAuth
from mcp_bridge.types import BridgeConfig

__all__ = ["OutcomeUnknown", "ServerSpec", "SessionPool", "parse_servers"]
log = logging.getLogger(__name__)
T = TypeVar("T")

MIN_START_TIMEOUT_S = 15.0  # spawning + initialising a Python server takes ~0.5-1.5 s, more on a busy machine
RETRY_START_AFTER_S = 30.0  # a session that failed to start in the background waits this long before the next try


class SessionPool:
    """Sessions to every configured server, each opened on first use, driven from any thread through sync wrappers.

    A stdio server gets up to `sessions_per_server` processes: a call goes to the session with the fewest calls in
    flight, and another one opens in the background while every open one is busy.
    """

    def __init__(self, config: BridgeConfig) -> None:
        self.config = config
        # Over HTTP one session already carries concurrent requests (a POST each) to a server that scales on its own
        # side; more sessions would only add connections.
        self._sessions = {
            name: [Session(spec) for _ in range(max(1, config.sessions_per_server) if spec.transport == "stdio" else 1)]
            for name, spec in parse_servers(config.mcp_servers).items()
        }
        self._keyring = Keyring(config.approval_secret, config.keyring_path)
        self._start_timeout = max(config.call_timeout_s, MIN_START_TIMEOUT_S)
        self._guard = threading.Lock()
        self._exit = ExitStack()
        self._portal: BlockingPortal | None = None
        self._tg: anyio.abc.TaskGroup | None = None
        self._closed: anyio.Event | None = None
        self._is_closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None

    # ---- sync API (any thread except the loop's own) ----

    @property
    def servers(self) -> list[str]:
        return list(self._sessions)

    def start(self) -> SessionPool:
        """Open every session of every server now; a server that fails to start is reported in status()."""
        self._run(self._open_all, [s for sessions in self._sessions.values() for s in sessions])
        return self

    def open(self, servers: Iterable[str]) -> None:
        """Open a session of each of these servers now, side by side (on first use they would open one by one)."""
        wanted = [self._sessions_of(name) for name in servers]
        self._run(self._open_all, [next_to_open(sessions) for sessions in wanted if not any_ready(sessions)])

    def list_tools(self, server: str) -> list[Tool]:
        return self._run(self._list_tools, server)

    def call(
        self, server: str, tool: str, arguments: dict[str, Any] | None = None, *, timeout: float | None = None,
        retry: bool = False,
    ) -> CallToolResult:
        """Call a tool; `retry=True` (reads only) retries once after a restart when the server died.

        With `retry=False` the call is treated as a possible write: once the request may have reached
        the server, a transport failure or timeout raises OutcomeUnknown and nothing is retried.
        """
        return self.submit(server, tool, arguments, timeout=timeout, retry=retry).result()

    def submit(
        self, server: str, tool: str, arguments: dict[str, Any] | None = None, *, timeout: float | None = None,
        retry: bool = False, meanwhile: Callable[[], None] | None = None,
    ) -> Future[CallToolResult]:
        """`call` without waiting: the result, or what `call` would raise, arrives in the future.

        `meanwhile` runs once on the loop thread while the server works: right after the request was written
        to a stdio server (over HTTP, just before it is sent); never when no session could be opened. It must
        not wait, and what it raises is logged, not passed on. The bridge writes a read's audit row there, on
        a thread still warm from sending, instead of after the answer.
        """
        return self._submit(self._request, server, tool, arguments or {}, timeout or self.config.call_timeout_s, retry,
                            Once(meanwhile) if meanwhile else None)

    def status(self) -> list[ServerStatus]:
        """One line per server: up while any of its sessions is, the pid of the first one up, counters summed."""
        return [status_of(sessions) for sessions in self._sessions.values()]

    def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run a coroutine function on the pool's loop (benchmarks and tests reach the raw session this way)."""
        return self._run(fn, *args)

    def close(self) -> None:
        """Stop every session (each server gets a grace period) and the loop thread; idempotent."""
        with self._guard:
            if self._is_closed:
                return
            self._is_closed = True
            portal, self._portal = self._portal, None
        atexit.unregister(self.close)
        if portal is not None:
            with suppress(RuntimeError):
                portal.call(self._aclose)
            self._exit.close()

    def __enter__(self) -> SessionPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        return self._submit(fn, *args).result()

    def _submit(self, fn: Callable[..., Awaitable[T]], *args: Any) -> Future[T]:
        self._ensure_portal()
        if threading.get_ident() == self._loop_thread:
            raise RuntimeError("SessionPool's sync methods cannot be called from its own event loop")
        # One hop onto the loop (BlockingPortal.call takes two: spawn, then result); ~30 µs saved per call.
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(fn(*args), self._loop)

    def _ensure_portal(self) -> BlockingPortal:
        with self._guard:
            if self._is_closed:
                raise UpstreamError("the MCP session pool is closed")
            if self._portal is None:
                portal = self._exit.enter_context(start_blocking_portal(name="mcp-bridge-loop"))
                self._portal = portal
                atexit.register(self.close)
                portal.start_task(self._supervise)
            return self._portal

    # ---- loop side ----

    async def _supervise(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        self._loop, self._loop_thread = asyncio.get_running_loop(), threading.get_ident()
        self._closed = anyio.Event()
        for sessions in self._sessions.values():
            for session in sessions:
                session.lock = anyio.Lock()
        async with anyio.create_task_group() as tg:
            self._tg = tg
            task_status.started()
            await self._closed.wait()
            tg.cancel_scope.cancel()

    async def _aclose(self) -> None:
        every = [s for sessions in self._sessions.values() for s in sessions]
        for session in every:
            session.end(session.generation, None)
        with anyio.move_on_after(3 * STOP_GRACE_S + 1):
            for session in every:
                if session.done is not None:
                    await session.done.wait()
        assert self._closed is not None
        self._closed.set()

    async def client(self, server: str) -> Client:
        """Loop side: an open SDK client of the server (benchmarks compare the pool with it on the same session)."""
        try:
            _, client, _ = await self._acquire(server)
        except Failure as failure:
            raise UpstreamError(failure.message, server=server) from None
        return client

    def _sessions_of(self, server: str) -> list[Session]:
        try:
            return self._sessions[server]
        except KeyError:
            raise UpstreamError(f"no MCP server named {server!r}; configured: {', '.join(self._sessions)}") from None

    async def _open(self, session: Session) -> tuple[Client, int]:
        assert self._tg is not None
        return await session.open(self._tg, self._start_timeout, self._service_auth(session.spec.name))

    async def _open_all(self, sessions: list[Session]) -> None:
        async with anyio.create_task_group() as tg:
            for session in sessions:
                tg.start_soon(self._open_quietly, session)

    async def _open_quietly(self, session: Session) -> None:
        """Open a session; a failure is recorded (status() reports it) and holds off the next try in the background."""
        try:
            await self._open(session)
        except Failure:
            session.retry_after = time.monotonic() + RETRY_START_AFTER_S

    async def _acquire(self, server: str) -> tuple[Session, Client, int]:
        """The least busy open session of the server, opening one when none is; a busy server grows one more."""
        sessions = self._sessions_of(server)
        ready = [s for s in sessions if s.ready]
        if not ready:
            session = next_to_open(sessions)
            client, generation = await self._open(session)
            return session, client, generation
        session = min(ready, key=lambda s: s.in_flight)
        if session.in_flight and len(ready) < len(sessions):
            self._grow(sessions)
        assert session.client is not None
        return session, session.client, session.generation

    def _grow(self, sessions: list[Session]) -> None:
        """Open one more session in the background; the call that asked does not wait for it."""
        idle = next_to_grow(sessions)
        if idle is not None and self._tg is not None:
            idle.state = "restarting"  # now, not when the task runs: calls until then must not grow it again
            self._tg.start_soon(self._open_quietly, idle)

    def _service_auth(self, server: str) -> ServiceCredentialAuth | None:
        """Our service credential for a bundled server over HTTP; an outside server never gets it."""
        if server not in self.config.bundled:
            return None
        return ServiceCredentialAuth(lambda: self._keyring.service_credential(server))

    async def _list_tools(self, server: str) -> list[Tool]:
        last = self.config.read_retries
        for attempt in range(1 + last):
            try:
                session, client, generation = await self._acquire(server)
            except Failure as failure:
                if not failure.lost or attempt == last:
                    raise UpstreamError(failure.message, server=server) from None
                continue
            tools: list[Tool] = []
            cursor: str | None = None
            try:
                with anyio.fail_after(self.config.call_timeout_s):
                    while True:
                        page = await client.list_tools(cursor=cursor, cache_mode="bypass")
                        tools.extend(page.tools)
                        if not (cursor := page.next_cursor):
                            return tools
            except Exception as exc:
                failure = session.failed(generation, exc, "tools/list", self.config.call_timeout_s)
                if not failure.lost or attempt == last:
                    raise UpstreamError(failure.message, server=server) from None
        raise AssertionError("unreachable")

    async def _request(self, server: str, tool: str, arguments: dict[str, Any], timeout: float,
                       retry: bool, meanwhile: Once | None = None) -> CallToolResult:
        attempts = 1 + (self.config.read_retries if retry else 0)
        for attempt in range(attempts):
            try:
                session, client, generation = await self._acquire(server)
            except Failure as failure:  # nothing was sent: a plain upstream error even for a write
                raise UpstreamError(failure.message, server=server, tool=tool) from None
            session.calls += 1
            session.in_flight += 1
            if meanwhile is not None and not meanwhile.ran:
                if session.spec.transport == "stdio":
                    session.after_write.append(meanwhile)
                else:  # no hook into the HTTP transport's writes: before sending, then
                    meanwhile()
            try:
                with anyio.fail_after(timeout):
                    return await client.call_tool(tool, arguments)
            except MCPError as exc:
                if exc.code not in (mcp_types.CONNECTION_CLOSED, mcp_types.REQUEST_TIMEOUT):
                    # The server answered with a protocol error: the session is fine and the call did not run.
                    raise UpstreamError(f"{server}.{tool} was refused by the server: {exc.message}", server=server,
                                        tool=tool) from None
                failure = session.failed(generation, exc, tool, timeout)
            except Exception as exc:
                failure = session.failed(generation, exc, tool, timeout)
            finally:
                session.in_flight -= 1
                if meanwhile is not None and not meanwhile.ran:  # never written: it must not run later
                    session.forget(meanwhile)
            if not retry:
                raise OutcomeUnknown(
                    f"{server}.{tool} may or may not have run: {failure.message}; it was not retried", server=server,
                    tool=tool,
                )
            if not failure.lost or attempt == attempts - 1:
                raise UpstreamError(f"{server}.{tool} failed: {failure.message}", server=server, tool=tool)
            log.info("retrying read %s.%s after the server restarted", server, tool)
        raise AssertionError("unreachable")

