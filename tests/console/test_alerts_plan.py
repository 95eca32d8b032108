"""Alert → fix planning (pure) and filing through a bridge under one batch id."""

from __future__ import annotations

import pytest

from console.alerts import FixCall, file_calls, lowered_bid, plan_fixes, propose_fixes
from mcp_bridge.types import Caller, ToolOutcome

SELLER = Caller("seller@demo.local", frozenset({"seller"}), frozenset({"us"}))


@pytest.mark.parametrize(("bid", "acos", "target", "expected"), [
    (1.00, 0.60, 0.30, 0.50),   # target/acos = 0.5: exactly the −50% step
    (1.00, 0.90, 0.30, 0.50),   # would be −67%: held at −50%
    (1.45, 0.74, 0.30, 0.73),   # half of 1.45 rounds up: 0.72 would be a 50.3% cut
    (1.00, 0.40, 0.30, 0.75),
    (1.00, 0.31, 0.30, 0.95),   # a hair over target still moves at least 5%
    (0.03, 0.90, 0.30, 0.02),   # never under the minimum bid
])
def test_lowered_bid(bid, acos, target, expected):
    assert lowered_bid(bid, acos, target) == expected


def test_acos_over_target_lowers_bids():
    calls, notes = plan_fixes("acos_over_target", "us", [
        {"keyword_id": 7, "bid": 1.2, "acos": 0.6, "acos_target": 0.3},
        {"keyword_id": 8, "bid": 1.0, "acos": 0.4},
        {"keyword_id": 9, "bid": None, "acos": 0.4},
    ], acos_target=0.3)
    assert [(c.tool, c.arguments) for c in calls] == [
        ("ads__update_bid", {"site": "us", "keyword_id": 7, "bid": 0.6}),
        ("ads__update_bid", {"site": "us", "keyword_id": 8, "bid": 0.75}),
    ]
    assert "ACOS 60% over target 30%" in calls[0].reason
    assert notes == ["keyword 9: no ACOS, bid or target to work from"]


def test_budget_exhausted_moves_budget_from_under_utilised_campaigns():
    calls, _ = plan_fixes("budget_exhausted", "us", [
        {"campaign_id": 1, "daily_budget": 40.0, "role": "exhausted", "exhausted_hour": 13},
        {"campaign_id": 2, "daily_budget": 100.0, "role": "under_utilised", "utilisation": 0.3},
        {"campaign_id": 3, "daily_budget": 20.0, "role": "exhausted"},
    ])
    assert [(c.tool, c.arguments["campaign_id"], c.arguments["daily_budget"]) for c in calls] == [
        ("ads__update_campaign", 1, 50.0), ("ads__update_campaign", 3, 25.0), ("ads__update_campaign", 2, 85.0)]
    assert "ran out at 13:00" in calls[0].reason and "moved from campaign 2" in calls[0].reason


def test_budget_exhausted_without_donors_raises_by_a_quarter():
    calls, _ = plan_fixes("budget_exhausted", "us", [{"campaign_id": 1, "daily_budget": 40.0}])
    assert [c.arguments for c in calls] == [{"site": "us", "campaign_id": 1, "daily_budget": 50.0}]


@pytest.mark.parametrize(("action", "tools"), [
    ("auto", ["ads__pause_keyword", "ads__update_bid"]),
    ("pause", ["ads__pause_keyword", "ads__pause_keyword"]),
    ("cut_bid", ["ads__update_bid", "ads__update_bid"]),
    ("negative", ["ads__create_negative", "ads__create_negative"]),
])
def test_wasted_spend_actions(action, tools):
    items = [{"keyword_id": 1, "campaign_id": 5, "text": "cheap mat", "bid": 1.0, "spend": 25.0, "orders": 0},
             {"keyword_id": 2, "campaign_id": 5, "text": "mat", "bid": 0.8, "spend": 40.0, "orders": 1, "acos": 1.6}]
    calls, _ = plan_fixes("wasted_spend", "us", items, action=action)
    assert [c.tool for c in calls] == tools
    if action == "cut_bid":
        assert [c.arguments["bid"] for c in calls] == [0.5, 0.4]
    if action == "negative":
        assert calls[0].arguments == {"site": "us", "campaign_id": 5, "text": "cheap mat", "match_type": "negative_exact"}


