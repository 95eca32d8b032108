"""One runtime per process: settings → console database (migrated) → bridge → user directory."""

from __future__ import annotations

import gc
import logging
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import Engine, make_url

from console.migrations import migrate_console
from console.settings import Settings
from console.users import UserDirectory
from mcp_bridge.audit import ANCHOR_FILE
from mcp_bridge.bridge import Bridge
from mcp_bridge.errors import ConsoleError, PermissionDenied
from mcp_bridge.sessions import SessionPool
from mcp_bridge.store import make_engine
from mcp_bridge.types import BridgeConfig, Caller, Operation, Source, ToolOutcome

log = logging.getLogger(__name__)
__all__ = ["Bridge", "Caller", "ConsoleError", "Operation", "PermissionDenied", "Runtime", "Source", "ToolOutcome",
           "audit_anchor", "bridge_config", "lend", "process_runtime"]
_lent: list[Runtime] = []  # the process's runtime that `Runtime.create()` hands out (the command line's agent)


def lend(runtime: Runtime | None) -> None:
    """From now on `Runtime.create()` with no arguments answers `runtime` (closing the answer does nothing);
    None: build one per call again."""
    _lent[:] = [runtime] if runtime is not None else []


def bridge_config(settings: Settings) -> BridgeConfig:
    return BridgeConfig(
        mcp_servers=settings.mcp_servers_config,
        approval_secret=settings.approval_secret.get_secret_value(),
        call_timeout_s=settings.call_timeout_s,
        read_retries=settings.read_retries,
        operation_expiry_hours=settings.operation_expiry_hours,
        token_ttl_s=settings.token_ttl_s,
        keyring_path=settings.keyring,
        result_write_timeout_s=settings.result_write_timeout_s,
        sessions_per_server=settings.sessions_per_server,
        audit_secret=settings.audit_secret.get_secret_value(),
        audit_anchor=audit_anchor(settings),
    )


def audit_anchor(settings: Settings) -> str | None:
    """Where the audit log's checkpoints go: CONSOLE_AUDIT_ANCHOR when set (empty: nowhere); unset, beside a SQLite
    database file, so each database has its own (`data/audit-anchor.jsonl` for the default one)."""
    if "audit_anchor" in settings.model_fields_set:
        return settings.audit_anchor or None
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        return settings.audit_anchor
    if not url.database or url.database == ":memory:":
        return None  # a chain that ends with the process has nothing to anchor
    return str(Path(url.database).expanduser().resolve().parent / ANCHOR_FILE)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    bridge: Bridge
    users: UserDirectory
    owned: bool = True  # False: lent by `lend`, its owner closes it

    @classmethod
    def create(cls, settings: Settings | None = None, *, start_bridge: bool = False, migrate: bool = True) -> Runtime:
        """Open (and migrate) the console database; each server's session opens on its first call, or every session at
        once with `start_bridge` (the gateway: its first caller must not wait for a spawn; the app opens them in the
        background with `reconcile_in_background`)."""
        if _lent and settings is None and migrate and not start_bridge:
            return replace(_lent[0], owned=False)
        settings = settings or Settings()
        if migrate:
            migrate_console(settings.database_url)
        engine = make_engine(settings.database_url)
        config = bridge_config(settings)
        # The bridge opens every server when it builds its own pool; a command that needs one server must not wait
        # for three spawns, so the pool is ours and lazy.
        pool = SessionPool(config)
        bridge = Bridge(engine, config, pool=pool)
        if start_bridge:
            pool.start()
        return cls(settings=settings, engine=engine, bridge=bridge, users=UserDirectory(engine, bridge.audit))

    def reconcile_in_background(self, *, start_servers: bool = True) -> threading.Thread:
        """The start-up work that must not hold up the first page (the servers may be slow): open every server's
        sessions (unless told not to), then settle operations a previous run left in doubt."""

        pool = self.bridge.pool  # this runtime's: a runtime closed meanwhile must not get a new one

        def run() -> None:
            if start_servers:  # the app's first caller then finds its server warm instead of waiting for a spawn
                try:
                    # One session per server: more open on their own while every open one is busy. Spawning them
                    # all at once would hold the first page back on two cores.
                    pool.open(pool.servers)  # a server that cannot start is reported in the pool's status
                except ConsoleError as exc:  # the runtime was closed meanwhile
                    log.info("the MCP servers were not started: %s", exc.message)
            try:
                settled = self.bridge.gate.reconcile_due()
                if settled:
                    log.info("settled %d operation(s) left in doubt", len(settled))
            except Exception:  # the next listing of the queue tries again
                log.exception("operations in doubt could not be reconciled at start")

        thread = threading.Thread(target=run, name="reconcile-at-start", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        if not self.owned:
            return
        self.bridge.close()
        self.engine.dispose()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_process_lock = threading.Lock()
_process_runtime: Runtime | None = None


def process_runtime(settings: Settings) -> Runtime:
    """The app's one runtime in this process, made by the first caller (its servers then start in the background);
    a caller meanwhile waits for it. A failure is not kept: the next caller tries again and meets the error itself.

    `python -m console serve` makes it while the server starts, the pages take the same one (pages/state.py). New
    settings (tests that change the environment) make a new runtime in its place; the old one is left open, as a page
    may still hold it.
    """
    global _process_runtime
    with _process_lock:
        if _process_runtime is None or _process_runtime.settings != settings:
            runtime = Runtime.create(settings)
            runtime.reconcile_in_background()  # operations a crash left in doubt are settled from the servers' ledgers
            gc.freeze()  # what lives as long as the process is never scanned again by the garbage collector
            _process_runtime = runtime
        return _process_runtime
