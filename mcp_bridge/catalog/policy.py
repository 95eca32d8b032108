"""Per-site safety limits (the budget safety valve), checked at proposal and again at approval.

Every change that moves money is bounded: per operation (bids, budgets, prices), per target per day (the day's
executed and pending changes of one bid, budget or price together), per site per day (bid increases), and for
creations (new budgets and bids, discounts and promotion budgets, import prices). Large stock changes need a reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mcp_bridge.catalog.intents import intent_of
from mcp_bridge.catalog.site_limits import LABELS, SitePolicy, default_policy, site_currency
from mcp_bridge.errors import ValidationFailed
from mcp_bridge.store import OperationRow, SitePolicyRow

__all__ = ["LABELS", "SitePolicy", "check", "default_policy", "limits_for", "load_policy", "save_policy",
           "site_currency", "today_bid_increase"]

BID_FIELDS = ("bid", "default_bid")
BUDGET_FIELDS = ("daily_budget", "budget")
PRICE_FIELDS = ("price", "compare_at_price")
STOCK_FIELDS = ("on_hand", "inbound")
# Operations that still count towards today's totals (a rejected, expired or failed one does not).
COUNTED_STATUSES = ("proposed", "approved", "executing", "succeeded", "unknown")
# Amounts a creation (or a coupon's new budget) sets: tool → (field of the preview's `after`, limit) pairs.
NEW_AMOUNTS: dict[str, tuple[tuple[str, str], ...]] = {
    "create_campaign": (("daily_budget", "max_new_daily_budget"),),
    "create_ad_group": (("default_bid", "max_new_bid"),),
    "create_keyword": (("bid", "max_new_bid"),),
    "create_product_target": (("bid", "max_new_bid"),),
    "create_coupon": (("budget", "max_promotion_budget"),),
    "update_coupon": (("budget", "max_promotion_budget"),),
}
DISCOUNT_TOOLS = frozenset({"create_coupon", "create_discount_code"})
IMPORT_TOOLS = frozenset({"commit_product_import"})
EPS = 1e-9


def load_policy(session: Session, site: str, *, default_expiry_hours: float = 24.0,
                currency: str | None = None) -> SitePolicy:
    """The site's stored limits, or the defaults (in the site's currency) when the site has no row."""
    row = session.get(SitePolicyRow, site)
    if row is None:
        return default_policy(site, currency=currency, expiry_hours=default_expiry_hours)
    return SitePolicy(**{f.name: getattr(row, f.name) for f in fields(SitePolicy)})


def save_policy(session: Session, policy: SitePolicy) -> None:
    session.merge(policy.validate().to_row())


def _numeric_changes(preview: dict[str, Any], names: tuple[str, ...]) -> list[tuple[str, float, float]]:
    before, after = preview.get("before") or {}, preview.get("after") or {}
    return [(name, float(before[name]), float(after[name])) for name in names
            if _is_number(before.get(name)) and _is_number(after.get(name))]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def bid_increase(preview: dict[str, Any]) -> float:
    """How much an operation raises bids (0 for a cut): what counts towards the daily total."""
    return sum(max(0.0, new - old) for _, old, new in _numeric_changes(preview, BID_FIELDS))


def _pct(old: float, new: float) -> float:
    return (new - old) / old * 100 if old else float("inf") if new > old else 0.0


@dataclass(frozen=True)
class Counted:
    """One of today's operations on a site that counts towards its totals."""

    id: int
    server: str
    tool: str
    arguments: dict[str, Any]
    preview: dict[str, Any]
    reason: str | None
    created_at: dt.datetime


class DayTotals(float):
    """The site's bid increases so far today (a number, as it always was), and the operations behind the day.

    `operations` are the day's counted operations (proposed or executed since `since`) except the one being
    checked; `own` is that one when it is already stored (an approval), so its reason is known.
    """

    operations: tuple[Counted, ...]
    own: Counted | None
    since: dt.datetime | None

    def __new__(cls, operations: tuple[Counted, ...] = (), own: Counted | None = None,
                since: dt.datetime | None = None) -> DayTotals:
        total = sum(bid_increase(c.preview) for c in operations if since is None or c.created_at >= since)
        made = super().__new__(cls, total)
        made.operations, made.own, made.since = operations, own, since
        return made

    def without(self, ids: set[int]) -> DayTotals:
        """The day without some operations (the pending ones a new proposal supersedes)."""
        return DayTotals(tuple(c for c in self.operations if c.id not in ids), self.own, self.since)


