"""How an operation reads for people: its currency, target, change, impact, source and "approved as" line.

Every place that shows an operation (the approvals queue and card, the history, the chat's cards, `ops show`)
uses these, so an edited operation reads the same everywhere. Operations may be `Operation`s or plain dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console import formatting
from console.i18n import N_, _

SITE_CURRENCY = {"us": "USD", "de": "EUR", "jp": "JPY", "uk": "GBP", "cn": "CNY"}
MONEY_FIELDS = ("bid", "budget", "price", "cost", "spend", "amount", "revenue", "sales")
SOURCE_LABELS = {"chat": N_("chat"), "job": N_("scheduled job"), "cli": N_("command line"),
                 "gateway": N_("MCP gateway"), "ui": N_("console")}
# The alerts' rules as a source reads (`alert: wasted spend`); a rule not named here reads as its code.
RULE_NAMES = {"sales_anomaly": N_("sales anomaly"), "acos_over_target": N_("acos over target"),
              "budget_exhausted": N_("budget exhausted"), "wasted_spend": N_("wasted spend"),
              "harvest": N_("harvest"), "stock_out_risk": N_("stock out risk"), "oos_live_ads": N_("oos live ads"),
              "low_star_reviews": N_("low star reviews")}
# The fields of a change and of a projected impact as people name them; others read as their code.
FIELD_NAMES = {"bid": N_("bid"), "budget": N_("budget"), "daily_budget": N_("budget"), "price": N_("price"),
               "default_bid": N_("default bid"), "on_hand": N_("on hand"), "inbound": N_("inbound"),
               "reserved": N_("reserved"), "quantity": N_("quantity"), "value": N_("value"), "kind": N_("kind"),
               "revenue": N_("revenue"), "sales": N_("sales")}
IMPACT_NAMES = {"daily_spend": N_("Daily spend"), "daily_revenue": N_("Daily revenue"), "revenue": N_("Revenue"),
                "budget": N_("Budget"), "daily_budget": N_("Daily budget"), "on_hand": N_("On hand"),
                "inbound": N_("Inbound"), "reserved": N_("Reserved")}
STATES = {"enabled": N_("enabled"), "paused": N_("paused"), "archived": N_("archived")}


def get(op: Any, name: str, default: Any = None) -> Any:
    """A field of an operation, whether it is an `Operation` or a dict."""
    if isinstance(op, Mapping):
        return op.get(name, default)
    return getattr(op, name, default)


def currency_of(op: Any) -> str:
    """The operation's money currency: its evidence's if recorded, else its site's."""
    evidence = get(op, "evidence") or {}
    return str(evidence.get("currency") or SITE_CURRENCY.get(str(get(op, "site") or ""), "USD"))


def field_value(field_name: str, value: Any, currency: str) -> str:
    """A before/after value for people: money for bids/budgets/prices, counts with separators."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int | float):
        name = field_name.lower()
        if any(word in name for word in MONEY_FIELDS):
            return formatting.money(float(value), currency)
        if "acos" in name or name.endswith(("_rate", "_pct")):
            return formatting.percent(float(value))
        return formatting.count(value) if float(value).is_integer() else f"{value:,.2f}"
    return _(STATES[value]) if isinstance(value, str) and value in STATES else str(value)


def impact_text(impact: Mapping[str, Any], currency: str) -> str:
    """`Daily spend: -$4.20 · Daily revenue: +$12.00` from the server's projected impact."""
    parts = []
    for key, value in impact.items():
        name = key.removesuffix("_delta")
        label = _(IMPACT_NAMES[name]) if name in IMPACT_NAMES else name.replace("_", " ").capitalize()
        if isinstance(value, int | float) and not isinstance(value, bool) and any(w in key for w in MONEY_FIELDS):
            text = ("+" if value > 0 else "") + formatting.money(float(value), currency)
        else:
            text = field_value(key, value, currency)
        parts.append(_("{label}: {value}").format(label=label, value=text))
    return " · ".join(parts)


def impact_amount(op: Any) -> float:
    """How much money the change moves per day (the sum of the projected money deltas' sizes), for sorting."""
    impact = (get(op, "preview") or {}).get("impact") or {}
    return sum(abs(float(v)) for k, v in impact.items()
               if isinstance(v, int | float) and not isinstance(v, bool) and any(w in k for w in MONEY_FIELDS))


def changes(op: Any) -> list[dict[str, Any]]:
    """The preview's before → after of each field (from `changes`, or from `before`/`after`)."""
    preview = get(op, "preview") or {}
    return preview.get("changes") or [
        {"field": k, "before": (preview.get("before") or {}).get(k), "after": v}
        for k, v in (preview.get("after") or {}).items()
    ]


