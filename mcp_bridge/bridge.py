"""The facade everyone uses: scope and role checks, reads through the pool, writes through the gate, all audited."""

from __future__ import annotations

import json
import logging
import time
from functools import partial
from typing import Any

from sqlalchemy import Engine

from mcp_bridge import audit_rows, errors
from mcp_bridge.audit import AuditLog
from mcp_bridge.call_log import CallLog
from mcp_bridge.catalog import visible_to
from mcp_bridge.errors import ConsoleError, PermissionDenied, SiteScopeRequired
from mcp_bridge.gate import Gate
from mcp_bridge.store import Store
from mcp_bridge.tokens import business_arguments, sign_pii_grant
from mcp_bridge.types import BridgeConfig, Caller, Source, ToolOutcome, ToolSpec

log = logging.getLogger(__name__)
ERRORS: dict[str, type[ConsoleError]] = {
    cls.code: cls for cls in (errors.AuthRequired, errors.PermissionDenied, errors.SiteScopeRequired, errors.NotFound,
                              errors.ValidationFailed, errors.ConfirmationRequired, errors.Conflict, errors.UpstreamError)
}
PII_ROLES = frozenset({"admin", "manager"})


def tool_name(name: str) -> str:
    """`ads.update_bid` and `ads__update_bid` both name the same tool; the catalog uses the latter."""
    return name.replace(".", "__", 1) if "__" not in name else name


def result_text(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in (result.content or []) if getattr(block, "text", None))


def error_from_result(result: Any, where: str) -> ConsoleError:
    """The coded error a server answered (`CODE: message`); uncoded text counts as UPSTREAM_ERROR."""
    text = result_text(result) or f"{where} failed without a message"
    code, _, message = text.partition(": ")
    cls = ERRORS.get(code)
    return cls(message) if cls else errors.UpstreamError(f"{where}: {text}")


def structured(result: Any, where: str) -> dict[str, Any]:
    data = getattr(result, "structured_content", None)
    if data is None:
        try:
            data = json.loads(result_text(result))
        except ValueError:
            raise errors.UpstreamError(f"{where} answered without structured content") from None
    return data


