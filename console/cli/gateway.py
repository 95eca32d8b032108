"""`python -m console gateway --host H --port P`: serve the console's tools to outside MCP clients."""

from __future__ import annotations

import argparse
import logging

from console.cli.ops import guarded

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("gateway", help="serve MCP over streamable HTTP at /mcp/<group> and /mcp")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8600)
    parser.add_argument("--url", help="the gateway's public URL (default: CONSOLE_GATEWAY_URL, else http://host:port)")
    parser.set_defaults(run=guarded(serve))
    # The gateway's tool groups and keys have their own commands.
    from console.cli import groups

    groups.register(sub)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from console.gateway.serve import build_gateway
    from console.runtime import Runtime

    runtime = Runtime.create(start_bridge=True)
    base_url = args.url or runtime.settings.gateway_url or f"http://{args.host}:{args.port}"
    gateway = build_gateway(runtime, base_url=base_url)
    closed = False

    def close() -> None:
        nonlocal closed
        if not closed:
            closed = True
            runtime.close()

    gateway.on_shutdown(close)  # SIGTERM ends the process right after the lifespan: close there, not in `finally`
    runtime.reconcile_in_background()
    print(f"gateway at {base_url}/mcp/<group code> (keys) and {base_url}/mcp (sign-in); "
          f"sign-in {'on' if gateway.provider is not None else 'off'}", flush=True)
    try:
        uvicorn.run(gateway, host=args.host, port=args.port, log_level="warning", lifespan="on")
    finally:
        close()
    return 0