def today_bid_increase(session: Session, site: str, *, now: dt.datetime, exclude_id: int | None = None) -> DayTotals:
    """Bid increases already proposed or applied on a site since midnight UTC, with the day's operations."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    stmt = select(OperationRow).where(
        OperationRow.site == site, OperationRow.status.in_(COUNTED_STATUSES),
        or_(OperationRow.created_at >= midnight, OperationRow.executed_at >= midnight, OperationRow.id == exclude_id))
    rows = [Counted(r.id, r.server, r.tool, r.arguments or {}, r.preview or {}, r.reason, r.created_at)
            for r in session.scalars(stmt.order_by(OperationRow.id))]
    own = next((c for c in rows if c.id == exclude_id), None)
    return DayTotals(tuple(c for c in rows if c.id != exclude_id), own, midnight)


def check(tool: str, arguments: dict[str, Any], preview: dict[str, Any], policy: SitePolicy,
          today: float = 0.0, *, reason: str | None = None, server: str | None = None) -> None:
    """Raise ValidationFailed with a reason a person can act on when a write breaks the site's limits.

    `today` is the site's bid increases so far; a `DayTotals` (what `today_bid_increase` returns) also brings the
    day's operations, so the changes of the same target today count too. `reason` is the proposal's reason.
    """
    _per_operation(preview, policy)
    _site_bid_total(preview, policy, float(today))
    _creations(tool, arguments, preview, policy)
    own = today.own if isinstance(today, DayTotals) else None
    _stock(tool, arguments, preview, policy, reason or (own.reason if own else None))
    _target_day(tool, arguments, preview, policy, today, server)


def _per_operation(preview: dict[str, Any], policy: SitePolicy) -> None:
    site = policy.site
    for name, old, new in _numeric_changes(preview, BID_FIELDS):
        pct, delta = _pct(old, new), new - old
        if abs(pct) > policy.max_bid_change_pct + EPS:
            raise ValidationFailed(f"{name} change {pct:+.0f}% ({old:.2f} → {new:.2f}) exceeds the {site} limit of "
                                   f"{policy.max_bid_change_pct:.0f}% per operation; "
                                   f"{policy.where('max_bid_change_pct')}")
        if abs(delta) > policy.max_bid_change_abs + EPS:
            raise ValidationFailed(f"{name} change {delta:+.2f} ({old:.2f} → {new:.2f}) exceeds the {site} limit of "
                                   f"{policy.max_bid_change_abs:.2f} per operation; "
                                   f"{policy.where('max_bid_change_abs')}")
    for name, old, new in _numeric_changes(preview, BUDGET_FIELDS):
        if new <= old:
            continue
        pct, delta = _pct(old, new), new - old
        if pct > policy.max_budget_increase_pct + EPS:
            raise ValidationFailed(f"{name} increase {pct:+.0f}% ({old:.2f} → {new:.2f}) exceeds the {site} limit of "
                                   f"{policy.max_budget_increase_pct:.0f}% per operation; "
                                   f"{policy.where('max_budget_increase_pct')}")
        if delta > policy.max_budget_increase_abs + EPS:
            raise ValidationFailed(f"{name} increase {delta:+.2f} ({old:.2f} → {new:.2f}) exceeds the {site} limit of "
                                   f"{policy.max_budget_increase_abs:.2f} per operation; "
                                   f"{policy.where('max_budget_increase_abs')}")
    for name, old, new in _numeric_changes(preview, PRICE_FIELDS):
        pct = _pct(old, new)
        if not policy.price_change_min_pct - EPS <= pct <= policy.price_change_max_pct + EPS:
            limit = "price_change_min_pct" if pct < policy.price_change_min_pct else "price_change_max_pct"
            raise ValidationFailed(f"{name} change {pct:+.0f}% ({old:.2f} → {new:.2f}) is outside the {site} bounds of "
                                   f"{policy.price_change_min_pct:+.0f}%..{policy.price_change_max_pct:+.0f}%; "
                                   f"{policy.where(limit)}")


def _site_bid_total(preview: dict[str, Any], policy: SitePolicy, today: float) -> None:
    increase = bid_increase(preview)
    if increase > 0 and today + increase > policy.max_bid_change_daily_total + EPS:
        raise ValidationFailed(f"bid increases today on {policy.site} would total {today + increase:.2f} "
                               f"(already {today:.2f}), over the daily limit of "
                               f"{policy.max_bid_change_daily_total:.2f}; {policy.where('max_bid_change_daily_total')}")


def _new_value(name: str, arguments: dict[str, Any], preview: dict[str, Any]) -> Any:
    """What a creation sets, as the server's preview says (defaults filled in), else as the arguments say."""
    after = preview.get("after") or {}
    return after[name] if name in after else arguments.get(name)