class Bridge:
    """Sessions, catalog, gate and audit behind one object; one per process."""

    def __init__(self, engine: Engine, config: BridgeConfig, *, pool: Any = None, catalog: Any = None) -> None:
        self.engine, self.config = engine, config
        self.store = Store(engine)
        self.audit = AuditLog(engine)
        self.calls = CallLog(self.audit)
        self._pool, self._catalog = pool, catalog
        self.gate = Gate(self.store, self.audit, config, runner=self)

    def start(self) -> Bridge:
        if self._pool is None:
            from mcp_bridge.sessions import SessionPool

            self._pool = SessionPool(self.config)
            self._pool.start()
        if self._catalog is None:
            from mcp_bridge.catalog import Catalog

            self._catalog = Catalog(self._pool, self.engine, self.config, audit=self.audit)
        return self

    @property
    def pool(self) -> Any:
        return self._pool if self._pool is not None else self.start()._pool

    @property
    def catalog(self) -> Any:
        return self._catalog if self._catalog is not None else self.start()._catalog

    def close(self) -> None:
        self.calls.close()
        if self._pool is not None:
            self._pool.close()
            self._pool = None
            self._catalog = None

    # -- the one entry point for tool calls ------------------------------------------------------------------
    def call(self, caller: Caller, name: str, arguments: dict[str, Any], *, source: Source) -> ToolOutcome:
        """Run a read, or turn a write into a pending operation; never raises for a refused or failed call."""
        name, started = tool_name(name), time.perf_counter()
        args = business_arguments(arguments or {})
        try:
            spec = self._authorize(caller, name, args)
            if spec.is_write:
                op = self.gate.propose(caller, spec.server, spec.tool, args, source=source)  # audited as `proposed`
                return ToolOutcome(name, "pending", f"pending approval #{op.id} ({op.summary})",
                                   structured={"operation_id": op.id, "status": op.status, "preview": op.preview},
                                   operation_id=op.id, batch_id=op.batch_id, duration_ms=_ms(started))
            return self._read(caller, spec, args, started, source)
        except ConsoleError as exc:
            outcome = ToolOutcome(name, "error", str(exc), code=exc.code, duration_ms=_ms(started))
        except _AuditFailed as failed:  # the read's request row could not be written
            return _withheld(name, started, failed.__cause__ or failed)
        try:
            self.calls.append(_call_row(caller, name, args, source, outcome))
        except Exception as exc:
            return _withheld(name, started, exc)
        return outcome

    def _authorize(self, caller: Caller, name: str, args: dict[str, Any]) -> ToolSpec:
        site = args.get("site")
        if not caller.may_see(site if isinstance(site, str) else None):
            mine = ", ".join(sorted(caller.sites)) or "none"
            what = f"site {site!r} is outside your scope" if site else "a site is required"
            raise SiteScopeRequired(f"{what}; your sites: {mine}")
        spec = self.catalog.get(name)
        if not spec.pinned_ok:  # still blocked? (an admin may have accepted it in another process)
            spec = self.catalog.recheck(name)
        if not spec.pinned_ok:
            raise PermissionDenied(f"{name} changed its definition since it was pinned; an admin must accept it first")
        if not visible_to(caller, spec):
            raise PermissionDenied(f"{caller.user} ({', '.join(sorted(caller.roles)) or 'no roles'}) may not use {name}")
        return spec

    def _read(self, caller: Caller, spec: ToolSpec, args: dict[str, Any], started: float,
              source: Source) -> ToolOutcome:
        """The read's outcome. Its request row is written while the server works, and the answer waits for it."""
        props = (spec.input_schema or {}).get("properties", {})
        sent = args
        if "pii_grant" in props and PII_ROLES & caller.roles:
            sent = {**args, "pii_grant": sign_pii_grant(self.config.approval_secret, site=args["site"], subject=caller.user)}
        written: list[Any] = []  # what writing the request row gave: its Appended, None (would wait), an error

        def write_request(append: Any) -> None:
            try:
                written.append(append(_call_row(caller, spec.name, args, source)))
            except Exception as exc:
                written.append(exc)

        # SQLite: on the pool's loop thread, right after the request left, never waiting. PostgreSQL: its round
        # trips must not stall the loop, so this thread writes the row while the server works.
        local = self.audit.local
        pending = self.pool.submit(spec.server, spec.tool, sent, timeout=self.config.call_timeout_s, retry=True,
                                   meanwhile=partial(write_request, self.calls.try_append) if local else None)
        if not local:
            write_request(self.calls.append)
        try:
            result = pending.result()
        except ConsoleError as exc:
            outcome = ToolOutcome(spec.name, "error", str(exc), code=exc.code, duration_ms=_ms(started))
        else:
            if result.is_error:
                error = error_from_result(result, spec.name)
                outcome = ToolOutcome(spec.name, "error", str(error), code=error.code, duration_ms=_ms(started))
            else:
                outcome = ToolOutcome(spec.name, "ok", result_text(result), structured=result.structured_content,
                                      duration_ms=_ms(started))
        request = written[0] if written else None
        if isinstance(request, Exception):
            raise _AuditFailed from request
        if request is None:  # not written yet: the call was never sent, or writing would have waited on the loop
            try:
                request = self.calls.append(_call_row(caller, spec.name, args, source))
            except Exception as exc:
                raise _AuditFailed from exc
        self.calls.later(partial(_result_row, caller, spec.name, args.get("site"), request.id, outcome, source))
        return outcome

    # -- WriteRunner: how the gate reaches the servers ---------------------------------------------------------
    def prepare(self) -> None:
        self.start()

    def dry_run(self, server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = self.pool.call(server, tool, {**arguments, "dry_run": True}, timeout=self.config.call_timeout_s, retry=True)
        if result.is_error:
            raise error_from_result(result, f"{server}__{tool}")
        return structured(result, f"{server}__{tool}")

    def execute(self, server: str, tool: str, arguments: dict[str, Any], control: dict[str, Any]) -> dict[str, Any]:
        # Never retried: a write whose outcome is unknown is left for a person to reconcile.
        result = self.pool.call(server, tool, {**arguments, **control}, timeout=self.config.call_timeout_s, retry=False)
        if result.is_error:
            raise error_from_result(result, f"{server}__{tool}")
        return structured(result, f"{server}__{tool}")


class _AuditFailed(Exception):
    """A read's request row could not be written: its result must not reach the caller."""


def _call_row(caller: Caller, name: str, args: dict[str, Any], source: Source,
              outcome: ToolOutcome | None = None) -> audit_rows.Entry:
    """A `tool_call` row: a read's request (its result follows in a `tool_result` row), or a call refused here."""
    detail: dict[str, Any] = {"source": source.kind, "source_ref": source.ref}
    if outcome is None:
        return audit_rows.entry("tool_call", actor=caller.user, channel=caller.channel, site=args.get("site"),
                                tool=name, arguments=args, outcome="requested", detail=detail)
    if outcome.code:
        detail["error"] = outcome.text
    return audit_rows.entry("tool_call", actor=caller.user, channel=caller.channel, site=args.get("site"), tool=name,
                            arguments=args, outcome=outcome.code or outcome.status, detail=detail,
                            duration_ms=outcome.duration_ms, result_size=len(outcome.text))


def _result_row(caller: Caller, name: str, site: Any, call_id: int, outcome: ToolOutcome, source: Source) -> audit_rows.Entry:
    """The `tool_result` row of the read whose request is row `call_id` (built when it is written)."""
    detail: dict[str, Any] = {"call": call_id, "source": source.kind, "source_ref": source.ref}
    if outcome.code:
        detail["error"] = outcome.text
    return audit_rows.entry("tool_result", actor=caller.user, channel=caller.channel, site=site, tool=name,
                            outcome=outcome.code or outcome.status, detail=detail, duration_ms=outcome.duration_ms,
                            result_size=len(outcome.text))


def _withheld(name: str, started: float, exc: BaseException) -> ToolOutcome:
    # No audit row, no answer: the caller gets an error instead of the data.
    log.error("audit append failed for %s", name, exc_info=exc)
    return ToolOutcome(name, "error", "UPSTREAM_ERROR: the audit log could not be written, so the result is "
                       "withheld; try again or tell an admin", code="UPSTREAM_ERROR", duration_ms=_ms(started))


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
