"""Alert panels and their fixes: each alert kind maps to the write calls that would fix it, filed as one batch."""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from console.i18n import N_, _
from console.reports import fix_evidence
from mcp_bridge.errors import PermissionDenied
from mcp_bridge.types import Caller, Source

# kind → (panel title, what the fix does; empty when the alert is report-only). Marked for translation: shown
# through `_()` (Alert.title, Alert.fix), in the reader's language.
KINDS: dict[str, tuple[str, str]] = {
    "sales_anomaly": (N_("Sales anomaly"), ""),
    "acos_over_target": (N_("ACOS over target"), N_("Lower each bid towards the target ACOS (at most −50%)")),
    "budget_exhausted": (N_("Budget exhausted early"),
                         N_("Raise the budget 25%, moved from under-utilised campaigns when there are any")),
    "wasted_spend": (N_("Wasted spend"), N_("Pause keywords without orders; cut the bid 50% where ACOS is over 100%")),
    "harvest": (N_("Harvestable search terms"), N_("Add as exact keyword (an ASIN as product target) at 1.2× average "
                                                   "CPC in the manual campaign advertising the same SKUs, and negative "
                                                   "exact in the auto campaign; without such a campaign, create it "
                                                   "first")),
    "stock_out_risk": (N_("Stock-out risk"), N_("Place the suggested reorder: add it to the SKU's inbound units")),
    "oos_live_ads": (N_("Out of stock with live ads"), N_("Pause the SKU's product ads")),
    "low_star_reviews": (N_("Low-star reviews"), N_("Pause the ads of a product with several low-star reviews until "
                                                    "the complaints are checked")),
}
WASTED_ACTIONS = ("auto", "pause", "cut_bid", "negative")
BUDGET_RAISE = 0.25
HARVEST_BID_FACTOR = 1.2
MIN_BID = 0.02
REPEATED_LOW_STARS = 2  # low-star reviews of one product in the window that pause its ads (one is a complaint to read)
ASIN = re.compile(r"b0[a-z0-9]{8}", re.IGNORECASE)  # a search term that is a product id: harvested as a product target
HARVEST_GROUP = "Harvested exact"  # the first ad group of a manual campaign created for harvested terms
HARVEST_BUDGET_SHARE = 0.5  # of the auto campaign's budget, for that new campaign


@dataclass(frozen=True)
class Alert:
    """One alert panel: its kind, the site, and the rows that triggered it."""

    kind: str
    site: str
    items: list[dict[str, Any]]
    note: str = ""
    window: dict[str, Any] | None = None  # the days the rows' figures cover: {"start", "end", "days"}
    currency: str = ""
    savings_window: dict[str, Any] | None = None  # the days "saves / day" averages (wasted spend), as the cards do

    @property
    def title(self) -> str:
        return _(KINDS[self.kind][0])

    @property
    def fix(self) -> str:
        fix = KINDS[self.kind][1]
        return _(fix) if fix else ""

    @property
    def window_text(self) -> str:
        """Which days the panel's figures cover, for its caption and the report."""
        if not self.window:
            return ""
        if self.savings_window:
            return _("Figures over {window}: this check's own window; saves / day averages {savings}, the projection "
                     "the approval card shows.").format(window=fix_evidence.window_text(self.window),
                                                        savings=fix_evidence.window_text(self.savings_window))
        return _("Figures over {window}: this check's own window.").format(window=fix_evidence.window_text(self.window))

    @property
    def fixable(self) -> bool:
        return bool(self.fix) and bool(self.items)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.items)


@dataclass(frozen=True)
class FixCall:
    """One write the fix would make, and why (the reason travels with the pending operation)."""

    tool: str
    arguments: dict[str, Any]
    reason: str
    evidence: dict[str, Any] | None = None  # the target's metrics over the rule's window (fix_evidence's shape)


