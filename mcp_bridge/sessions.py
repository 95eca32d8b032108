"""Long-lived MCP client sessions, one per configured server, on one background event-loop thread."""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import anyio
import anyio.abc
import mcp_types
from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, Implementation, Tool

from mcp_bridge.errors import UpstreamError, ValidationFailed
from mcp_bridge.transports import STOP_GRACE_S, StdioProcess, http_streams
from mcp_bridge.types import BridgeConfig

log = logging.getLogger(__name__)
T = TypeVar("T")

State = Literal["up", "down", "restarting"]
CLIENT_INFO = Implementation(name="operator-console-bridge", version="0.1.0")
MIN_START_TIMEOUT_S = 15.0  # spawning + initialising a Python server takes ~0.5-1.5 s, more on a busy machine


class OutcomeUnknown(UpstreamError):
    """The request reached the server, then the transport failed: the call may or may not have run."""


@dataclass(frozen=True)
class ServerSpec:
    """One entry of the mcpServers document: a command to spawn (stdio) or a streamable HTTP URL."""

    name: str
    transport: Literal["stdio", "http"]
    params: StdioServerParameters | None = None
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServerStatus:
    name: str
    transport: str
    state: State
    pid: int | None
    last_error: str | None
    calls: int
    restarts: int


def parse_servers(document: dict[str, Any]) -> dict[str, ServerSpec]:
    """The servers of a Claude-Desktop-style {"mcpServers": {...}} document (or of its inner mapping)."""
    entries = document.get("mcpServers", document)
    if not isinstance(entries, dict):
        raise ValidationFailed("mcpServers must be an object mapping server names to their settings")
    specs: dict[str, ServerSpec] = {}
    for name, entry in entries.items():
        if not isinstance(entry, dict):
            raise ValidationFailed(f"mcpServers.{name} must be an object")
        if entry.get("disabled"):
            continue
        kind = str(entry.get("type") or entry.get("transport") or ("http" if "url" in entry else "stdio")).lower()
        if kind == "stdio" and "command" in entry:
            params = StdioServerParameters(
                command=entry["command"],
                args=[str(a) for a in entry.get("args", [])],
                env={k: str(v) for k, v in (entry.get("env") or {}).items()},
                cwd=entry.get("cwd"),
            )
            specs[name] = ServerSpec(name, "stdio", params=params)
        elif kind in {"http", "streamable-http", "streamable_http", "streamablehttp"} and "url" in entry:
            specs[name] = ServerSpec(name, "http", url=entry["url"], headers=dict(entry.get("headers") or {}))
        else:
            raise ValidationFailed(
                f"mcpServers.{name}: need either 'command' (stdio) or 'url' (streamable HTTP); got type {kind!r}"
            )
    return specs


class _Failure(Exception):
    """Internal: one attempt failed; `lost` says the session died (worth a restart and a read retry)."""

    def __init__(self, message: str, *, lost: bool) -> None:
        super().__init__(message)
        self.message = message
        self.lost = lost


@dataclass(eq=False)
class _Slot:
    """One server's session and counters; touched only on the loop thread (status() reads a snapshot)."""

    spec: ServerSpec
    state: State = "down"
    pid: int | None = None
    last_error: str | None = None
    calls: int = 0
    restarts: int = 0
    starts: int = 0
    generation: int = 0
    error_generation: int = 0
    client: Client | None = None
    after_write: list[_Once] = field(default_factory=list)  # what runs once the next request is written
    stop: anyio.Event | None = None
    done: anyio.Event | None = None
    lock: anyio.Lock | None = None


