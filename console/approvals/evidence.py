"""The evidence behind a proposal, for people: the target's metrics over a window, and the rule or request.

`op.evidence` has the agreed shape `{"kind", "label", "window": {"start", "end", "days"}, "metrics": {...},
"rule", "rule_text", "request", "currency", "unavailable"}`; ratios (ACOS, CTR, CVR, utilisation) are fractions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from console import formatting
from console.i18n import N_, _, ngettext

AD_METRICS = ("impressions", "clicks", "spend", "orders", "sales", "acos", "cpc", "ctr", "cvr")
KIND_METRICS: dict[str, tuple[str, ...]] = {
    "keyword": AD_METRICS, "target": AD_METRICS, "search_term": AD_METRICS,
    "campaign": ("daily_budget", "utilisation", "exhausted_hour", "spend", "sales", "acos"),
    "ad_group": ("default_bid", "spend", "sales", "acos"),
    "sku": ("on_hand", "reserved", "inbound", "velocity_per_day", "days_of_supply", "lead_time_days"),
    "product": ("rating", "reviews", "low_star_reviews", "live_ad_skus"),
    "order": ("status", "lines", "total", "placed_at"),
    "coupon": ("kind", "value", "budget", "spent", "status"),
}
# The few numbers that say at a glance why a change is proposed (the queue's evidence column): per rule when the
# proposal came from one, else per kind. `acos|orders`: ACOS when there were orders, else the (zero) orders.
RULE_SUMMARY: dict[str, tuple[str, ...]] = {
    "acos_over_target": ("acos", "spend"), "wasted_spend": ("spend", "orders"), "harvest": ("orders", "cvr"),
    "budget_exhausted": ("utilisation", "exhausted_hour"), "stock_out_risk": ("days_of_supply", "velocity_per_day"),
    "oos_live_ads": ("on_hand", "live_ad_skus"), "low_star_reviews": ("low_star_reviews", "rating"),
}
KIND_SUMMARY: dict[str, tuple[str, ...]] = {
    "keyword": ("spend", "acos|orders"), "target": ("spend", "acos|orders"), "search_term": ("orders", "cvr"),
    "campaign": ("utilisation", "exhausted_hour"), "ad_group": ("spend", "acos|orders"),
    "sku": ("days_of_supply", "velocity_per_day"), "product": ("rating", "low_star_reviews"),
    "order": ("status", "total"), "coupon": ("spent", "budget", "status"),
}
LABELS = {
    "impressions": N_("Impressions"), "clicks": N_("Clicks"), "spend": N_("Spend"), "orders": N_("Orders"),
    "sales": N_("Sales"), "acos": "ACOS", "cpc": "CPC", "ctr": "CTR", "cvr": "CVR", "daily_budget": N_("Daily budget"),
    "utilisation": N_("Budget used"), "exhausted_hour": N_("Budget ran out at"), "default_bid": N_("Default bid"),
    "on_hand": N_("On hand"), "reserved": N_("Reserved"), "inbound": N_("Inbound"),
    "velocity_per_day": N_("Sells per day"), "days_of_supply": N_("Days of supply"), "lead_time_days": N_("Lead time"),
    "rating": N_("Rating"), "reviews": N_("Reviews"), "low_star_reviews": N_("Low-star reviews"),
    "live_ad_skus": N_("SKUs with live ads"), "status": N_("Status"), "lines": N_("Lines"), "total": N_("Total"),
    "placed_at": N_("Placed"), "kind": N_("Kind"), "value": N_("Value"), "budget": N_("Budget"), "spent": N_("Spent"),
}
ACRONYMS = frozenset({"acos", "cpc", "ctr", "cvr"})  # the same in every language
SHORT = {  # how a metric reads inside the one-line summary (orders: singular or plural, see evidence_summary)
    "spend": N_("spend {value}"), "sales": N_("sales {value}"), "acos": "ACOS {value}", "cvr": "CVR {value}",
    "daily_budget": N_("budget {value}"), "utilisation": N_("{value} used"), "exhausted_hour": N_("out at {value}"),
    "default_bid": N_("default bid {value}"), "days_of_supply": N_("{value} of supply"),
    "on_hand": N_("{value} on hand"), "velocity_per_day": "{value}", "rating": N_("rating {value}"),
    "low_star_reviews": N_("{value} low-star"), "status": "{value}", "total": "{value}", "spent": N_("spent {value}"),
    "budget": N_("budget {value}"), "live_ad_skus": N_("{value} SKUs with live ads"),
}
# What evidence is about, as its subject names it ("keyword 'yoga mat'"); other kinds read as their code.
KIND_NAMES = {"keyword": N_("keyword"), "target": N_("target"), "search_term": N_("search term"),
              "campaign": N_("campaign"), "ad_group": N_("ad group"), "sku": "SKU", "product": N_("product"),
              "order": N_("order"), "coupon": N_("coupon")}
MONEY = frozenset({"spend", "sales", "cpc", "daily_budget", "default_bid", "total", "budget", "spent"})
RATIOS = frozenset({"acos", "ctr", "cvr", "utilisation"})
COUNTS = frozenset({"impressions", "clicks", "orders", "on_hand", "reserved", "inbound", "reviews",
                    "low_star_reviews", "live_ad_skus", "lines"})
NONE_RECORDED = N_("no evidence recorded")


def _days(value: float) -> str:
    return _("{days} d").format(days=f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}")


def label(name: str) -> str:
    """A metric's label in the reader's language (`Spend`, `ACOS`); an unknown one from its name."""
    if name in ACRONYMS or name not in LABELS:
        return LABELS.get(name) or name.replace("_", " ").capitalize()
    return _(LABELS[name])


SPECIAL: dict[str, Callable[[Any], str]] = {
    "velocity_per_day": lambda v: _("{value}/day").format(value=f"{v:,.1f}"),
    "days_of_supply": _days,
    "lead_time_days": _days,
    "rating": lambda v: f"{v:.1f} ★",
    "exhausted_hour": lambda v: f"{int(v):02d}:00",
    "placed_at": lambda v: str(v).replace("T", " ")[:16],
}


@dataclass(frozen=True)
class EvidenceView:
    """Evidence ready to show: what it is about, over which window, its metrics, and why the change was proposed."""

    subject: str  # "keyword 'yoga mat' · last 30 d (2026-10-22 → 2026-11-20)"
    metrics: list[tuple[str, str]]  # (label, value) in the kind's order
    why: str | None  # "Rule: ACOS 48% over the 30% target" or "Request: “lower the bid…”"
    missing: str | None  # set when there is nothing to show: "no evidence recorded" or the reason it is unavailable


def metric_text(name: str, value: Any, *, currency: str = "USD", evidence: Mapping[str, Any] | None = None) -> str:
    """One metric for people: money in the currency, ratios as %, counts with separators, days, ratings."""
    if value is None:
        return _("not exhausted") if name == "exhausted_hour" else "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):  # an order's lines, a product's SKUs with live ads
        parts = [f"{line.get('quantity', '?')} × {line.get('sku', '?')}" if isinstance(line, Mapping) else str(line)
                 for line in value[:4]]
        if not parts:
            return _("none")
        if len(value) > 4:
            return _("{items} and {count} more").format(items=", ".join(parts), count=len(value) - 4)
        return ", ".join(parts)
    if name == "placed_at" or not isinstance(value, int | float):
        return SPECIAL["placed_at"](value) if name == "placed_at" else str(value)
    if name in SPECIAL:
        return SPECIAL[name](value)
    if name == "value" and evidence is not None:  # a coupon's value: percent off, or an amount off
        kind = ((evidence.get("metrics") or {}).get("kind") or "")
        return f"{value:g}%" if kind == "percent" else formatting.money(float(value), currency)
    if name in MONEY:
        return formatting.money(float(value), currency)
    if name in RATIOS:
        return formatting.percent(float(value))
    if name in COUNTS or float(value).is_integer():
        return formatting.count(value)
    return f"{value:,.2f}"


def _window(evidence: Mapping[str, Any]) -> str:
    window = evidence.get("window") or {}
    days, start, end = window.get("days"), window.get("start"), window.get("end")
    text = _("last {days} d").format(days=days) if days else ""
    if start and end:
        text += f" ({start} → {end})" if text else f"{start} → {end}"
    return text


def _ordered(evidence: Mapping[str, Any]) -> list[str]:
    metrics = evidence.get("metrics") or {}
    known = [m for m in KIND_METRICS.get(str(evidence.get("kind") or ""), ()) if m in metrics]
    return known + [m for m in metrics if m not in known]


def evidence_view(evidence: Mapping[str, Any] | None) -> EvidenceView:
    """The card's evidence: subject and window, each metric formatted, the rule text or the chat request."""
    if not evidence:
        return EvidenceView("", [], None, _(NONE_RECORDED))
    currency = str(evidence.get("currency") or "USD")
    code = str(evidence.get("kind") or "")
    kind = code.replace("_", " ")
    about = str(evidence.get("label") or "")
    # Labels from the servers already name their kind ("keyword 'yoga mat' (exact)"): never say it twice.
    if kind and about.lower().startswith(kind.lower()):
        named = about
    else:
        named = f"{_(KIND_NAMES[code]) if code in KIND_NAMES else kind} {about}".strip()
    subject = " · ".join(p for p in (named, _window(evidence)) if p)
    metrics = evidence.get("metrics") or {}
    rows = [(label(m), metric_text(m, metrics[m], currency=currency, evidence=evidence)) for m in _ordered(evidence)]
    if evidence.get("rule_text"):
        why = _("Rule: {rule}").format(rule=evidence["rule_text"])
    elif evidence.get("request"):
        why = _("Request: “{request}”").format(request=evidence["request"])
    else:
        why = None
    missing = None
    if evidence.get("unavailable"):
        missing = _("evidence unavailable: {reason}").format(reason=evidence["unavailable"])
    elif not rows:
        missing = _(NONE_RECORDED)
    return EvidenceView(subject, rows, why, missing)


