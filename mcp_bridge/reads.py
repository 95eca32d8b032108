"""The read path, top to bottom: (authorised by the facade) → audit the request → call → audit the result.

The request row is written while the server works (on the pool's loop thread on SQLite, on the caller's thread on
PostgreSQL) and the answer waits for it: no row, no answer. The result row follows within 50 ms (`CallLog`).
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from mcp_bridge import errors
from mcp_bridge.answers import elapsed_ms, error_from_result, result_text
from mcp_bridge.audit import rows as audit_rows
from mcp_bridge.errors import ConsoleError
from mcp_bridge.gate import sign_pii_grant
from mcp_bridge.types import Caller, Source, ToolOutcome, ToolSpec

log = logging.getLogger(__name__)
PII_ROLES = frozenset({"admin", "manager"})


class Reads:
    """Runs reads for the facade (it owns the pool, the call log and the keyring this uses)."""

    def __init__(self, bridge: Any) -> None:
        self.bridge = bridge

    def run(self, caller: Caller, spec: ToolSpec, args: dict[str, Any], started: float, source: Source, *,
            timeout_s: float | None = None) -> ToolOutcome:
        """The read's outcome. Its request row is written while the server works, and the answer waits for it."""
        props = (spec.input_schema or {}).get("properties", {})
        sent = args
        if "pii_grant" in props and PII_ROLES & caller.roles_on(args["site"]):
            sent = {**args, "pii_grant": sign_pii_grant(self.bridge.keyring, audience=spec.server, site=args["site"],
                                                        subject=caller.user)}
        written: list[Any] = []  # what writing the request row gave: its Appended, None (would wait), an error

        def write_request(append: Any) -> None:
            try:
                written.append(append(call_row(caller, spec.name, args, source)))
            except Exception as exc:
                written.append(exc)

        # SQLite: on the pool's loop thread, right after the request left, never waiting. PostgreSQL: its round
        # trips must not stall the loop, so this thread writes the row while the server works.
        bridge, local = self.bridge, self.bridge.audit.local
        pending = bridge.pool.submit(spec.server, spec.tool, sent, timeout=timeout_s or bridge.config.call_timeout_s, retry=True,
                                     meanwhile=partial(write_request, bridge.calls.try_append) if local else None)
        if not local:
            write_request(bridge.calls.append)
        try:
            result = pending.result()
        except ConsoleError as exc:
            outcome = ToolOutcome(spec.name, "error", str(exc), code=exc.code, duration_ms=elapsed_ms(started))
        else:
            if result.is_error:
                error = error_from_result(result, spec.name)
                outcome = ToolOutcome(spec.name, "error", str(error), code=error.code, duration_ms=elapsed_ms(started))
            else:
                outcome = ToolOutcome(spec.name, "ok", result_text(result), structured=result.structured_content,
                                      duration_ms=elapsed_ms(started))
        request = written[0] if written else None
        if isinstance(request, Exception):
            raise AuditFailed from request
        if request is None:  # not written yet: the call was never sent, or writing would have waited on the loop
            try:
                request = self.bridge.calls.append(call_row(caller, spec.name, args, source))
            except Exception as exc:
                raise AuditFailed from exc
        self.bridge.calls.later(partial(result_row, caller, spec.name, args.get("site"), request.id, outcome, source))
        return outcome


class AuditFailed(Exception):
    """A read's request row could not be written: its result must not reach the caller."""


def call_row(caller: Caller, name: str, args: dict[str, Any], source: Source,
              outcome: ToolOutcome | None = None) -> audit_rows.Entry:
    """A `tool_call` row: a read's request (its result follows in a `tool_result` row), or a call refused here."""
    detail: dict[str, Any] = {"source": source.kind, "source_ref": source.ref}
    if outcome is None:
        return audit_rows.entry("tool_call", actor=caller.user, channel=caller.channel, site=row_site(args),
                                tool=name, arguments=args, outcome="requested", detail=detail)
    if outcome.code:
        detail["error"] = outcome.text
    return audit_rows.entry("tool_call", actor=caller.user, channel=caller.channel, site=row_site(args), tool=name[:128],
                            arguments=args, outcome=outcome.code or outcome.status, detail=detail,
                            duration_ms=outcome.duration_ms, result_size=len(outcome.text))


def row_site(args: dict[str, Any]) -> str | None:
    """The site column of a row: only a plausible site (a refused call's odd `site` stays in its arguments)."""
    site = args.get("site")
    return site if isinstance(site, str) and len(site) <= 16 else None


def result_row(caller: Caller, name: str, site: Any, call_id: int, outcome: ToolOutcome, source: Source) -> audit_rows.Entry:
    """The `tool_result` row of the read whose request is row `call_id` (built when it is written)."""
    detail: dict[str, Any] = {"call": call_id, "source": source.kind, "source_ref": source.ref}
    if outcome.code:
        detail["error"] = outcome.text
    return audit_rows.entry("tool_result", actor=caller.user, channel=caller.channel, site=site, tool=name,
                            outcome=outcome.code or outcome.status, detail=detail, duration_ms=outcome.duration_ms,
                            result_size=len(outcome.text))


def withheld(name: str, started: float, exc: BaseException) -> ToolOutcome:
    # No audit row, no answer: the caller gets an error instead of the data.
    log.error("audit append failed for %s", name, exc_info=exc)
    trouble = errors.database_trouble(exc)
    why = f" ({trouble.message.split(';')[0].removeprefix('the ')})" if trouble else ""
    return ToolOutcome(name, "error", f"UPSTREAM_ERROR: the audit log could not be written{why}, so the result is "
                       "withheld; try again or tell an admin", code="UPSTREAM_ERROR", duration_ms=elapsed_ms(started))


