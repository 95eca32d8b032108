"""The tool catalog: every server's tools, namespaced, classified read/write, pinned, filtered per caller."""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import logging
import re
import threading
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import replace
from typing import Any, Protocol

from mcp.types import Tool
from sqlalchemy import Engine

from mcp_bridge.catalog.pins import PinCheck, PinStore, definition_of
from mcp_bridge.errors import ConsoleError, NotFound, PermissionDenied
from mcp_bridge.store import Store, ToolGroup
from mcp_bridge.types import BridgeConfig, Caller, ToolSpec

log = logging.getLogger(__name__)

SEPARATOR = "__"
MAX_NAME = 64  # Claude's limit for tool names, which allow only [a-zA-Z0-9_-]
# Arguments that steer the write protocol; the bridge fills them, the model never sees them.
# A copy of servers.common.approval.CONTROL_ARGS (the bridge does not import the servers).
CONTROL_ARGS = frozenset({"dry_run", "approval_token", "idempotency_key", "expected_before", "pii_grant"})

# Who sees what, in one place: role -> (servers it may use, or None for every server; may it write).
ROLE_ACCESS: dict[str, tuple[frozenset[str] | None, bool]] = {
    "seller": (frozenset({"ads", "commerce", "analytics"}), True),
    "manager": (None, False),
    "approver": (None, False),
    "admin": (None, True),
    # An outside agent through a gateway tool group that may propose writes: the group lists its tools.
    "agent": (None, True),
}

Classify = Callable[[str, Tool], bool]
STATUS_TOOL = "get_write_status"  # the write contract's read tool: its presence declares the contract


class Pool(Protocol):
    servers: list[str]

    def list_tools(self, server: str) -> list[Tool]: ...


class Audit(Protocol):
    def append(self, event: str, *, actor: str, channel: str, **fields: Any) -> Any: ...


def trusting(bundled: Iterable[str]) -> Classify:
    """The default read/write policy: annotations count only from bundled servers; no annotations -> write."""
    trusted = frozenset(bundled)

    def classify(server: str, tool: Tool) -> bool:
        hints = tool.annotations
        if server not in trusted or hints is None or hints.read_only_hint is None:
            return True
        return not hints.read_only_hint

    return classify


def namespaced(server: str, tool: str) -> str:
    """`server__tool` in Claude's alphabet; over-long names keep a hash so they stay unique."""
    name = re.sub(r"[^a-zA-Z0-9_-]", "_", f"{server}{SEPARATOR}{tool}")
    if len(name) > MAX_NAME:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[: MAX_NAME - 9]}_{digest}"
    return name


def strip_control_args(schema: dict[str, Any]) -> dict[str, Any]:
    schema = copy.deepcopy(schema)
    props = schema.get("properties")
    if isinstance(props, dict):
        for arg in CONTROL_ARGS:
            props.pop(arg, None)
    if isinstance(schema.get("required"), list):
        schema["required"] = [r for r in schema["required"] if r not in CONTROL_ARGS]
    return schema


def visible_to(caller: Caller, spec: ToolSpec, site: str | None = None) -> bool:
    """May the caller use this tool on `site` (by the roles held there), or on any of their sites when None?"""
    for role in (caller.roles if site is None else caller.roles_on(site)):
        servers, may_write = ROLE_ACCESS.get(role, (frozenset(), False))
        if (servers is None or spec.server in servers) and (may_write or not spec.is_write):
            return True
    return False


def group_matcher(patterns: Iterable[str]) -> Callable[[str], bool]:
    """A tool group's glob patterns (`ads__list_*`, `analytics.*`) as a predicate on catalog names."""
    globs = [p.replace(".", SEPARATOR, 1) if SEPARATOR not in p else p for p in patterns]
    return lambda name: any(fnmatch.fnmatchcase(name, g) for g in globs)


