"""One MCP session to a server: its state and counters, how it is held open, and how a failure ends it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.abc
import mcp_types
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import Implementation

from mcp_bridge.errors import UpstreamError
from mcp_bridge.sessions.config import ServerSpec, ServerStatus, State, describe_failure
from mcp_bridge.sessions.transports import ServiceCredentialAuth, StdioProcess, http_streams

log = logging.getLogger("mcp_bridge.sessions.pool")

CLIENT_INFO = Implementation(name="operator-console-bridge", version="0.1.0")


class Failure(Exception):
    """One attempt failed; `lost` says the session died (worth a restart and a read retry)."""

    def __init__(self, message: str, *, lost: bool) -> None:
        super().__init__(message)
        self.message = message
        self.lost = lost


class Once:
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


@dataclass(eq=False)
class Session:
    """One session of a server (one process over stdio) and its counters; touched only on the loop thread."""

    spec: ServerSpec
    state: State = "down"
    pid: int | None = None
    last_error: str | None = None
    error_at: float = 0.0  # when last_error was recorded: status() reports a server's newest one
    error_generation: int = 0
    calls: int = 0
    in_flight: int = 0
    restarts: int = 0
    starts: int = 0
    generation: int = 0
    retry_after: float = 0.0  # a start in the background failed: not tried again in the background before this
    client: Client | None = None
    after_write: list[Once] = field(default_factory=list)  # what runs once the next request is written
    stop: anyio.Event | None = None
    done: anyio.Event | None = None
    lock: anyio.Lock | None = None

    @property
    def ready(self) -> bool:
        return self.state == "up" and self.client is not None

    async def open(self, tg: anyio.abc.TaskGroup, timeout: float,
                   auth: ServiceCredentialAuth | None) -> tuple[Client, int]:
        """The open client and its generation, (re)starting the server if it is not up."""
        if self.ready:
            assert self.client is not None
            return self.client, self.generation
        assert self.lock is not None
        async with self.lock:
            if self.ready:
                assert self.client is not None
                return self.client, self.generation
            self.generation += 1
            self.restarts += self.starts > 0
            self.starts += 1
            self.state = "restarting"
            try:
                with anyio.fail_after(timeout):
                    client = await tg.start(self._hold, self.generation, auth)
            except Exception as exc:
                self.state, self.client = "down", None
                self._record(f"could not start: {describe_failure(exc)}")
                raise Failure(f"MCP server {self.spec.name!r} {self.last_error}", lost=False) from None
            if self.state != "up":  # it died between the handshake and now
                raise Failure(f"MCP server {self.spec.name!r} died right after starting: {self.last_error}", lost=True)
            self.client = client
            return client, self.generation

    async def _hold(self, generation: int, auth: ServiceCredentialAuth | None, *,
                    task_status: anyio.abc.TaskStatus[Client]) -> None:
        """Hold the session open until told to stop; the SDK needs it entered and exited in one task."""
        spec = self.spec
        stop, done = anyio.Event(), anyio.Event()
        if spec.transport == "stdio":
            assert spec.params is not None
            process = StdioProcess(spec.params, lambda reason: self.end(generation, reason), self.written)
            target: Any = process.streams()
        else:
            assert spec.url is not None
            process, target = None, http_streams(spec.url, spec.headers, auth)
        started = False
        try:
            async with Client(target, client_info=CLIENT_INFO) as client:
                await client.list_tools()  # primes the output-schema cache the SDK validates results against
                self.stop, self.done = stop, done
                self.pid = process.pid if process else None
                self.state = "up"
                task_status.started(client)
                started = True
                await stop.wait()
        except Exception as exc:
            if started:
                self.end(generation, f"session failed: {describe_failure(exc)}")
            elif process is not None and process.stderr_tail:
                raise UpstreamError(f"{describe_failure(exc)}; stderr: {process.stderr_tail[-1]}") from exc
            else:
                raise
        finally:
            done.set()

    def end(self, generation: int, reason: str | None) -> None:
        """Mark the session dead (if it is still that generation) and let its holder shut it down."""
        if self.generation != generation:
            return
        if reason is not None and (self.last_error, self.error_generation) != (reason, generation):
            log.warning("MCP server %s: %s", self.spec.name, reason)
            self._record(reason)
            self.error_generation = generation
        self.state = "down"
        self.client = None
        if self.stop is not None:
            self.stop.set()

    def failed(self, generation: int, exc: BaseException, what: str, timeout: float) -> Failure:
        """Classify a failed request, take the session down, and say whether the server was lost."""
        if isinstance(exc, TimeoutError) or (isinstance(exc, MCPError) and exc.code == mcp_types.REQUEST_TIMEOUT):
            reason, lost = f"{what} timed out after {timeout:g}s; the session was restarted", False
        elif isinstance(exc, MCPError) and exc.code == mcp_types.CONNECTION_CLOSED:
            reason, lost = None, True
        elif isinstance(exc, ValueError | RuntimeError) and not isinstance(exc, ExceptionGroup):
            reason, lost = f"the server returned an invalid result for {what}: {describe_failure(exc)}", False
        else:
            reason, lost = f"connection to the server failed: {describe_failure(exc)}", True
        if reason is None:  # the transport usually recorded why (exit code, garbage line) for this generation
            known = self.last_error if self.error_generation == generation else None
            reason = known or "the server closed the connection"
        self.end(generation, reason)
        return Failure(reason, lost=lost)

    def written(self) -> None:
        """The stdio writer has written a request: run what waited for that (on the loop thread)."""
        if self.after_write:
            waiting, self.after_write = self.after_write, []
            for callback in waiting:
                callback()

    def forget(self, callback: Once) -> None:
        """A request that was never written: what waited for it must not run later."""
        with suppress(ValueError):
            self.after_write.remove(callback)

    def _record(self, error: str) -> None:
        self.last_error, self.error_at = error, time.monotonic()


def any_ready(sessions: list[Session]) -> bool:
    """Is any of a server's sessions open?"""
    return any(s.ready for s in sessions)


def next_to_open(sessions: list[Session]) -> Session:
    """The session to wait for when none is open: one already starting, else the first (so callers share a start)."""
    return min(sessions, key=lambda s: s.state != "restarting")


def next_to_grow(sessions: list[Session]) -> Session | None:
    """A closed session to open in the background: none while one is starting (one at a time) or before its retry."""
    if any(s.state == "restarting" for s in sessions):
        return None
    now = time.monotonic()
    return next((s for s in sessions if s.state == "down" and s.retry_after <= now), None)


def status_of(sessions: list[Session]) -> ServerStatus:
    """A server's status: up while any session is, the first open session's pid, counters summed."""
    up = [s for s in sessions if s.state == "up"]
    state: State = "up" if up else "restarting" if any(s.state == "restarting" for s in sessions) else "down"
    newest = max(sessions, key=lambda s: s.error_at)
    return ServerStatus(sessions[0].spec.name, sessions[0].spec.transport, state, up[0].pid if up else None,
                        newest.last_error, sum(s.calls for s in sessions), sum(s.restarts for s in sessions),
                        sessions=len(up), pids=tuple(s.pid for s in up if s.pid is not None))