class SessionPool:
    """One long-lived MCP session per configured server, driven from any thread through sync wrappers."""

    def __init__(self, config: BridgeConfig) -> None:
        self.config = config
        self._slots = {name: _Slot(spec) for name, spec in parse_servers(config.mcp_servers).items()}
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
        return list(self._slots)

    def start(self) -> SessionPool:
        """Open every server's session now; a server that fails to start is reported in status()."""
        self._run(self._start_all)
        return self

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
                            _Once(meanwhile) if meanwhile else None)

    def status(self) -> list[ServerStatus]:
        return [
            ServerStatus(s.spec.name, s.spec.transport, s.state, s.pid if s.state == "up" else None, s.last_error,
                         s.calls, s.restarts)
            for s in self._slots.values()
        ]

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
        for slot in self._slots.values():
            slot.lock = anyio.Lock()
        async with anyio.create_task_group() as tg:
            self._tg = tg
            task_status.started()
            await self._closed.wait()
            tg.cancel_scope.cancel()

    async def _aclose(self) -> None:
        for slot in self._slots.values():
            self._break(slot, slot.generation, None)
        with anyio.move_on_after(3 * STOP_GRACE_S + 1):
            for slot in self._slots.values():
                if slot.done is not None:
                    await slot.done.wait()
        assert self._closed is not None
        self._closed.set()

    async def client(self, server: str) -> Client:
        """Loop side: the server's open SDK client (benchmarks compare the pool with it on the same session)."""
        try:
            client, _ = await self._session(self._slot(server))
        except _Failure as failure:
            raise UpstreamError(failure.message, server=server) from None
        return client

    def _slot(self, server: str) -> _Slot:
        try:
            return self._slots[server]
        except KeyError:
            raise UpstreamError(f"no MCP server named {server!r}; configured: {', '.join(self._slots)}") from None

    async def _start_all(self) -> None:
        async def start_one(slot: _Slot) -> None:
            with suppress(_Failure):
                await self._session(slot)

        async with anyio.create_task_group() as tg:
            for slot in self._slots.values():
                tg.start_soon(start_one, slot)

    async def _session(self, slot: _Slot) -> tuple[Client, int]:
        """The slot's open session, (re)starting the server if it is not up."""
        if slot.state == "up" and slot.client is not None:
            return slot.client, slot.generation
        assert slot.lock is not None and self._tg is not None
        async with slot.lock:
            if slot.state == "up" and slot.client is not None:
                return slot.client, slot.generation
            slot.generation += 1
            slot.restarts += slot.starts > 0
            slot.starts += 1
            slot.state = "restarting"
            try:
                with anyio.fail_after(self._start_timeout):
                    client = await self._tg.start(self._own, slot, slot.generation)
            except Exception as exc:
                slot.state, slot.client = "down", None
                slot.last_error = f"could not start: {_describe(exc)}"
                raise _Failure(f"MCP server {slot.spec.name!r} {slot.last_error}", lost=False) from None
            if slot.state != "up":  # it died between the handshake and now
                raise _Failure(f"MCP server {slot.spec.name!r} died right after starting: {slot.last_error}", lost=True)
            slot.client = client
            return client, slot.generation

    async def _own(self, slot: _Slot, generation: int, *, task_status: anyio.abc.TaskStatus[Client]) -> None:
        """Hold one session open until told to stop; the SDK needs it entered and exited in one task."""
        spec = slot.spec
        stop, done = anyio.Event(), anyio.Event()
        if spec.transport == "stdio":
            assert spec.params is not None
            process = StdioProcess(spec.params, lambda reason: self._break(slot, generation, reason),
                                   lambda: _written(slot))
            target: Any = process.streams()
        else:
            assert spec.url is not None
            process, target = None, http_streams(spec.url, spec.headers)
        started = False
        try:
            async with Client(target, client_info=CLIENT_INFO) as client:
                await client.list_tools()  # primes the output-schema cache the SDK validates results against
                slot.stop, slot.done = stop, done
                slot.pid = process.pid if process else None
                slot.state = "up"
                task_status.started(client)
                started = True
                await stop.wait()
        except Exception as exc:
            if started:
                self._break(slot, generation, f"session failed: {_describe(exc)}")
            elif process is not None and process.stderr_tail:
                raise UpstreamError(f"{_describe(exc)}; stderr: {process.stderr_tail[-1]}") from exc
            else:
                raise
        finally:
            done.set()

    def _break(self, slot: _Slot, generation: int, reason: str | None) -> None:
        """Mark the slot's session dead (if it is still that generation) and let its owner shut it down."""
        if slot.generation != generation:
            return
        if reason is not None and (slot.last_error, slot.error_generation) != (reason, generation):
            log.warning("MCP server %s: %s", slot.spec.name, reason)
            slot.last_error, slot.error_generation = reason, generation
        slot.state = "down"
        slot.client = None
        if slot.stop is not None:
            slot.stop.set()

    async def _list_tools(self, server: str) -> list[Tool]:
        slot = self._slot(server)
        for attempt in range(1 + self.config.read_retries):
            try:
                client, generation = await self._session(slot)
                tools: list[Tool] = []
                cursor: str | None = None
                with anyio.fail_after(self.config.call_timeout_s):
                    while True:
                        page = await client.list_tools(cursor=cursor, cache_mode="bypass")
                        tools.extend(page.tools)
                        if not (cursor := page.next_cursor):
                            return tools
            except _Failure as failure:
                if not failure.lost or attempt == self.config.read_retries:
                    raise UpstreamError(failure.message, server=server) from None
            except Exception as exc:
                failure = self._fail(slot, generation, exc, "tools/list", self.config.call_timeout_s)
                if not failure.lost or attempt == self.config.read_retries:
                    raise UpstreamError(failure.message, server=server) from None
        raise AssertionError("unreachable")

    async def _request(self, server: str, tool: str, arguments: dict[str, Any], timeout: float,
                       retry: bool, meanwhile: _Once | None = None) -> CallToolResult:
        slot = self._slot(server)
        attempts = 1 + (self.config.read_retries if retry else 0)
        for attempt in range(attempts):
            try:
                client, generation = await self._session(slot)
            except _Failure as failure:  # nothing was sent: a plain upstream error even for a write
                raise UpstreamError(failure.message, server=server, tool=tool) from None
            slot.calls += 1
            if meanwhile is not None and not meanwhile.ran:
                if slot.spec.transport == "stdio":
                    slot.after_write.append(meanwhile)
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
                failure = self._fail(slot, generation, exc, tool, timeout)
            except Exception as exc:
                failure = self._fail(slot, generation, exc, tool, timeout)
            finally:
                if meanwhile is not None and not meanwhile.ran:  # never written: it must not run later
                    with suppress(ValueError):
                        slot.after_write.remove(meanwhile)
            if not retry:
                raise OutcomeUnknown(
                    f"{server}.{tool} may or may not have run: {failure.message}; it was not retried", server=server,
                    tool=tool,
                )
            if not failure.lost or attempt == attempts - 1:
                raise UpstreamError(f"{server}.{tool} failed: {failure.message}", server=server, tool=tool)
            log.info("retrying read %s.%s after the server restarted", server, tool)
        raise AssertionError("unreachable")

    def _fail(self, slot: _Slot, generation: int, exc: BaseException, what: str, timeout: float) -> _Failure:
        """Classify a failed request, take the session down, and say whether the server was lost."""
        if isinstance(exc, TimeoutError) or (isinstance(exc, MCPError) and exc.code == mcp_types.REQUEST_TIMEOUT):
            reason, lost = f"{what} timed out after {timeout:g}s; the session was restarted", False
        elif isinstance(exc, MCPError) and exc.code == mcp_types.CONNECTION_CLOSED:
            reason, lost = None, True
        elif isinstance(exc, ValueError | RuntimeError) and not isinstance(exc, ExceptionGroup):
            reason, lost = f"the server returned an invalid result for {what}: {_describe(exc)}", False
        else:
            reason, lost = f"connection to the server failed: {_describe(exc)}", True
        if reason is None:  # the transport usually recorded why (exit code, garbage line) for this generation
            known = slot.last_error if slot.error_generation == generation else None
            reason = known or "the server closed the connection"
        self._break(slot, generation, reason)
        return _Failure(reason, lost=lost)


class _Once:
    """A `meanwhile` callback: runs at most once, and its failure never reaches the transport."""

    def __init__(self, fn: Callable[[], None]) -> None:
        self.fn, self.ran = fn, False

    def __call__(self) -> None:
        if not self.ran:
            self.ran = True
            try:
                self.fn()
            except Exception:
                log.exception("a callback run while a tool call was in flight failed")


def _written(slot: _Slot) -> None:
    """The stdio writer has written a request: run what waited for that (on the loop thread)."""
    if slot.after_write:
        waiting, slot.after_write = slot.after_write, []
        for callback in waiting:
            callback()


def _describe(exc: BaseException) -> str:
    """One line for an exception, unwrapping the task-group wrappers anyio and the SDK add."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    if isinstance(exc, UpstreamError):
        return exc.message
    if isinstance(exc, MCPError):
        return exc.message
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