@dataclass
class FixResult:
    """What `propose_fixes` filed: the batch, how many became pending operations, which were refused and why."""

    batch_id: str
    proposed: int = 0
    operation_ids: list[int] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (what, why)
    notes: list[str] = field(default_factory=list)
    # Fixes identical to an operation still waiting: not filed again (the waiting operations' ids).
    already_waiting: list[int] = field(default_factory=list)

    def merge(self, other: FixResult) -> None:
        self.proposed += other.proposed
        self.operation_ids += other.operation_ids
        self.refused += other.refused
        self.notes += other.notes
        self.already_waiting += other.already_waiting


def _num(item: dict[str, Any], *names: str, default: float | None = None) -> float | None:
    for name in names:
        if item.get(name) is not None:
            return float(item[name])
    return default


def cents_up(value: float) -> float:
    """Round up to the cent: a cut of "at most 50%" must not become 50.3% through rounding."""
    return math.ceil(round(value * 100, 6)) / 100


def lowered_bid(bid: float, acos: float, target: float) -> float:
    """The bid that would bring ACOS to target if sales held, never below half the old bid (the −50% step)."""
    factor = min(0.95, max(0.5, target / acos)) if acos > 0 else 0.5
    return max(MIN_BID, cents_up(bid * factor))


def plan_fixes(kind: str, site: str, items: list[dict[str, Any]], *, action: str = "auto",
               acos_target: float | None = None, window: dict[str, Any] | None = None,
               currency: str | None = None) -> tuple[list[FixCall], list[str]]:
    """The write calls that fix these alert rows, and notes for rows nothing can be filed for (pure).

    Each call carries the evidence of its target (`window`: the days the rows cover; `currency`: the site's).
    """
    calls: list[FixCall] = []
    notes: list[str] = []

    def evidence(it: dict[str, Any]) -> dict[str, Any] | None:
        return fix_evidence.of_row(kind, it, span=window, currency=currency, acos_target=acos_target)

    if kind == "acos_over_target":
        for it in items:
            target = _num(it, "acos_target", "target", default=acos_target)
            acos, bid = _num(it, "acos"), _num(it, "bid")
            if target is None or acos is None or bid is None:
                notes.append(_("keyword {id}: no ACOS, bid or target to work from").format(id=it.get("keyword_id")))
                continue
            new = lowered_bid(bid, acos, target)
            calls.append(FixCall("ads__update_bid", {"site": site, "keyword_id": int(it["keyword_id"]), "bid": new},
                                 f"ACOS {acos:.0%} over target {target:.0%}: bid {bid:.2f} → {new:.2f}", evidence(it)))
    elif kind == "budget_exhausted":
        exhausted = [it for it in items if it.get("role", "exhausted") == "exhausted"]
        donors = sorted((it for it in items if it.get("role") == "under_utilised"),
                        key=lambda it: -(_num(it, "daily_budget", default=0) * (1 - _num(it, "utilisation", default=0))))
        spare = {int(d["campaign_id"]): _num(d, "daily_budget", default=0) * (1 - _num(d, "utilisation", default=0)) for d in donors}
        budgets = {int(d["campaign_id"]): _num(d, "daily_budget", default=0) for d in donors}
        for it in exhausted:
            budget = _num(it, "daily_budget", default=0)
            amount = round(budget * BUDGET_RAISE, 2)
            donor = next((cid for cid, left in spare.items() if left >= amount), None)
            when = f" (ran out at {int(it['exhausted_hour']):02d}:00)" if it.get("exhausted_hour") is not None else ""
            calls.append(FixCall("ads__update_campaign",
                                 {"site": site, "campaign_id": int(it["campaign_id"]), "daily_budget": round(budget + amount, 2)},
                                 f"budget exhausted early{when}: {budget:.2f} → {budget + amount:.2f}"
                                 + (f", moved from campaign {donor}" if donor else ""), evidence(it)))
            if donor is not None:
                spare[donor] -= amount
                budgets[donor] = round(budgets[donor] - amount, 2)
        for cid, new_budget in budgets.items():
            donor_row = next(d for d in donors if int(d["campaign_id"]) == cid)
            old = _num(donor_row, "daily_budget", default=0)
            if new_budget < old:
                calls.append(FixCall("ads__update_campaign", {"site": site, "campaign_id": cid, "daily_budget": new_budget},
                                     f"under-utilised: budget {old:.2f} → {new_budget:.2f}, moved to campaigns that run out",
                                     evidence(donor_row)))
    elif kind == "wasted_spend":
        if action not in WASTED_ACTIONS:
            raise ValueError(f"action must be one of {WASTED_ACTIONS}")
        for it in items:
            spend, orders = _num(it, "spend", default=0), int(_num(it, "orders", default=0))
            # "auto" follows the finder's suggestion, else: no orders → pause, orders at a loss → cut the bid.
            chosen = action if action != "auto" else it.get("suggested_action") or ("pause" if orders == 0 else "cut_bid")
            why = f"spent {spend:.2f} with {orders} orders" + (f", ACOS {it['acos']:.0%}" if it.get("acos") else "")
            if chosen != "negative" and it.get("keyword_id") is None:
                chosen = "negative"  # a search term has no keyword to pause or cut
            # The finder's projection is the card's (same week, same formula), for the action it suggested.
            saves = (f" (saves {it['daily_savings']:.2f}/day)"
                     if it.get("daily_savings") is not None and chosen == it.get("suggested_action") else "")
            if chosen == "pause":
                calls.append(FixCall("ads__pause_keyword", {"site": site, "keyword_id": int(it["keyword_id"])},
                                     f"wasted spend: {why} → pause{saves}", evidence(it)))
            elif chosen == "cut_bid":
                bid = _num(it, "bid", default=0)
                new = cut_bid(bid, it.get("suggested_bid"))
                calls.append(FixCall("ads__update_bid", {"site": site, "keyword_id": int(it["keyword_id"]), "bid": new},
                                     f"wasted spend: {why} → bid {bid:.2f} → {new:.2f}{saves}", evidence(it)))
            else:
                calls.append(FixCall("ads__create_negative",
                                     {"site": site, "campaign_id": int(it["campaign_id"]), "text": it["text"],
                                      "match_type": "negative_exact"}, f"wasted spend: {why} → negative exact{saves}",
                                     evidence(it)))
    elif kind == "harvest":
        _plan_harvest(site, items, calls, notes, window=window, currency=currency)
    elif kind == "oos_live_ads":
        for it in items:
            calls.append(FixCall("ads__pause_product_ads", {"site": site, "sku": it["sku"]},
                                 f"SKU {it['sku']} is out of stock with {int(_num(it, 'live_ads', default=1))} live ads",
                                 evidence(it)))
    elif kind == "stock_out_risk":
        for it in items:
            quantity = int(_num(it, "reorder_quantity", default=0))
            if quantity <= 0:
                notes.append(_("{sku}: {supply}, but inbound stock already covers the lead time").format(
                    sku=it["sku"], supply=_days(it, translated=True)))
                continue
            why = f"reorder {quantity} × {it['sku']} ({_days(it)}, lead time {int(_num(it, 'lead_time_days', default=0))} d)"
            calls.append(FixCall("commerce__update_inventory",
                                 {"site": site, "variant_id": int(it["variant_id"]), "add_inbound": quantity,
                                  "reason": why[:200]}, why, evidence(it)))
    elif kind == "low_star_reviews":
        seen: set[int] = set()
        for it in items:
            product, n = it.get("product_id"), int(_num(it, "low_star_reviews_of_product", default=1))
            if product in seen:
                continue
            seen.add(product)
            title = it.get("product_title") or f"product {product}"
            if n < REPEATED_LOW_STARS:
                notes.append(_("'{title}': one low-star review; read it and reply, nothing to pause").format(
                    title=it.get("product_title") or _("product {id}").format(id=product)))
            elif not it.get("live_ad_skus"):
                notes.append(_("'{title}': {count} low-star reviews, but no ads of it are running").format(
                    title=it.get("product_title") or _("product {id}").format(id=product), count=n))
            for sku in it.get("live_ad_skus") or []:
                calls.append(FixCall("ads__pause_product_ads", {"site": site, "sku": sku},
                                     f"{n} low-star reviews of '{title}' in 3 days: pause SKU {sku}'s ads until the "
                                     "complaints are checked", evidence(it)))
    elif kind in KINDS:
        notes.append(_("{alert} is reported only; there is nothing to file").format(alert=_(KINDS[kind][0])))
    else:
        raise ValueError(f"unknown alert kind {kind!r}; one of {', '.join(KINDS)}")
    return calls, notes