class Catalog:
    """The tools of every configured server as `ToolSpec`s; listed once, refreshed on demand."""

    def __init__(self, pool: Pool, engine: Engine, config: BridgeConfig, *, classify: Classify | None = None,
                 audit: Audit | None = None) -> None:
        self.pool, self.engine, self.config = pool, engine, config
        self.classify = classify or trusting(config.bundled)
        self.audit = audit
        self.pins = PinStore(engine)
        self._lock = threading.Lock()
        self._specs: dict[str, dict[str, ToolSpec]] = {}  # server -> name -> spec
        self.errors: dict[str, str] = {}  # server -> why its tools are missing

    def refresh(self, server: str | None = None) -> list[ToolSpec]:
        """List the tools again (all servers, or one) and check them against their pins."""
        with self._lock:
            for name in [server] if server else self.pool.servers:
                self._load(name)
        return self.specs()

    def specs(self) -> list[ToolSpec]:
        """Every tool of every server that answered, changed ones included (`pinned_ok=False`)."""
        with self._lock:
            _open_together(self.pool, [s for s in self.pool.servers if s not in self._specs and s not in self.errors])
            for server in self.pool.servers:
                if server not in self._specs:
                    self._load(server)
            return [spec for server in self.pool.servers for spec in self._specs.get(server, {}).values()]

    def server_specs(self, server: str) -> dict[str, ToolSpec]:
        """One server's tools by name, listing that server alone if it was not listed yet."""
        with self._lock:
            if server not in self._specs:
                self._load(server)
            return dict(self._specs.get(server, {}))

    def get(self, name: str) -> ToolSpec:
        """A tool by name: only the server the name starts with is listed, every server only if that one lacks it."""
        server = next((s for s in sorted(self.pool.servers, key=len, reverse=True)
                       if name.startswith(namespaced(s, ""))), None)
        found = self.server_specs(server).get(name) if server is not None else None
        if found is None and server not in self.errors:  # a server that is down is not asked twice
            self.specs()  # loads servers not listed yet
            found = next((specs[name] for specs in self._specs.values() if name in specs), None)
        if found is None:
            raise NotFound(f"no tool named {name!r}; the catalog names tools server__tool, e.g. ads__list_keywords")
        return found

    def implements_contract(self, server: str, tool: str) -> bool:
        """True when a server declares the write contract for this tool (README): it lists `get_write_status`, and
        the tool takes `dry_run` and `approval_token`. Only then is it called for a preview or sent a token."""
        specs = self.server_specs(server)
        spec = specs.get(namespaced(server, tool))
        if spec is None or namespaced(server, STATUS_TOOL) not in specs:
            return False
        props = (spec.input_schema or {}).get("properties") or {}
        return isinstance(props, dict) and "dry_run" in props and "approval_token" in props

    def require_pinned(self, name: str) -> ToolSpec:
        """The spec of a tool that may be called: its definition is still the pinned one."""
        spec = self.get(name)
        if not spec.pinned_ok:
            raise PermissionDenied(f"{name}: definition changed; an admin must accept it", tool=name)
        return spec

    def for_caller(self, caller: Caller, group: str | None = None, *, allowed: Callable[[str], bool] | None = None,
                   site: str | None = None) -> list[ToolSpec]:
        """The tools a caller may use: by the roles held on `site` (None: on any of their sites), pinned definition,
        tool group and an optional predicate."""
        if not caller.sites or (site is not None and not caller.may_see(site)):
            return []
        in_group = self._group(group) if group else None
        return [
            spec for spec in self.specs()
            if spec.pinned_ok and visible_to(caller, spec, site)
            and (in_group is None or in_group(spec.name)) and (allowed is None or allowed(spec.name))
        ]

    def anthropic_tools(self, caller: Caller, group: str | None = None, *,
                        allowed: Callable[[str], bool] | None = None) -> list[dict[str, Any]]:
        """Anthropic tool definitions; the last one carries the prompt-cache breakpoint."""
        # Each tool's `site` lists only the sites whose roles allow it (a seller on DE, approver on US: writes on DE).
        tools = [
            {"name": spec.name, "description": spec.description,
             "input_schema": _scoped(strip_control_args(spec.input_schema),
                                     frozenset(s for s in caller.sites if visible_to(caller, spec, s)))}
            for spec in self.for_caller(caller, group, allowed=allowed)
        ]
        if tools:
            tools[-1]["cache_control"] = {"type": "ephemeral"}
        return tools

    def recheck(self, name: str) -> ToolSpec:
        """A blocked tool checked against its pin again: an admin may have accepted it in another process."""
        spec = self.get(name)
        if spec.pinned_ok:
            return spec
        definition = definition_of(name, spec.description, spec.input_schema, spec.annotations)
        if self.pins.check(spec.server, {name: (spec.tool, definition)})[name].ok:
            with self._lock:
                spec = replace(spec, pinned_ok=True)
                self._specs.setdefault(spec.server, {})[name] = spec
        return spec

    def accept(self, name: str, by: str) -> ToolSpec:
        """Re-pin a changed tool to its current definition (an admin's decision, audited)."""
        spec = self.get(name)
        self.pins.accept(name, by)
        self._emit("tool_pin_accepted", by, spec)
        with self._lock:
            accepted = replace(spec, pinned_ok=True)
            self._specs.setdefault(spec.server, {})[name] = accepted
        return accepted

    # ---- internals (called with the lock held) ----

    def _load(self, server: str) -> None:
        try:
            tools = self.pool.list_tools(server)
        except ConsoleError as exc:
            # One server down must not empty the catalog: its tools are missing until the next load.
            log.warning("tools of %s unavailable: %s", server, exc)
            self.errors[server] = exc.message
            self._specs.pop(server, None)
            return
        self.errors.pop(server, None)
        specs: dict[str, ToolSpec] = {}
        for tool in tools:
            name = namespaced(server, tool.name)
            annotations = tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations else {}
            specs[name] = ToolSpec(name=name, server=server, tool=tool.name, description=tool.description or "",
                                   input_schema=dict(tool.input_schema), is_write=self.classify(server, tool),
                                   annotations=annotations)
        checks = self.pins.check(server, {
            name: (s.tool, definition_of(name, s.description, s.input_schema, s.annotations)) for name, s in specs.items()
        })
        for name, check in checks.items():
            specs[name] = replace(specs[name], pinned_ok=check.ok)
            self._report(check, specs[name])
        self._specs[server] = specs

    def _report(self, check: PinCheck, spec: ToolSpec) -> None:
        if check.state == "new":
            self._emit("tool_pinned", "system", spec, sha256=check.sha256)
        elif check.first_report:
            log.warning("tool %s changed its definition; blocked until an admin accepts it", spec.name)
            self._emit("tool_definition_changed", "system", spec, sha256=check.sha256, pinned_sha256=check.pinned_sha256)

    def _emit(self, event: str, actor: str, spec: ToolSpec, **detail: Any) -> None:
        if self.audit is not None:
            self.audit.append(event, actor=actor, channel="job" if actor == "system" else "ui", tool=spec.name,
                              detail={"server": spec.server, **detail})

    def _group(self, group: str) -> Callable[[str], bool]:
        with Store(self.engine).read() as s:
            row = s.get(ToolGroup, group)
            if row is None:
                raise NotFound(f"no tool group named {group!r}")
            return group_matcher(row.patterns)


def _open_together(pool: Pool, servers: list[str]) -> None:
    """Open the sessions of servers about to be listed side by side: one by one, each start would wait for the last."""
    open_sessions = getattr(pool, "open", None)  # a pool that opens sessions on first use has it
    if len(servers) > 1 and open_sessions is not None:
        with suppress(ConsoleError):  # a server that does not start is reported by its listing
            open_sessions(servers)


def _scoped(schema: dict[str, Any], sites: frozenset[str]) -> dict[str, Any]:
    """Narrow a `site` argument to the caller's sites, so the model only proposes what it may do."""
    site = schema.get("properties", {}).get("site")
    if isinstance(site, dict) and site.get("type") == "string" and "enum" not in site:
        site["enum"] = sorted(sites)
    return schema
