"""Alert → fix planning (pure) and filing through a bridge under one batch id."""

from __future__ import annotations

import datetime as dt

import pytest

from console.reports.alerts import FixCall, file_calls, lowered_bid, manual_name, plan_fixes, propose_fixes
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
    assert notes == ["'orphan': no manual campaign advertises the products of 'campaign 2', and it advertises no SKUs "
                     "to build one from; create a manual campaign for them first"]
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
    from console.reports.alerts import Alert
    from console.reports.daily_ops import propose_all
    from console.reports.markdown import SiteFindings

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


HARVEST_ROW = {"search_term": "cork yoga mat", "campaign_id": 2, "campaign_name": "Auto Mats", "campaign_daily_budget": 40.0,
               "avg_cpc": 0.5, "cvr": 0.15, "orders": 3, "clicks": 20, "impressions": 500, "spend": 10.0, "sales": 90.0,
               "target_ad_group_id": 11, "target_ad_group_name": "Mats", "source_skus": ["MAT-1"], "harvest_as": "exact_keyword"}
WINDOW = {"start": "2026-10-21", "end": "2026-11-19", "days": 30}


def test_harvest_files_an_asin_as_a_product_target_in_the_ad_group_the_finder_found():
    calls, notes = plan_fixes("harvest", "us", [{**HARVEST_ROW, "search_term": "b0cork0001", "harvest_as": "product_target"},
                                                {**HARVEST_ROW, "search_term": "B0CORK0002", "harvest_as": None}])
    assert [(c.tool, c.arguments) for c in calls] == [
        ("ads__create_product_target", {"site": "us", "ad_group_id": 11, "asin": "B0CORK0001", "bid": 0.6}),
        ("ads__create_negative", {"site": "us", "campaign_id": 2, "text": "b0cork0001", "match_type": "negative_exact"}),
        ("ads__create_keyword", {"site": "us", "ad_group_id": 11, "text": "B0CORK0002", "match_type": "exact", "bid": 0.6}),
        ("ads__create_negative", {"site": "us", "campaign_id": 2, "text": "B0CORK0002", "match_type": "negative_exact"}),
    ]  # the finder's harvest_as decides; a row without it (an older server) is judged by its text
    legacy, _ = plan_fixes("harvest", "us", [{k: v for k, v in HARVEST_ROW.items() if k != "harvest_as"}
                                             | {"search_term": "B0CORK0003"}])
    assert legacy[0].tool == "ads__create_product_target"
    assert calls[0].reason == "harvest 'b0cork0001' (CVR 15%, 3 orders): product target ASIN B0CORK0001 in ad group 'Mats' " \
                              "at 0.60 (1.2 × CPC 0.50)"
    assert notes == []


def test_harvest_without_a_manual_campaign_proposes_creating_it_once_and_holds_the_terms():
    orphan = {**HARVEST_ROW, "target_ad_group_id": None, "target_ad_group_name": None, "needs_manual_campaign": True}
    calls, notes = plan_fixes("harvest", "us", [orphan, {**orphan, "search_term": "foam mat", "avg_cpc": 0.9}],
                              window=WINDOW, currency="USD")
    assert [(c.tool, c.arguments) for c in calls] == [
        ("ads__create_campaign", {"site": "us", "name": "Manual exact Mats", "targeting": "manual",
                                  "daily_budget": 20.0, "ad_group_name": "Harvested exact", "default_bid": 1.08,
                                  "skus": ["MAT-1"]})]
    assert notes == ["'cork yoga mat', 'foam mat': no manual campaign advertises the SKUs of 'Auto Mats'; proposed "
                     "creating 'Manual exact Mats' first: the keywords follow once it exists (the next run finds it)"]
    assert calls[0].evidence == {
        "kind": "search_term", "label": "2 search terms of 'Auto Mats'", "window": WINDOW,
        "metrics": {"impressions": 1000, "clicks": 40, "spend": 20.0, "orders": 6, "sales": 180.0, "acos": 0.111111,
                    "cpc": 0.5, "ctr": 0.04, "cvr": 0.15},
        "rule": "harvest", "rule_text": "2 terms convert over 10% with at least 3 orders, and no manual campaign "
                                        "advertises the auto campaign's SKUs", "currency": "USD"}


def test_wasted_spend_cuts_to_the_finders_bid_and_says_what_it_saves():
    calls, _ = plan_fixes("wasted_spend", "us", [
        {"keyword_id": 2, "campaign_id": 5, "text": "mat", "bid": 0.85, "spend": 40.0, "orders": 1, "acos": 1.6,
         "suggested_action": "cut_bid", "suggested_bid": 0.43, "daily_savings": 1.23}])
    assert calls[0].arguments == {"site": "us", "keyword_id": 2, "bid": 0.43}
    assert calls[0].reason == "wasted spend: spent 40.00 with 1 orders, ACOS 160% → bid 0.85 → 0.43 (saves 1.23/day)"


