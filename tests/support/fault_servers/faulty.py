"""An MCP server whose tools misbehave on request: hang, print garbage, answer nonsense, die mid-write.

Run as `python -m tests.support.fault_servers.faulty [--transport streamable-http --port N]`.
`bump` is the "write": it counts its executions in a file, so a test can prove it ran at most once.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations
from pydantic import BaseModel

READ = ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False)
WRITE = ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=False, openWorldHint=False)


class Echo(BaseModel):
    text: str
    pid: int


class Count(BaseModel):
    count: int


# The SDK diverts fd 1 to stderr while it serves stdio (stray prints cannot corrupt the wire), so
# the server keeps its own duplicate of the real stdout, taken before serving, to misbehave on.
_wire = {"fd": 1}


def _raw_stdout(line: str) -> None:
    # One os.write of a short line is atomic on a pipe, so it cannot tear the server's own messages.
    os.write(_wire["fd"], (line + "\n").encode())


def build_server() -> MCPServer:
    mcp = MCPServer("faulty", instructions="Misbehaves on request, for fault tests.")

    @mcp.tool(annotations=READ)
    def echo(text: str) -> Echo:
        """Echo the text back with the server's pid."""
        return Echo(text=text, pid=os.getpid())

    @mcp.tool(annotations=READ)
    def hang(seconds: float = 3600) -> Echo:
        """Block the whole server for a while (it stops reading its stdin too)."""
        time.sleep(seconds)
        return Echo(text="woke up", pid=os.getpid())

    @mcp.tool(annotations=READ)
    def garbage() -> Echo:
        """Print a line that is not JSON-RPC on stdout, then answer normally."""
        _raw_stdout("Traceback (most recent call last): this is not JSON")
        return Echo(text="after garbage", pid=os.getpid())

    @mcp.tool(annotations=READ)
    def nonsense(ctx: Context) -> Echo:
        """Answer with a result that is valid JSON-RPC but not a valid tool result."""
        request_id: Any = ctx.request_context.request_id
        _raw_stdout(json.dumps({"jsonrpc": "2.0", "id": request_id, "result": {"content": "not a list", "isError": 7}}))
        time.sleep(0.2)  # the real answer comes late and is dropped by the client
        return Echo(text="too late", pid=os.getpid())

    @mcp.tool(annotations=WRITE)
    def bump(counter: str, then: str = "return") -> Count:
        """Add one to the counter file (a write), then `return`, `die` (exit at once) or `hang`."""
        path = Path(counter)
        count = int(path.read_text() or 0) + 1 if path.exists() else 1
        path.write_text(str(count))
        if then == "die":
            os._exit(3)
        if then == "hang":
            time.sleep(3600)
        return Count(count=count)

    @mcp.tool()
    def unannotated(text: str) -> Echo:
        """A tool without annotations (the catalog must count it as a write)."""
        return Echo(text=text, pid=os.getpid())

    return mcp


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport", choices=["stdio", "streamable-http"], default="stdio")
    parser.add_argument("--port", type=int, default=8199)
    args = parser.parse_args()
    server = build_server()
    if args.transport == "stdio":
        _wire["fd"] = os.dup(1)
        server.run()
    else:
        server.run("streamable-http", host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
