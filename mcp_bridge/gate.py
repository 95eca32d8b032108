"""The approval gate: writes become pending operations and run exactly once, after a person approves them."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, Protocol

from sqlalchemy import func, select, update

from mcp_bridge.audit import AuditLog
from mcp_bridge.errors import Conflict, ConsoleError, NotFound, PermissionDenied, ValidationFailed
from mcp_bridge.policy import check, load_policy, today_bid_increase
from mcp_bridge.store import OperationRow, Store, utcnow
from mcp_bridge.tokens import business_arguments, sign_approval
from mcp_bridge.types import BatchItem, BridgeConfig, Caller, Operation, Source

ACTIVE = ("proposed",)
DONE_VERBS = {"executing": "approved", "succeeded": "approved", "failed": "approved", "unknown": "approved",
              "approved": "approved", "rejected": "rejected", "expired": "expired"}


class WriteRunner(Protocol):
    """How the gate reaches a server: a dry run for the preview, and the one real call."""

    def dry_run(self, server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]: ...

    def execute(self, server: str, tool: str, arguments: dict[str, Any], control: dict[str, Any]) -> dict[str, Any]: ...

    def prepare(self) -> None:
        """Make sure the server can be reached (sessions up) before an operation is claimed."""


def is_outcome_unknown(exc: BaseException) -> bool:
    """True for the pool's OutcomeUnknown (matched by name: the gate does not depend on the session layer)."""
    return any(cls.__name__ == "OutcomeUnknown" for cls in type(exc).__mro__)


def to_operation(row: OperationRow) -> Operation:
    return Operation(**{name: getattr(row, name) for name in Operation.__dataclass_fields__})