def cut_bid(bid: float, suggested: float | None = None) -> float:
    """Half the bid, rounded up to the cent (or the finder's suggestion, whose projection the row shows)."""
    return max(MIN_BID, float(suggested) if suggested else cents_up(bid * 0.5))


def manual_name(auto_name: str) -> str:
    """The name of the manual exact campaign made for an auto campaign's terms: 'US SP Auto - Mats' → 'US SP Manual
    exact - Mats' (a name without the word gets the words added)."""
    if re.search(r"\bauto\b", auto_name, re.IGNORECASE):
        return re.sub(r"\bauto\b", "Manual exact", auto_name, count=1, flags=re.IGNORECASE)[:200]
    return f"{auto_name} - Manual exact"[:200]


def is_asin(term: str) -> bool:
    return ASIN.fullmatch(term.strip()) is not None


def _plan_harvest(site: str, items: list[dict[str, Any]], calls: list[FixCall], notes: list[str], *,
                  window: dict[str, Any] | None, currency: str | None) -> None:
    """Exact keyword (an ASIN: product target) in the manual ad group the finder found, negative exact in the auto
    campaign; terms of an auto campaign no manual campaign serves get that campaign created first (one per campaign)."""
    orphans: dict[int, list[dict[str, Any]]] = {}
    for it in items:
        term = it["search_term"]
        target_group = it.get("target_ad_group_id")
        if target_group is None:
            orphans.setdefault(int(it["campaign_id"]), []).append(it)
            continue
        cpc = _num(it, "avg_cpc", "cpc", default=0)
        bid = round(max(MIN_BID, cpc * HARVEST_BID_FACTOR), 2)
        why = f"harvest '{term}' (CVR {_num(it, 'cvr', default=0):.0%}, {int(_num(it, 'orders', default=0))} orders)"
        into = f" in ad group '{it['target_ad_group_name']}'" if it.get("target_ad_group_name") else ""
        proof = fix_evidence.of_row("harvest", it, span=window, currency=currency)
        as_target = it.get("harvest_as", "product_target" if is_asin(term) else "exact_keyword") == "product_target"
        if as_target:
            asin = term.strip().upper()
            calls.append(FixCall("ads__create_product_target",
                                 {"site": site, "ad_group_id": int(target_group), "asin": asin, "bid": bid},
                                 f"{why}: product target ASIN {asin}{into} at {bid:.2f} (1.2 × CPC {cpc:.2f})", proof))
        else:
            calls.append(FixCall("ads__create_keyword", {"site": site, "ad_group_id": int(target_group), "text": term,
                                                         "match_type": "exact", "bid": bid},
                                 f"{why}: exact keyword{into} at {bid:.2f} (1.2 × CPC {cpc:.2f})", proof))
        if not it.get("negative_in_auto"):
            calls.append(FixCall("ads__create_negative", {"site": site, "campaign_id": int(it["campaign_id"]),
                                                          "text": term, "match_type": "negative_exact"},
                                 f"{why}: negative exact in the auto campaign", proof))
    for campaign_id, terms in orphans.items():
        first = terms[0]
        name = first.get("campaign_name") or f"campaign {campaign_id}"
        skus, budget = first.get("source_skus"), first.get("campaign_daily_budget")
        quoted = ", ".join(f"'{t['search_term']}'" for t in terms[:3]) + (" …" if len(terms) > 3 else "")
        if not skus or not budget:
            notes.append(_("{terms}: no manual campaign advertises the products of '{campaign}', and it advertises no "
                           "SKUs to build one from; create a manual campaign for them first").format(
                terms=quoted, campaign=first.get("campaign_name") or _("campaign {id}").format(id=campaign_id)))
            continue
        new_name = manual_name(name)
        default_bid = round(max(MIN_BID, *(_num(t, "avg_cpc", "cpc", default=0) * HARVEST_BID_FACTOR for t in terms)), 2)
        new_budget = round(max(1.0, float(budget) * HARVEST_BUDGET_SHARE), 2)
        calls.append(FixCall("ads__create_campaign",
                             {"site": site, "name": new_name, "targeting": "manual", "daily_budget": new_budget,
                              "ad_group_name": HARVEST_GROUP, "default_bid": default_bid, "skus": list(skus)},
                             f"harvest {len(terms)} terms of '{name}' ({quoted}): no manual campaign advertises its "
                             f"SKUs; create '{new_name}' (budget {new_budget:.2f}, half the auto campaign's) with ad "
                             f"group '{HARVEST_GROUP}' advertising {', '.join(skus)}",
                             fix_evidence.of_terms(terms, span=window, currency=currency)))
        notes.append(_("{terms}: no manual campaign advertises the SKUs of '{campaign}'; proposed creating "
                       "'{new_campaign}' first: the keywords follow once it exists (the next run finds it)").format(
            terms=quoted, campaign=first.get("campaign_name") or _("campaign {id}").format(id=campaign_id),
            new_campaign=new_name))


