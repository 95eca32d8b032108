"""One proposal per intent: what already waits for the same target, and how a new proposal settles with it.

Run inside the proposal's write transaction, after the audit chain lock: two proposals of the same change at the
same time are serialised there, so the second one finds the first.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mcp_bridge.audit import AuditLog
from mcp_bridge.catalog.intents import Intent, same_change
from mcp_bridge.store import OperationRow
from mcp_bridge.types import Caller, Source


def waiting(session: Session, intent: Intent, *, now: dt.datetime) -> list[OperationRow]:
    """Pending operations on the intent's target that change a field it changes, oldest first."""
    rows = session.scalars(select(OperationRow).where(
        OperationRow.status == "proposed", OperationRow.expires_at > now,
        OperationRow.intent.startswith(intent.prefix, autoescape=True)).order_by(OperationRow.id))
    return [row for row in rows if intent.overlaps(row.intent)]


def identical(rows: list[OperationRow], tool: str, arguments: dict[str, Any]) -> OperationRow | None:
    """The waiting operation that makes exactly this change (same tool, same business arguments), if any."""
    return next((row for row in rows if same_change(tool, arguments, row.tool, row.arguments or {})), None)


def file_operation(session: Session, audit: AuditLog, caller: Caller, server: str, tool: str, arguments: dict[str, Any],
                   preview: dict[str, Any], *, source: Source, reason: str | None, intent: Intent,
                   expires_at: dt.datetime, nonce: str, now: dt.datetime, replaces: list[OperationRow]) -> OperationRow:
    """Store a new pending operation with its `proposed` audit row, and supersede the ones it `replaces`."""
    site = str(arguments.get("site"))
    row = OperationRow(
        batch_id=source.batch_id, status="proposed", site=site, server=server, tool=tool, arguments=arguments,
        preview=preview, reason=reason, proposer=caller.user, source_kind=source.kind, source_ref=source.ref,
        created_at=now, expires_at=expires_at, edit_history=[], version=1, nonce=nonce, evidence=source.evidence,
        intent=intent.key, supersedes=replaces[-1].id if replaces else None,
    )
    session.add(row)
    session.flush()
    audit.append("proposed", actor=caller.user, channel=caller.channel, site=site, tool=f"{server}__{tool}",
                 arguments=arguments, outcome="pending", session=session,
                 detail={"operation_id": row.id, "batch_id": source.batch_id, "source": source.kind,
                         "source_ref": source.ref, "reason": reason, "intent": intent.key,
                         "supersedes": [r.id for r in replaces], "target": preview.get("target"),
                         "summary": preview.get("summary"), "before": preview.get("before"),
                         "after": preview.get("after")})
    done = supersede(session, audit, replaces, row, caller, now=now)
    if row.supersedes is not None and row.supersedes not in done:  # decided meanwhile: it was not replaced
        row.supersedes = done[-1] if done else None
    return row


def note_duplicate(session: Session, audit: AuditLog, row: OperationRow, caller: Caller, source: Source,
                   arguments: dict[str, Any], reason: str | None) -> None:
    """Audit a proposal that was not filed because the same change already waits as `row`."""
    audit.append("proposal_deduplicated", actor=caller.user, channel=caller.channel, site=row.site,
                 tool=f"{row.server}__{row.tool}", arguments=arguments, outcome="pending", session=session,
                 detail={"operation_id": row.id, "already_waiting_since": row.created_at.isoformat(),
                         "proposer": row.proposer, "batch_id": source.batch_id, "source": source.kind,
                         "source_ref": source.ref, "reason": reason, "intent": row.intent})


def supersede(session: Session, audit: AuditLog, older: list[OperationRow], newer: OperationRow, caller: Caller,
              *, now: dt.datetime) -> list[int]:
    """Reject the waiting operations a new proposal replaces ("superseded by #N"); the ids actually rejected.

    An approver can then never approve both: approving the older one answers CONFLICT with the reason.
    """
    done = []
    for row in older:
        why = f"superseded by #{newer.id}"
        moved = session.execute(update(OperationRow).where(OperationRow.id == row.id, OperationRow.status == "proposed")
                                .values(status="rejected", decided_by=caller.user, decided_at=now, decision_reason=why,
                                        version=OperationRow.version + 1))
        if moved.rowcount != 1:
            continue
        done.append(row.id)
        audit.append("rejected", actor=caller.user, channel=caller.channel, site=row.site,
                     tool=f"{row.server}__{row.tool}", arguments=row.arguments, outcome="rejected", session=session,
                     detail={"operation_id": row.id, "reason": why, "superseded_by": newer.id,
                             "proposer": row.proposer})
    return done
