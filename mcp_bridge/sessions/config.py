"""The servers a pool talks to: the mcpServers document parsed, what a status reports, the outcome-unknown error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError

from mcp_bridge.errors import UpstreamError, ValidationFailed

State = Literal["up", "down", "restarting"]


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
    """A server as the pool sees it: `pid` is its first open session's, the counters cover every session."""

    name: str
    transport: str
    state: State
    pid: int | None
    last_error: str | None
    calls: int
    restarts: int
    sessions: int = 0  # open sessions (processes, over stdio)
    pids: tuple[int, ...] = ()


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
            headers = entry.get("headers") or {}
            if not isinstance(headers, dict):
                raise ValidationFailed(f"mcpServers.{name}.headers must be an object of header names to values")
            specs[name] = ServerSpec(name, "http", url=entry["url"], headers={str(k): str(v) for k, v in headers.items()})
        else:
            raise ValidationFailed(
                f"mcpServers.{name}: need either 'command' (stdio) or 'url' (streamable HTTP); got type {kind!r}"
            )
    return specs


def describe_failure(exc: BaseException) -> str:
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