class Gate:
    def __init__(self, store: Store, audit: AuditLog, config: BridgeConfig, runner: WriteRunner) -> None:
        self.store, self.audit, self.config, self.runner = store, audit, config, runner

    # -- proposing -------------------------------------------------------------------------------------------
    def propose(self, caller: Caller, server: str, tool: str, arguments: dict[str, Any], *, source: Source) -> Operation:
        """Dry-run the write, check the site's limits, then queue it (operation + audit row in one transaction)."""
        args = business_arguments(arguments)
        site = str(args.get("site"))
        preview = self.runner.dry_run(server, tool, args)
        now = utcnow()
        with self.store.write() as s:
            self.audit.lock(s)
            policy = load_policy(s, site, default_expiry_hours=self.config.operation_expiry_hours)
            check(tool, args, preview, policy, today_bid_increase(s, site, now=now))
            row = OperationRow(
                batch_id=source.batch_id, status="proposed", site=site, server=server, tool=tool, arguments=args,
                preview=preview, reason=source.reason, proposer=caller.user, source_kind=source.kind,
                source_ref=source.ref, created_at=now, expires_at=now + dt.timedelta(hours=policy.expiry_hours),
                edit_history=[], version=1,
            )
            s.add(row)
            s.flush()
            self.audit.append("proposed", actor=caller.user, channel=caller.channel, site=site, tool=f"{server}__{tool}",
                              arguments=args, outcome="pending", session=s,
                              detail={"operation_id": row.id, "batch_id": source.batch_id, "source": source.kind,
                                      "source_ref": source.ref, "reason": source.reason,
                                      "target": preview.get("target"), "summary": preview.get("summary"),
                                      "before": preview.get("before"), "after": preview.get("after")})
        return to_operation(row)

    # -- deciding --------------------------------------------------------------------------------------------
    def get(self, op_id: int) -> Operation:
        with self.store.read() as s:
            row = s.get(OperationRow, op_id)
            if row is None:
                raise NotFound(f"operation #{op_id} does not exist")
            return to_operation(row)

    def _check_approver(self, approver: Caller, op: Operation) -> None:
        if not approver.has("approver"):
            raise PermissionDenied(f"{approver.user} may not decide operations: that needs the approver role")
        if not approver.may_see(op.site):
            raise PermissionDenied(f"{approver.user} has no access to site {op.site}, so cannot decide operation #{op.id}")

    def _already(self, op_id: int) -> Conflict:
        op = self.get(op_id)
        if op.status == "proposed" and op.expires_at <= utcnow():  # it expired while we looked at it
            self._expire(op_id)
            op = self.get(op_id)
        verb = DONE_VERBS.get(op.status, op.status)
        if op.status == "expired":
            return Conflict(f"operation #{op.id} expired at {op.expires_at:%Y-%m-%d %H:%M} UTC; propose it again")
        when = f" at {op.decided_at:%Y-%m-%d %H:%M:%S} UTC" if op.decided_at else ""
        return Conflict(f"operation #{op.id} was already {verb} by {op.decided_by}{when} (status {op.status})",
                        operation_id=op.id, status=op.status)

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
            if final.get("site") != op.site:
                raise ValidationFailed(f"an edit may not move operation #{op.id} to another site ({op.site})")
            preview = self.runner.dry_run(op.server, op.tool, final)
            edit = {"by": approver.user, "at": now.isoformat(), "before": op.arguments, "after": final}
        self.runner.prepare()
        won = False
        with self.store.write() as s:
            self.audit.lock(s)
            check(op.tool, final, preview, policy, today_bid_increase(s, op.site, now=now, exclude_id=op.id))
            values: dict[str, Any] = {"status": "executing", "decided_by": approver.user, "decided_at": now,
                                      "version": OperationRow.version + 1}
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
        return self._execute(op.id, op.server, op.tool, final, preview, approver)

    def _execute(self, op_id: int, server: str, tool: str, arguments: dict[str, Any], preview: dict[str, Any],
                 approver: Caller) -> Operation:
        token = sign_approval(self.config.approval_secret, operation_id=op_id, tool=tool, arguments=arguments,
                              ttl_s=self.config.token_ttl_s)
        control = {"approval_token": token, "idempotency_key": f"op-{op_id}", "expected_before": preview.get("before") or None}
        started = time.perf_counter()
        result, error, code = None, None, None
        try:
            result = self.runner.execute(server, tool, arguments, control)
            status = "succeeded"
        except ConsoleError as exc:
            status = "unknown" if is_outcome_unknown(exc) else "failed"
            error, code = exc.message, exc.code
        except Exception as exc:  # whatever broke, the claim must not stay "executing" silently
            status, error, code = "unknown", f"the call broke before its outcome was known: {exc!r}", "UPSTREAM_ERROR"
        elapsed = (time.perf_counter() - started) * 1000
        with self.store.write() as s:
            s.execute(update(OperationRow).where(OperationRow.id == op_id, OperationRow.status == "executing").values(
                status=status, executed_at=utcnow(), result=result, error=error, error_code=code,
                version=OperationRow.version + 1))
            self.audit.append("executed", actor=approver.user, channel=approver.channel, site=str(arguments.get("site")),
                              tool=f"{server}__{tool}", arguments=arguments, outcome=status, duration_ms=elapsed,
                              result_size=len(str(result)) if result is not None else None, session=s,
                              detail={"operation_id": op_id, "code": code, "error": error,
                                      "summary": (result or preview).get("summary")})
        return self.get(op_id)

    def reject(self, op_id: int, approver: Caller, reason: str) -> Operation:
        op = self.get(op_id)
        self._check_approver(approver, op)
        if not reason or not reason.strip():
            raise ValidationFailed("a rejection needs a reason the proposer can read")
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
             batch_id: str | None = None, proposer: str | None = None, limit: int = 100) -> list[Operation]:
        # Expiry is applied lazily by every view as well as by `ops expire`/daily-ops, so a listing never shows
        # an operation as waiting after its deadline even when no scheduler runs.
        self.expire_due()
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
        self.expire_due()
        with self.store.read() as s:
            return s.scalar(select(func.count()).select_from(OperationRow).where(
                OperationRow.status == "proposed", OperationRow.site.in_(sorted(caller.sites)))) or 0
