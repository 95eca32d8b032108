"""`python -m console users seed-demo|list|create|grant|revoke`: the user directory from a terminal."""

from __future__ import annotations

import argparse
import getpass
import json

from console.cli.ops import guarded


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("users", help="seed, list, create, grant and revoke users")
    users = parser.add_subparsers(dest="users_command", required=True)
    users.add_parser("seed-demo", help="create the demo sites and users (idempotent)").set_defaults(run=guarded(seed_demo))
    p = users.add_parser("list", help="list users with their roles and sites")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=guarded(list_users))
    p = users.add_parser("create", help="create a user holding each --role on each --site")
    p.add_argument("email")
    p.add_argument("--name", default="")
    p.add_argument("--role", action="append", default=[])
    p.add_argument("--site", action="append", default=[])
    p.set_defaults(run=guarded(create))
    for name, fn, role_help, site_help in (
        ("grant", grant, "the role to grant: on --site, or on every site of the user without one",
         "the site: with --role, where the role is held (added to the scope); alone, added to the scope"),
        ("revoke", revoke, "the role to revoke: on --site, or on every site without one",
         "the site: with --role, where the role is revoked; alone, the site and every role held on it"),
    ):
        p = users.add_parser(name, help=f"{name} a role on a site (`--role approver --site us`), or a site")
        p.add_argument("email")
        p.add_argument("--role", help=role_help)
        p.add_argument("--site", help=site_help)
        p.set_defaults(run=guarded(fn))


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _runtime():
    from console.runtime import Runtime

    return Runtime.create()


def _line(info) -> str:
    state = "" if info.active else " (inactive)"
    return f"{info.email}{state}: roles {', '.join(sorted(info.roles)) or '-'}; sites {', '.join(sorted(info.sites)) or '-'}"


def _per_site(info) -> str:
    """`  us: approver; jp: seller; every site: admin` — who holds what where."""
    parts = [f"{site}: {', '.join(sorted(roles)) or 'no role'}" for site, roles in sorted(info.site_roles.items())]
    if info.everywhere:
        parts.append(f"every site: {', '.join(sorted(info.everywhere))}")
    return "  " + ("; ".join(parts) or "no roles, no sites")


def seed_demo(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        created = rt.users.seed_demo()
    print(f"demo users ready ({created} created)")
    return 0


def list_users(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        users = rt.users.list()
    if args.json:
        print(json.dumps([{"email": u.email, "name": u.name, "active": u.active, "roles": sorted(u.roles),
                           "sites": sorted(u.sites), "every_site": sorted(u.everywhere),
                           "site_roles": {site: sorted(roles) for site, roles in sorted(u.site_roles.items())}}
                          for u in users], indent=2))
    else:
        print("\n".join(f"{_line(u)}\n{_per_site(u)}" for u in users) or "no users; run `python -m console users seed-demo`")
    return 0


def create(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        info = rt.users.create(args.email, name=args.name, roles=tuple(args.role), sites=tuple(args.site), actor=_actor())
    print(_line(info))
    return 0


def grant(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        info = rt.users.grant(args.email, role=args.role, site=args.site, actor=_actor())
    print(_line(info))
    return 0


def revoke(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        info = rt.users.revoke(args.email, role=args.role, site=args.site, actor=_actor())
    print(_line(info))
    return 0
