"""The approval gate: writes become pending operations and run exactly once, after a person approves them."""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import replace
from typing import Any, Protocol

from sqlalchemy import func, select, update

from mcp_bridge.audit import AuditLog
from mcp_bridge.catalog import check, check_edit, load_policy, today_bid_increase
from mcp_bridge.catalog.intents import intent_of
from mcp_bridge.errors import (
    Conflict,
    ConsoleError,
    DatabaseUnavailable,
    NotFound,
    PermissionDenied,
    UpstreamError,
    ValidationFailed,
)
from mcp_bridge.gate.proposals import file_operation, identical, note_duplicate, waiting
from mcp_bridge.gate.tokens import business_arguments, new_nonce
from mcp_bridge.scrub import scrub_text
from mcp_bridge.store import OperationRow, Store, utcnow
from mcp_bridge.types import BatchItem, BridgeConfig, Caller, Operation, Source

log = logging.getLogger(__name__)
ACTIVE = ("proposed",)
DONE_VERBS = {"executing": "approved", "succeeded": "approved", "failed": "approved", "unknown": "approved",
              "approved": "approved", "rejected": "rejected", "expired": "expired"}


class WriteRunner(Protocol):
    """How the gate reaches a server: a preview, the one real call, and the ledger's answer about a nonce."""

    def dry_run(self, server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]: ...

    def execute(self, server: str, tool: str, arguments: dict[str, Any], *, operation_id: int, nonce: str,
                expires: dt.datetime, expected_before: dict[str, Any] | None) -> dict[str, Any]: ...

    def write_status(self, server: str, site: str, nonce: str) -> dict[str, Any] | None:
        """The server's ledger entry for a nonce (`state` applied, refused or unknown); None if it keeps none."""

    def prepare(self) -> None:
        """Make sure the server can be reached (sessions up) before an operation is claimed."""


# Statuses of an operation whose write was sent, or may have been, without a recorded answer.
IN_DOUBT = ("executing", "unknown")
# How long after its token expired a nonce the server never saw is final: covers a request that passed the
# expiry check just in time, and clocks that differ a little between the console and a server.
TOKEN_GRACE = dt.timedelta(minutes=2)
# A listing reconciles operations in doubt at most this often (each one is a call to its server).
RECONCILE_EVERY_S = 10.0


def readable_reason(reason: str | None, limit: int = 2000) -> str | None:
    """A reason as stored and shown: credentials typed into it replaced by a marker, at most `limit` characters."""
    if reason is None:
        return None
    text = scrub_text(str(reason))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_outcome_unknown(exc: BaseException) -> bool:
    """True for the pool's OutcomeUnknown (matched by name: the gate does not depend on the session layer)."""
    return any(cls.__name__ == "OutcomeUnknown" for cls in type(exc).__mro__)


def to_operation(row: OperationRow) -> Operation:
    return Operation(**{name: getattr(row, name) for name in Operation.__dataclass_fields__ if hasattr(row, name)})