def _short_percent(ratio: float) -> str:
    """A ratio in a summary: whole percents from 10% up (`88%`), one decimal below (`4.5%`)."""
    return formatting.percent(ratio, digits=0 if abs(ratio) >= 0.1 else 1)


def evidence_summary(evidence: Mapping[str, Any] | None) -> str:
    """One line for the queue: `spend $41.20 · 0 orders · 30 d`; says so when there is none."""
    if not evidence:
        return _(NONE_RECORDED)
    if evidence.get("unavailable"):
        return _("unavailable: {reason}").format(reason=evidence["unavailable"])
    metrics = evidence.get("metrics") or {}
    if not metrics:
        return _(NONE_RECORDED)
    currency = str(evidence.get("currency") or "USD")
    wanted = RULE_SUMMARY.get(str(evidence.get("rule") or "")) or KIND_SUMMARY.get(str(evidence.get("kind") or ""),
                                                                                   tuple(metrics)[:3])
    parts = []
    for name in wanted:
        if name == "acos|orders":
            name = "acos" if metrics.get("orders") and metrics.get("acos") is not None else "orders"
        if metrics.get(name) is None:
            continue
        value = metrics[name]
        text = (_short_percent(value) if name in RATIOS and isinstance(value, int | float)
                else metric_text(name, value, currency=currency, evidence=evidence))
        if name == "orders" and isinstance(value, int | float):
            parts.append(ngettext("{value} order", "{value} orders", int(value)).format(value=text))
        elif name in SHORT:
            parts.append(_(SHORT[name]).format(value=text) if name not in ACRONYMS else SHORT[name].format(value=text))
        else:
            parts.append(f"{label(name) if name in ACRONYMS else label(name).lower()} {text}")
    days = (evidence.get("window") or {}).get("days")
    if days:
        parts.append(_("{days} d").format(days=days))
    return " · ".join(parts) or _(NONE_RECORDED)
