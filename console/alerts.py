"""Alert panels and their fixes: each alert kind maps to the write calls that would fix it, filed as one batch."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from mcp_bridge.types import Caller, Source

# kind → (panel title, what the fix does; empty when the alert is report-only)
KINDS: dict[str, tuple[str, str]] = {
    "sales_anomaly": ("Sales anomaly", ""),
    "acos_over_target": ("ACOS over target", "Lower each bid towards the target ACOS (at most −50%)"),
    "budget_exhausted": ("Budget exhausted early", "Raise the budget 25%, moved from under-utilised campaigns when there are any"),
    "wasted_spend": ("Wasted spend", "Pause keywords without orders; cut the bid 50% where ACOS is over 100%"),
    "harvest": ("Harvestable search terms", "Add as exact keyword at 1.2× average CPC, and negative exact in the auto campaign"),
    "stock_out_risk": ("Stock-out risk", "Place the suggested reorder: add it to the SKU's inbound units"),
    "oos_live_ads": ("Out of stock with live ads", "Pause the SKU's product ads"),
    "low_star_reviews": ("Low-star reviews", "Pause the ads of a product with several low-star reviews until the "
                                             "complaints are checked"),
}
WASTED_ACTIONS = ("auto", "pause", "cut_bid", "negative")
BUDGET_RAISE = 0.25
HARVEST_BID_FACTOR = 1.2
MIN_BID = 0.02
REPEATED_LOW_STARS = 2  # low-star reviews of one product in the window that pause its ads (one is a complaint to read)


@dataclass(frozen=True)
class Alert:
    """One alert panel: its kind, the site, and the rows that triggered it."""

    kind: str
    site: str
    items: list[dict[str, Any]]
    note: str = ""

    @property
    def title(self) -> str:
        return KINDS[self.kind][0]

    @property
    def fix(self) -> str:
        return KINDS[self.kind][1]

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


@dataclass
class FixResult:
    """What `propose_fixes` filed: the batch, how many became pending operations, which were refused and why."""

    batch_id: str
    proposed: int = 0
    operation_ids: list[int] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (what, why)
    notes: list[str] = field(default_factory=list)

    def merge(self, other: FixResult) -> None:
        self.proposed += other.proposed
        self.operation_ids += other.operation_ids
        self.refused += other.refused
        self.notes += other.notes


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
               acos_target: float | None = None) -> tuple[list[FixCall], list[str]]:
    """The write calls that fix these alert rows, and notes for rows nothing can be filed for (pure)."""
    calls: list[FixCall] = []
    notes: list[str] = []
    if kind == "acos_over_target":
        for it in items:
            target = _num(it, "acos_target", "target", default=acos_target)
            acos, bid = _num(it, "acos"), _num(it, "bid")
            if target is None or acos is None or bid is None:
                notes.append(f"keyword {it.get('keyword_id')}: no ACOS, bid or target to work from")
                continue
            new = lowered_bid(bid, acos, target)
            calls.append(FixCall("ads__update_bid", {"site": site, "keyword_id": int(it["keyword_id"]), "bid": new},
                                 f"ACOS {acos:.0%} over target {target:.0%}: bid {bid:.2f} → {new:.2f}"))
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
                                 + (f", moved from campaign {donor}" if donor else "")))
            if donor is not None:
                spare[donor] -= amount
                budgets[donor] = round(budgets[donor] - amount, 2)
        for cid, new_budget in budgets.items():
            old = _num(next(d for d in donors if int(d["campaign_id"]) == cid), "daily_budget", default=0)
            if new_budget < old:
                calls.append(FixCall("ads__update_campaign", {"site": site, "campaign_id": cid, "daily_budget": new_budget},
                                     f"under-utilised: budget {old:.2f} → {new_budget:.2f}, moved to campaigns that run out"))
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
            if chosen == "pause":
                calls.append(FixCall("ads__pause_keyword", {"site": site, "keyword_id": int(it["keyword_id"])},
                                     f"wasted spend: {why} → pause"))
            elif chosen == "cut_bid":
                bid = _num(it, "bid", default=0)
                new = max(MIN_BID, cents_up(bid * 0.5))
                calls.append(FixCall("ads__update_bid", {"site": site, "keyword_id": int(it["keyword_id"]), "bid": new},
                                     f"wasted spend: {why} → bid {bid:.2f} → {new:.2f}"))
            else:
                calls.append(FixCall("ads__create_negative",
                                     {"site": site, "campaign_id": int(it["campaign_id"]), "text": it["text"],
                                      "match_type": "negative_exact"}, f"wasted spend: {why} → negative exact"))
    elif kind == "harvest":
        for it in items:
            term = it["search_term"]
            target_group = it.get("target_ad_group_id")
            if target_group is None:
                notes.append(f"'{term}': no manual ad group to add it to; create a manual campaign first")
                continue
            cpc = _num(it, "avg_cpc", "cpc", default=0)
            bid = round(max(MIN_BID, cpc * HARVEST_BID_FACTOR), 2)
            why = f"harvest '{term}' (CVR {_num(it, 'cvr', default=0):.0%}, {int(_num(it, 'orders', default=0))} orders)"
            calls.append(FixCall("ads__create_keyword", {"site": site, "ad_group_id": int(target_group), "text": term,
                                                         "match_type": "exact", "bid": bid},
                                 f"{why}: exact keyword at {bid:.2f} (1.2 × CPC {cpc:.2f})"))
            if not it.get("negative_in_auto"):
                calls.append(FixCall("ads__create_negative", {"site": site, "campaign_id": int(it["campaign_id"]),
                                                              "text": term, "match_type": "negative_exact"},
                                     f"{why}: negative exact in the auto campaign"))
    elif kind == "oos_live_ads":
        for it in items:
            calls.append(FixCall("ads__pause_product_ads", {"site": site, "sku": it["sku"]},
                                 f"SKU {it['sku']} is out of stock with {int(_num(it, 'live_ads', default=1))} live ads"))
    elif kind == "stock_out_risk":
        for it in items:
            quantity = int(_num(it, "reorder_quantity", default=0))
            if quantity <= 0:
                notes.append(f"{it['sku']}: {_days(it)}, but inbound stock already covers the lead time")
                continue
            why = f"reorder {quantity} × {it['sku']} ({_days(it)}, lead time {int(_num(it, 'lead_time_days', default=0))} d)"
            calls.append(FixCall("commerce__update_inventory",
                                 {"site": site, "variant_id": int(it["variant_id"]), "add_inbound": quantity,
                                  "reason": why[:200]}, why))
    elif kind == "low_star_reviews":
        seen: set[int] = set()
        for it in items:
            product, n = it.get("product_id"), int(_num(it, "low_star_reviews_of_product", default=1))
            if product in seen:
                continue
            seen.add(product)
            title = it.get("product_title") or f"product {product}"
            if n < REPEATED_LOW_STARS:
                notes.append(f"'{title}': one low-star review; read it and reply, nothing to pause")
            elif not it.get("live_ad_skus"):
                notes.append(f"'{title}': {n} low-star reviews, but no ads of it are running")
            for sku in it.get("live_ad_skus") or []:
                calls.append(FixCall("ads__pause_product_ads", {"site": site, "sku": sku},
                                     f"{n} low-star reviews of '{title}' in 3 days: pause SKU {sku}'s ads until the "
                                     "complaints are checked"))
    elif kind in KINDS:
        notes.append(f"{KINDS[kind][0]} is reported only; there is nothing to file")
    else:
        raise ValueError(f"unknown alert kind {kind!r}; one of {', '.join(KINDS)}")
    return calls, notes


def _days(it: dict[str, Any]) -> str:
    days = it.get("days_of_supply")
    return "out of stock" if it.get("out_of_stock") else ("no sales" if days is None else f"{float(days):.1f} days of supply")


def new_batch_id(prefix: str = "fix") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def file_calls(bridge: Any, caller: Caller, calls: list[FixCall], *, batch_id: str, source_kind: str = "ui",
               ref: str | None = None) -> FixResult:
    """File each call through the bridge under one batch id; a write refused by policy is counted, not raised."""
    result = FixResult(batch_id=batch_id)
    for call in calls:
        source = Source(kind=source_kind, ref=ref, batch_id=batch_id, reason=call.reason)
        outcome = bridge.call(caller, call.tool, call.arguments, source=source)
        if outcome.status == "pending" and outcome.operation_id is not None:
            result.proposed += 1
            result.operation_ids.append(outcome.operation_id)
        else:
            result.refused.append((call.reason, outcome.text))
    return result


def propose_fixes(runtime: Any, caller: Caller, alert_kind: str, site: str, items: list[dict[str, Any]], *,
                  action: str = "auto", acos_target: float | None = None, batch_id: str | None = None,
                  source_kind: str = "ui", ref: str | None = None) -> FixResult:
    """Plan the fix of an alert and file it as one batch of pending operations (before → after for an approver)."""
    bridge = getattr(runtime, "bridge", runtime)
    calls, notes = plan_fixes(alert_kind, site, items, action=action, acos_target=acos_target)
    result = file_calls(bridge, caller, calls, batch_id=batch_id or new_batch_id(alert_kind.replace("_", "-")),
                        source_kind=source_kind, ref=ref)
    result.notes += notes
    return result
