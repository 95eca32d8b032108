"""Tool groups: what an outside agent reaches at `/mcp/<code>` — its tools (each switched on or off, with its own
timeout), its sites, whether it may propose writes, and whether it is on at all. Kept in the console database and
read on every call, so a change takes effect on the next call of every gateway replica without a restart. Every
change is an audited admin action."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from console.gateway.models import GroupTool
from console.models import ConsoleSite
from mcp_bridge.audit import AuditLog
from mcp_bridge.errors import Conflict, NotFound, ValidationFailed
from mcp_bridge.store import Store, ToolGroup, utcnow

CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
TOOL = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
MIN_TIMEOUT_S, MAX_TIMEOUT_S = 0.1, 300.0


@dataclass(frozen=True)
class ToolSetting:
    tool: str
    enabled: bool = True
    timeout_s: float | None = None


@dataclass(frozen=True)
class Group:
    code: str
    name: str
    description: str
    sites: tuple[str, ...]
    writes: bool
    enabled: bool
    tools: tuple[ToolSetting, ...]
    created_by: str | None
    created_at: dt.datetime
    updated_at: dt.datetime | None

    def setting(self, tool: str) -> ToolSetting | None:
        return next((t for t in self.tools if t.tool == tool), None)

    @property
    def enabled_tools(self) -> frozenset[str]:
        return frozenset(t.tool for t in self.tools if t.enabled)


def tool_names(values: Sequence[str]) -> list[str]:
    """Tool names as the catalog spells them (`ads__list_campaigns`); `ads.list_campaigns` is accepted too."""
    names = []
    for value in values:
        name = value.strip().replace(".", "__", 1) if "__" not in value else value.strip()
        if not TOOL.match(name):
            raise ValidationFailed(f"{value[:80]!r} is not a tool name; use server__tool, e.g. ads__list_campaigns")
        if name not in names:
            names.append(name)
    return names


class ToolGroups:
    """Create, change and read tool groups; `known` (the catalog's names and which are writes) checks new tools."""

    def __init__(self, engine: Engine, audit: AuditLog) -> None:
        self.store, self.audit = Store(engine), audit

    # -- reading ------------------------------------------------------------------------------------------
    def get(self, code: str) -> Group | None:
        if not isinstance(code, str) or not CODE.match(code):
            return None
        with self.store.read() as s:
            row = s.get(ToolGroup, code)
            return None if row is None else _group(row, _settings(s, [code]).get(code, ()))

    def require(self, code: str) -> Group:
        group = self.get(code)
        if group is None:
            raise NotFound(f"no tool group {code!r}; list them with `python -m console groups list`")
        return group

    def list(self) -> list[Group]:
        with self.store.read() as s:
            rows = list(s.scalars(select(ToolGroup).order_by(ToolGroup.name)))
            settings = _settings(s, [r.name for r in rows])
            return [_group(row, settings.get(row.name, ())) for row in rows]

    # -- changing -----------------------------------------------------------------------------------------
    def create(self, code: str, *, tools: Sequence[str], sites: Sequence[str], writes: bool = False, name: str = "",
               description: str = "", actor: str, channel: str = "cli",
               known: dict[str, bool] | None = None) -> Group:
        if not isinstance(code, str) or not CODE.match(code):
            raise ValidationFailed(f"group code {str(code)[:80]!r}: 2-63 of a-z, 0-9 and '-', starting with a letter or "
                                   "digit (it is part of the URL /mcp/<code>)")
        names = tool_names(tools)
        if not names:
            raise ValidationFailed("a group needs at least one tool (--tools ads__list_campaigns,…)")
        self._check_tools(names, writes=writes, known=known)
        now = utcnow()
        with self.store.write() as s:
            site_list = _check_sites(s, sites)
            if s.get(ToolGroup, code) is not None:
                raise Conflict(f"a tool group {code!r} exists already")
            s.add(ToolGroup(name=code, title=name[:120] or code, description=description, patterns=names,
                            sites=site_list, writes=writes, enabled=True, created_by=actor, created_at=now,
                            updated_at=now))
            s.flush()
            s.add_all(GroupTool(group=code, tool=t, enabled=True, timeout_s=None) for t in names)
            self.audit.append("group_created", actor=actor, channel=channel, outcome="ok", session=s, detail={
                "group": code, "tools": names, "sites": site_list, "writes": writes})
        return self.require(code)

    def set_enabled(self, code: str, enabled: bool, *, actor: str, channel: str = "cli") -> Group:
        return self._change(code, actor, channel, "group_enabled" if enabled else "group_disabled", enabled=enabled)

    def update(self, code: str, *, actor: str, channel: str = "cli", name: str | None = None,
               description: str | None = None, sites: Sequence[str] | None = None, writes: bool | None = None,
               known: dict[str, bool] | None = None) -> Group:
        group = self.require(code)
        if writes is False:
            self._check_tools(sorted(group.enabled_tools), writes=False, known=known)
        changes = {k: v for k, v in {"title": name, "description": description, "writes": writes}.items()
                   if v is not None}
        return self._change(code, actor, channel, "group_changed", sites=sites, **changes)

    def set_tool(self, code: str, tool: str, *, actor: str, channel: str = "cli", enabled: bool | None = None,
                 timeout_s: float | None = None, clear_timeout: bool = False,
                 known: dict[str, bool] | None = None) -> Group:
        """Add a tool to the group, switch it on or off, or give it a timeout."""
        group = self.require(code)
        (name,) = tool_names([tool])
        if timeout_s is not None and not (MIN_TIMEOUT_S <= float(timeout_s) <= MAX_TIMEOUT_S):
            raise ValidationFailed(f"a tool's timeout is {MIN_TIMEOUT_S:g}-{MAX_TIMEOUT_S:g} s (got {timeout_s})")
        if group.setting(name) is None or enabled:
            self._check_tools([name], writes=group.writes, known=known)
        with self.store.write() as s:
            row = s.get(GroupTool, (code, name))
            if row is None:
                row = GroupTool(group=code, tool=name, enabled=True, timeout_s=None)
                s.add(row)
            if enabled is not None:
                row.enabled = enabled
            if timeout_s is not None or clear_timeout:
                row.timeout_s = None if clear_timeout else float(timeout_s)  # type: ignore[arg-type]
            group_row = s.get(ToolGroup, code)
            assert group_row is not None
            if name not in group_row.patterns:
                group_row.patterns = [*group_row.patterns, name]
            group_row.updated_at = utcnow()
            self.audit.append("group_tool_changed", actor=actor, channel=channel, tool=name, outcome="ok", session=s,
                              detail={"group": code, "enabled": row.enabled, "timeout_s": row.timeout_s})
        return self.require(code)

    def remove_tool(self, code: str, tool: str, *, actor: str, channel: str = "cli") -> Group:
        self.require(code)
        (name,) = tool_names([tool])
        with self.store.write() as s:
            s.execute(delete(GroupTool).where(GroupTool.group == code, GroupTool.tool == name))
            group_row = s.get(ToolGroup, code)
            assert group_row is not None
            group_row.patterns = [p for p in group_row.patterns if p != name]
            group_row.updated_at = utcnow()
            self.audit.append("group_tool_removed", actor=actor, channel=channel, tool=name, outcome="ok", session=s,
                              detail={"group": code})
        return self.require(code)

    def _change(self, code: str, actor: str, channel: str, event: str, *, sites: Sequence[str] | None = None,
                **values: object) -> Group:
        self.require(code)
        with self.store.write() as s:
            row = s.get(ToolGroup, code)
            assert row is not None
            if sites is not None:
                row.sites = _check_sites(s, sites)
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = utcnow()
            self.audit.append(event, actor=actor, channel=channel, outcome="ok", session=s, detail={
                "group": code, **({"sites": row.sites} if sites is not None else {}),
                **{k: v for k, v in values.items()}})
        return self.require(code)

    @staticmethod
    def _check_tools(names: Collection[str], *, writes: bool, known: dict[str, bool] | None) -> None:
        if known is None:
            return
        missing = sorted(n for n in names if n not in known)
        if missing:
            raise NotFound(f"no tool named {', '.join(missing[:5])} in the catalog; list them with "
                           "`python -m console tools list`")
        needs_writes = sorted(n for n in names if known[n])
        if needs_writes and not writes:
            raise ValidationFailed(f"{', '.join(needs_writes[:5])} propose changes: create the group with --writes, "
                                   "or leave them out")


def _check_sites(session: Session, sites: Sequence[str]) -> list[str]:
    wanted = sorted({s.strip().lower() for s in sites if s and s.strip()})
    if not wanted:
        raise ValidationFailed("a group needs at least one site (--sites us,de)")
    known = set(session.scalars(select(ConsoleSite.id)))
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise NotFound(f"no site {', '.join(unknown)}; the sites are {', '.join(sorted(known)) or 'none yet'}")
    return wanted


def _settings(session: Session, codes: list[str]) -> dict[str, tuple[ToolSetting, ...]]:
    if not codes:
        return {}
    rows = session.scalars(select(GroupTool).where(GroupTool.group.in_(codes))
                           .order_by(GroupTool.group, GroupTool.tool))
    found: dict[str, list[ToolSetting]] = {}
    for row in rows:
        found.setdefault(row.group, []).append(ToolSetting(row.tool, row.enabled, row.timeout_s))
    return {code: tuple(v) for code, v in found.items()}


def _group(row: ToolGroup, tools: tuple[ToolSetting, ...]) -> Group:
    return Group(code=row.name, name=row.title or row.name, description=row.description or "",
                 sites=tuple(row.sites or ()), writes=bool(row.writes), enabled=bool(row.enabled), tools=tools,
                 created_by=row.created_by, created_at=row.created_at, updated_at=row.updated_at)