def field_label(field: str) -> str:
    """A field as people name it: `bid`, `budget` (for `daily_budget`), in the reader's language."""
    return _(FIELD_NAMES[field]) if field in FIELD_NAMES else field.removeprefix("daily_")


def _change(field: str, before: Any, after: Any, currency: str) -> str:
    label = "" if field in ("state", "status") else field_label(field) + " "
    if before is None:
        return _("{field}{value} (new)").format(field=label, value=field_value(field, after, currency))
    return f"{label}{field_value(field, before, currency)} → {field_value(field, after, currency)}"


def change_text(op: Any) -> str:
    """`bid $1.50 → $1.20`, `enabled → paused`, `bid $0.98 (new)`; the preview's summary when it lists no fields."""
    currency = currency_of(op)
    parts = [_change(str(c.get("field", "")), c.get("before"), c.get("after"), currency) for c in changes(op)]
    return " · ".join(parts) or str((get(op, "preview") or {}).get("summary") or get(op, "tool") or "")


def target_text(op: Any) -> str:
    """What the change applies to, as the server named it (`keyword #7 'yoga mat' (exact)`)."""
    preview = get(op, "preview") or {}
    return str(preview.get("target") or get(op, "tool") or "")


def source_label(op: Any, *, short: bool = False) -> str:
    """Where a proposal came from: `alert: ACOS over target`, `chat`, `scheduled job`…; `short`: the rule alone."""
    evidence = get(op, "evidence") or {}
    rule = str(evidence.get("rule") or "")
    if rule:
        name = _(RULE_NAMES[rule]) if rule in RULE_NAMES else rule.replace("_", " ")
        return name if short else _("alert: {rule}").format(rule=name)
    kind = str(get(op, "source_kind") or "")
    return _(SOURCE_LABELS[kind]) if kind in SOURCE_LABELS else kind or "—"


def _plain(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if value is None:
        return "—"
    return str(value)


def _edit(op: Any) -> tuple[list[str], dict[str, Any], dict[str, Any], str] | None:
    """The fields an approver changed: (names, proposed arguments, approved arguments, who edited), or None."""
    history = get(op, "edit_history") or []
    original = get(op, "original_arguments") or (history[0].get("before") if history else None)
    if not history or not original:
        return None
    final = get(op, "arguments") or {}
    names = [n for n in sorted(set(original) | set(final)) if original.get(n) != final.get(n)]
    return (names, original, final, history[-1].get("by") or get(op, "decided_by") or "?") if names else None


def edit_line(op: Any) -> str | None:
    """`bid: proposed 1.50 by seller@… · approved as 1.55 by approver@…` for an edited operation, else None."""
    edit = _edit(op)
    if edit is None:
        return None
    names, original, final, editor = edit
    before = ", ".join(_plain(original.get(n)) for n in names)
    after = ", ".join(_plain(final.get(n)) for n in names)
    return _("{fields}: proposed {before} by {proposer} · approved as {after} by {editor}").format(
        fields=", ".join(names), before=before, proposer=get(op, "proposer"), after=after, editor=editor)


OUTCOMES = {"proposed": N_("waiting for approval"), "approved": N_("approved"), "executing": N_("approved, running"),
            "succeeded": N_("done"), "failed": N_("approved, but the write failed"),
            "unknown": N_("approved, outcome unknown yet"), "rejected": N_("rejected"),
            "expired": N_("expired before anyone decided")}


def outcome_text(op: Any, *, brief: bool = False) -> str:
    """What became of a request, for its proposer: `done by … · bid: proposed … approved as 1.55 by …`,
    `rejected by …: “why”`; `brief` (a table row) leaves out who: `done · approved as 1.55 (asked 1.50)`."""
    status = str(get(op, "status") or "")
    text = _(OUTCOMES[status]) if status in OUTCOMES else status
    if get(op, "decided_by") and status not in ("expired", "proposed") and not brief:
        text = _("{outcome} by {person}").format(outcome=text, person=get(op, "decided_by"))
    if status == "rejected" and get(op, "decision_reason"):
        text = _("{outcome}: “{reason}”").format(outcome=text, reason=get(op, "decision_reason"))
    if status in ("failed", "unknown") and get(op, "error"):
        text = _("{outcome}: {error}").format(outcome=text, error=get(op, "error"))
    edit = _edit(op)
    if edit is None:
        return text
    if not brief:
        return f"{text} · {edit_line(op)}"
    names, original, final, _editor = edit
    return _("{outcome} · approved as {after} (asked {before})").format(
        outcome=text, after=", ".join(_plain(final.get(n)) for n in names),
        before=", ".join(_plain(original.get(n)) for n in names))