class Gate:
    def __init__(self, store: Store, audit: AuditLog, config: BridgeConfig, runner: WriteRunner) -> None:
        self.store, self.audit, self.config, self.runner = store, audit, config, runner
        self._reconciled_at = 0.0

    # -- proposing -------------------------------------------------------------------------------------------
    def propose(self, caller: Caller, server: str, tool: str, arguments: dict[str, Any], *, source: Source) -> Operation:
        """Dry-run the write, check the site's limits, then queue it, once per intent (mcp_bridge/gate/proposals.py)."""
        args = business_arguments(arguments)
        site = str(args.get("site"))
        preview = self.runner.dry_run(server, tool, args)
        reason = readable_reason(source.reason)
        intent, now = intent_of(server, tool, args), utcnow()
        with self.store.write() as s:
            self.audit.lock(s)  # held to the end: the same proposal made at the same time waits here, then finds this
            pending = waiting(s, intent, now=now)
            if (same := identical(pending, tool, args)) is not None:
                note_duplicate(s, self.audit, same, caller, source, args, reason)
                return replace(to_operation(same), already_waiting=True)
            policy = load_policy(s, site, default_expiry_hours=self.config.operation_expiry_hours)
            day = today_bid_increase(s, site, now=now).without({r.id for r in pending})
            check(tool, args, preview, policy, day, reason=reason, server=server)
            row = file_operation(s, self.audit, caller, server, tool, args, preview, source=source, reason=reason,
                                 intent=intent, expires_at=now + dt.timedelta(hours=policy.expiry_hours),
                                 nonce=new_nonce(), now=now, replaces=pending)
        return to_operation(row)

    # -- deciding --------------------------------------------------------------------------------------------
    def get(self, op_id: int) -> Operation:
        with self.store.read() as s:
            row = s.get(OperationRow, op_id)
            if row is None:
                raise NotFound(f"operation #{op_id} does not exist")
            return to_operation(row)

    def _check_approver(self, approver: Caller, op: Operation) -> None:
        if not approver.may_see(op.site):
            raise PermissionDenied(f"{approver.user} has no access to site {op.site}, so cannot decide operation #{op.id}")
        if not approver.has("approver", op.site):  # roles are per site: approving on US says nothing about DE
            raise PermissionDenied(f"{approver.user} may not decide operation #{op.id}: that needs the approver role "
                                   f"on site {op.site}; ask an admin to grant it")

    def _already(self, op_id: int) -> Conflict:
        op = self.get(op_id)
        if op.status == "proposed" and op.expires_at <= utcnow():  # it expired while we looked at it
            self._expire(op_id)
            op = self.get(op_id)
        verb = DONE_VERBS.get(op.status, op.status)
        if op.status == "expired":
            return Conflict(f"operation #{op.id} expired at {op.expires_at:%Y-%m-%d %H:%M} UTC; propose it again")
        when = f" at {op.decided_at:%Y-%m-%d %H:%M:%S} UTC" if op.decided_at else ""
        why = f": “{op.decision_reason}”" if op.status == "rejected" and op.decision_reason else ""
        return Conflict(f"operation #{op.id} was already {verb} by {op.decided_by}{when} (status {op.status}){why}",
                        operation_id=op.id, status=op.status, decided_by=op.decided_by, decided_at=op.decided_at)

    def approve(self, op_id: int, approver: Caller, *, arguments: dict[str, Any] | None = None) -> Operation:
        """Approve (optionally with edited arguments) and run the write once; the loser of a race gets Conflict."""
        op = self.get(op_id)
        self._check_approver(approver, op)
        if op.status != "proposed":
            raise self._already(op_id)
        now = utcnow()
        if op.expires_at <= now:
            self._expire(op_id, actor=approver.user, channel=approver.channel)
            raise self._already(op_id)
        with self.store.read() as s:
            policy = load_policy(s, op.site, default_expiry_hours=self.config.operation_expiry_hours)
        if op.proposer == approver.user and not policy.allow_self_approval:
            raise PermissionDenied(f"{approver.user} proposed operation #{op.id} and may not approve it too; "
                                   f"ask another approver (site {op.site} does not allow self-approval)")
        final, preview, edit = op.arguments, op.preview, None
        if arguments is not None and business_arguments(arguments) != op.arguments:
            final = business_arguments(arguments)
            check_edit(op.id, op.arguments, final)  # values only: the target stays what was proposed
            preview = self.runner.dry_run(op.server, op.tool, final)
            edit = {"by": approver.user, "at": now.isoformat(), "before": op.arguments, "after": final}
        self.runner.prepare()
        won = False
        with self.store.write() as s:
            self.audit.lock(s)
            check(op.tool, final, preview, policy, today_bid_increase(s, op.site, now=now, exclude_id=op.id))
            expires = now + dt.timedelta(seconds=self.config.token_ttl_s)
            nonce = op.nonce or new_nonce()  # an operation proposed before nonces existed gets one now
            values: dict[str, Any] = {"status": "executing", "decided_by": approver.user, "decided_at": now,
                                      "version": OperationRow.version + 1, "nonce": nonce, "token_expires_at": expires}
            if edit:
                values.update(arguments=final, preview=preview, original_arguments=op.original_arguments or op.arguments,
                              edit_history=[*op.edit_history, edit])
            claimed = s.execute(update(OperationRow).where(OperationRow.id == op.id, OperationRow.status == "proposed",
                                                           OperationRow.expires_at > now).values(**values))
            if claimed.rowcount == 1:
                won = True
                if edit:
                    self.audit.append("edited", actor=approver.user, channel=approver.channel, site=op.site, tool=op.name,
                                      arguments=final, session=s, detail={"operation_id": op.id, "old": op.arguments,
                                                                          "new": final, "summary": preview.get("summary")})
                self.audit.append("approved", actor=approver.user, channel=approver.channel, site=op.site, tool=op.name,
                                  arguments=final, outcome="executing", session=s,
                                  detail={"operation_id": op.id, "proposer": op.proposer, "edited": bool(edit)})
        if not won:
            raise self._already(op_id)
        return self._execute(op.id, op.server, op.tool, final, preview, approver, nonce=nonce, expires=expires)

    def _execute(self, op_id: int, server: str, tool: str, arguments: dict[str, Any], preview: dict[str, Any],
                 approver: Caller, *, nonce: str, expires: dt.datetime) -> Operation:
        started = time.perf_counter()
        result, error, code = None, None, None
        try:
            result = self.runner.execute(server, tool, arguments, operation_id=op_id, nonce=nonce, expires=expires,
                                         expected_before=preview.get("before") or None)
            status = "succeeded"
        except ConsoleError as exc:
            status = "unknown" if is_outcome_unknown(exc) else "failed"
            error, code = exc.message, exc.code
        except Exception as exc:  # whatever broke, the claim must not stay "executing" silently
            status, error, code = "unknown", f"the call broke before its outcome was known: {exc!r}", "UPSTREAM_ERROR"
        elapsed = (time.perf_counter() - started) * 1000
        self._record(op_id, actor=approver.user, channel=approver.channel, server=server, tool=tool,
                     arguments=arguments, status=status, result=result, error=error, code=code,
                     duration_ms=elapsed, detail={"summary": (result or preview).get("summary")})
        return self.get(op_id)

    def _record(self, op_id: int, *, actor: str, channel: str, server: str, tool: str, arguments: dict[str, Any],
                status: str, result: dict[str, Any] | None, error: str | None, code: str | None,
                duration_ms: float | None = None, detail: dict[str, Any] | None = None,
                from_statuses: tuple[str, ...] = ("executing",)) -> bool:
        """Move an operation in doubt to its outcome, with its `executed` audit row; False if someone else did.

        The write has happened (or has not) on the server whatever the console database does, so this keeps
        trying while the database is locked, up to `result_write_timeout_s`; after that the operation stays in
        doubt and reconciliation finishes it from the server's ledger.
        """
        deadline = time.monotonic() + self.config.result_write_timeout_s
        delay = 0.05
        while True:
            try:
                with self.store.write(wait_ms=max(0.05, deadline - time.monotonic()) * 1000) as s:
                    moved = s.execute(update(OperationRow).where(OperationRow.id == op_id,
                                                                 OperationRow.status.in_(from_statuses)).values(
                        status=status, executed_at=utcnow(), result=result, error=error, error_code=code,
                        version=OperationRow.version + 1))
                    if moved.rowcount != 1:
                        return False
                    self.audit.append("executed", actor=actor, channel=channel, site=str(arguments.get("site")),
                                      tool=f"{server}__{tool}", arguments=arguments, outcome=status,
                                      duration_ms=duration_ms,
                                      result_size=len(str(result)) if result is not None else None, session=s,
                                      detail={"operation_id": op_id, "code": code, "error": error, **(detail or {})})
                return True
            except DatabaseUnavailable as exc:
                if time.monotonic() + delay >= deadline:
                    log.error("operation #%s: its result could not be recorded", op_id, exc_info=exc)
                    raise UpstreamError(
                        f"operation #{op_id} was sent to the server, but its outcome ({status}) could not be recorded: "
                        f"{exc.message.split(';')[0]}. It stays in doubt until `python -m console ops reconcile` "
                        "(or the next listing of the queue) settles it from the server's ledger",
                        operation_id=op_id) from exc
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

    # -- recovery --------------------------------------------------------------------------------------------
    def reconcile(self, op_id: int, *, actor: str = "system", channel: str = "job",
                  now: dt.datetime | None = None) -> Operation:
        """Settle an operation in doubt from the server's ledger: was its nonce applied, refused, or never seen?"""
        op = self.get(op_id)
        if op.status not in IN_DOUBT:
            return op
        if not op.nonce:
            return op  # sent before nonces existed: only a person can say (`ops resolve`)
        now = now or utcnow()
        entry = self.runner.write_status(op.server, op.site, op.nonce)
        if entry is None:
            return op  # the server keeps no ledger (an outside server): only a person can say
        state = entry.get("state")
        ledger = entry.get("result") or {}
        if state == "applied":
            status, result, error, code = "succeeded", ledger, None, None
        elif state == "refused":
            status, result, error, code = "failed", None, ledger.get("message"), ledger.get("code")
        elif op.token_expires_at is not None and now > op.token_expires_at + TOKEN_GRACE:
            status, result = "failed", None
            error, code = (f"the server never applied it, and its approval expired at "
                           f"{op.token_expires_at:%Y-%m-%d %H:%M:%S} UTC, so it never will"), "UPSTREAM_ERROR"
        else:
            return op  # the call may still be in flight; settled once its token has expired
        self._record(op.id, actor=actor, channel=channel, server=op.server, tool=op.tool, arguments=op.arguments,
                     status=status, result=result, error=error, code=code, from_statuses=IN_DOUBT,
                     detail={"reconciled": True, "ledger": state, "previous_status": op.status,
                             "summary": (result or op.preview).get("summary")})
        return self.get(op.id)

    def in_doubt(self, *, older_than_s: float = 0.0) -> list[Operation]:
        """Operations sent (or maybe sent) without a recorded outcome, decided at least `older_than_s` ago."""
        cutoff = utcnow() - dt.timedelta(seconds=older_than_s)
        with self.store.read() as s:
            rows = s.scalars(select(OperationRow).where(OperationRow.status.in_(IN_DOUBT),
                                                        OperationRow.decided_at <= cutoff).order_by(OperationRow.id))
            return [to_operation(r) for r in rows]

    def reconcile_due(self, *, older_than_s: float | None = None) -> list[Operation]:
        """Reconcile every operation in doubt (leaving alone ones whose call may still be running)."""
        grace = self.config.call_timeout_s + 5 if older_than_s is None else older_than_s
        self._reconciled_at = time.monotonic()
        settled = []
        for op in self.in_doubt(older_than_s=grace):
            try:
                settled.append(self.reconcile(op.id))
            except ConsoleError as exc:  # its server is down, say: the next run tries again
                log.warning("operation #%s could not be reconciled: %s", op.id, exc)
        return settled

    def resolve(self, op_id: int, admin: Caller, *, status: str, reason: str) -> Operation:
        """A person's verdict on an operation in doubt that no ledger can settle (an outside server, say)."""
        if not admin.has("admin"):
            raise PermissionDenied(f"{admin.user} may not resolve operations: that needs the admin role")
        if status not in ("succeeded", "failed"):
            raise ValidationFailed("an operation in doubt resolves to succeeded or failed")
        if not reason or not reason.strip():
            raise ValidationFailed("say how you know (e.g. 'checked in Seller Central: budget is 80')")
        reason = readable_reason(reason)
        op = self.get(op_id)
        if op.status not in IN_DOUBT:
            raise Conflict(f"operation #{op_id} is {op.status}, not in doubt; nothing to resolve",
                           operation_id=op_id, status=op.status)
        error = None if status == "succeeded" else reason
        if not self._record(op_id, actor=admin.user, channel=admin.channel, server=op.server, tool=op.tool,
                            arguments=op.arguments, status=status, result=op.result, error=error,
                            code=None if status == "succeeded" else "UPSTREAM_ERROR", from_statuses=IN_DOUBT,
                            detail={"resolved_by_person": True, "reason": reason, "previous_status": op.status}):
            raise self._already(op_id)
        return self.get(op_id)

    def reject(self, op_id: int, approver: Caller, reason: str) -> Operation:
        op = self.get(op_id)
        self._check_approver(approver, op)
        if not reason or not reason.strip():
            raise ValidationFailed("a rejection needs a reason the proposer can read")
        reason = readable_reason(reason)
        with self.store.write() as s:
            claimed = s.execute(update(OperationRow).where(OperationRow.id == op_id, OperationRow.status == "proposed")
                                .values(status="rejected", decided_by=approver.user, decided_at=utcnow(),
                                        decision_reason=reason, version=OperationRow.version + 1))
            if claimed.rowcount == 1:
                self.audit.append("rejected", actor=approver.user, channel=approver.channel, site=op.site, tool=op.name,
                                  arguments=op.arguments, outcome="rejected", session=s,
                                  detail={"operation_id": op_id, "reason": reason, "proposer": op.proposer})
        if claimed.rowcount != 1:
            raise self._already(op_id)
        return self.get(op_id)

    def _batch(self, batch_id: str, decide) -> list[BatchItem]:
        with self.store.read() as s:
            ids = list(s.scalars(select(OperationRow.id).where(OperationRow.batch_id == batch_id).order_by(OperationRow.id)))
        if not ids:
            raise NotFound(f"batch {batch_id!r} has no operations")
        items = []
        for op_id in ids:
            try:
                op = decide(op_id)
                items.append(BatchItem(op_id, op.status, op.error_code, op.error))
            except ConsoleError as exc:
                items.append(BatchItem(op_id, self.get(op_id).status, exc.code, exc.message))
        return items

    def approve_batch(self, batch_id: str, approver: Caller) -> list[BatchItem]:
        """Approve every operation of a batch, each on its own (one refusal does not stop the others)."""
        return self._batch(batch_id, lambda op_id: self.approve(op_id, approver))

    def reject_batch(self, batch_id: str, approver: Caller, reason: str) -> list[BatchItem]:
        return self._batch(batch_id, lambda op_id: self.reject(op_id, approver, reason))

    # -- housekeeping ----------------------------------------------------------------------------------------
    def _expire(self, op_id: int, *, actor: str = "system", channel: str = "job") -> bool:
        with self.store.write() as s:
            done = s.execute(update(OperationRow).where(OperationRow.id == op_id, OperationRow.status == "proposed")
                             .values(status="expired", decided_at=utcnow(), version=OperationRow.version + 1))
            if done.rowcount == 1:
                row = s.get(OperationRow, op_id)
                self.audit.append("expired", actor=actor, channel=channel, site=row.site, tool=f"{row.server}__{row.tool}",
                                  arguments=row.arguments, outcome="expired", session=s,
                                  detail={"operation_id": op_id, "expires_at": row.expires_at.isoformat()})
        return done.rowcount == 1

    def expire_due(self, *, now: dt.datetime | None = None) -> int:
        """Mark every proposed operation past its expiry as expired; returns how many."""
        with self.store.read() as s:
            ids = list(s.scalars(select(OperationRow.id).where(OperationRow.status == "proposed",
                                                               OperationRow.expires_at <= (now or utcnow()))))
        return sum(self._expire(op_id) for op_id in ids)

    def list(self, *, status: str | None = None, site: str | None = None, sites: frozenset[str] | None = None,
             batch_id: str | None = None, proposer: str | None = None, approver: Caller | None = None,
             limit: int = 100) -> list[Operation]:
        """Operations, newest first; `approver`: only on the sites where that caller may decide them."""
        if approver is not None:
            sites = approver.sites_with("approver") & (sites if sites is not None else approver.sites)
        # Expiry is applied lazily by every view as well as by `ops expire`/daily-ops, so a listing never shows
        # an operation as waiting after its deadline even when no scheduler runs; operations left in doubt by a
        # crash or a lost answer are settled from the servers' ledgers the same way.
        self.expire_due()
        if time.monotonic() - self._reconciled_at > RECONCILE_EVERY_S:
            self.reconcile_due()
        stmt = select(OperationRow)
        for column, value in ((OperationRow.status, status), (OperationRow.site, site),
                              (OperationRow.batch_id, batch_id), (OperationRow.proposer, proposer)):
            if value:
                stmt = stmt.where(column == value)
        if sites is not None:
            stmt = stmt.where(OperationRow.site.in_(sorted(sites)))
        with self.store.read() as s:
            return [to_operation(r) for r in s.scalars(stmt.order_by(OperationRow.id.desc()).limit(limit))]

    def pending_count(self, caller: Caller) -> int:
        """How many operations wait on the sites where `caller` holds the approver role."""
        self.expire_due()
        with self.store.read() as s:
            return s.scalar(select(func.count()).select_from(OperationRow).where(
                OperationRow.status == "proposed", OperationRow.site.in_(sorted(caller.sites_with("approver"))))) or 0
