"""`python -m console tools list|accept`: the pinned tool catalog, and accepting changed definitions (admins)."""

from __future__ import annotations

import argparse

from console.cli.ops import emit, guarded
from console.settings import Settings
from mcp_bridge.errors import PermissionDenied, ValidationFailed


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("tools", help="list the tool catalog; accept changed tool definitions (admin)")
    tools = parser.add_subparsers(dest="tools_command", required=True)
    listing = tools.add_parser("list", help="every tool with read/write and pin status")
    listing.add_argument("--changed", action="store_true", help="only tools blocked by a changed definition")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=guarded(list_tools))
    accept = tools.add_parser("accept", help="re-pin changed tools to their current definition (after review)")
    accept.add_argument("names", nargs="*", help="namespaced tool names, e.g. ads__update_bid")
    accept.add_argument("--all-changed", action="store_true", help="accept every changed definition")
    accept.add_argument("--as", dest="as_user", required=True, help="an admin's email (audited)")
    accept.add_argument("--json", action="store_true")
    accept.set_defaults(run=guarded(accept_tools))


def _runtime():
    from console.runtime import Runtime

    return Runtime.create(Settings(), start_bridge=True)


def list_tools(args: argparse.Namespace) -> int:
    runtime = _runtime()
    try:
        specs = [s for s in runtime.bridge.catalog.specs() if s.pinned_ok is False or not args.changed]
        rows = [{"name": s.name, "write": s.is_write, "pinned_ok": s.pinned_ok} for s in specs]
        text = "\n".join(f"{r['name']:40} {'write' if r['write'] else 'read ':5} "
                         f"{'ok' if r['pinned_ok'] else 'CHANGED — blocked until an admin accepts it'}" for r in rows)
        emit(rows, text or "no tools match", as_json=args.json)
        return 0
    finally:
        runtime.close()


def accept_tools(args: argparse.Namespace) -> int:
    runtime = _runtime()
    try:
        admin = runtime.users.caller(args.as_user, "cli")
        if "admin" not in admin.roles:
            raise PermissionDenied(f"{args.as_user} is not an admin; only admins accept changed tool definitions")
        catalog = runtime.bridge.catalog
        names = [s.name for s in catalog.specs() if not s.pinned_ok] if args.all_changed else args.names
        if not names:
            raise ValidationFailed("name the tools to accept, or pass --all-changed")
        accepted = [catalog.accept(name, args.as_user).name for name in names]
        emit({"accepted": accepted}, "\n".join(f"accepted {n}" for n in accepted), as_json=args.json)
        return 0
    finally:
        runtime.close()