def _creations(tool: str, arguments: dict[str, Any], preview: dict[str, Any], policy: SitePolicy) -> None:
    site, currency = policy.site, policy.currency
    for name, limit_name in NEW_AMOUNTS.get(tool, ()):
        value, limit = _new_value(name, arguments, preview), getattr(policy, limit_name)
        if _is_number(value) and value > limit + EPS:
            raise ValidationFailed(f"{tool} sets {name} {value:,.2f} {currency}, over the {site} limit of "
                                   f"{limit:,.2f} {currency}; {policy.where(limit_name)}")
    kind = _new_value("kind", arguments, preview) if tool in DISCOUNT_TOOLS else None
    if kind == "percent":
        value = _new_value("value", arguments, preview)
        if _is_number(value) and value > policy.max_discount_pct + EPS:
            raise ValidationFailed(f"{tool} gives {value:g}% off, over the {site} limit of "
                                   f"{policy.max_discount_pct:g}%; {policy.where('max_discount_pct')}")
    elif kind is not None:  # a fixed amount off (any kind but percent is an amount in the site's currency)
        value = _new_value("value", arguments, preview)
        if _is_number(value) and value > policy.max_discount_fixed + EPS:
            raise ValidationFailed(f"{tool} gives {value:,.2f} {currency} off, over the {site} limit of "
                                   f"{policy.max_discount_fixed:,.2f} {currency}; {policy.where('max_discount_fixed')}")
    if tool in IMPORT_TOOLS:
        _import_prices(tool, arguments, preview, policy)


def _import_prices(tool: str, arguments: dict[str, Any], preview: dict[str, Any], policy: SitePolicy) -> None:
    prices = (preview.get("after") or {}).get("prices")
    if not isinstance(prices, dict):  # a preview without them: the rows as sent
        rows = arguments.get("rows") or []
        prices = {str(r.get("sku")): _as_number(r.get("price")) for r in rows if isinstance(r, dict)}
    currency, low, high = policy.currency, policy.import_price_min, policy.import_price_max
    outside = [(sku, p) for sku, p in prices.items() if _is_number(p) and not low - EPS <= p <= high + EPS]
    if outside:
        listed = ", ".join(f"{sku} at {p:,.2f}" for sku, p in outside[:3])
        more = f" and {len(outside) - 3} more" if len(outside) > 3 else ""
        which = "import_price_min" if any(p < low for _, p in outside) else "import_price_max"
        raise ValidationFailed(f"{tool} sets prices outside the {policy.site} range of {low:,.2f}..{high:,.2f} "
                               f"{currency}: {listed}{more}; {policy.where(which)}")


