"""The dashboards' pure helpers: ranges and comparison periods, search folding, table layouts, change history, charts."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from console.dashboards import charts, history, search, tables
from console.dashboards.periods import (
    CUSTOM,
    Period,
    chosen_range,
    comparison_period,
    comparison_text,
    week_cut_by,
    year_before,
)

TODAY = dt.date(2026, 11, 21)
D = dt.date


@pytest.mark.parametrize(("label", "picked", "expected"), [
    ("Last 7 days", (), Period(D(2026, 11, 14), D(2026, 11, 20))),
    ("Last 90 days", (), Period(D(2026, 8, 23), D(2026, 11, 20))),
    (CUSTOM, (D(2026, 11, 10), D(2026, 11, 1)), Period(D(2026, 11, 1), D(2026, 11, 10))),
    (CUSTOM, (D(2026, 11, 10),), None),  # only the first day picked so far
])
def test_chosen_range(label, picked, expected):
    assert chosen_range(TODAY, label, picked) == expected


@pytest.mark.parametrize(("mode", "custom", "expected"), [
    ("previous", None, Period(D(2026, 10, 23), D(2026, 10, 29))),
    ("last_year", None, Period(D(2025, 10, 30), D(2025, 11, 5))),
    ("custom", Period(D(2026, 1, 1), D(2026, 1, 31)), Period(D(2026, 1, 1), D(2026, 1, 31))),
    ("custom", None, Period(D(2026, 10, 23), D(2026, 10, 29))),  # not picked yet: the previous period
])
def test_comparison_period(mode, custom, expected):
    assert comparison_period(Period(D(2026, 10, 30), D(2026, 11, 5)), mode, custom) == expected


def test_leap_day_a_year_before_and_captions():
    assert year_before(D(2028, 2, 29)) == D(2027, 2, 28)
    assert comparison_text("previous", Period(D(2026, 11, 7), D(2026, 11, 13))) == \
        "vs the previous 7 days (Nov 7\u2009–\u200913, 2026)"
    assert comparison_text("last_year", Period(D(2025, 11, 7), D(2025, 11, 13))).startswith("vs the same days last year")
    with pytest.raises(ValueError):
        Period(D(2026, 11, 2), D(2026, 11, 1))


@pytest.mark.parametrize(("monday", "cut"), [(D(2026, 11, 2), True), (D(2026, 11, 9), False), (D(2026, 11, 16), True)])
def test_weeks_cut_by_a_range(monday, cut):
    assert week_cut_by(monday, D(2026, 11, 4), D(2026, 11, 18)) is cut


@pytest.mark.parametrize(("query", "text", "hit"), [
    ("cafe", "Café Crème", True), ("CAFÉ", "cafe", True), ("strasse", "Straße", True), ("yoga", "YOGA MAT", True),
    ("ｙｏｇａ", "yoga", True),  # full-width letters
    ("B0ABC", "b0abc123", True), ("か", "が", False),  # a voicing mark is no accent
    ("mat", None, False), ("", "anything", True),
])
def test_search_folds_case_accents_and_widths(query, text, hit):
    assert search.matches([text], query) == [hit]


def test_narrow_keeps_rows_matching_any_column():
    table = pd.DataFrame({"sku": ["A-1", "B-2", "C-3"], "title": ["Crème", "Mat", None]})
    assert search.narrow(table, "creme", ["sku", "title"])["sku"].tolist() == ["A-1"]
    assert search.narrow(table, "b-2", ["sku", "title"])["sku"].tolist() == ["B-2"]
    assert search.narrow(table, "  ", ["sku"]) is table


def test_layouts_put_what_matters_first_and_read_stored_codes_as_words():
    row = {"id": 1, "name": "Yoga", "platform": "amazon", "campaign_type": "SP", "targeting": "manual",
           "state": "enabled", "daily_budget": 20.0, "impressions": 100, "clicks": 5, "spend": 10.0, "sales": 40.0,
           "orders": 2, "acos": 0.25, "roas": 4.0, "ctr": 0.05, "cvr": 0.4, "cpc": 2.0}
    campaigns = pd.DataFrame([row])
    assert tables.CAMPAIGNS.columns(campaigns) == ["name", "state", "spend", "sales", "acos", "roas", "orders", "ctr",
                                                   "cvr", "cpc"]
    assert tables.CAMPAIGNS.columns(campaigns, more=True)[10:] == ["platform", "campaign_type", "targeting",
                                                                  "daily_budget", "impressions", "clicks"]
    shown = tables.readable(campaigns, tables.CAMPAIGNS)
    assert shown.loc[0, ["state", "campaign_type", "platform"]].tolist() == ["Enabled", "Sponsored Products", "Amazon"]
    assert shown.loc[0, "spend"] == 10.0  # numbers stay numbers for the grid to format
    assert tables.CAMPAIGNS.header("name") == "Campaign" and tables.CAMPAIGNS.header("daily_budget") == "Daily budget"
    pacing = tables.readable(pd.DataFrame({"status": ["under_utilised", None]}), tables.PACING)
    assert pacing["status"].tolist() == ["Under-utilised", "—"]
    sites = tables.readable(pd.DataFrame({"site": ["de", "jp"], "currency": ["EUR", "JPY"], "revenue": [1234.5, 2106234]}),
                            tables.SITES)
    assert sites["revenue"].tolist() == ["€1,234.50", "¥2,106,234"] and tables.kind_shown(tables.SITES, "revenue") == "text"
    csv = tables.csv_bytes(campaigns[["name", "spend", "acos"]], tables.CAMPAIGNS, currency="JPY").decode("utf-8-sig")
    assert csv.splitlines() == ["Name,Spend (JPY),ACOS", "Yoga,10,0.25"]


def test_change_history_of_a_campaign_and_of_a_sku():
    now = dt.datetime(2026, 11, 20, 9)

    def op(i: int, arguments: dict, target: str) -> dict:
        return {"id": i, "created_at": now + dt.timedelta(minutes=i), "status": "succeeded", "proposer": "s@x",
                "tool": "update_bid", "arguments": arguments,
                "preview": {"target": target, "changes": [{"field": "bid", "before": 1.5, "after": 1.2}]}}

    ops = [op(1, {"site": "us", "keyword_id": 7, "bid": 1.2}, "keyword #7"),
           op(2, {"site": "us", "campaign_id": 3, "daily_budget": 30}, "campaign #3"),
           op(3, {"site": "us", "sku": "Y-1"}, "SKU Y-1"), op(4, {"site": "us", "variant_id": 9}, "variant #9")]
    found = history.entity_history(ops, campaign_ids=[3], keyword_ids=[7, 8])
    assert found["id"].tolist() == [2, 1] and found.loc[1, "change"] == "bid $1.50 → $1.20"
    assert history.entity_history(ops, skus=["Y-1"], variant_ids=[9])["target"].tolist() == ["variant #9", "SKU Y-1"]
    assert history.entity_history(ops, skus=["nope"]).empty


def test_partial_weeks_are_faint_and_a_change_with_nothing_to_compare_says_so():
    series = pd.DataFrame({"period": pd.to_datetime([D(2026, 11, 2), D(2026, 11, 9)]), "revenue": [5.0, 9.0],
                           "orders": [1, 2], "change": [None, 0.8], "anomaly": [False, True], "partial": [True, False]})
    bars = charts.sales_trend(series, currency="USD", granularity="week").data[0]
    assert list(bars.marker.opacity) == [0.4, 1.0] and bars.customdata[0].startswith("partial week")
    sites = pd.DataFrame({"site": ["us", "de"], "revenue_change": [None, None]})
    fig = charts.sites_side_by_side(sites, value="revenue_change", label="Revenue change", percent=True,
                                    empty="No revenue in the comparison period")
    assert fig.layout.annotations[0].text == "No revenue in the comparison period"
