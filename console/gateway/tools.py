"""What a gateway caller sees and calls: the catalog's tools its group and roles allow, with `site` narrowed to its
sites, and four of the gateway's own (`auth_status`, `list_sites`, `select_site`, `get_operation`).

Tool calls go through the bridge, as the console's own do: scope checks, audit (channel `gateway`), the gate. A write
becomes a pending operation in the console's queue and answers CONFIRMATION_REQUIRED naming it.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass
from typing import Any

import mcp_types as types
from sqlalchemy import select

from console.gateway.models import ActiveSite
from console.gateway.principal import Principal
from console.models import ConsoleSite
from mcp_bridge.catalog.catalog import strip_control_args
from mcp_bridge.errors import ConsoleError, NotFound, PermissionDenied, SiteScopeRequired, ValidationFailed
from mcp_bridge.gate import business_arguments
from mcp_bridge.store import Store, utcnow
from mcp_bridge.types import Source, ToolOutcome, ToolSpec

OWN_TOOLS: dict[str, tuple[str, dict[str, Any]]] = {
    "auth_status": ("Who you are signed in as here: key or person, group, roles, sites, active site, expiry.",
                    {"type": "object", "properties": {}}),
    "list_sites": ("The sites you may act on, with their names, and which one is active.",
                   {"type": "object", "properties": {}}),
    "select_site": ("Make one of your sites the active one: tools called without `site` act on it.",
                    {"type": "object", "properties": {"site": {"type": "string"}}, "required": ["site"]}),
    "get_operation": ("The status of a change you proposed (pending, approved, succeeded, rejected…) by its id.",
                      {"type": "object", "properties": {"operation_id": {"type": "integer"}},
                       "required": ["operation_id"]}),
}


@dataclass(frozen=True)
class Exposed:
    spec: ToolSpec
    timeout_s: float | None


def exposed(bridge: Any, principal: Principal) -> dict[str, Exposed]:
    """The catalog tools this caller may use now: role and pinned definition, the group's switched-on tools, and no
    writes through a group that may not propose them."""
    group = principal.group
    found: dict[str, Exposed] = {}
    for spec in bridge.catalog.for_caller(principal.caller):
        if group is not None:
            setting = group.setting(spec.name)
            if setting is None or not setting.enabled or (spec.is_write and not group.writes):
                continue
            found[spec.name] = Exposed(spec, setting.timeout_s)
        else:
            found[spec.name] = Exposed(spec, None)
    return found


def listing(bridge: Any, principal: Principal) -> list[types.Tool]:
    sites = sorted(principal.caller.sites)
    tools = [types.Tool(name=name, description=text, input_schema=schema) for name, (text, schema) in OWN_TOOLS.items()]
    for name, item in exposed(bridge, principal).items():
        schema = _site_optional(strip_control_args(item.spec.input_schema), sites)
        hints = item.spec.annotations or {}
        tools.append(types.Tool(name=name, description=item.spec.description, input_schema=schema,
                                annotations=types.ToolAnnotations(**_hints(hints)) if hints else None))
    return tools


def _hints(annotations: dict[str, Any]) -> dict[str, Any]:
    keys = {"readOnlyHint": "read_only_hint", "destructiveHint": "destructive_hint",
            "idempotentHint": "idempotent_hint", "openWorldHint": "open_world_hint", "title": "title"}
    return {keys.get(k, k): v for k, v in annotations.items() if keys.get(k, k) in {
        "read_only_hint", "destructive_hint", "idempotent_hint", "open_world_hint", "title"}}


def _site_optional(schema: dict[str, Any], sites: list[str]) -> dict[str, Any]:
    """`site` narrowed to the caller's sites and optional: the active site fills it when left out."""
    schema = copy.deepcopy(schema)
    site = schema.get("properties", {}).get("site")
    if isinstance(site, dict):
        site["enum"] = sites
        site["description"] = "One of your sites; left out, the active site (select_site) is used."
        if isinstance(schema.get("required"), list):
            schema["required"] = [r for r in schema["required"] if r != "site"]
    return schema


