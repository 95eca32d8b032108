"""Limits on everything that moves money (creations, coupons, imports, stock) and limits that make sense."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pytest

from console.migrations import migrate_console
from mcp_bridge.catalog.policy import (
    Counted,
    DayTotals,
    SitePolicy,
    check,
    default_policy,
    limits_for,
    load_policy,
    save_policy,
    today_bid_increase,
)
from mcp_bridge.errors import ValidationFailed
from mcp_bridge.store import OperationRow, Store, make_engine

US = SitePolicy(site="us")
LOOSE = dataclasses.replace(US, max_budget_increase_abs=1e9, max_budget_increase_pct=1e9)


def created(**after) -> dict:
    return {"target": "new", "summary": "", "before": {}, "after": after}


def import_preview(prices: dict[str, float], units: float = 10.0) -> dict:
    return {"target": "import", "summary": "", "before": {}, "impact": {"units_added": units},
            "after": {"skus": list(prices), "prices": prices}}


# (case, tool, arguments, preview, the refusal's first part, the limit's label)
CREATIONS = [
    ("campaign at 1,000,000/day", "create_campaign", {"daily_budget": 1_000_000}, created(daily_budget=1_000_000.0),
     "create_campaign sets daily_budget 1,000,000.00 USD, over the us limit of 500.00 USD",
     "Largest daily budget of a new campaign (USD)"),
    ("ad group default bid $999", "create_ad_group", {"default_bid": 999}, created(default_bid=999.0),
     "create_ad_group sets default_bid 999.00 USD, over the us limit of 5.00 USD",
     "Largest bid of a new ad group, keyword or product target (USD)"),
    ("keyword bid $999", "create_keyword", {"bid": 999}, created(bid=999.0),
     "create_keyword sets bid 999.00 USD, over the us limit of 5.00 USD",
     "Largest bid of a new ad group, keyword or product target (USD)"),
    ("keyword at the ad group's default", "create_keyword", {"bid": None}, created(bid=12.0),
     "create_keyword sets bid 12.00 USD, over the us limit of 5.00 USD",
     "Largest bid of a new ad group, keyword or product target (USD)"),
    ("product target bid $999", "create_product_target", {"asin": "B0", "bid": 999}, created(bid=999.0),
     "create_product_target sets bid 999.00 USD, over the us limit of 5.00 USD",
     "Largest bid of a new ad group, keyword or product target (USD)"),
    ("coupon 90% off", "create_coupon", {"kind": "percent", "value": 90, "budget": 100},
     created(kind="percent", value=90.0, budget=100.0), "create_coupon gives 90% off, over the us limit of 50%",
     "Largest coupon or discount code discount (%)"),
    ("coupon budget 10,000,000", "create_coupon", {"kind": "percent", "value": 10, "budget": 1e7},
     created(kind="percent", value=10.0, budget=1e7),
     "create_coupon sets budget 10,000,000.00 USD, over the us limit of 5,000.00 USD", "Largest coupon budget (USD)"),
    ("discount code 90% off", "create_discount_code", {"code": "X", "kind": "percent", "value": 90},
     created(code="X", kind="percent", value=90.0), "create_discount_code gives 90% off, over the us limit of 50%",
     "Largest coupon or discount code discount (%)"),
    ("coupon 1,000,000 off", "create_coupon", {"kind": "fixed", "value": 1e6, "budget": 100},
     created(kind="fixed", value=1e6, budget=100.0),
     "create_coupon gives 1,000,000.00 USD off, over the us limit of 100.00 USD",
     "Largest fixed-amount coupon or discount code discount (USD)"),
    ("discount code 500 off", "create_discount_code", {"code": "X", "kind": "fixed", "value": 500},
     created(code="X", kind="fixed", value=500.0),
     "create_discount_code gives 500.00 USD off, over the us limit of 100.00 USD",
     "Largest fixed-amount coupon or discount code discount (USD)"),
    ("import at 0.01", "commit_product_import", {"rows": []}, import_preview({"A": 20.0, "B": 0.01}),
     "commit_product_import sets prices outside the us range of 1.00..10,000.00 USD: B at 0.01",
     "Lowest price an import may set (USD)"),
    ("import at 20,000", "commit_product_import", {"rows": []}, import_preview({"A": 20000.0}),
     "commit_product_import sets prices outside the us range of 1.00..10,000.00 USD: A at 20,000.00",
     "Highest price an import may set (USD)"),
    ("import rows without a preview of prices", "commit_product_import",
     {"rows": [{"sku": "A", "price": "0.01"}]}, created(skus=["A"]),
     "commit_product_import sets prices outside the us range of 1.00..10,000.00 USD: A at 0.01",
     "Lowest price an import may set (USD)"),
    ("stock +6,000 without a reason", "update_inventory", {"variant_id": 1, "add_inbound": 6000},
     {"before": {"on_hand": 10, "inbound": 0}, "after": {"on_hand": 10, "inbound": 6000}},
     "update_inventory moves 6,000 units of stock, over the us limit of 5,000 units without a reason",
     "Largest stock change without a reason (units)"),
    ("import of 6,000 units without a reason", "commit_product_import", {"rows": []},
     import_preview({"A": 20.0}, units=6000), "commit_product_import moves 6,000 units of stock",
     "Largest stock change without a reason (units)"),
]


@pytest.mark.parametrize(("case", "tool", "arguments", "preview", "said", "label"), CREATIONS,
                         ids=[c[0] for c in CREATIONS])
def test_creations_and_stock_moves_over_the_limits_are_refused(case, tool, arguments, preview, said, label) -> None:
    with pytest.raises(ValidationFailed) as err:
        check(tool, {"site": "us", **arguments}, preview, LOOSE)
    assert err.value.code == "VALIDATION_FAILED"
    assert err.value.message.startswith(said), err.value.message
    assert err.value.message.endswith(f"an admin can change “{label}” for us on Admin → Safety limits")


ALLOWED = [
    ("campaign at the limit", "create_campaign", {}, created(daily_budget=500.0), None),
    ("keyword at $5", "create_keyword", {}, created(bid=5.0), None),
    ("coupon 50% off, budget 5,000", "create_coupon", {}, created(kind="percent", value=50.0, budget=5000.0), None),
    ("a fixed coupon is not a percentage", "create_coupon", {}, created(kind="fixed", value=90.0, budget=10.0), None),
    ("a fixed coupon at the limit", "create_coupon", {}, created(kind="fixed", value=100.0, budget=10.0), None),
    ("coupon budget raised to 5,000", "update_coupon", {},
     {"before": {"budget": 4000.0}, "after": {"budget": 5000.0}}, None),
    ("import prices in range", "commit_product_import", {}, import_preview({"A": 1.0, "B": 10000.0}), None),
    ("a big reorder with a reason", "update_inventory", {},
     {"before": {"on_hand": 0, "inbound": 0}, "after": {"on_hand": 0, "inbound": 9000}}, "PO 1234 placed"),
    ("a big import with a reason", "commit_product_import", {}, import_preview({"A": 5.0}, units=9000), "launch"),
    ("the tool's own reason counts", "update_inventory", {"reason": "cycle count"},
     {"before": {"on_hand": 0, "inbound": 0}, "after": {"on_hand": 7000, "inbound": 0}}, None),
]


@pytest.mark.parametrize(("case", "tool", "arguments", "preview", "reason"), ALLOWED, ids=[c[0] for c in ALLOWED])
def test_creations_within_the_limits_pass(case, tool, arguments, preview, reason) -> None:
    check(tool, {"site": "us", **arguments}, preview, LOOSE, reason=reason)


def test_coupon_budgets_raised_later_are_bounded_too() -> None:
    with pytest.raises(ValidationFailed, match="update_coupon sets budget 9,000.00 USD, over the us limit of 5,000.00"):
        check("update_coupon", {"site": "us"}, {"before": {"budget": 4000.0}, "after": {"budget": 9000.0}}, LOOSE)


def test_yen_sites_get_yen_sized_defaults(console_url: str) -> None:
    jp = default_policy("jp")
    assert (jp.max_new_bid, jp.max_new_daily_budget, jp.max_bid_change_abs, jp.import_price_min, jp.currency) == (
        500.0, 50000.0, 200.0, 100.0, "JPY")
    assert (jp.max_bid_change_pct, jp.max_stock_change, jp.expiry_hours) == (50.0, 5000.0, 24.0)
    assert jp.max_discount_fixed == 10000.0
    check("create_keyword", {"site": "jp"}, created(bid=300.0), jp)
    with pytest.raises(ValidationFailed, match="sets bid 600.00 JPY, over the jp limit of 500.00 JPY"):
        check("create_keyword", {"site": "jp"}, created(bid=600.0), jp)
    migrate_console(console_url)
    with Store(make_engine(console_url)).read() as s:
        assert load_policy(s, "jp", default_expiry_hours=12) == dataclasses.replace(jp, expiry_hours=12)
        assert load_policy(s, "us") == US


def counted(op_id: int, tool: str, arguments: dict, before: dict, after: dict, reason: str | None = None) -> Counted:
    return Counted(op_id, "ads", tool, {"site": "us", **arguments}, {"target": "t", "before": before, "after": after},
                   reason, dt.datetime(2026, 11, 21, 9))


def test_the_day_of_one_target_counts_both_directions() -> None:
    day = DayTotals((counted(1, "update_bid", {"keyword_id": 7}, {"bid": 2.0}, {"bid": 1.0}),
                     counted(2, "update_bid", {"keyword_id": 8}, {"bid": 1.0}, {"bid": 1.5})))
    assert float(day) == pytest.approx(0.5)
    preview = {"target": "keyword #7", "before": {"bid": 1.0}, "after": {"bid": 0.5}}
    with pytest.raises(ValidationFailed, match=r"^VALIDATION_FAILED: bid of keyword #7 would move -75% today \(2.00 → 0.50, counting #1 "):
        check("update_bid", {"site": "us", "keyword_id": 7, "bid": 0.5}, preview, US, day)
    check("update_bid", {"site": "us", "keyword_id": 7, "bid": 1.4}, {"before": {"bid": 1.0}, "after": {"bid": 1.4}},
          US, day)  # back up to −30% of the day's first value
    check("update_bid", {"site": "us", "keyword_id": 9, "bid": 0.5}, {"before": {"bid": 1.0}, "after": {"bid": 0.5}},
          US, day)  # another keyword
    check("update_bid", {"site": "us", "keyword_id": 7, "bid": 0.5}, preview, US, day.without({1}))
    budget = DayTotals((counted(3, "update_campaign", {"campaign_id": 2, "daily_budget": 100.0},
                                {"daily_budget": 50.0}, {"daily_budget": 100.0}),))
    check("update_campaign", {"site": "us", "campaign_id": 2, "daily_budget": 100.0},
          {"before": {"daily_budget": 50.0}, "after": {"daily_budget": 100.0}}, US)  # the first change of the day
    with pytest.raises(ValidationFailed, match=r"daily_budget of t would move \+110% today"):
        check("update_campaign", {"site": "us", "campaign_id": 2, "daily_budget": 105.0},
              {"target": "t", "before": {"daily_budget": 100.0}, "after": {"daily_budget": 105.0}}, US, budget)


def test_the_day_is_read_from_the_database(console_url: str) -> None:
    migrate_console(console_url)
    store = Store(make_engine(console_url))
    now = dt.datetime(2026, 11, 21, 15, 0)
    yesterday = now - dt.timedelta(days=1)
    with store.write() as s:
        for i, (status, created_at, executed_at, reason) in enumerate([
            ("succeeded", yesterday, now, None), ("proposed", yesterday, None, "big reorder"),
            ("succeeded", yesterday, yesterday, None), ("rejected", now, None, None),
        ]):
            s.add(OperationRow(id=i + 1, status=status, site="us", server="ads", tool="update_bid",
                               arguments={"site": "us", "keyword_id": 7}, reason=reason, proposer="p",
                               preview={"before": {"bid": 1.0}, "after": {"bid": 1.5}}, source_kind="cli",
                               created_at=created_at, executed_at=executed_at, expires_at=now, edit_history=[]))
    with store.read() as s:
        day = today_bid_increase(s, "us", now=now, exclude_id=2)
    assert [c.id for c in day.operations] == [1] and float(day) == 0.0  # executed today, proposed yesterday
    assert day.own is not None and day.own.reason == "big reorder"
    with pytest.raises(ValidationFailed, match="moves 6,000 units"):
        check("update_inventory", {"site": "us"}, {"before": {"on_hand": 0}, "after": {"on_hand": 6000}}, US,
              DayTotals((), None))
    check("update_inventory", {"site": "us"}, {"before": {"on_hand": 0}, "after": {"on_hand": 6000}}, US, day)


# (case, the bad values, the field refused, what its message says)
NONSENSE = [
    ("largest bid change -20%", {"max_bid_change_pct": -20.0}, "max_bid_change_pct",
     "Largest bid change per operation (%) is -20: it is a size that holds in both directions, so it must be more than 0"),
    ("a daily total of 0%", {"max_target_daily_change_pct": 0.0}, "max_target_daily_change_pct", "must be more than 0"),
    ("expire after 0 hours", {"expiry_hours": 0.0}, "expiry_hours",
     "Pending operations expire after (hours) is 0: it must be between 1 hour and 720 hours (30 days)"),
    ("expire after 31 days", {"expiry_hours": 31 * 24.0}, "expiry_hours", "is 744: it must be between 1 hour"),
    ("import prices min > max", {"import_price_min": 50.0, "import_price_max": 10.0}, "import_price_min",
     "Lowest price an import may set (USD) (50) is above Highest price an import may set (USD) (10)"),
    ("price bounds upside down", {"price_change_min_pct": 10.0}, "price_change_min_pct",
     "Price change, lower bound (%) is 10: it must lie between -100 and 0, e.g. -30"),
    ("a price may not fall below nothing", {"price_change_min_pct": -120.0}, "price_change_min_pct", "is -120"),
    ("price upper bound below 0", {"price_change_max_pct": -5.0}, "price_change_max_pct", "must be 0 or more"),
    ("a discount over 100%", {"max_discount_pct": 150.0}, "max_discount_pct", "is 150: at most 100"),
    ("a new bid of 0", {"max_new_bid": 0.0}, "max_new_bid", "(USD) is 0: it must be more than 0"),
    ("a negative stock change", {"max_stock_change": -1.0}, "max_stock_change", "is -1: it must be more than 0"),
    ("not a number", {"max_promotion_budget": math.nan}, "max_promotion_budget", "must be a number, not nan"),
]


@pytest.mark.parametrize(("case", "values", "field", "says"), NONSENSE, ids=[c[0] for c in NONSENSE])
def test_limits_that_make_no_sense_are_refused_per_field(case, values, field, says, console_url) -> None:
    policy = dataclasses.replace(US, **values)
    assert list(policy.problems()) == [field] and says in policy.problems()[field]
    with pytest.raises(ValidationFailed) as err:
        policy.validate()
    assert err.value.context["fields"] == policy.problems()
    assert err.value.message == f"the limits of us were not saved: {policy.problems()[field]}"
    migrate_console(console_url)
    with pytest.raises(ValidationFailed), Store(make_engine(console_url)).write() as s:
        save_policy(s, policy)


def test_the_defaults_and_the_edges_make_sense() -> None:
    for site in ("us", "de", "jp"):
        assert default_policy(site).problems() == {}
    edges = dataclasses.replace(US, expiry_hours=1.0, price_change_min_pct=0.0, price_change_max_pct=0.0,
                                max_discount_pct=100.0, import_price_min=5.0, import_price_max=5.0)
    assert edges.validate() is edges
    assert dataclasses.replace(US, expiry_hours=720.0).problems() == {}


@pytest.mark.parametrize(("tool", "field", "text"), [
    ("update_bid", "bid", "max ±50% or ±2.00 USD per change; today's total on this target ±50%; "
                          "bid increases on us at most 20.00 USD a day"),
    ("update_campaign", "daily_budget", "increase at most +100% or +200.00 USD per change; today's total on this "
                                        "target ±50%"),
    ("update_price", "price", "-30%..+30% per change; today's total on this target ±50%"),
    ("create_campaign", "daily_budget", "at most 500.00 USD"),
    ("create_keyword", "bid", "at most 5.00 USD"),
    ("create_coupon", "value", "at most 50% off (percent discounts) or 100.00 USD off (fixed amounts)"),
    ("create_coupon", "budget", "at most 5,000.00 USD"),
    ("update_inventory", "add_inbound", "over 5,000 units needs a reason"),
    ("update_keyword", "name", ""),
])
def test_limits_for_a_value_an_approver_edits(tool: str, field: str, text: str) -> None:
    assert limits_for(tool, field, US) == text


def test_an_imports_prices_reach_the_approver_and_the_limits(console_url: str, market_url: str) -> None:
    from mcp_bridge.types import Source
    from tests.support.console_db import make_runtime

    rt = make_runtime(console_url, market_url, ("commerce",))
    try:
        seller = rt.users.caller("seller@demo.local", "chat")
        rows = [{"sku": "LIMIT-A", "title": "Cork block", "price": 12.5, "category": "Yoga", "stock": 3},
                {"sku": "LIMIT-B", "title": "Cork brick", "price": 0.01, "category": "Yoga"}]
        refused = rt.bridge.call(seller, "commerce__commit_product_import", {"site": "us", "rows": rows},
                                 source=Source("chat", ref="c"))
        assert (refused.status, refused.code) == ("error", "VALIDATION_FAILED")
        assert "sets prices outside the us range of 1.00..10,000.00 USD: LIMIT-B at 0.01" in refused.text
        rows[1]["price"] = 14.0
        filed = rt.bridge.call(seller, "commerce__commit_product_import", {"site": "us", "rows": rows},
                               source=Source("chat", ref="c"))
        op = rt.bridge.gate.get(filed.operation_id)
        assert op.preview["after"]["prices"] == {"LIMIT-A": 12.5, "LIMIT-B": 14.0}
        assert "2 SKU(s) priced 12.50–14.00" in op.summary
    finally:
        rt.close()
