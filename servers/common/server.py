"""The base every bundled server runs on: coded errors on every failure, stdio or streamable HTTP."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.types import ToolAnnotations
from pydantic import ValidationError

from servers.common.approval import CONTROL_ARGS
from servers.common.errors import CodedToolError, NotFound, SiteScopeRequired, UpstreamError, ValidationFailed
from servers.common.inputs import check_arguments, clip, quote

log = logging.getLogger(__name__)

# The arguments of the call in progress exactly as the client sent them. Validation changes their JSON
# form (`20` arrives as 20.0, an omitted flag arrives as its default), and an approval token covers
# what the bridge sent, so writes hash these rather than rebuilding them from the validated values.
_sent_arguments: ContextVar[dict[str, Any] | None] = ContextVar("sent_arguments", default=None)


def sent_arguments(validated: dict[str, Any]) -> dict[str, Any]:
    """The business arguments as sent (controls dropped); the validated ones outside a server call."""
    raw = _sent_arguments.get()
    if raw is None:
        return validated
    return {k: v for k, v in raw.items() if k not in CONTROL_ARGS}

READ = ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False)
WRITE_IDEMPOTENT = ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=True, openWorldHint=False)
WRITE_ADDITIVE = ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=False, openWorldHint=False)
WRITE_DESTRUCTIVE = ToolAnnotations(readOnlyHint=False, destructiveHint=True, idempotentHint=True, openWorldHint=False)


def describe_validation_error(exc: ValidationError, *, most: int = 3) -> str:
    """The first bad fields, each with pydantic's reason, quoting no more than ~80 characters of what was sent."""
    parts: list[str] = []
    for err in exc.errors(include_input=False, include_url=False):
        field = clip(".".join(clip(str(p), 40) for p in err["loc"]) or "arguments")
        part = f"{field}: {clip(str(err['msg']), 160)}"
        if part not in parts:
            parts.append(part)
    more = f" (and {len(parts) - most} more)" if len(parts) > most else ""
    return "; ".join(parts[:most]) + more


class MarketServer(MCPServer):
    """MCPServer whose every failed call answers with a code from DESIGN.md §3 and no traceback."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        token = _sent_arguments.set(dict(arguments or {}))
        try:
            # Bounds first (servers/common/inputs.py): an out-of-range value never reaches pydantic, SQL or a message.
            if (schema := self._tool_input_schema(name)) is not None:
                check_arguments(name, arguments or {}, schema)
            return await super().call_tool(name, arguments, context)
        except CodedToolError:
            raise
        except UnexpectedToolError as exc:
            log.error("tool %s crashed", name, exc_info=exc.__cause__)
            raise UpstreamError(f"{name} failed inside the server; the details are in the server log") from exc
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, CodedToolError):
                raise cause from None
            if isinstance(cause, ValidationError):
                if any(err["type"] == "missing" and tuple(err["loc"]) == ("site",) for err in cause.errors()):
                    raise SiteScopeRequired(f"{name} needs a site (e.g. 'us', 'de', 'jp')") from None
                raise ValidationFailed(f"{name}: {describe_validation_error(cause)}") from None
            if str(exc).startswith("Unknown tool"):
                raise NotFound(f"no tool named {quote(name, 60)} on server {self.name!r}") from None
            raise
        finally:
            _sent_arguments.reset(token)


def serve(build: Callable[[], MCPServer], *, default_port: int) -> None:
    """Entry point of `python -m servers.<name>`: stdio by default, or streamable HTTP."""
    parser = argparse.ArgumentParser(description=f"Run the MCP server (stdio, or streamable HTTP on {default_port}).")
    parser.add_argument("--transport", choices=["stdio", "streamable-http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    args = parser.parse_args()
    server = build()
    if args.transport == "stdio":
        server.run()
    else:  # a port anyone may reach: only the bridge's service credential gets in (servers/common/http.py)
        from servers.common.config import ServerConfig
        from servers.common.http import run_http

        run_http(server, ServerConfig.from_env().for_server(server.name), host=args.host, port=args.port)
