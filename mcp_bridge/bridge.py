"""The facade everyone uses: it checks the call's shape, scope and role, then hands it to the read path or the
write path (`reads.py`, `writes.py`); a call refused here is audited here. Sessions, catalog, gate and audit live
behind it, one of each per process."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine

from mcp_bridge.answers import elapsed_ms, tool_name
from mcp_bridge.audit import AuditLog, CallLog
from mcp_bridge.catalog import visible_to
from mcp_bridge.errors import ConsoleError, PermissionDenied, SiteScopeRequired, ValidationFailed
from mcp_bridge.gate import Gate, business_arguments
from mcp_bridge.keys import Keyring
from mcp_bridge.reads import AuditFailed, Reads, call_row, withheld
from mcp_bridge.store import Store
from mcp_bridge.types import BridgeConfig, Caller, Source, ToolOutcome, ToolSpec
from mcp_bridge.writes import Writes


class Bridge:
    """Sessions, catalog, gate and audit behind one object; one per process."""

    def __init__(self, engine: Engine, config: BridgeConfig, *, pool: Any = None, catalog: Any = None) -> None:
        self.engine, self.config = engine, config
        self.store = Store(engine)
        self.keyring = Keyring(config.approval_secret, config.keyring_path)
        self.audit = AuditLog(engine, key=config.audit_secret, anchor=config.audit_anchor)
        self.calls = CallLog(self.audit)
        self._pool, self._catalog = pool, catalog
        self.reads, self.writes = Reads(self), Writes(self)
        self.gate = Gate(self.store, self.audit, config, runner=self.writes)

    def start(self) -> Bridge:
        if self._pool is None:
            from mcp_bridge.sessions import SessionPool

            self._pool = SessionPool(self.config)
            self._pool.start()
        if self._catalog is None:
            from mcp_bridge.catalog import Catalog

            self._catalog = Catalog(self._pool, self.engine, self.config, audit=self.audit)
        return self

    @property
    def pool(self) -> Any:
        return self._pool if self._pool is not None else self.start()._pool

    @property
    def catalog(self) -> Any:
        return self._catalog if self._catalog is not None else self.start()._catalog

    def close(self) -> None:
        self.calls.close()
        if self._pool is not None:
            self._pool.close()
            self._pool = None
            self._catalog = None
        self.audit.close()  # last: the final checkpoint covers every row written above

    # -- the one entry point for tool calls ------------------------------------------------------------------
    def call(self, caller: Caller, name: str, arguments: dict[str, Any], *, source: Source,
             timeout_s: float | None = None) -> ToolOutcome:
        """Run a read, or turn a write into a pending operation; never raises for a refused or failed call.
        `timeout_s` bounds a read's server call (default: the configured call timeout)."""
        started = time.perf_counter()
        name = tool_name(name) if isinstance(name, str) else repr(name)
        args = business_arguments(arguments) if isinstance(arguments, dict) else {"(not an object)": arguments}
        try:
            _check_shape(name, arguments)
            spec = self._authorize(caller, name, args)
            if spec.is_write:
                return self.writes.propose(caller, spec, args, started, source)
            return self.reads.run(caller, spec, args, started, source, timeout_s=timeout_s)
        except ConsoleError as exc:
            outcome = ToolOutcome(name, "error", str(exc), code=exc.code, duration_ms=elapsed_ms(started))
        except AuditFailed as failed:  # the read's request row could not be written
            return withheld(name, started, failed.__cause__ or failed)
        try:
            self.calls.append(call_row(caller, name, args, source, outcome))
        except Exception as exc:
            return withheld(name, started, exc)
        return outcome

    def _authorize(self, caller: Caller, name: str, args: dict[str, Any]) -> ToolSpec:
        site = args.get("site")
        if not caller.may_see(site):
            mine = ", ".join(sorted(caller.sites)) or "none"
            what = f"site {site!r} is outside your scope" if site else "a site is required"
            raise SiteScopeRequired(f"{what}; your sites: {mine}")
        spec = self.catalog.get(name)
        if not spec.pinned_ok:  # still blocked? (an admin may have accepted it in another process)
            spec = self.catalog.recheck(name)
        if not spec.pinned_ok:
            raise PermissionDenied(f"{name} changed its definition since it was pinned; an admin must accept it first")
        if not visible_to(caller, spec, site):
            held = ", ".join(sorted(caller.roles_on(site))) or "no roles"
            raise PermissionDenied(f"{caller.user} ({held} on {site}) may not use {name}; ask an admin for a role "
                                   f"on {site} that allows it")
        return spec


def _check_shape(name: str, arguments: Any) -> None:
    """Arguments are a JSON object with a string `site` (a list or object there must not reach a query)."""
    if arguments is not None and not isinstance(arguments, dict):
        raise ValidationFailed(f"{name[:80]}: arguments must be a JSON object, not {type(arguments).__name__}")
    site = (arguments or {}).get("site")
    if site is not None and not isinstance(site, str):
        raise ValidationFailed(f"{name[:80]}: site must be a string such as 'us', not {type(site).__name__}")
    if isinstance(site, str) and len(site) > 16:
        raise ValidationFailed(f"{name[:80]}: site must be at most 16 characters (got {len(site)})")