def _as_number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _stock(tool: str, arguments: dict[str, Any], preview: dict[str, Any], policy: SitePolicy,
           reason: str | None) -> None:
    moves = [abs(new - old) for _, old, new in _numeric_changes(preview, STOCK_FIELDS)]
    if tool in IMPORT_TOOLS and _is_number((preview.get("impact") or {}).get("units_added")):
        moves.append(abs(preview["impact"]["units_added"]))
    largest = max(moves, default=0.0)
    stated = (reason or "").strip() or str(arguments.get("reason") or "").strip()
    if largest > policy.max_stock_change + EPS and not stated:
        raise ValidationFailed(f"{tool} moves {largest:,.0f} units of stock, over the {policy.site} limit of "
                               f"{policy.max_stock_change:,.0f} units without a reason: propose it again with a "
                               f"reason an approver can check, or {policy.where('max_stock_change')}")


def _target_day(tool: str, arguments: dict[str, Any], preview: dict[str, Any], policy: SitePolicy, today: float,
                server: str | None) -> None:
    """Once a bid, budget or price has changed today, a further change keeps it within the limit of its first value.

    The day's changes count from where the day began, cuts and raises alike (−50% then −50% is −75%). The first change
    of the day is bounded by the per-operation limits alone (a budget may still double, or be cut to fund another).
    """
    changes = _numeric_changes(preview, BID_FIELDS + BUDGET_FIELDS + PRICE_FIELDS)
    if not changes:
        return
    mine = _target(server, tool, arguments)
    history = [c for c in getattr(today, "operations", ()) if _target(server and c.server, c.tool, c.arguments) == mine]
    limit = policy.max_target_daily_change_pct
    for name, _, new in changes:
        earlier = [(c.id, before, after) for c in history for _, before, after in _numeric_changes(c.preview, (name,))]
        if not earlier:
            continue
        first = earlier[0][1]
        pct = _pct(first, new)
        if abs(pct) > limit + EPS:
            counting = f"#{', #'.join(str(i) for i, _, _ in earlier)} and this one"
            raise ValidationFailed(f"{name} of {preview.get('target') or 'this target'} would move {pct:+.0f}% today "
                                   f"({first:.2f} → {new:.2f}, counting {counting}), over the {policy.site} limit of "
                                   f"±{limit:g}% per target per day; {policy.where('max_target_daily_change_pct')}")


def _target(server: str | None, tool: str, arguments: dict[str, Any]) -> str:
    """The target of a write (server included when known) as the day's totals group operations."""
    target = intent_of(server or "", tool, arguments).target
    return target if server else target.split(":", 1)[1]


def limits_for(tool: str, field: str, policy: SitePolicy) -> str:
    """The limits on one value of a write, for people editing it: '' when none applies."""
    cur, day = policy.currency, f"today's total on this target ±{policy.max_target_daily_change_pct:g}%"
    for name, limit_name in NEW_AMOUNTS.get(tool, ()):
        if name == field:
            return f"at most {getattr(policy, limit_name):,.2f} {cur}"
    if tool in DISCOUNT_TOOLS and field == "value":
        return (f"at most {policy.max_discount_pct:g}% off (percent discounts) or "
                f"{policy.max_discount_fixed:,.2f} {cur} off (fixed amounts)")
    if tool in IMPORT_TOOLS and field in ("rows", "csv_text", "price"):
        return (f"prices {policy.import_price_min:,.2f}..{policy.import_price_max:,.2f} {cur}; over "
                f"{policy.max_stock_change:,.0f} units of stock needs a reason")
    if field in BID_FIELDS:
        return (f"max ±{policy.max_bid_change_pct:g}% or ±{policy.max_bid_change_abs:,.2f} {cur} per change; {day}; "
                f"bid increases on {policy.site} at most {policy.max_bid_change_daily_total:,.2f} {cur} a day")
    if field in BUDGET_FIELDS:
        return (f"increase at most +{policy.max_budget_increase_pct:g}% or +{policy.max_budget_increase_abs:,.2f} "
                f"{cur} per change; {day}")
    if field in PRICE_FIELDS:
        return f"{policy.price_change_min_pct:+g}%..{policy.price_change_max_pct:+g}% per change; {day}"
    if field in ("on_hand", "add_inbound", "inbound", "stock"):
        return f"over {policy.max_stock_change:,.0f} units needs a reason"
    return ""
