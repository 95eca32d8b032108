"""`python -m console groups …` and `keys …`: the gateway's tool groups and their API keys, from a terminal.

Every change names the admin making it (`--as`), checked against the user directory and audited under that name.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from console.cli.ops import guarded
from mcp_bridge.errors import PermissionDenied


def register(sub: argparse._SubParsersAction) -> None:
    groups = sub.add_parser("groups", help="tool groups of the gateway: create, list, enable, disable, tool")
    gsub = groups.add_subparsers(dest="groups_command", required=True)
    p = _admin(gsub.add_parser("create", help="create a tool group reachable at /mcp/<code>"))
    p.add_argument("code", help="the group's code, part of its URL (a-z, 0-9, -)")
    p.add_argument("--tools", required=True, help="comma-separated tool names, e.g. ads__list_campaigns,ads.update_bid")
    p.add_argument("--sites", required=True, help="comma-separated sites, e.g. us,de")
    p.add_argument("--writes", action="store_true", help="the group may propose changes (each waits for approval)")
    p.add_argument("--name", default="")
    p.add_argument("--description", default="")
    p.set_defaults(run=guarded(create_group))
    p = gsub.add_parser("list", help="list the tool groups with their tools and sites")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=guarded(list_groups))
    for name, enabled in (("enable", True), ("disable", False)):
        p = _admin(gsub.add_parser(name, help=f"{name} a group (takes effect on the next call)"))
        p.add_argument("code")
        p.set_defaults(run=guarded(set_group), enabled=enabled)
    p = _admin(gsub.add_parser("tool", help="add a tool to a group, switch it on or off, or set its timeout"))
    p.add_argument("code")
    p.add_argument("tool")
    state = p.add_mutually_exclusive_group()
    state.add_argument("--on", dest="enabled", action="store_const", const=True)
    state.add_argument("--off", dest="enabled", action="store_const", const=False)
    p.add_argument("--timeout", type=float, help="seconds the tool may take through this group")
    p.set_defaults(run=guarded(set_tool))

    keys = sub.add_parser("keys", help="API keys of tool groups: create, list, revoke, rotate")
    ksub = keys.add_subparsers(dest="keys_command", required=True)
    p = _admin(ksub.add_parser("create", help="create a key (printed once, stored only as a hash)"))
    p.add_argument("--group", required=True)
    p.add_argument("--label", required=True, help="who or what uses it, e.g. dify-prod")
    p.add_argument("--expires-days", type=float, default=365.0)
    p.set_defaults(run=guarded(create_key))
    p = ksub.add_parser("list", help="list keys (never the keys themselves)")
    p.add_argument("--group")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=guarded(list_keys))
    p = _admin(ksub.add_parser("revoke", help="revoke a key now"))
    p.add_argument("key_id", type=int)
    p.set_defaults(run=guarded(revoke_key))
    p = _admin(ksub.add_parser("rotate", help="a new key; the old one works for --grace-hours more"))
    p.add_argument("key_id", type=int)
    p.add_argument("--grace-hours", type=float, default=24.0)
    p.set_defaults(run=guarded(rotate_key))


def _admin(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--as", dest="user", required=True, help="email of the admin making the change (audited)")
    parser.add_argument("--json", action="store_true")
    return parser


def _runtime():
    from console.runtime import Runtime

    return Runtime.create()


def _services(rt: Any) -> tuple[Any, Any]:
    from console.gateway.groups import ToolGroups
    from console.gateway.keys import ApiKeys

    return ToolGroups(rt.engine, rt.bridge.audit), ApiKeys(rt.engine, rt.bridge.audit)


def _check_admin(rt: Any, user: str) -> str:
    admin = rt.users.caller(user, "cli")
    if not admin.has("admin"):
        raise PermissionDenied(f"{user} may not change the gateway: that needs the admin role")
    return admin.user


def _known(rt: Any) -> dict[str, bool]:
    """The catalog's tool names and which propose changes (starts the tool servers)."""
    return {spec.name: spec.is_write for spec in rt.bridge.catalog.specs()}


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def group_dict(group: Any) -> dict[str, Any]:
    return {"code": group.code, "name": group.name, "description": group.description, "sites": list(group.sites),
            "writes": group.writes, "enabled": group.enabled,
            "tools": [{"tool": t.tool, "enabled": t.enabled, "timeout_s": t.timeout_s} for t in group.tools]}