class GatewayTools:
    """Runs one tool call for one principal and turns its outcome into an MCP result."""

    def __init__(self, runtime: Any, *, metrics: Any) -> None:
        self.runtime, self.bridge, self.store, self.metrics = runtime, runtime.bridge, Store(runtime.engine), metrics

    def call(self, principal: Principal, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        """The call's MCP result; the bridge audits the calls it runs, the gateway those it answers or refuses itself."""
        started = time.perf_counter()
        group = principal.group.code if principal.group else "-"
        self.metrics.in_flight.inc()
        try:
            if name in OWN_TOOLS:
                result, outcome = self._own(principal, name, arguments, started)
            else:
                result, outcome = self._bridge_call(principal, name, arguments, started)
        finally:
            self.metrics.in_flight.dec()
        known = name in OWN_TOOLS or outcome != "PERMISSION_DENIED"  # a made-up name must not grow the label set
        self.metrics.calls.labels(group, name[:128] if known else "(refused)", outcome).inc()
        self.metrics.latency.labels(group, name[:128] if known else "(refused)").observe(time.perf_counter() - started)
        return result

    def _own(self, principal: Principal, name: str, arguments: dict[str, Any],
             started: float) -> tuple[types.CallToolResult, str]:
        try:
            result, outcome, error = _ok(getattr(self, name)(principal, arguments)), "ok", None
        except ConsoleError as exc:
            result, outcome, error = _error(exc.code, str(exc)), exc.code, str(exc)
        self._audit("tool_call", principal, f"gateway__{name}", arguments, outcome, started, error)
        return result, outcome

    def _audit(self, event: str, principal: Principal, tool: str, arguments: dict[str, Any], outcome: str,
               started: float, error: str | None) -> None:
        site = arguments.get("site")
        detail: dict[str, Any] = {"source": "gateway", "source_ref": principal.source_ref}
        if error:
            detail["error"] = error[:500]
        self.bridge.audit.append(event, actor=principal.actor, channel="gateway", tool=tool[:128], outcome=outcome,
                                 site=site if isinstance(site, str) and len(site) <= 16 else None,
                                 arguments=business_arguments(arguments), detail=detail,
                                 duration_ms=round((time.perf_counter() - started) * 1000, 3))

    def _bridge_call(self, principal: Principal, name: str, arguments: dict[str, Any],
                     started: float) -> tuple[types.CallToolResult, str]:
        try:
            outcome = self._through_bridge(principal, name, arguments)
        except ConsoleError as exc:  # refused here, before the bridge: audited here
            self._audit("gateway_refused", principal, name, arguments, exc.code, started, str(exc))
            return _error(exc.code, str(exc)), exc.code
        label = "pending" if outcome.status == "pending" else outcome.code or outcome.status
        return _result(outcome), label

    def _through_bridge(self, principal: Principal, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        item = exposed(self.bridge, principal).get(name)
        if item is None:
            raise PermissionDenied(self._why_not(principal, name))
        args = dict(arguments)
        if "site" in (item.spec.input_schema or {}).get("properties", {}) and args.get("site") is None:
            args["site"] = self.site_for(principal, write=item.spec.is_write)
        source = Source("gateway", ref=principal.source_ref)
        return self.bridge.call(principal.caller, name, args, source=source, timeout_s=item.timeout_s)

    def _why_not(self, principal: Principal, name: str) -> str:
        group = principal.group
        if group is not None:
            setting = group.setting(name)
            if setting is not None and not setting.enabled:
                return f"{name} is switched off in tool group {group.code!r}"
            if setting is not None:
                return f"{name} proposes changes, and tool group {group.code!r} may not"
            return f"tool group {group.code!r} has no tool {name!r}; call tools/list for what it has"
        return f"{principal.actor} may not use {name!r} here; call tools/list for what you may use"

    # -- the active site ------------------------------------------------------------------------------------
    def active_site(self, principal: Principal) -> str | None:
        with self.store.read() as s:
            row = s.get(ActiveSite, principal.state_key)
            return row.site if row is not None and row.site in principal.caller.sites else None

    def site_for(self, principal: Principal, *, write: bool) -> str:
        """The explicit site's stand-in: the active site, else the only site; never a guess among several."""
        active = self.active_site(principal)
        if active is not None:
            return active
        sites = sorted(principal.caller.sites)
        if len(sites) == 1:
            return sites[0]
        what = "a change" if write else "this tool"
        raise SiteScopeRequired(f"name the site for {what} (`site`) or pick one with select_site; your sites: "
                                f"{', '.join(sites)}")

    # -- the gateway's own tools ----------------------------------------------------------------------------
    def auth_status(self, principal: Principal, _: dict[str, Any]) -> dict[str, Any]:
        return {"who": principal.actor, "kind": principal.kind, "group": principal.group.code if principal.group else None,
                "roles": sorted(principal.caller.roles), "sites": sorted(principal.caller.sites),
                "active_site": self.active_site(principal), "client_id": principal.client_id,
                "expires_at": principal.expires_at.isoformat() + "Z" if principal.expires_at else None,
                "tools": len(exposed(self.bridge, principal))}

    def list_sites(self, principal: Principal, _: dict[str, Any]) -> dict[str, Any]:
        active = self.active_site(principal)
        with self.store.read() as s:
            names = {row.id: row.name for row in s.execute(
                select(ConsoleSite.id, ConsoleSite.name).where(ConsoleSite.id.in_(sorted(principal.caller.sites))))}
        return {"sites": [{"site": site, "name": names.get(site, site), "active": site == active}
                          for site in sorted(principal.caller.sites)], "active_site": active}

    def select_site(self, principal: Principal, arguments: dict[str, Any]) -> dict[str, Any]:
        site = arguments.get("site")
        if not isinstance(site, str) or not site.strip():
            raise ValidationFailed("select_site needs `site`, one of your sites")
        site = site.strip().lower()
        if site not in principal.caller.sites:
            raise SiteScopeRequired(f"site {site[:16]!r} is outside your scope; your sites: "
                                    f"{', '.join(sorted(principal.caller.sites))}")
        with self.store.write() as s:
            s.merge(ActiveSite(principal=principal.state_key, site=site, updated_at=utcnow()))
        return {"active_site": site}

    def get_operation(self, principal: Principal, arguments: dict[str, Any]) -> dict[str, Any]:
        op_id = arguments.get("operation_id")
        if isinstance(op_id, str) and op_id.strip().lstrip("#").isdigit():
            op_id = int(op_id.strip().lstrip("#"))
        if not isinstance(op_id, int) or isinstance(op_id, bool) or op_id < 1:
            raise ValidationFailed("get_operation needs `operation_id`, the number CONFIRMATION_REQUIRED named")
        try:
            op = self.bridge.gate.get(op_id)
        except NotFound:
            op = None
        if op is None or op.site not in principal.caller.sites:  # another site's operation does not exist for you
            raise NotFound(f"no operation #{op_id} on your sites")
        return {"operation_id": op.id, "status": op.status, "site": op.site, "tool": f"{op.server}__{op.tool}",
                "arguments": op.arguments, "summary": op.summary, "proposer": op.proposer,
                "created_at": op.created_at.isoformat() + "Z", "expires_at": op.expires_at.isoformat() + "Z",
                "decided_by": op.decided_by, "decided_at": op.decided_at.isoformat() + "Z" if op.decided_at else None,
                "decision_reason": op.decision_reason, "result": op.result}


def _ok(data: dict[str, Any]) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=json.dumps(data, default=str))],
                                structured_content=data)


def _error(code: str, text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True,
                                structured_content={"code": code, "message": text.partition(": ")[2] or text})


def _result(outcome: ToolOutcome) -> types.CallToolResult:
    if outcome.status == "pending":
        data = outcome.structured or {}
        text = (f"CONFIRMATION_REQUIRED: operation #{outcome.operation_id} waits for a person's approval in the "
                f"console ({outcome.text.partition('(')[2].rstrip(')') or outcome.tool}); nothing has changed yet. "
                f"Poll it with get_operation(operation_id={outcome.operation_id}).")
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True,
                                    structured_content={"code": "CONFIRMATION_REQUIRED",
                                                        "operation_id": outcome.operation_id,
                                                        "status": data.get("status", "pending"),
                                                        "already_waiting": bool(data.get("already_waiting"))})
    if outcome.status == "error":
        return _error(outcome.code or "UPSTREAM_ERROR", outcome.text)
    content: list[Any] = [types.TextContent(type="text", text=outcome.text)]
    structured = outcome.structured if isinstance(outcome.structured, dict) else None
    return types.CallToolResult(content=content, structured_content=structured)
