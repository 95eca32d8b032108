"""A bundled server over streamable HTTP: the bridge's service credential on every request, `/healthz`, `/readyz`.

Over stdio only the process that spawned the server can talk to it; a port is reachable by anyone on the network,
so every request except the two probes must carry `Authorization: Bearer <kid>.<hex>`, the service credential the
bridge derives from the shared keyring for this server's name. The check runs before the MCP layer sees the request:
a caller without it gets no tool list, no session, nothing read.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import uvicorn
from alembic.script import ScriptDirectory
from mcp.server.mcpserver import MCPServer
from sqlalchemy import Engine, create_engine, inspect, make_url, text
from sqlalchemy.pool import NullPool
from starlette.responses import JSONResponse

from servers.common.config import ServerConfig
from servers.common.keys import Keyring, check_service_credential
from servers.market.db import alembic_config

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

# A credential is `<kid>.<64 hex>`; anything much longer is refused without being looked at.
MAX_CREDENTIAL_CHARS = 256
READY_TIMEOUT_S = 5.0
# JSON-RPC's server-defined range: an MCP client reports the message of a JSON-RPC error body as the error.
AUTH_ERROR_CODE = -32001
MIGRATE_HINT = "run `python -m servers.market migrate`"


def bearer(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The token of the request's one `Authorization: Bearer …` header, else None (never raises)."""
    values = [value for name, value in headers if name.lower() == b"authorization"]
    if len(values) != 1 or len(values[0]) > MAX_CREDENTIAL_CHARS + 16:
        return None
    scheme, _, token = values[0].decode("latin-1").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class MarketReadiness:
    """Whether the market database answers and its schema is at the newest migration."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
        self.engine = self._probe_engine()  # connects only when probed

    def _missing_file(self) -> bool:
        parsed = make_url(self.url)
        path = parsed.database or ""
        # Connecting to a SQLite file that is not there would create an empty one: look before connecting.
        return parsed.get_backend_name() == "sqlite" and path not in ("", ":memory:") and not path.startswith(
            "file:") and not Path(path).exists()

    def _probe_engine(self) -> Engine:
        backend = make_url(self.url).get_backend_name()
        if backend == "sqlite":
            return create_engine(self.url, poolclass=NullPool, connect_args={"timeout": 2})
        extra: dict[str, Any] = {"connect_args": {"connect_timeout": 3}} if backend == "postgresql" else {}
        return create_engine(self.url, pool_size=1, max_overflow=2, pool_pre_ping=True, **extra)

    def problem(self) -> str | None:
        """None when ready, else why not (said without the URL: the probe answers anyone)."""
        if self._missing_file():
            return f"the market database does not exist; {MIGRATE_HINT}"
        try:
            with self.engine.connect() as conn:
                # Read directly rather than through alembic's MigrationContext, which logs on every probe.
                migrated = inspect(conn).has_table("alembic_version")
                current = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()) if migrated else set()
        except Exception as exc:
            log.warning("readiness: the market database is unreachable: %s", exc)
            return f"the market database is unreachable ({type(exc).__name__}); the details are in the server log"
        if current != self.heads:
            at = ", ".join(sorted(current)) or "no migration"
            return f"the market database schema is at {at}, not at {', '.join(sorted(self.heads))}; {MIGRATE_HINT}"
        return None

    async def check(self) -> str | None:
        try:
            with anyio.fail_after(READY_TIMEOUT_S):
                return await anyio.to_thread.run_sync(self.problem, abandon_on_cancel=True)
        except TimeoutError:
            return f"the market database did not answer within {READY_TIMEOUT_S:g}s"


class ServiceCredentialGuard:
    """ASGI wrapper: `/healthz` and `/readyz` for anyone; anything else only with this server's service credential."""

    def __init__(self, app: ASGIApp, *, keyring: Keyring, audience: str, readiness: MarketReadiness) -> None:
        self.app, self.keyring, self.audience, self.readiness = app, keyring, audience, readiness
        self.refusal = JSONResponse(
            {"jsonrpc": "2.0", "id": None, "error": {"code": AUTH_ERROR_CODE, "message": (
                f"AUTH_REQUIRED: the {audience} server answers only the operator console's bridge over HTTP; send its "
                f"service credential as `Authorization: Bearer <credential>` (print it with "
                f"`python -m console secrets service-credential {audience}` where CONSOLE_APPROVAL_SECRET and "
                f"CONSOLE_KEYRING are the servers' own)")}},
            status_code=401, headers={"WWW-Authenticate": f'Bearer realm="{audience}"'},
        )

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] == "lifespan":  # the MCP app's session manager starts and stops here
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # no websockets here: closing before accepting answers 403
            await send({"type": "websocket.close", "code": 1008})
            return
        path = scope.get("path", "")
        if path == "/healthz":
            await JSONResponse({"status": "ok"})(scope, receive, send)
        elif path == "/readyz":
            reason = await self.readiness.check()
            body = {"status": "ready"} if reason is None else {"status": "unavailable", "reason": reason}
            await JSONResponse(body, status_code=200 if reason is None else 503)(scope, receive, send)
        elif self.authorized(scope):
            await self.app(scope, receive, send)
        else:
            client = scope.get("client") or ("?", 0)
            log.info("refused %s %s from %s: no valid service credential", scope.get("method"), path, client[0])
            await self.refusal(scope, receive, send)

    def authorized(self, scope: Scope) -> bool:
        token = bearer(scope.get("headers") or [])
        try:
            return check_service_credential(self.keyring, self.audience, token or "")
        except Exception:  # an unreadable keyring file must not open the door, nor answer 500
            log.exception("checking a service credential failed")
            return False


def http_app(server: MCPServer, config: ServerConfig, *, host: str) -> ServiceCredentialGuard:
    """The server's streamable HTTP app (`/mcp`) behind the credential check, with the two probes."""
    if not config.audience:
        raise ValueError("the server's audience is not set (ServerConfig.for_server)")
    return ServiceCredentialGuard(server.streamable_http_app(host=host), keyring=config.keyring,
                                  audience=config.audience, readiness=MarketReadiness(config.market_database_url))


def run_http(server: MCPServer, config: ServerConfig, *, host: str, port: int) -> None:
    """Serve the guarded app with uvicorn until interrupted."""
    app = http_app(server, config, host=host)
    uvicorn.run(app, host=host, port=port, log_level=server.settings.log_level.lower())
