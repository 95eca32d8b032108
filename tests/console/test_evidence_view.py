"""Evidence for people: each kind's metrics formatted, the one-line summary, and saying so when there is none."""

from __future__ import annotations

import pytest

from console.approvals.evidence import EvidenceView, evidence_summary, evidence_view

WINDOW = {"start": "2026-10-22", "end": "2026-11-20", "days": 30}


@pytest.mark.parametrize(("evidence", "rows", "summary"), [
    ({"kind": "keyword", "label": "'yoga mat' (exact)", "window": WINDOW, "currency": "USD",
      "metrics": {"impressions": 12000, "clicks": 301, "spend": 41.2, "orders": 2, "sales": 30.0, "acos": 1.3733,
                  "cpc": 0.137, "ctr": 0.0251, "cvr": 0.0066}},
     [("Impressions", "12,000"), ("Clicks", "301"), ("Spend", "$41.20"), ("Orders", "2"), ("Sales", "$30.00"),
      ("ACOS", "137.3%"), ("CPC", "$0.14"), ("CTR", "2.5%"), ("CVR", "0.7%")],
     "spend $41.20 · ACOS 137% · 30 d"),
    ({"kind": "campaign", "label": "Yoga SP", "window": {"days": 7}, "currency": "EUR",
      "metrics": {"daily_budget": 50, "utilisation": 1.0, "exhausted_hour": 14, "spend": 350.0, "sales": 900.0,
                  "acos": 0.389}},
     [("Daily budget", "€50.00"), ("Budget used", "100.0%"), ("Budget ran out at", "14:00"), ("Spend", "€350.00"),
      ("Sales", "€900.00"), ("ACOS", "38.9%")],
     "100% used · out at 14:00 · 7 d"),
    ({"kind": "ad_group", "label": "Mats", "currency": "JPY", "metrics": {"default_bid": 90, "spend": 12000, "sales": 0,
                                                                           "acos": None}},
     [("Default bid", "¥90"), ("Spend", "¥12,000"), ("Sales", "¥0"), ("ACOS", "—")], "spend ¥12,000"),
    ({"kind": "sku", "label": "YM-BLUE-6MM", "window": {"days": 14},
      "metrics": {"on_hand": 40, "reserved": 3, "inbound": 0, "velocity_per_day": 4.35, "days_of_supply": 9.2,
                  "lead_time_days": 21}},
     [("On hand", "40"), ("Reserved", "3"), ("Inbound", "0"), ("Sells per day", "4.3/day"), ("Days of supply", "9.2 d"),
      ("Lead time", "21 d")],
     "9.2 d of supply · 4.3/day · 14 d"),
    ({"kind": "product", "label": "Yoga mat", "metrics": {"rating": 3.14, "reviews": 1204, "low_star_reviews": 3,
                                                         "live_ad_skus": 2}},
     [("Rating", "3.1 ★"), ("Reviews", "1,204"), ("Low-star reviews", "3"), ("SKUs with live ads", "2")],
     "rating 3.1 ★ · 3 low-star"),
    ({"kind": "order", "label": "#1001", "metrics": {"status": "paid", "lines": 2, "total": 54.0,
                                                    "placed_at": "2026-11-20T09:14:00"}},
     [("Status", "paid"), ("Lines", "2"), ("Total", "$54.00"), ("Placed", "2026-11-20 09:14")], "paid · $54.00"),
    ({"kind": "coupon", "label": "YM-1 15%", "metrics": {"kind": "percent", "value": 15, "budget": 200, "spent": 40.5,
                                                        "status": "active"}},
     [("Kind", "percent"), ("Value", "15%"), ("Budget", "$200.00"), ("Spent", "$40.50"), ("Status", "active")],
     "spent $40.50 · budget $200.00 · active"),
])
def test_each_kind_reads_in_its_units(evidence, rows, summary) -> None:
    assert evidence_view(evidence).metrics == rows
    assert evidence_summary(evidence) == summary


def test_the_window_and_why_come_with_the_metrics() -> None:
    view = evidence_view({"kind": "search_term", "label": "'yoga mat thick'", "window": WINDOW,
                          "metrics": {"orders": 4, "cvr": 0.16}, "rule": None, "rule_text": None,
                          "request": "add my best search terms as keywords"})
    assert view == EvidenceView(subject="search term 'yoga mat thick' · last 30 d (2026-10-22 → 2026-11-20)",
                                metrics=[("Orders", "4"), ("CVR", "16.0%")],
                                why="Request: “add my best search terms as keywords”", missing=None)
    assert evidence_view({"kind": "keyword", "metrics": {"spend": 1}, "rule_text": "ACOS 48% over the 30% target",
                          "request": "ignored when a rule says why"}).why == "Rule: ACOS 48% over the 30% target"


@pytest.mark.parametrize(("evidence", "missing", "summary"), [
    (None, "no evidence recorded", "no evidence recorded"),
    ({}, "no evidence recorded", "no evidence recorded"),
    ({"kind": "keyword", "label": "x", "metrics": {}}, "no evidence recorded", "no evidence recorded"),
    ({"kind": "keyword", "label": "x", "unavailable": "the analytics server did not answer"},
     "evidence unavailable: the analytics server did not answer", "unavailable: the analytics server did not answer"),
])
def test_missing_evidence_says_so(evidence, missing, summary) -> None:
    assert evidence_view(evidence).missing == missing
    assert evidence_summary(evidence) == summary


def test_a_label_that_names_its_kind_is_not_prefixed_again_and_order_lines_read_as_lines() -> None:
    view = evidence_view({"kind": "keyword", "label": "keyword 'yoga mat' (exact)", "window": {"days": 7},
                          "metrics": {"clicks": 3}})
    assert view.subject == "keyword 'yoga mat' (exact) · last 7 d"
    order = evidence_view({"kind": "order", "label": "order US-1001", "metrics": {
        "status": "paid", "lines": [{"sku": "MAT-BLU", "quantity": 2, "unit_price": 25.0}, {"sku": "BLK-1", "quantity": 1}],
        "total": 62.0}})
    assert order.subject == "order US-1001"
    assert ("Lines", "2 × MAT-BLU, 1 × BLK-1") in order.metrics
