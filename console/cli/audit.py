"""`python -m console audit verify|export`: check the hash chain; export rows as JSON lines or CSV."""

from __future__ import annotations

import argparse
import sys

from console.cli.ops import guarded


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("audit", help="verify or export the audit log")
    audit = parser.add_subparsers(dest="audit_command", required=True)
    audit.add_parser("verify", help="exit 0 when the chain holds, 1 with the first bad row otherwise").set_defaults(
        run=guarded(verify))
    p = audit.add_parser("export", help="write the audit rows, oldest first")
    p.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    p.add_argument("--output", "-o", help="file to write (default: standard output)")
    p.add_argument("--user", help="only rows of this actor")
    p.add_argument("--site")
    p.add_argument("--tool")
    p.add_argument("--event")
    p.set_defaults(run=guarded(export))


def _runtime():
    from console.runtime import Runtime

    return Runtime.create()


def verify(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        result = rt.bridge.audit.verify()
    if result.ok:
        print(f"audit chain ok: {result.checked} rows")
        return 0
    print(f"audit chain BROKEN at row {result.first_bad_id}: {result.reason} ({result.checked} rows checked before it)")
    return 1


def export(args: argparse.Namespace) -> int:
    filters = {k: v for k, v in (("actor", args.user), ("site", args.site), ("tool", args.tool), ("event", args.event)) if v}
    with _runtime() as rt:
        if args.output:
            with open(args.output, "w", newline="", encoding="utf-8") as fp:
                count = rt.bridge.audit.export(args.format, fp, **filters)
            print(f"{count} rows written to {args.output}", file=sys.stderr)
        else:
            rt.bridge.audit.export(args.format, sys.stdout, **filters)
    return 0
