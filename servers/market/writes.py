"""The write contract (DESIGN.md §3): dry run, approval token, idempotency key, `before` check."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servers.common.approval import arguments_hash, read_token
from servers.common.errors import ConfirmationRequired, Conflict, ValidationFailed
from servers.common.server import sent_arguments
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


def _check_token(secret: str, token: str | None, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    if not token:
        raise ConfirmationRequired(
            f"{tool} changes the marketplace and needs an approval token; propose it through the console's "
            "approval queue (call with dry_run=true to see the before → after)"
        )
    try:
        claims = read_token(secret, token)
    except ValueError as exc:
        raise ConfirmationRequired(f"the approval token was refused ({exc}); ask an approver to approve again") from None
    if claims.get("tool") != tool:
        raise ConfirmationRequired(f"the approval token was issued for {claims.get('tool')!r}, not {tool!r}")
    if claims.get("args") != arguments_hash(arguments):
        raise ConfirmationRequired("the approval token does not cover these arguments; they differ from what was approved")
    return claims


def run_write(
    db: MarketDB,
    secret: str,
    *,
    tool: str,
    site: str,
    arguments: dict[str, Any],
    control: WriteControl,
    plan: Callable[[Session], Plan],
) -> WriteResult:
    """Plan a write, then either describe it (dry run) or apply it once under a valid token."""
    arguments = sent_arguments(arguments)
    claims = None if control.dry_run else _check_token(secret, control.approval_token, tool, arguments)
    key = control.idempotency_key or (f"op:{claims['op']}" if claims else None)
    args_hash = arguments_hash(arguments)
    with db.session() as session:
        require_site(session, site)
        if key and not control.dry_run:
            done = session.get(AppliedWrite, key)
            if done is not None:
                return _replay(done, tool, args_hash)
        intended = plan(session)
        result = WriteResult(
            tool=tool,
            site=site,
            target=intended.target,
            summary=intended.summary or "; ".join(f"{c.field}: {c.before} → {c.after}" for c in intended.changes()),
            dry_run=control.dry_run,
            applied=False,
            before=intended.before,
            after=intended.after,
            changes=intended.changes(),
            impact=intended.impact,
        )
        if control.dry_run:
            return result
        if control.expected_before is not None:
            checked = {k: v for k, v in control.expected_before.items() if k not in intended.informational}
            _check_before(checked, intended.before, intended.target)
        result.created_id = intended.apply(session)
        result.applied = True
        if key:
            session.add(
                AppliedWrite(
                    idempotency_key=key,
                    tool=tool,
                    site_id=site,
                    arguments_hash=args_hash,
                    result=result.model_dump(mode="json"),
                    applied_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                )
            )
            try:
                session.flush()
            except IntegrityError:
                # Another delivery of the same key won the race; ours rolls back whole.
                session.rollback()
                with db.reader() as fresh:
                    done = fresh.get(AppliedWrite, key)
                    if done is None:
                        raise
                    return _replay(done, tool, args_hash)
    return result


def _replay(done: AppliedWrite, tool: str, args_hash: str) -> WriteResult:
    if done.tool != tool or done.arguments_hash != args_hash:
        raise Conflict(
            f"idempotency key {done.idempotency_key!r} was already used for a different write ({done.tool}); "
            "use a new key for a new change"
        )
    return WriteResult.model_validate({**done.result, "replayed": True})


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
