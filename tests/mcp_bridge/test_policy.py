"""Per-site safety limits: table-driven checks of bids, daily totals, budgets and prices."""

from __future__ import annotations

import datetime as dt

import pytest

from console.migrations import migrate_console
from mcp_bridge.catalog.policy import SitePolicy, bid_increase, check, load_policy, save_policy, today_bid_increase
from mcp_bridge.errors import ValidationFailed
from mcp_bridge.store import OperationRow, Store, make_engine

US = SitePolicy(site="us")


def preview(field: str, before: float, after: float) -> dict:
    return {"target": "x", "summary": "", "before": {field: before}, "after": {field: after}}


ALLOWED = [
    ("cut bid 20%", preview("bid", 1.50, 1.20), 0.0),
    ("cut bid exactly 50%", preview("bid", 2.00, 1.00), 0.0),
    ("raise bid 50% and $0.75", preview("bid", 1.50, 2.25), 0.0),
    ("raise bid $2.00 on a $4 bid", preview("bid", 4.00, 6.00), 0.0),
    ("raise bid with room left today", preview("bid", 1.00, 1.50), 19.50),
    ("cut bid on a busy day", preview("bid", 1.00, 0.60), 25.0),
    ("double a budget", preview("daily_budget", 50.0, 100.0), 0.0),
    ("cut a budget to 10%", preview("daily_budget", 500.0, 50.0), 0.0),
    ("price -30%", preview("price", 100.0, 70.0), 0.0),
    ("price +30%", preview("price", 100.0, 130.0), 0.0),
    ("a new keyword (no before)", {"before": {}, "after": {"bid": 9.0}}, 0.0),
    ("a pause", preview("state", "enabled", "paused"), 0.0),
]


@pytest.mark.parametrize(("case", "change", "today"), ALLOWED, ids=[c[0] for c in ALLOWED])
def test_changes_within_the_limits_pass(case: str, change: dict, today: float) -> None:
    check("tool", {}, change, US, today)


REFUSED = [
    ("bid +233%", preview("bid", 0.30, 1.00), 0.0, "bid change +233% (0.30 → 1.00) exceeds the us limit of 50% per operation"),
    ("bid -60%", preview("bid", 1.00, 0.40), 0.0, "bid change -60% (1.00 → 0.40) exceeds the us limit of 50% per operation"),
    ("bid +$2.50", preview("bid", 6.00, 8.50), 0.0, "bid change +2.50 (6.00 → 8.50) exceeds the us limit of 2.00 per operation"),
    ("daily total", preview("bid", 1.00, 1.50), 19.60,
     "bid increases today on us would total 20.10 (already 19.60), over the daily limit of 20.00"),
    ("budget +150%", preview("daily_budget", 40.0, 100.0), 0.0,
     "daily_budget increase +150% (40.00 → 100.00) exceeds the us limit of 100% per operation"),
    ("budget +$300", preview("daily_budget", 400.0, 700.0), 0.0,
     "daily_budget increase +300.00 (400.00 → 700.00) exceeds the us limit of 200.00 per operation"),
    ("price -40%", preview("price", 100.0, 60.0), 0.0, "price change -40% (100.00 → 60.00) is outside the us bounds of -30%..+30%"),
    ("price +31%", preview("price", 100.0, 131.0), 0.0, "price change +31% (100.00 → 131.00) is outside the us bounds of -30%..+30%"),
]


@pytest.mark.parametrize(("case", "change", "today", "reason"), REFUSED, ids=[c[0] for c in REFUSED])
def test_changes_outside_the_limits_are_refused_with_a_reason(case: str, change: dict, today: float, reason: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        check("tool", {}, change, US, today)
    said, how = err.value.message.split("; ", 1)
    assert said == reason
    assert how.startswith("an admin can change “") and how.endswith("” for us on Admin → Safety limits")


def test_a_site_may_loosen_its_limits() -> None:
    loose = SitePolicy(site="jp", max_bid_change_abs=200, max_bid_change_daily_total=2000)
    check("update_bid", {}, preview("bid", 100.0, 140.0), loose, 0.0)
    with pytest.raises(ValidationFailed, match="jp limit of 200.00"):
        check("update_bid", {}, preview("bid", 500.0, 740.0), loose, 0.0)


def test_bid_increase_counts_raises_only() -> None:
    assert bid_increase(preview("bid", 1.0, 1.5)) == pytest.approx(0.5)
    assert bid_increase(preview("bid", 1.5, 1.0)) == 0.0
    assert bid_increase({"before": {}, "after": {"bid": 3.0}}) == 0.0


def test_stored_policy_and_todays_total(console_url: str) -> None:
    migrate_console(console_url)
    store = Store(make_engine(console_url))
    now = dt.datetime(2026, 11, 21, 15, 0)
    with store.write() as s:
        assert load_policy(s, "us", default_expiry_hours=12) == SitePolicy(site="us", expiry_hours=12)
        save_policy(s, SitePolicy(site="us", max_bid_change_pct=25, allow_self_approval=True))
        for i, (status, created, before, after) in enumerate([
            ("succeeded", now, 1.0, 1.5), ("proposed", now, 2.0, 2.25), ("rejected", now, 1.0, 3.0),
            ("succeeded", now - dt.timedelta(days=1), 1.0, 2.0), ("proposed", now, 2.0, 1.0),
        ]):
            s.add(OperationRow(status=status, site="us", server="ads", tool="update_bid", arguments={},
                               preview=preview("bid", before, after), proposer="p", source_kind="cli",
                               created_at=created, expires_at=created, edit_history=[], id=i + 1))
    with store.read() as s:
        assert load_policy(s, "us").max_bid_change_pct == 25
        assert load_policy(s, "us").allow_self_approval
        assert today_bid_increase(s, "us", now=now) == pytest.approx(0.75)
        assert today_bid_increase(s, "us", now=now, exclude_id=2) == pytest.approx(0.5)
        assert today_bid_increase(s, "de", now=now) == 0.0