def _print_group(group: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(group_dict(group), indent=2))
        return
    on = sum(t.enabled for t in group.tools)
    print(f"{group.code} ({'enabled' if group.enabled else 'DISABLED'}): {group.name}; sites "
          f"{', '.join(group.sites) or '-'}; {'may propose writes' if group.writes else 'reads only'}; "
          f"{on} of {len(group.tools)} tools on")
    for t in group.tools:
        timeout = f", timeout {t.timeout_s:g}s" if t.timeout_s else ""
        print(f"  {'on ' if t.enabled else 'off'} {t.tool}{timeout}")


def create_group(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        actor = _check_admin(rt, args.user)
        groups, _ = _services(rt)
        group = groups.create(args.code, tools=_split(args.tools), sites=_split(args.sites), writes=args.writes,
                              name=args.name, description=args.description, actor=actor, known=_known(rt))
    _print_group(group, args.json)
    return 0


def list_groups(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        groups, _ = _services(rt)
        found = groups.list()
    if args.json:
        print(json.dumps([group_dict(g) for g in found], indent=2))
    elif not found:
        print("no tool groups; create one with `python -m console groups create CODE --tools … --sites … --as ADMIN`")
    for group in [] if args.json else found:
        _print_group(group, False)
    return 0


def set_group(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        actor = _check_admin(rt, args.user)
        groups, _ = _services(rt)
        group = groups.set_enabled(args.code, args.enabled, actor=actor)
    _print_group(group, args.json)
    return 0


def set_tool(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        actor = _check_admin(rt, args.user)
        groups, _ = _services(rt)
        group = groups.set_tool(args.code, args.tool, actor=actor, enabled=args.enabled, timeout_s=args.timeout,
                                known=_known(rt) if args.enabled is not False else None)
    _print_group(group, args.json)
    return 0


def key_dict(info: Any) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() + "Z" if value else None

    return {"id": info.id, "group": info.group, "label": info.label, "shown": info.shown, "state": info.state(),
            "created_by": info.created_by, "created_at": iso(info.created_at), "last_used_at": iso(info.last_used_at),
            "expires_at": iso(info.expires_at), "revoked_at": iso(info.revoked_at), "replaced_by": info.replaced_by,
            "stale": info.stale()}


def _print_new_key(new: Any, as_json: bool, grace: str = "") -> None:
    if as_json:
        print(json.dumps({**key_dict(new.info), "key": new.secret}, indent=2))
        return
    print(f"API key #{new.info.id} for group {new.info.group} ({new.info.label}){grace}:")
    print(new.secret)
    print("This is the only time the key is shown; it is stored as a hash. Send it as `Authorization: Bearer <key>` "
          f"to /mcp/{new.info.group}.")


def create_key(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        actor = _check_admin(rt, args.user)
        _, keys = _services(rt)
        new = keys.create(args.group, label=args.label, actor=actor, expires_in_days=args.expires_days)
    _print_new_key(new, args.json)
    return 0


def list_keys(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        _, keys = _services(rt)
        found = keys.list(args.group)
    if args.json:
        print(json.dumps([key_dict(k) for k in found], indent=2))
        return 0
    if not found:
        print("no API keys; create one with `python -m console keys create --group CODE --label L --as ADMIN`")
    for k in found:
        used = f"last used {k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "never used"
        expires = f"expires {k.expires_at:%Y-%m-%d}" if k.expires_at else "no expiry"
        flag = "  ROTATE: older than 90 days" if k.stale() else ""
        print(f"#{k.id} {k.group}/{k.label} {k.shown}… {k.state()}; created {k.created_at:%Y-%m-%d} by "
              f"{k.created_by}; {used}; {expires}{flag}")
    return 0


def revoke_key(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        actor = _check_admin(rt, args.user)
        _, keys = _services(rt)
        info = keys.revoke(args.key_id, actor=actor)
    print(json.dumps(key_dict(info), indent=2) if args.json else f"API key #{info.id} ({info.label}) revoked")
    return 0


def rotate_key(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        actor = _check_admin(rt, args.user)
        _, keys = _services(rt)
        new = keys.rotate(args.key_id, actor=actor, grace_hours=args.grace_hours)
    _print_new_key(new, args.json, f", replacing #{args.key_id} (which works for {args.grace_hours:g} h more)")
    return 0
