"""How the bridge reaches a server process: stdio with a known pid and exit reason, or streamable HTTP."""

from __future__ import annotations

import logging
import signal
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import anyio
import anyio.abc
import httpx2
import mcp_types
from anyio.streams.text import TextReceiveStream
from mcp.client.stdio import StdioServerParameters, get_default_environment
from mcp.client.streamable_http import streamable_http_client
from mcp.os.posix.utilities import terminate_posix_process_tree
from mcp.shared.message import SessionMessage

log = logging.getLogger("mcp_bridge.sessions.pool")
STOP_GRACE_S = 2.0  # a server gets this long to exit after its stdin closes, then SIGTERM, then SIGKILL

class StdioProcess:
    """A server subprocess speaking newline-delimited JSON-RPC; knows its pid and why it ended.

    The SDK's stdio transport hides the process, and skips lines that are not JSON-RPC. The bridge
    needs the pid (status, fault tests) and treats non-JSON on stdout as a broken server.
    """

    def __init__(self, params: StdioServerParameters, on_end: Callable[[str], None],
                 on_written: Callable[[], None] | None = None) -> None:
        self.params = params
        self.pid: int | None = None
        self.stderr_tail: deque[str] = deque(maxlen=20)
        self._on_end = on_end
        self._on_written = on_written
        self._closing = False

    def _ended(self, reason: str) -> None:
        if not self._closing:
            self._closing = True
            tail = " | ".join(list(self.stderr_tail)[-3:])
            self._on_end(f"{reason}; stderr: {tail}" if tail else reason)

    @asynccontextmanager
    async def streams(self) -> AsyncIterator[tuple[Any, Any]]:
        p = self.params
        process = await anyio.open_process(
            [p.command, *p.args], env=get_default_environment() | (p.env or {}), cwd=p.cwd, start_new_session=True
        )
        self.pid = process.pid
        read_in, read_out = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        write_in, write_out = anyio.create_memory_object_stream[SessionMessage](0)
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._read_stdout, process, read_in)
            tg.start_soon(self._write_stdin, process, write_out, read_in)
            tg.start_soon(self._read_stderr, process)
            try:
                yield read_out, write_in
            finally:
                self._closing = True
                with anyio.CancelScope(shield=True):
                    await stop_process(process)
                tg.cancel_scope.cancel()

    async def _read_stdout(self, process: anyio.abc.Process, read_in: Any) -> None:
        assert process.stdout is not None
        # The reason is recorded before the read stream closes, so a pending request sees it.
        async with read_in:
            buffer, reason = "", "server closed its stdout"
            try:
                async for chunk in TextReceiveStream(process.stdout, encoding=self.params.encoding):
                    lines = (buffer + chunk).split("\n")
                    buffer = lines.pop()
                    for line in lines:
                        if not line.strip():
                            continue
                        try:
                            message = mcp_types.jsonrpc_message_adapter.validate_json(line, by_name=False)
                        except ValueError:
                            self._ended(f"server wrote something that is not JSON-RPC to stdout: {line[:120]!r}")
                            return
                        await read_in.send(SessionMessage(message))
            except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                reason = "lost the server's stdout"
            if self._closing:
                return
            with anyio.move_on_after(0.5):
                while process.returncode is None:
                    await anyio.sleep(0.01)
            self._ended(f"{reason} ({describe_exit(process.returncode)})")

    async def _write_stdin(self, process: anyio.abc.Process, write_out: Any, read_in: Any) -> None:
        assert process.stdin is not None
        try:
            async with write_out:
                async for message in write_out:
                    data = message.message.model_dump_json(by_alias=True, exclude_unset=True) + "\n"
                    await process.stdin.send(data.encode(self.params.encoding))
                    if self._on_written is not None:
                        self._on_written()
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            self._ended("could not write to the server's stdin")
            read_in.close()  # pending requests see the connection end instead of waiting for the timeout

    async def _read_stderr(self, process: anyio.abc.Process) -> None:
        assert process.stderr is not None
        with suppress(anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            async for chunk in TextReceiveStream(process.stderr, errors="replace"):
                for line in chunk.splitlines():
                    if line.strip():
                        self.stderr_tail.append(line.strip()[:300])
                        log.debug("[%s] %s", self.params.args[-1] if self.params.args else self.params.command, line)


def describe_exit(code: int | None) -> str:
    if code is None:
        return "process still running"
    if code < 0:
        with suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


async def stop_process(process: anyio.abc.Process) -> None:
    """Close stdin, give the server a grace period, then terminate its whole process group."""
    with suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
        if process.stdin is not None:
            await process.stdin.aclose()
    with anyio.move_on_after(STOP_GRACE_S):
        while process.returncode is None:
            await anyio.sleep(0.01)
    if process.returncode is None:
        with suppress(ProcessLookupError, OSError):
            await terminate_posix_process_tree(process, STOP_GRACE_S)
    with anyio.move_on_after(STOP_GRACE_S), suppress(OSError, anyio.BrokenResourceError):
        await process.aclose()


class ServiceCredentialAuth(httpx2.Auth):
    """`Authorization: Bearer <service credential>` for one bundled server, made afresh for every request.

    Made per request rather than once per connection so a key rotation reaches a long-lived session before the
    old key's grace period ends (the keyring re-reads its file only when it changed).
    """

    def __init__(self, credential: Callable[[], str]) -> None:
        self.credential = credential

    def auth_flow(self, request: httpx2.Request) -> Any:
        request.headers["Authorization"] = f"Bearer {self.credential()}"
        yield request


@asynccontextmanager
async def http_streams(url: str, headers: dict[str, str], auth: httpx2.Auth | None = None) -> AsyncIterator[Any]:
    async with (
        httpx2.AsyncClient(headers=headers, auth=auth, timeout=httpx2.Timeout(30, read=300)) as http,
        streamable_http_client(url, http_client=http) as streams,
    ):
        yield streams
