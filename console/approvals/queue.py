"""What the Approvals and Admin pages need around the gate: statuses, ownership, policy, the queue and its edits."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from console import formatting
from console.approvals.evidence import evidence_summary
from console.approvals.operations import (
    MONEY_FIELDS,
    change_text,
    currency_of,
    field_label,
    field_value,
    impact_amount,
    source_label,
    target_text,
)
from console.i18n import N_, _
from mcp_bridge.catalog import SitePolicy, load_policy, save_policy
from mcp_bridge.errors import ConsoleError
from mcp_bridge.store import Store, utcnow
from mcp_bridge.types import Caller

log = logging.getLogger(__name__)

PENDING = "proposed"
STATUSES = ["proposed", "approved", "executing", "succeeded", "failed", "unknown", "rejected", "expired"]
OPEN_STATUSES = frozenset({"proposed", "approved", "executing"})
STATUS_NAMES = {"proposed": N_("proposed"), "approved": N_("approved"), "executing": N_("executing"),
                "succeeded": N_("succeeded"), "failed": N_("failed"), "unknown": N_("unknown"),
                "rejected": N_("rejected"), "expired": N_("expired")}
POLICY_FIELDS = [f.name for f in dataclasses.fields(SitePolicy) if f.name != "site"]


def status_name(status: str) -> str:
    """An operation's status as a word in the reader's language (`rejected`, `已拒绝`)."""
    return _(STATUS_NAMES[status]) if status in STATUS_NAMES else status


def is_own(operation: Any, caller: Caller) -> bool:
    """True when the caller proposed the operation (self-approval needs the site's permission)."""
    return str(getattr(operation, "proposer", "")).lower() == caller.user.lower()


def site_policy(runtime: Any, site: str) -> SitePolicy:
    with Store(runtime.engine).read() as session:
        return load_policy(session, site, default_expiry_hours=runtime.settings.operation_expiry_hours)


def self_approval_allowed(runtime: Any, site: str) -> bool:
    return site_policy(runtime, site).allow_self_approval


def update_site_policy(runtime: Any, policy: SitePolicy, *, actor: Caller) -> SitePolicy:
    """Store a site's limits and audit the change (both in one transaction; admin only)."""
    if not actor.has("admin") or not actor.may_see(policy.site):
        from mcp_bridge.errors import PermissionDenied

        raise PermissionDenied(f"{actor.user} may not change the safety limits of {policy.site}")
    policy.validate()  # VALIDATION_FAILED naming each value that makes no sense (context["fields"]): nothing saved
    before = site_policy(runtime, policy.site)
    changes = {
        name: {"before": getattr(before, name), "after": getattr(policy, name)}
        for name in POLICY_FIELDS
        if getattr(before, name) != getattr(policy, name)
    }
    with Store(runtime.engine).write() as session:
        save_policy(session, policy)
        runtime.bridge.audit.append("policy_changed", actor=actor.user, channel=actor.channel, site=policy.site,
                                    outcome="ok", detail={"changes": changes}, session=session)
    return policy


def approval_keys(runtime: Any) -> list[Any]:
    """The approval keys' ids, ages and retirement (never their material), for the Admin page."""
    from mcp_bridge.keys import key_status

    return key_status(runtime.bridge.keyring)


# -- the queue: filter, sort, page, one row per operation ------------------------------------------------------------
PAGE_SIZE = 25
SORTS = {"newest": N_("Newest first"), "oldest": N_("Oldest first"), "impact": N_("Largest impact first")}
AGE_UNITS = ((N_("{count} d"), 86400), (N_("{count} h"), 3600), (N_("{count} min"), 60))


@dataclass(frozen=True)
class QueueFilters:
    """What the approver narrowed the waiting operations to (None: any)."""

    tool: str | None = None
    proposer: str | None = None
    source: str | None = None
    batch: str | None = None
    search: str = ""


@dataclass
class QueueState:
    """What the queue keeps between a page's runs: the rows it showed (a selection is positions in them) and the
    outcome of the last decision, shown once after the rerun."""

    shown_key: str | None = None
    shown_ids: list[int] = field(default_factory=list)
    outcome: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue: its operations, and where it sits in the whole."""

    items: list[Any]
    page: int
    pages: int
    total: int
    size: int = PAGE_SIZE

    @property
    def first(self) -> int:
        return (self.page - 1) * self.size + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0


def short_batch(batch_id: str | None) -> str:
    """A batch as people tell them apart: the tail of its id (`chat-1a2b3c4d5e6f7a8b` → `1a2b3c4d`)."""
    return (batch_id or "").rsplit("-", 1)[-1][:8]


def queue_choices(ops: list[Any]) -> dict[str, list[str]]:
    """The values each filter can take, from the operations waiting (batches only when they hold two or more)."""
    batches = Counter(op.batch_id for op in ops if op.batch_id)
    return {"tool": sorted({op.tool for op in ops}), "proposer": sorted({op.proposer for op in ops}),
            "source": sorted({source_label(op) for op in ops}),
            "batch": [b for b, n in sorted(batches.items(), key=lambda kv: (-kv[1], kv[0])) if n > 1]}


def filter_queue(ops: list[Any], filters: QueueFilters) -> list[Any]:
    """The operations that match every filter; the search finds `#42` by id, other text in the target's name."""
    needle = filters.search.strip().lower()
    by_id = int(needle[1:]) if re.fullmatch(r"#\d+", needle) else None

    def found(op: Any) -> bool:
        if by_id is not None:
            return op.id == by_id
        return not needle or needle in f"{target_text(op)} {(op.evidence or {}).get('label') or ''}".lower()

    def keep(op: Any) -> bool:
        return ((not filters.tool or op.tool == filters.tool)
                and (not filters.proposer or op.proposer == filters.proposer)
                and (not filters.source or source_label(op) == filters.source)
                and (not filters.batch or op.batch_id == filters.batch)
                and found(op))

    return [op for op in ops if keep(op)]


def sort_queue(ops: list[Any], sort: str) -> list[Any]:
    """Newest or oldest first, or the largest projected money impact first (then the oldest)."""
    if sort == "impact":
        return sorted(ops, key=lambda op: (-impact_amount(op), op.created_at, op.id))
    return sorted(ops, key=lambda op: (op.created_at, op.id), reverse=sort != "oldest")


def queue_page(ops: list[Any], page: int, size: int = PAGE_SIZE) -> QueuePage:
    """Page `page` (1-based, clamped) of `size` operations."""
    size = max(1, size)
    pages = max(1, -(-len(ops) // size))
    page = min(max(1, page), pages)
    return QueuePage(ops[(page - 1) * size: page * size], page, pages, len(ops), size)


def age(when: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """How long an operation has waited, short: `45 s`, `12 min`, `3 h`, `2 d`."""
    if when is None:
        return "—"
    now = now or utcnow()
    seconds = max(0, int((now - when.replace(tzinfo=None)).total_seconds()))
    for unit, size in AGE_UNITS:
        if seconds >= size:
            return _(unit).format(count=seconds // size)
    return _("{count} s").format(count=seconds)


def impact_short(op: Any) -> str:
    """The projected impact in a few characters: `-$1.05/day` (spend), `sales +$12.00/day`; `—` when none."""
    impact = (op.preview or {}).get("impact") or {}
    currency, parts = currency_of(op), []
    for key, value in impact.items():
        name = key.removesuffix("_delta").removeprefix("daily_")
        label = field_label(name).replace("_", " ")
        if not isinstance(value, int | float) or isinstance(value, bool) or not any(w in key for w in MONEY_FIELDS):
            parts.append(f"{label} {field_value(key, value, currency)}")
            continue
        amount = ("+" if value > 0 else "") + formatting.money(float(value), currency)
        if key.startswith("daily_"):
            amount = _("{amount}/day").format(amount=amount)
        parts.append(amount if name == "spend" else f"{label} {amount}")
    return " · ".join(parts) or "—"


TARGET_UNITS = 43  # what the queue's Target column holds, in widths of a lower-case letter (~7 px)
NARROW = frozenset(" ilIjtfr'.,:;|!()[]-")


def char_width(char: str) -> float:
    """A character's width in a proportional font, in lower-case letters: narrow ones half, capitals, digits and
    m/w a bit more, East Asian wide ones two."""
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return 2.0
    if char in NARROW:
        return 0.5
    return 1.2 if char.isupper() or char.isdigit() or char in "mw#%@" else 1.0


def fit(text: str, units: float) -> str:
    """`text`, or its start and "…" when it is wider than `units` (see `char_width`)."""
    if sum(map(char_width, text)) <= units:
        return text
    used, cut = 0.0, 0
    for char in text:
        if used + char_width(char) > units - 1:  # room for the "…"
            break
        used, cut = used + char_width(char), cut + 1
    space = text.rfind(" ", 0, cut)
    if space > cut * 0.6:  # end at a word rather than inside a name or a number
        cut = space
    return text[:cut].rstrip() + "…"


def queue_row(op: Any, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """One row of the queue table: site, target, change, impact, evidence, who and from where, age.

    Short enough for one row at 1440 px: a long target ends in "…" and the proposer is the name before @ (the
    card has both whole; the search finds the whole target, the proposer filter lists whole addresses).
    """
    source = source_label(op, short=True)
    return {"#": op.id, "Site": op.site.upper(), "Target": fit(target_text(op), TARGET_UNITS),
            "Change": change_text(op), "Impact": impact_short(op), "Evidence": evidence_summary(op.evidence),
            "From": f"{op.proposer.partition('@')[0]} · {source}", "Age": age(op.created_at, now)}


# -- decisions on several operations at once -------------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    """What deciding one operation came to: done (with the write's status), or refused and why."""

    operation_id: int
    done: bool
    status: str | None = None
    code: str | None = None
    message: str | None = None

    @property
    def already_decided(self) -> bool:
        return self.code == "CONFLICT" and not self.done


def decide_each(gate: Any, op_ids: list[int], decider: Caller, *, reject_reason: str | None = None,
                arguments: dict[str, Any] | None = None) -> list[Decision]:
    """Approve (or, with a reason, reject) each operation on its own: one refusal does not stop the others."""
    decisions = []
    for op_id in op_ids:
        try:
            if reject_reason is not None:
                op = gate.reject(op_id, decider, reject_reason)
            else:
                op = gate.approve(op_id, decider, arguments=arguments)
        except ConsoleError as exc:
            decisions.append(Decision(op_id, False, code=exc.code, message=exc.message))
        else:
            decisions.append(Decision(op_id, True, op.status, op.error_code, op.error))
    return decisions


# What a decision came to, per verb: one operation, an edited one, several, and one that was refused.
DECIDED = {
    "Approved": (N_("Approved #{id}."), N_("Approved #{id} with your edit."), N_("Approved {done} of {total}: {ids}."),
                 N_("#{id} not approved: {code} — {message}")),
    "Rejected": (N_("Rejected #{id}."), N_("Rejected #{id}."), N_("Rejected {done} of {total}: {ids}."),
                 N_("#{id} not rejected: {code} — {message}")),
}


def decision_report(decisions: list[Decision], verb: str, *, edited: bool = False) -> list[tuple[str, str]]:
    """(level, text) lines for people: what was decided (`verb`: Approved or Rejected), then each one that was not,
    or whose write failed.

    An operation someone else decided first says who did what and when (the gate's Conflict message), as such.
    """
    one, one_edited, several, refused = DECIDED[verb]
    done = [d for d in decisions if d.done]
    lines: list[tuple[str, str]] = []
    if len(decisions) == 1 and done:
        lines.append(("success", _(one_edited if edited else one).format(id=done[0].operation_id)))
    elif done:
        lines.append(("success", _(several).format(done=len(done), total=len(decisions),
                                                   ids=", ".join(f"#{d.operation_id}" for d in done))))
    for d in decisions:
        if d.done and d.status in ("failed", "unknown"):
            text = (_("#{id} was approved, but the write failed: {code}: {message}") if d.status == "failed"
                    else _("#{id} was approved, but the write has no answer yet: {code}: {message}"))
            lines.append(("warning", text.format(id=d.operation_id, code=d.code, message=d.message)))
        elif d.already_decided:
            lines.append(("warning", _("Already decided — {message}.").format(message=d.message)))
        elif not d.done:
            lines.append(("error", _(refused).format(id=d.operation_id, code=d.code, message=d.message)))
    return lines


# -- the site's limits beside an edit ------------------------------------------------------------------------------
def field_limits(tool: str, field: str, policy: SitePolicy | None) -> str:
    """The site's limits on a field (`max ±50% or ±2.00 per change`), when the policy module can say them."""
    from mcp_bridge.catalog import policy as policy_module

    limits_for = getattr(policy_module, "limits_for", None)
    if limits_for is None or policy is None:
        return ""
    try:
        return str(limits_for(tool, field, policy) or "")
    except Exception:  # the limits are a hint beside the input: never a reason to lose the form
        log.warning("no limits text for %s.%s", tool, field, exc_info=True)
        return ""
