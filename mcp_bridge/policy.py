"""Per-site safety limits (the budget safety valve), checked at proposal and again at approval."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mcp_bridge.errors import ValidationFailed
from mcp_bridge.store import OperationRow, SitePolicyRow

BID_FIELDS = ("bid", "default_bid")
BUDGET_FIELDS = ("daily_budget", "budget")
PRICE_FIELDS = ("price", "compare_at_price")
# Operations that still count towards today's bid total (a rejected or failed one does not).
COUNTED_STATUSES = ("proposed", "approved", "executing", "succeeded", "unknown")


@dataclass(frozen=True)
class SitePolicy:
    """The limits of one site; amounts are in the site's currency."""

    site: str
    max_bid_change_abs: float = 2.00
    max_bid_change_pct: float = 50.0
    max_bid_change_daily_total: float = 20.00
    max_budget_increase_pct: float = 100.0
    max_budget_increase_abs: float = 200.0
    price_change_min_pct: float = -30.0
    price_change_max_pct: float = 30.0
    expiry_hours: float = 24.0
    allow_self_approval: bool = False

    def to_row(self) -> SitePolicyRow:
        return SitePolicyRow(**asdict(self))


def load_policy(session: Session, site: str, *, default_expiry_hours: float = 24.0) -> SitePolicy:
    """The site's stored limits, or the defaults when the site has no row."""
    row = session.get(SitePolicyRow, site)
    if row is None:
        return SitePolicy(site=site, expiry_hours=default_expiry_hours)
    return SitePolicy(**{f.name: getattr(row, f.name) for f in fields(SitePolicy)})


def save_policy(session: Session, policy: SitePolicy) -> None:
    session.merge(policy.to_row())


def _numeric_changes(preview: dict[str, Any], names: tuple[str, ...]) -> list[tuple[str, float, float]]:
    before, after = preview.get("before") or {}, preview.get("after") or {}
    out = []
    for name in names:
        old, new = before.get(name), after.get(name)
        if isinstance(old, int | float) and isinstance(new, int | float) and not isinstance(old, bool):
            out.append((name, float(old), float(new)))
    return out


def bid_increase(preview: dict[str, Any]) -> float:
    """How much an operation raises bids (0 for a cut): what counts towards the daily total."""
    return sum(max(0.0, new - old) for _, old, new in _numeric_changes(preview, BID_FIELDS))


def _pct(old: float, new: float) -> float:
    return (new - old) / old * 100 if old else float("inf") if new > old else 0.0


def check(tool: str, arguments: dict[str, Any], preview: dict[str, Any], policy: SitePolicy,
          today_bid_increase: float = 0.0) -> None:
    """Raise ValidationFailed with a reason a person can act on when a write breaks the site's limits."""
    site, eps = policy.site, 1e-9
    for name, old, new in _numeric_changes(preview, BID_FIELDS):
        pct, delta = _pct(old, new), new - old
        if abs(pct) > policy.max_bid_change_pct + eps:
            raise ValidationFailed(f"{name} change {pct:+.0f}% ({old:.2f} → {new:.2f}) exceeds the {site} limit of "
                                   f"{policy.max_bid_change_pct:.0f}% per operation")
        if abs(delta) > policy.max_bid_change_abs + eps:
            raise ValidationFailed(f"{name} change {delta:+.2f} ({old:.2f} → {new:.2f}) exceeds the {site} limit of "
                                   f"{policy.max_bid_change_abs:.2f} per operation")
    increase = bid_increase(preview)
    if increase > 0 and today_bid_increase + increase > policy.max_bid_change_daily_total + eps:
        raise ValidationFailed(f"bid increases today on {site} would total {today_bid_increase + increase:.2f} "
                               f"(already {today_bid_increase:.2f}), over the daily limit of "
                               f"{policy.max_bid_change_daily_total:.2f}")
    for name, old, new in _numeric_changes(preview, BUDGET_FIELDS):
        if new <= old:
            continue
        pct, delta = _pct(old, new), new - old
        if pct > policy.max_budget_increase_pct + eps:
            raise ValidationFailed(f"{name} increase {pct:+.0f}% ({old:.2f} → {new:.2f}) exceeds the {site} limit of "
                                   f"{policy.max_budget_increase_pct:.0f}% per operation")
        if delta > policy.max_budget_increase_abs + eps:
            raise ValidationFailed(f"{name} increase {delta:+.2f} ({old:.2f} → {new:.2f}) exceeds the {site} limit of "
                                   f"{policy.max_budget_increase_abs:.2f} per operation")
    for name, old, new in _numeric_changes(preview, PRICE_FIELDS):
        pct = _pct(old, new)
        if not policy.price_change_min_pct - eps <= pct <= policy.price_change_max_pct + eps:
            raise ValidationFailed(f"{name} change {pct:+.0f}% ({old:.2f} → {new:.2f}) is outside the {site} bounds of "
                                   f"{policy.price_change_min_pct:+.0f}%..{policy.price_change_max_pct:+.0f}%")


def today_bid_increase(session: Session, site: str, *, now: dt.datetime, exclude_id: int | None = None) -> float:
    """Bid increases already proposed or applied on a site since midnight UTC (the daily total so far)."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    stmt = select(OperationRow.id, OperationRow.preview).where(
        OperationRow.site == site, OperationRow.created_at >= midnight, OperationRow.status.in_(COUNTED_STATUSES))
    return sum(bid_increase(preview or {}) for op_id, preview in session.execute(stmt) if op_id != exclude_id)