@pytest.mark.parametrize(("kind", "item", "expected"), [
    ("acos_over_target",
     {"keyword_id": 7, "text": "yoga mat", "match_type": "exact", "bid": 1.0, "impressions": 1000, "clicks": 40,
      "spend": 48.0, "orders": 2, "sales": 100.0, "acos": 0.48, "cpc": 1.2, "ctr": 0.04, "cvr": 0.05},
     {"kind": "keyword", "label": "keyword 'yoga mat' (exact)",
      "metrics": {"impressions": 1000, "clicks": 40, "spend": 48.0, "orders": 2, "sales": 100.0, "acos": 0.48,
                  "cpc": 1.2, "ctr": 0.04, "cvr": 0.05},
      "rule": "acos_over_target", "rule_text": "ACOS 48% over the 30% target"}),
    ("wasted_spend",
     {"keyword_id": 3, "text": "cheap mat", "match_type": "broad", "bid": 0.8, "impressions": 300, "clicks": 25,
      "spend": 25.0, "orders": 0, "sales": 0.0, "acos": None, "reason": "no_orders", "suggested_action": "pause"},
     {"kind": "keyword", "label": "keyword 'cheap mat' (broad)",
      "metrics": {"impressions": 300, "clicks": 25, "spend": 25.0, "orders": 0, "sales": 0.0, "acos": None, "cpc": 1.0,
                  "ctr": 0.083333, "cvr": 0.0},
      "rule": "wasted_spend", "rule_text": "spent $25.00 with no orders in 30 days"}),
    ("budget_exhausted",
     {"campaign_id": 4, "campaign_name": "Manual Mats", "daily_budget": 10.0, "utilisation": 1.0, "exhausted_hour": 9,
      "days": 14, "days_exhausted_early": 10, "spend": 140.0, "sales": 300.0, "acos": 0.4667, "role": "exhausted"},
     {"kind": "campaign", "label": "campaign 'Manual Mats'",
      "metrics": {"daily_budget": 10.0, "utilisation": 1.0, "exhausted_hour": 9, "spend": 140.0, "sales": 300.0,
                  "acos": 0.4667},
      "rule": "budget_exhausted", "rule_text": "budget ran out early on 10 of 14 days, typically at 9:00\u202fAM"}),
    ("stock_out_risk",
     {"variant_id": 1, "sku": "MAT-1", "title": "Yoga mat", "on_hand": 20, "inbound": 0, "velocity_per_day": 4.0,
      "days_of_supply": 5.0, "lead_time_days": 14, "reorder_quantity": 64, "out_of_stock": False},
     {"kind": "sku", "label": "SKU 'MAT-1' (Yoga mat)",
      "metrics": {"on_hand": 20, "inbound": 0, "velocity_per_day": 4.0, "days_of_supply": 5.0, "lead_time_days": 14},
      "rule": "stock_out_risk", "rule_text": "5.0 days of supply at 4 a day; lead time 14 days"}),
    ("oos_live_ads",
     {"variant_id": 2, "sku": "BOT-1", "title": "Bottle", "on_hand": 0, "inbound": 5, "velocity_per_day": 1.0,
      "days_of_supply": 0.0, "lead_time_days": 10, "live_ads": 3, "out_of_stock": True},
     {"kind": "sku", "label": "SKU 'BOT-1' (Bottle)",
      "metrics": {"on_hand": 0, "inbound": 5, "velocity_per_day": 1.0, "days_of_supply": 0.0, "lead_time_days": 10},
      "rule": "oos_live_ads", "rule_text": "out of stock with 3 live ads"}),
    ("low_star_reviews",
     {"product_id": 1, "product_title": "Yoga mat", "product_rating": 3.0, "rating": 1, "low_star_reviews_of_product": 2,
      "live_ad_skus": ["MAT-1"]},
     {"kind": "product", "label": "product 'Yoga mat'",
      "metrics": {"rating": 3.0, "low_star_reviews": 2, "live_ad_skus": ["MAT-1"]},
      "rule": "low_star_reviews", "rule_text": "2 reviews of 1–2 stars in 30 days"}),
])
def test_every_fix_carries_the_evidence_of_its_target(kind, item, expected):
    calls, _ = plan_fixes(kind, "us", [item], acos_target=0.3, window=WINDOW, currency="USD")
    assert calls and all(c.evidence == {**expected, "window": WINDOW, "currency": "USD"} for c in calls)


@pytest.mark.parametrize(("auto", "manual"), [("US SP Auto - Cat Supplies", "US SP Manual exact - Cat Supplies"),
                                              ("Mats AUTO", "Mats Manual exact"), ("Automats", "Automats - Manual exact")])
def test_the_manual_campaign_made_for_an_auto_campaign_says_so_in_its_name(auto, manual):
    assert manual_name(auto) == manual


def test_file_calls_sends_the_evidence_with_the_proposal():
    bridge = FakeBridge()
    proof = {"kind": "sku", "label": "SKU 'A'", "window": WINDOW, "metrics": {}, "rule": "oos_live_ads",
             "rule_text": "out of stock with 1 live ads", "currency": "USD"}
    file_calls(bridge, SELLER, [FixCall("ads__pause_product_ads", {"site": "us", "sku": "A"}, "why", proof)],
               batch_id="b-2")
    assert [s.evidence for _, _, s in bridge.calls] == [proof]


def test_an_alert_says_which_days_its_figures_cover():
    from console.reports.alerts import Alert
    from console.reports.markdown import SiteFindings, daily_markdown

    savings = {"start": "2026-11-13", "end": "2026-11-19", "days": 7}
    alert = Alert("wasted_spend", "us", [{"text": "mat", "spend": 30.0, "orders": 0, "daily_savings": 4.29}],
                  window={"start": "2026-11-06", "end": "2026-11-19", "days": 14}, savings_window=savings)
    assert alert.window_text == ("Figures over Nov 6\u2009–\u200919, 2026 (14 days): this check's own window; saves / day "
                                 "averages Nov 13\u2009–\u200919, 2026 (7 days), the projection the approval card shows.")
    assert Alert("harvest", "us", []).window_text == ""
    md = daily_markdown([SiteFindings("us", "USD", 0.3, [alert])], None, run_id="r", user="u", today=dt.date(2026, 11, 20))
    assert f"_{alert.window_text}_" in md and "| mat | — | $30.00 | 0 | — | $4.29 |" in md
