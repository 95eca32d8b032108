"""One runtime per process: settings → console database (migrated) → bridge → user directory."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from console.migrations import migrate_console
from console.settings import Settings
from console.users import UserDirectory
from mcp_bridge.bridge import Bridge
from mcp_bridge.errors import ConsoleError, PermissionDenied
from mcp_bridge.store import make_engine
from mcp_bridge.types import BridgeConfig, Caller, Operation, Source, ToolOutcome

__all__ = ["Bridge", "Caller", "ConsoleError", "Operation", "PermissionDenied", "Runtime", "Source", "ToolOutcome",
           "bridge_config"]


def bridge_config(settings: Settings) -> BridgeConfig:
    return BridgeConfig(
        mcp_servers=settings.mcp_servers_config,
        approval_secret=settings.approval_secret.get_secret_value(),
        call_timeout_s=settings.call_timeout_s,
        read_retries=settings.read_retries,
        operation_expiry_hours=settings.operation_expiry_hours,
        token_ttl_s=settings.token_ttl_s,
    )


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    bridge: Bridge
    users: UserDirectory

    @classmethod
    def create(cls, settings: Settings | None = None, *, start_bridge: bool = False, migrate: bool = True) -> Runtime:
        """Open (and migrate) the console database; the bridge's sessions start on first use or when asked."""
        settings = settings or Settings()
        if migrate:
            migrate_console(settings.database_url)
        engine = make_engine(settings.database_url)
        bridge = Bridge(engine, bridge_config(settings))
        if start_bridge:
            bridge.start()
        return cls(settings=settings, engine=engine, bridge=bridge, users=UserDirectory(engine, bridge.audit))

    def close(self) -> None:
        self.bridge.close()
        self.engine.dispose()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