def test_harvest_adds_exact_keyword_at_120_percent_cpc_and_negative_in_auto():
    calls, notes = plan_fixes("harvest", "us", [
        {"search_term": "cork yoga mat", "campaign_id": 2, "avg_cpc": 0.85, "target_ad_group_id": 11, "cvr": 0.2, "orders": 4},
        {"search_term": "orphan", "campaign_id": 2, "avg_cpc": 1.0, "target_ad_group_id": None},
    ])
    assert [(c.tool, c.arguments) for c in calls] == [
        ("ads__create_keyword", {"site": "us", "ad_group_id": 11, "text": "cork yoga mat", "match_type": "exact", "bid": 1.02}),
        ("ads__create_negative", {"site": "us", "campaign_id": 2, "text": "cork yoga mat", "match_type": "negative_exact"}),
    ]
    assert notes == ["'orphan': no manual ad group to add it to; create a manual campaign first"]
    already, _ = plan_fixes("harvest", "us", [{"search_term": "t", "campaign_id": 2, "avg_cpc": 1.0,
                                               "target_ad_group_id": 11, "negative_in_auto": True}])
    assert [c.tool for c in already] == ["ads__create_keyword"]


def test_wasted_spend_follows_the_finders_suggestion_and_negates_search_terms():
    calls, _ = plan_fixes("wasted_spend", "us", [
        {"keyword_id": 1, "campaign_id": 5, "text": "a", "bid": 1.0, "spend": 30.0, "orders": 2, "suggested_action": "pause"},
        {"keyword_id": None, "campaign_id": 5, "text": "free mat", "spend": 30.0, "orders": 0, "suggested_action": "pause"},
    ])
    assert [c.tool for c in calls] == ["ads__pause_keyword", "ads__create_negative"]


def test_out_of_stock_with_live_ads_pauses_product_ads_and_stock_risk_places_the_reorder():
    calls, _ = plan_fixes("oos_live_ads", "us", [{"sku": "K-1", "live_ads": 2}])
    assert [(c.tool, c.arguments) for c in calls] == [("ads__pause_product_ads", {"site": "us", "sku": "K-1"})]
    calls, notes = plan_fixes("stock_out_risk", "us", [
        {"variant_id": 1, "sku": "Y-1", "reorder_quantity": 33, "days_of_supply": 10.0, "out_of_stock": False,
         "lead_time_days": 14},
        {"variant_id": 2, "sku": "K-1", "reorder_quantity": 24, "days_of_supply": 0.0, "out_of_stock": True,
         "lead_time_days": 10},
        {"variant_id": 9, "sku": "Z-9", "reorder_quantity": 0, "days_of_supply": 4.0, "out_of_stock": False},
    ])
    assert [(c.tool, c.arguments) for c in calls] == [
        ("commerce__update_inventory", {"site": "us", "variant_id": 1, "add_inbound": 33,
                                        "reason": "reorder 33 × Y-1 (10.0 days of supply, lead time 14 d)"}),
        ("commerce__update_inventory", {"site": "us", "variant_id": 2, "add_inbound": 24,
                                        "reason": "reorder 24 × K-1 (out of stock, lead time 10 d)"}),
    ]
    assert notes == ["Z-9: 4.0 days of supply, but inbound stock already covers the lead time"]
    for kind in ("low_star_reviews", "sales_anomaly"):  # a lone low review, and a report-only kind
        assert plan_fixes(kind, "us", [{"rating": 1}])[0] == []
    with pytest.raises(ValueError):
        plan_fixes("nonsense", "us", [])


