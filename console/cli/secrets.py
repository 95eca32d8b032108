"""`python -m console secrets service-credential NAME`: the keys shared by the console and the bundled servers."""

from __future__ import annotations

import argparse
import datetime as dt
import re

from console.cli.ops import guarded
from console.settings import Settings
from mcp_bridge.errors import PermissionDenied, ValidationFailed
from mcp_bridge.keys import ROTATE_AFTER_DAYS, Keyring, key_status

SERVER_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("secrets", help="service credentials (and keys) shared with the bundled servers")
    secrets = parser.add_subparsers(dest="secrets_command", required=True)
    credential = secrets.add_parser(
        "service-credential", help="print the bearer a bundled server over HTTP accepts (for another MCP client)")
    credential.add_argument("server", help="the server's name as the servers know it: ads, commerce or analytics")
    credential.set_defaults(run=guarded(service_credential))
    rotate = secrets.add_parser("rotate", help="add a new signing key; the keys in force keep verifying for a grace period")
    rotate.add_argument("--as", dest="user", required=True, help="email of the admin rotating the key (audited)")
    rotate.add_argument("--grace-hours", type=float, default=24.0,
                        help="how long the current keys still verify (default 24; tokens live minutes)")
    rotate.set_defaults(run=guarded(rotate_keys))
    keys = secrets.add_parser("keys", help="list the approval keys: id, age, retirement (never the key itself)")
    keys.set_defaults(run=guarded(list_keys))


def service_credential(args: argparse.Namespace) -> int:
    if not SERVER_NAME.fullmatch(args.server):
        raise ValidationFailed(f"{args.server[:80]!r} is not a server name (letters, digits, '_' and '-')")
    settings = Settings()
    # Made with the key that signs now: after `secrets rotate` it changes, and the old one stops working when the
    # grace period ends.
    print(Keyring(settings.approval_secret.get_secret_value(), settings.keyring).service_credential(args.server))
    return 0


def rotate_keys(args: argparse.Namespace) -> int:
    from console.runtime import Runtime

    if not 0 <= args.grace_hours <= 24 * 30:
        raise ValidationFailed("--grace-hours must be between 0 and 720")
    with Runtime.create() as rt:
        admin = rt.users.caller(args.user, "cli")
        if not admin.has("admin"):
            raise PermissionDenied(f"{args.user} may not rotate keys: that needs the admin role")
        settings = rt.settings
        if not settings.keyring:
            raise ValidationFailed("CONSOLE_KEYRING is empty: set it to the keyring file the console and servers share")
        keyring = Keyring(settings.approval_secret.get_secret_value(), settings.keyring)
        grace = dt.timedelta(hours=args.grace_hours)
        key = keyring.rotate(grace=grace)
        rt.bridge.audit.append("key_rotated", actor=admin.user, channel="cli", outcome="ok",
                               detail={"kid": key.kid, "grace_hours": args.grace_hours,
                                       "retiring": [k.kid for k in keyring.entries() if k.kid != key.kid]})
    print(f"new signing key {key.kid} in {settings.keyring}; the previous keys verify until "
          f"{(key.created + grace):%Y-%m-%d %H:%M} UTC. Servers on other machines need this file too.")
    return 0


def list_keys(args: argparse.Namespace) -> int:
    settings = Settings()
    keyring = Keyring(settings.approval_secret.get_secret_value(), settings.keyring or None)
    for key in key_status(keyring):
        age = "age unknown" if key.age_days is None else f"{key.age_days:.0f} days old"
        state = "signs" if key.signing else ("verifies" if key.in_force else "retired")
        until = f" until {key.retires:%Y-%m-%d %H:%M} UTC" if key.retires else ""
        flag = f"  ROTATE: older than {ROTATE_AFTER_DAYS} days" if key.stale else ""
        print(f"{key.kid:<16} {key.source:<4} {state}{until}, {age}{flag}")
    return 0