def _days(it: dict[str, Any], *, translated: bool = False) -> str:
    """How long the stock lasts: English in a fix's reason (kept with the operation), translated in a note."""
    tr = _ if translated else str
    days = it.get("days_of_supply")
    if it.get("out_of_stock"):
        return tr(N_("out of stock"))
    if days is None:
        return tr(N_("no sales"))
    return tr(N_("{days} days of supply")).format(days=f"{float(days):.1f}")


def new_batch_id(prefix: str = "fix") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def file_calls(bridge: Any, caller: Caller, calls: list[FixCall], *, batch_id: str, source_kind: str = "ui",
               ref: str | None = None) -> FixResult:
    """File each call through the bridge under one batch id; a write refused by policy is counted, not raised."""
    result = FixResult(batch_id=batch_id)
    for call in calls:
        source = Source(kind=source_kind, ref=ref, batch_id=batch_id, reason=call.reason, evidence=call.evidence)
        outcome = bridge.call(caller, call.tool, call.arguments, source=source)
        if outcome.status == "pending" and (outcome.structured or {}).get("already_waiting"):
            result.already_waiting.append(outcome.operation_id)
        elif outcome.status == "pending" and outcome.operation_id is not None:
            result.proposed += 1
            result.operation_ids.append(outcome.operation_id)
        else:
            result.refused.append((call.reason, outcome.text))
    return result