class FakeBridge:
    """Answers writes like the gate: pending with an operation id, or refused with a coded error."""

    def __init__(self, refuse: set[int] = frozenset()) -> None:
        self.calls, self.refuse = [], refuse

    def call(self, caller, name, arguments, *, source):
        self.calls.append((name, arguments, source))
        n = len(self.calls)
        if n in self.refuse:
            return ToolOutcome(name, "error", "VALIDATION_FAILED: bid change -60% exceeds the us limit", code="VALIDATION_FAILED")
        return ToolOutcome(name, "pending", f"pending approval #{100 + n}", operation_id=100 + n, batch_id=source.batch_id)


def test_file_calls_shares_one_batch_and_counts_refusals():
    bridge = FakeBridge(refuse={2})
    calls = [FixCall("ads__update_bid", {"site": "us", "keyword_id": i, "bid": 0.5}, f"why {i}") for i in range(3)]
    result = file_calls(bridge, SELLER, calls, batch_id="b-1", source_kind="job", ref="run-1")
    assert (result.proposed, result.operation_ids) == (2, [101, 103])
    assert result.refused == [("why 1", "VALIDATION_FAILED: bid change -60% exceeds the us limit")]
    assert {(s.kind, s.ref, s.batch_id) for _, _, s in bridge.calls} == {("job", "run-1", "b-1")}
    assert [s.reason for _, _, s in bridge.calls] == ["why 0", "why 1", "why 2"]


def test_propose_fixes_accepts_a_runtime_and_makes_a_batch_id():
    class Runtime:
        bridge = FakeBridge()

    result = propose_fixes(Runtime(), SELLER, "oos_live_ads", "us", [{"sku": "A"}, {"sku": "B"}])
    assert result.proposed == 2 and result.batch_id.startswith("oos-live-ads-")
    assert {s.batch_id for _, _, s in Runtime.bridge.calls} == {result.batch_id}
    assert {s.kind for _, _, s in Runtime.bridge.calls} == {"ui"}


def test_low_star_reviews_pause_the_ads_of_a_product_with_several_and_leave_a_lone_one_to_read():
    mat = {"product_id": 1, "product_title": "Yoga mat", "rating": 1, "low_star_reviews_of_product": 2,
           "live_ad_skus": ["Y-1", "Y-2"]}
    calls, notes = plan_fixes("low_star_reviews", "us", [
        mat, {**mat, "rating": 2},  # the product's second review: one set of pauses, not two
        {"product_id": 2, "product_title": "Knife", "rating": 2, "low_star_reviews_of_product": 1, "live_ad_skus": []},
        {"product_id": 3, "product_title": "Block", "rating": 1, "low_star_reviews_of_product": 3, "live_ad_skus": []},
    ])
    assert [(c.tool, c.arguments) for c in calls] == [("ads__pause_product_ads", {"site": "us", "sku": "Y-1"}),
                                                      ("ads__pause_product_ads", {"site": "us", "sku": "Y-2"})]
    assert calls[0].reason == "2 low-star reviews of 'Yoga mat' in 3 days: pause SKU Y-1's ads until the complaints are checked"
    assert notes == ["'Knife': one low-star review; read it and reply, nothing to pause",
                     "'Block': 3 low-star reviews, but no ads of it are running"]


def test_one_batch_files_a_write_two_checks_ask_for_once():
    from console.alerts import Alert
    from console.daily_ops import propose_all
    from console.reports import SiteFindings

    bridge = FakeBridge()
    findings = [SiteFindings("us", "USD", 0.3, [
        Alert("oos_live_ads", "us", [{"sku": "Y-1", "live_ads": 1}]),
        Alert("low_star_reviews", "us", [{"product_id": 1, "product_title": "Mat", "low_star_reviews_of_product": 2,
                                          "live_ad_skus": ["Y-1", "Y-2"]}]),
    ])]
    result = propose_all(bridge, SELLER, findings, batch_id="daily-1", ref="run-1")
    assert [(name, args["sku"]) for name, args, _ in bridge.calls] == [("ads__pause_product_ads", "Y-1"),
                                                                      ("ads__pause_product_ads", "Y-2")]
    assert result.proposed == 2
