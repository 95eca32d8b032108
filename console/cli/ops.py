"""`python -m console ops propose|list|show|approve|reject`: the approval queue from a terminal or a script."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from typing import Any

from console.approvals.evidence import evidence_summary
from console.approvals.operations import edit_line, source_label
from mcp_bridge.errors import ConsoleError, ValidationFailed

EXIT_ERROR = 2  # a refused or failed request (the message says which code)
EXIT_FAILED = 1  # the operation ran and the server answered with an error, or its outcome is unknown


def emit(data: Any, text: str, *, as_json: bool) -> None:
    print(json.dumps(data, default=str, indent=2, ensure_ascii=False) if as_json else text)


def guarded(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Run a command; a ConsoleError prints `CODE: message` (and a JSON error with --json) and exits 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except ConsoleError as exc:
            if getattr(args, "json", False):
                print(json.dumps({"error": {"code": exc.code, "message": exc.message}}))
            print(str(exc), file=sys.stderr)
            return EXIT_ERROR

    return run


def parse_json_args(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"--args is not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(value, dict):
        raise ValidationFailed("--args must be a JSON object, e.g. '{\"site\": \"us\", \"keyword_id\": 7, \"bid\": 1.2}'")
    return value


def operation_dict(op: Any) -> dict[str, Any]:
    return {**dataclasses.asdict(op), "summary": op.summary}


def operation_line(op: Any) -> str:
    who = f" by {op.decided_by}" if op.decided_by else ""
    tail = f" — {op.error_code}: {op.error}" if op.error else ""
    return f"#{op.id} [{op.status}{who}] {op.site} {op.summary} (proposed by {op.proposer}){tail}"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("ops", help="propose, list, show, approve and reject pending operations")
    ops = parser.add_subparsers(dest="ops_command", required=True)

    p = ops.add_parser("propose", help="propose a write; it waits in the approval queue")
    p.add_argument("--as", dest="user", required=True, help="email of the proposing user")
    p.add_argument("--site", required=True)
    p.add_argument("--tool", required=True, help="ads.update_bid or ads__update_bid")
    p.add_argument("--args", default="{}", help="JSON object of the tool's arguments (site is added)")
    p.add_argument("--reason")
    p.add_argument("--batch", help="batch id to group several proposals")
    p.set_defaults(run=guarded(propose))

    p = ops.add_parser("list", help="list operations, newest first")
    p.add_argument("--status")
    p.add_argument("--site")
    p.add_argument("--batch")
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(run=guarded(list_ops))

    p = ops.add_parser("show", help="show one operation with its preview and result")
    p.add_argument("id", type=int)
    p.set_defaults(run=guarded(show))

    p = ops.add_parser("approve", help="approve (optionally with edited arguments) and run it once")
    p.add_argument("id", type=int)
    p.add_argument("--as", dest="user", required=True)
    p.add_argument("--args", help="edited arguments (JSON object); limits are checked again")
    p.set_defaults(run=guarded(approve))

    p = ops.add_parser("reject", help="reject with a reason")
    p.add_argument("id", type=int)
    p.add_argument("--as", dest="user", required=True)
    p.add_argument("--reason", required=True)
    p.set_defaults(run=guarded(reject))

    p = ops.add_parser("expire", help="mark every proposed operation past its expiry as expired")
    p.set_defaults(run=guarded(expire))

    p = ops.add_parser("reconcile", help="settle operations left executing or unknown from the servers' ledgers")
    p.add_argument("id", type=int, nargs="?", help="only this operation (default: every one in doubt)")
    p.set_defaults(run=guarded(reconcile))

    p = ops.add_parser("resolve", help="an admin's verdict on an operation in doubt that no ledger can settle")
    p.add_argument("id", type=int)
    p.add_argument("--as", dest="user", required=True)
    p.add_argument("--status", required=True, choices=["succeeded", "failed"])
    p.add_argument("--reason", required=True, help="how you know, e.g. 'checked in Seller Central'")
    p.set_defaults(run=guarded(resolve))

    for name, sp in ops.choices.items():
        if name != "expire":
            sp.add_argument("--json", action="store_true", help="machine-readable output")


def _runtime():
    from console.runtime import Runtime

    return Runtime.create()


def propose(args: argparse.Namespace) -> int:
    from mcp_bridge.types import Source

    arguments = {**parse_json_args(args.args), "site": args.site}
    with _runtime() as rt:
        caller = rt.users.caller(args.user, "cli")
        outcome = rt.bridge.call(caller, args.tool, arguments, source=Source("cli", batch_id=args.batch, reason=args.reason))
        if outcome.status == "error":
            raise _error(outcome.code, outcome.text)
        op = rt.bridge.gate.get(outcome.operation_id) if outcome.operation_id else None
    data = {"status": outcome.status, "text": outcome.text, "operation_id": outcome.operation_id,
            "operation": operation_dict(op) if op else None, "structured": outcome.structured}
    emit(data, outcome.text, as_json=args.json)
    return 0


def _error(code: str | None, text: str) -> ConsoleError:
    from mcp_bridge.answers import ERRORS

    cls = ERRORS.get(code or "", ConsoleError)
    prefix = f"{code}: "
    return cls(text[len(prefix):] if text.startswith(prefix) else text)


def list_ops(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        ops = rt.bridge.gate.list(status=args.status, site=args.site, batch_id=args.batch, limit=args.limit)
    emit([operation_dict(op) for op in ops], "\n".join(operation_line(op) for op in ops) or "no operations",
         as_json=args.json)
    return 0


def show_text(op: Any) -> str:
    """`ops show` for people: the operation, its source and evidence, an edit as "approved as", then the details."""
    edited = edit_line(op)
    return "\n".join([operation_line(op), f"source: {source_label(op)}", f"evidence: {evidence_summary(op.evidence)}"]
                     + ([f"edited: {edited}"] if edited else [])
                     + [f"arguments: {json.dumps(op.arguments)}", f"preview: {json.dumps(op.preview, default=str)}",
                        f"expires: {op.expires_at:%Y-%m-%d %H:%M} UTC"]
                     + ([f"result: {json.dumps(op.result, default=str)}"] if op.result else []))


def show(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        op = rt.bridge.gate.get(args.id)
    emit({**operation_dict(op), "edited": edit_line(op)}, show_text(op), as_json=args.json)
    return 0


def approve(args: argparse.Namespace) -> int:
    edited = parse_json_args(args.args) if args.args else None
    with _runtime() as rt:
        caller = rt.users.caller(args.user, "cli")
        op = rt.bridge.gate.approve(args.id, caller, arguments=edited)
    emit(operation_dict(op), operation_line(op), as_json=args.json)
    return 0 if op.status == "succeeded" else EXIT_FAILED


def reject(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        caller = rt.users.caller(args.user, "cli")
        op = rt.bridge.gate.reject(args.id, caller, args.reason)
    emit(operation_dict(op), operation_line(op), as_json=args.json)
    return 0


def reconcile(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        gate = rt.bridge.gate
        if args.id is not None:
            ops = [gate.reconcile(args.id, actor="cli", channel="cli")]
        else:
            doubtful = gate.in_doubt()
            for op in doubtful:
                gate.reconcile(op.id, actor="cli", channel="cli")
            ops = [gate.get(op.id) for op in doubtful]
    still = [op for op in ops if op.status in ("executing", "unknown")]
    lines = [operation_line(op) for op in ops] or ["no operations in doubt"]
    if still:
        lines.append(f"{len(still)} still in doubt: the call may still be in flight (settled once its approval expires), "
                     "or its server keeps no ledger (`ops resolve ID --as ADMIN --status ... --reason ...`)")
    emit([operation_dict(op) for op in ops], "\n".join(lines), as_json=args.json)
    return 0


def resolve(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        op = rt.bridge.gate.resolve(args.id, rt.users.caller(args.user, "cli"), status=args.status, reason=args.reason)
    emit(operation_dict(op), operation_line(op), as_json=args.json)
    return 0


def expire(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        print(f"{rt.bridge.gate.expire_due()} operations expired")
    return 0