FIX_ROLES = ("seller", "manager")  # who may file an alert's fix on a site: see README, Roles


def may_propose_fixes(caller: Caller, site: str) -> bool:
    """True when the caller holds the seller or the manager role on `site` (admin holds both)."""
    return any(caller.has(role, site) for role in FIX_ROLES)


def fixer(caller: Caller, site: str) -> Caller:
    """Who files an alert's fix on `site`: a seller as themselves; a manager of the site as a seller of that site
    alone, since the bridge takes proposals from sellers and a fix is a proposal that an approver still decides."""
    if caller.has("seller", site):
        return caller
    if caller.has("manager", site):
        return Caller.of(caller.user, {site: caller.roles_on(site) | {"seller"}}, caller.channel)
    raise PermissionDenied(f"proposing the fixes of alerts on site {site} needs the seller or manager role there; "
                           "ask an admin to grant one")


def propose_fixes(runtime: Any, caller: Caller, alert_kind: str, site: str, items: list[dict[str, Any]], *,
                  action: str = "auto", acos_target: float | None = None, batch_id: str | None = None,
                  source_kind: str = "ui", ref: str | None = None, window: dict[str, Any] | None = None,
                  currency: str | None = None) -> FixResult:
    """Plan the fix of an alert and file it as one batch of pending operations (before → after for an approver)."""
    bridge = getattr(runtime, "bridge", runtime)
    caller = fixer(caller, site)
    calls, notes = plan_fixes(alert_kind, site, items, action=action, acos_target=acos_target, window=window,
                              currency=currency)
    result = file_calls(bridge, caller, calls, batch_id=batch_id or new_batch_id(alert_kind.replace("_", "-")),
                        source_kind=source_kind, ref=ref)
    result.notes += notes
    return result
