"""The write contract (DESIGN.md §3): dry run, approval token, idempotency key, `before` check."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servers.common.approval import TokenRefused, arguments_hash, read_approval
from servers.common.config import ServerConfig
from servers.common.errors import (
    CodedToolError,
    ConfirmationRequired,
    Conflict,
    NotFound,
    SiteScopeRequired,
    ValidationFailed,
)
from servers.common.server import READ, sent_arguments
from servers.market.db import MarketDB, require_site
from servers.market.models import AppliedWrite


class Change(BaseModel):
    field: str
    before: Any
    after: Any


class WriteResult(BaseModel):
    """What a write did (or, with dry_run, would do): the before→after an approver sees."""

    tool: str
    site: str
    target: str = Field(description="The object written, for people: \"keyword #12 'yoga mat' (exact)\"")
    summary: str = Field(description="One line: what changes, before → after")
    dry_run: bool
    applied: bool
    replayed: bool = Field(False, description="True when this idempotency key was applied before; nothing ran again")
    before: dict[str, Any]
    after: dict[str, Any]
    changes: list[Change]
    created_id: int | None = None
    impact: dict[str, float] = Field(default_factory=dict, description="Projected effect, e.g. daily_spend_delta")


@dataclass
class Plan:
    """What a write tool intends: computed inside the transaction, applied only when allowed."""

    target: str
    before: dict[str, Any]
    after: dict[str, Any]
    apply: Callable[[Session], int | None]
    summary: str = ""
    impact: dict[str, float] = field(default_factory=dict)
    # `before` keys shown to the approver but not compared with `expected_before`: side effects the plan
    # itself re-validates when it runs again at apply time (e.g. stock an order ship moves).
    informational: frozenset[str] = frozenset()

    def changes(self) -> list[Change]:
        keys = list(dict.fromkeys([*self.before, *self.after]))
        return [
            Change(field=k, before=self.before.get(k), after=self.after.get(k))
            for k in keys
            if self.before.get(k) != self.after.get(k)
        ]


@dataclass(frozen=True)
class WriteControl:
    """The protocol arguments every write tool accepts besides its business arguments."""

    dry_run: bool = False
    approval_token: str | None = None
    idempotency_key: str | None = None
    expected_before: dict[str, Any] | None = None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return abs(float(a) - float(b)) < 1e-9
    return a == b


def _check_token(config: ServerConfig, token: Any, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    if not token:
        raise ConfirmationRequired(
            f"{tool} changes the marketplace and needs an approval token; propose it through the console's "
            "approval queue (call with dry_run=true to see the before → after)"
        )
    try:
        claims = read_approval(config.keyring, token, audience=config.audience or "")
    except TokenRefused as exc:
        raise ConfirmationRequired(f"the approval token was refused ({exc}); ask an approver to approve again") from None
    if claims.get("tool") != tool:
        raise ConfirmationRequired(f"the approval token was issued for {str(claims.get('tool'))[:60]!r}, not {tool!r}")
    if claims.get("args") != arguments_hash(arguments):
        raise ConfirmationRequired("the approval token does not cover these arguments; they differ from what was approved")
    return claims


def run_write(
    db: MarketDB,
    config: ServerConfig,
    *,
    tool: str,
    site: str,
    arguments: dict[str, Any],
    control: WriteControl,
    plan: Callable[[Session], Plan],
) -> WriteResult:
    """Plan a write, then either describe it (dry run) or apply it once under a valid token.

    The token's nonce is the idempotency key: the ledger row that spends it is written in the same transaction
    as the write, so a second delivery (whatever `idempotency_key` it carries) gets the first answer back and a
    refused write stays refused. The caller's `idempotency_key` is not trusted and is ignored.
    """
    arguments = sent_arguments(arguments)
    args_hash = arguments_hash(arguments)
    if control.dry_run:
        with db.session() as session:
            require_site(session, site)
            return _describe(tool, site, plan(session), dry_run=True)
    nonce = _check_token(config, control.approval_token, tool, arguments)["nonce"]
    try:
        with db.session() as session:
            require_site(session, site)
            done = session.get(AppliedWrite, nonce)
            if done is not None:
                return _replay(done, tool, args_hash)
            intended = plan(session)
            result = _describe(tool, site, intended, dry_run=False)
            if control.expected_before is not None:
                if not isinstance(control.expected_before, dict):
                    raise ValidationFailed("expected_before must be an object of the before values the approver saw")
                checked = {k: v for k, v in control.expected_before.items() if k not in intended.informational}
                _check_before(checked, intended.before, intended.target)
            result.created_id = intended.apply(session)
            result.applied = True
            session.add(_ledger_row(nonce, tool, site, args_hash, "applied", result.model_dump(mode="json")))
            session.flush()
        return result
    except IntegrityError:
        # Another delivery of the same nonce won the race; ours rolled back whole.
        with db.reader() as fresh:
            done = fresh.get(AppliedWrite, nonce)
            if done is None:
                raise
            return _replay(done, tool, args_hash)
    except (Conflict, NotFound, ValidationFailed, SiteScopeRequired) as refused:
        _spend_refused(db, nonce, tool, site, args_hash, refused)
        raise


def _describe(tool: str, site: str, intended: Plan, *, dry_run: bool) -> WriteResult:
    return WriteResult(
        tool=tool,
        site=site,
        target=intended.target,
        summary=intended.summary or "; ".join(f"{c.field}: {c.before} → {c.after}" for c in intended.changes()),
        dry_run=dry_run,
        applied=False,
        before=intended.before,
        after=intended.after,
        changes=intended.changes(),
        impact=intended.impact,
    )


def _ledger_row(nonce: str, tool: str, site: str, args_hash: str, outcome: str, result: dict[str, Any]) -> AppliedWrite:
    return AppliedWrite(idempotency_key=nonce, tool=tool, site_id=site[:8], arguments_hash=args_hash, outcome=outcome,
                        result=result, applied_at=dt.datetime.now(dt.UTC).replace(tzinfo=None))


def _spend_refused(db: MarketDB, nonce: str, tool: str, site: str, args_hash: str, error: CodedToolError) -> None:
    """Record that an approved write was refused, so its token cannot be spent again later (when it might pass)."""
    try:
        with db.session() as session:
            session.add(_ledger_row(nonce, tool, site, args_hash, "refused",
                                    {"code": error.code, "message": error.message}))
    except IntegrityError:
        pass  # a concurrent delivery recorded it first


def _replay(done: AppliedWrite, tool: str, args_hash: str) -> WriteResult:
    if done.tool != tool or done.arguments_hash != args_hash:
        raise Conflict(
            f"this approval token was already used for a different write ({done.tool}); "
            "a token is spent once, for the arguments it was issued for"
        )
    if done.outcome == "refused":
        code, message = done.result.get("code"), done.result.get("message", "")
        cls = REFUSALS.get(code, Conflict)
        raise cls(f"this approval was already used and the write was refused: {message}")
    return WriteResult.model_validate({**done.result, "replayed": True})


REFUSALS: dict[str, type[CodedToolError]] = {
    cls.code: cls for cls in (Conflict, NotFound, ValidationFailed, SiteScopeRequired)
}


class WriteStatus(BaseModel):
    """Whether the write of one approval token (its nonce) happened: what reconciliation asks after a lost answer."""

    nonce: str
    state: str = Field(description="applied, refused, or unknown (never seen: not applied so far)")
    tool: str | None = None
    site: str
    at: str | None = Field(None, description="When the ledger recorded it (UTC, ISO 8601)")
    result: dict[str, Any] | None = Field(None, description="The write's WriteResult when applied; code and message when refused")


def write_status(db: MarketDB, *, site: str, nonce: str) -> WriteStatus:
    with db.reader() as session:
        require_site(session, site)
        done = session.get(AppliedWrite, nonce)
    if done is None or done.site_id != site[:8]:
        return WriteStatus(nonce=nonce, state="unknown", site=site)
    return WriteStatus(nonce=nonce, state=done.outcome, tool=done.tool, site=site,
                       at=done.applied_at.isoformat(timespec="seconds"), result=done.result)


def _check_before(expected: dict[str, Any], current: dict[str, Any], target: str) -> None:
    for name, value in expected.items():
        if name not in current:
            raise ValidationFailed(f"expected_before names {name!r}, which {target} does not have")
        if not _same(current[name], value):
            raise Conflict(
                f"{target} changed since the proposal: {name} was {value!r}, is now {current[name]!r}; "
                "reject this operation and propose again from the current value"
            )


def write_control(dry_run: bool, approval_token: str | None, idempotency_key: str | None, expected_before: dict[str, Any] | None) -> WriteControl:
    return WriteControl(dry_run=dry_run, approval_token=approval_token, idempotency_key=idempotency_key, expected_before=expected_before)


def register_write_status(mcp: Any, db: MarketDB) -> None:
    """The write contract's read tool, on every server with write tools (its presence declares the contract)."""

    @mcp.tool(annotations=READ)
    def get_write_status(
        site: Annotated[str, Field(min_length=1, max_length=16, description="Site the write was for, e.g. 'us'")],
        nonce: Annotated[str, Field(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                                    description="The nonce of the approval token (its idempotency key)")],
    ) -> WriteStatus:
        """Whether the write approved under this token nonce was applied, refused, or never seen."""
        return write_status(db, site=site, nonce=nonce)
