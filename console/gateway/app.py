"""The gateway's ASGI app: MCP over streamable HTTP at `/mcp/<group code>` and `/mcp`, the console's sign-in for MCP
clients (OAuth 2.1, when configured), `/healthz`, `/readyz` and `/metrics`.

Every MCP request is authenticated here, before the MCP layer sees it: the bearer token becomes a `Principal` (an
API key of the URL's group, or a signed-in person's audience-bound access token), the rate limit takes one call, and
only then does the request reach the SDK's stateless session manager. Stateless: any replica answers any request.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.to_thread
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from console.gateway.groups import ToolGroups
from console.gateway.keys import ApiKeys
from console.gateway.metrics import CONTENT_TYPE_LATEST, GatewayMetrics
from console.gateway.principal import Principal, Resolver
from console.gateway.ratelimit import RateLimiter
from console.gateway.tools import OWN_TOOLS, GatewayTools, listing
from mcp_bridge.errors import AuthRequired, ConsoleError, RateLimited

log = logging.getLogger(__name__)

MCP_PATH = re.compile(r"^/mcp(?:/(?P<code>[^/]+))?/?$")
AUTH_ERROR_CODE = -32001  # JSON-RPC's server-defined range: an MCP client reports the body's message as the error
THREADS = 64  # tool calls answered at once (each holds a worker thread while the bridge works)
READY_TIMEOUT_S = 5.0
CURRENT: contextvars.ContextVar[Principal] = contextvars.ContextVar("gateway_principal")
STATUS = {"AUTH_REQUIRED": 401, "SESSION_EXPIRED": 401, "PERMISSION_DENIED": 403, "RATE_LIMITED": 429}


class Gateway:
    """One per process: the MCP server, the session manager, the resolver, the limiter and the metrics."""

    def __init__(self, runtime: Any, *, base_url: str, provider: Any = None, routes: list[Any] | None = None,
                 limiter: RateLimiter | None = None) -> None:
        settings = runtime.settings
        self.runtime, self.base_url = runtime, base_url.rstrip("/")
        self.groups, self.keys = ToolGroups(runtime.engine, runtime.bridge.audit), ApiKeys(runtime.engine,
                                                                                             runtime.bridge.audit)
        self.provider = provider
        self.resolver = Resolver(runtime, self.groups, self.keys, provider, base_url=self.base_url)
        self.limiter = limiter or RateLimiter(settings.gateway_rate_per_minute, settings.gateway_burst)
        self.metrics = GatewayMetrics()
        self.tools = GatewayTools(runtime, metrics=self.metrics)
        self.threads = anyio.CapacityLimiter(THREADS)
        self._shutdown_hooks: list[Any] = []
        self.server: Server[Any] = Server("operator-console-gateway", version="1",
                                          instructions="The operator console's tools. Changes you propose wait for a "
                                                       "person's approval in the console (CONFIRMATION_REQUIRED); "
                                                       "poll them with get_operation.",
                                          on_list_tools=self._list_tools, on_call_tool=self._call_tool,
                                          get_tool_input_schema=self._input_schema)
        self.sessions = StreamableHTTPSessionManager(app=self.server, stateless=True, json_response=True)
        self.other = Starlette(routes=[Route("/healthz", self._healthz), Route("/readyz", self._readyz),
                                       Route("/metrics", self._metrics), *(routes or [])])

    def _input_schema(self, name: str) -> dict[str, Any] | None:
        """A tool's input schema for the SDK's parameter checks: a lookup, not the caller's whole tool list."""
        if name in OWN_TOOLS:
            return OWN_TOOLS[name][1]
        try:
            return self.runtime.bridge.catalog.get(name).input_schema
        except ConsoleError:
            return None

    def on_shutdown(self, hook: Any) -> None:
        """Run `hook` when the server stops (SIGTERM included: uvicorn re-raises it after the lifespan ends)."""
        self._shutdown_hooks.append(hook)

    def enable_signin(self, provider: Any, routes: list[Any]) -> None:
        """People sign in from their MCP client: the authorization server's routes, and their tokens accepted."""
        self.provider = self.resolver.grants = provider
        self.other.router.routes.extend(routes)

    # -- ASGI ---------------------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        match = MCP_PATH.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None:
            await self.other(scope, receive, send)
            return
        code = match.group("code")
        try:
            principal = await anyio.to_thread.run_sync(self.resolver.resolve, _bearer(scope), code,
                                                       limiter=self.threads)
            self.limiter.take(principal.limit_key)
        except ConsoleError as refusal:
            await self._refuse(refusal, code, scope, receive, send)
            return
        except Exception:  # the console database is down, say: a coded answer, never a traceback
            log.exception("resolving a gateway caller failed")
            await self._refuse(ConsoleError("the gateway could not check who you are; try again shortly"), code,
                               scope, receive, send)
            return
        token = CURRENT.set(principal)
        try:
            await self.sessions.handle_request(scope, receive, _counting(send, self.metrics))
        finally:
            CURRENT.reset(token)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with contextlib.AsyncExitStack() as stack:
            message = await receive()
            assert message["type"] == "lifespan.startup"
            try:
                await stack.enter_async_context(self.sessions.run())
                await stack.enter_async_context(self.other.router.lifespan_context(self.other))
            except Exception as exc:
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
        for hook in self._shutdown_hooks:  # e.g. the runtime: the last audit rows flushed, the servers stopped
            try:
                await anyio.to_thread.run_sync(hook)
            except Exception:
                log.exception("a shutdown step of the gateway failed")
        await send({"type": "lifespan.shutdown.complete"})

    async def _refuse(self, refusal: ConsoleError, code: str | None, scope: Scope, receive: Receive,
                      send: Send) -> None:
        self.metrics.refusals.labels(refusal.code).inc()
        status = STATUS.get(refusal.code, 503)
        headers: dict[str, str] = {}
        if isinstance(refusal, AuthRequired):
            metadata = f"{self.base_url}/.well-known/oauth-protected-resource/mcp" + (f"/{code}" if code else "")
            error = "invalid_token" if _bearer(scope) else "invalid_request"
            headers["WWW-Authenticate"] = (f'Bearer error="{error}", resource_metadata="{metadata}"'
                                           if self.provider is not None else 'Bearer realm="operator-console"')
        if isinstance(refusal, RateLimited):
            headers["Retry-After"] = str(max(1, round(refusal.retry_after_s + 0.499)))
        data: dict[str, Any] = {"code": refusal.code}
        if isinstance(refusal, RateLimited):
            data["retry_after_s"] = round(refusal.retry_after_s, 2)
        body = {"jsonrpc": "2.0", "id": None, "error": {"code": AUTH_ERROR_CODE, "message": str(refusal), "data": data}}
        client = (scope.get("client") or ("?", 0))[0]
        log.info("refused %s %s from %s: %s", scope.get("method"), scope.get("path"), client, refusal.code)
        self.metrics.requests.labels(str(status)).inc()
        await JSONResponse(body, status_code=status, headers=headers)(scope, receive, send)

    # -- MCP handlers -------------------------------------------------------------------------------------
    async def _list_tools(self, ctx: Any, params: Any) -> types.ListToolsResult:
        principal = CURRENT.get()
        tools = await anyio.to_thread.run_sync(listing, self.runtime.bridge, principal, limiter=self.threads)
        return types.ListToolsResult(tools=tools)

    async def _call_tool(self, ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        principal = CURRENT.get()
        arguments = params.arguments if isinstance(params.arguments, dict) else {}
        return await anyio.to_thread.run_sync(self.tools.call, principal, params.name, arguments,
                                              limiter=self.threads)

    # -- probes -------------------------------------------------------------------------------------------
    async def _healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def _readyz(self, request: Request) -> Response:
        try:
            with anyio.fail_after(READY_TIMEOUT_S):
                reason = await anyio.to_thread.run_sync(self._problem, abandon_on_cancel=True)
        except TimeoutError:
            reason = f"the console database or the tool servers did not answer within {READY_TIMEOUT_S:g}s"
        body = {"status": "ready"} if reason is None else {"status": "unavailable", "reason": reason}
        return JSONResponse(body, status_code=200 if reason is None else 503)

    def _problem(self) -> str | None:
        try:
            with self.runtime.engine.connect() as conn:
                conn.execute(text("SELECT 1 FROM tool_groups WHERE 1 = 0"))
        except Exception as exc:
            log.warning("readiness: the console database is not usable: %s", exc)
            return f"the console database is not usable ({type(exc).__name__}); run `python -m console setup`"
        specs = self.runtime.bridge.catalog.specs()
        errors = getattr(self.runtime.bridge.catalog, "errors", {})
        if not specs:
            return "no tool server answered" + (f": {'; '.join(f'{k}: {v}' for k, v in errors.items())}"[:300]
                                                if errors else "")
        return None

    async def _metrics(self, request: Request) -> Response:
        return Response(self.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


def _bearer(scope: Scope) -> str | None:
    """The token of the request's one `Authorization: Bearer …` header (or `X-API-Key`), else None."""
    headers = scope.get("headers") or []
    values = [v for k, v in headers if k.lower() == b"authorization"]
    if len(values) == 1 and len(values[0]) <= 4096:
        scheme, _, token = values[0].decode("latin-1").strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    keys = [v for k, v in headers if k.lower() == b"x-api-key"]
    if not values and len(keys) == 1 and len(keys[0]) <= 256:
        return keys[0].decode("latin-1").strip() or None
    return None


def _counting(send: Send, metrics: GatewayMetrics) -> Send:
    async def counted(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            metrics.requests.labels(str(message["status"])).inc()
        await send(message)

    return counted  # type: ignore[return-value]


@contextlib.asynccontextmanager
async def started(gateway: Gateway) -> AsyncIterator[Gateway]:
    """The gateway's lifespan outside a server (tests and the benchmark drive the ASGI app in process)."""
    async with gateway.sessions.run():
        yield gateway
