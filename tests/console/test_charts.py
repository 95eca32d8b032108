"""Chart functions return plotly Figures with the right traces, axes and tick formats."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go
import pytest

from console.dashboards import charts

DAYS = pd.to_datetime([dt.date(2026, 11, d) for d in (18, 19, 20)])


def names(fig: go.Figure) -> list[str]:
    return [t.name for t in fig.data]


def test_ads_trend_has_spend_sales_bars_acos_line_and_target_on_a_percent_axis():
    daily = pd.DataFrame({"date": DAYS, "spend": [10.0, 20.0, 30.0], "sales": [40.0, 40.0, 60.0], "acos": [0.25, 0.5, 0.5]})
    fig = charts.ads_trend(daily, currency="USD", acos_target=0.3)
    assert names(fig) == ["Spend", "Sales", "ACOS", "ACOS target 30%"]
    assert [t.type for t in fig.data] == ["bar", "bar", "scatter", "scatter"]
    assert fig.data[2].yaxis == "y2" and fig.data[3].yaxis == "y2"
    assert list(fig.data[3].y) == [0.3, 0.3]
    assert fig.layout.yaxis.tickprefix == "$" and fig.layout.yaxis.tickformat == ",.0f"
    assert fig.layout.yaxis2.tickformat == ".0%"
    assert fig.layout.xaxis.title.text == "Date"


@pytest.mark.parametrize(("currency", "prefix"), [("EUR", "€"), ("JPY", "¥"), ("XYZ", "XYZ ")])
def test_money_axes_follow_the_site_currency(currency, prefix):
    daily = pd.DataFrame({"date": DAYS, "spend": [1.0] * 3, "sales": [2.0] * 3, "acos": [0.5] * 3})
    assert charts.ads_trend(daily, currency=currency, acos_target=0.3).layout.yaxis.tickprefix == prefix


def test_empty_data_gives_an_annotated_empty_figure():
    empty = pd.DataFrame(columns=["date", "spend", "sales", "acos"])
    fig = charts.ads_trend(empty, currency="USD", acos_target=0.3)
    assert fig.data == () and fig.layout.annotations[0].text == "No data for these filters"
    for build in (lambda: charts.platform_bars(pd.DataFrame(), currency="USD"),
                  lambda: charts.sales_trend(pd.DataFrame(), currency="USD"),
                  lambda: charts.category_breakdown(pd.DataFrame(), currency="USD"),
                  lambda: charts.budget_pacing(pd.DataFrame(), currency="USD"),
                  lambda: charts.days_of_supply_bars(pd.DataFrame(), threshold=14)):
        assert isinstance(build(), go.Figure)


def test_budget_pacing_places_each_campaign_at_the_hour_it_ran_out():
    pacing = pd.DataFrame({"campaign_name": ["A", "B", "C"], "typical_ran_out_at": ["11:00", None, "20:30"],
                           "status": ["exhausted_early", "under_utilised", "ok"], "utilisation": [1.0, 0.3, 0.98],
                           "daily_budget": [50.0, 80.0, 20.0]})
    fig = charts.budget_pacing(pacing, currency="USD", early_hour=18)
    bar = fig.data[0]
    assert dict(zip(bar.y, bar.x, strict=True)) == {"A": 11.0, "B": 24.0, "C": 20.5}
    assert list(bar.marker.color) == [charts.TARGET, charts.OK, charts.RISK]  # sorted latest first
    assert fig.layout.xaxis.ticksuffix == ":00" and fig.layout.xaxis.dtick == 2
    assert fig.layout.shapes[0].x0 == 18


def test_platform_bars_side_by_side_with_acos_labels():
    platforms = pd.DataFrame({"platform": ["amazon", "google", "meta"], "spend": [100.0, 50.0, 10.0],
                              "sales": [400.0, 100.0, None], "acos": [0.25, 0.5, None]})
    fig = charts.platform_bars(platforms, currency="USD")
    assert names(fig) == ["Spend", "Sales"] and fig.layout.barmode == "group"
    assert list(fig.data[1].text) == ["ACOS 25%", "ACOS 50%", ""]
    assert fig.layout.yaxis.tickprefix == "$"


def test_days_of_supply_bars_shortest_first_at_risk_red_threshold_line():
    items = pd.DataFrame({"sku": ["A", "B", "C", "D", "E"], "days_of_supply": [30.0, 2.0, None, 10.0, 0.0],
                          "at_risk": [False, True, False, True, True], "out_of_stock": [False, False, False, False, True]})
    fig = charts.days_of_supply_bars(items, threshold=14)
    bar = fig.data[0]
    assert list(bar.y) == ["E", "B", "D", "A"]  # no days of supply (nothing sells) is left out
    assert list(bar.text) == ["out of stock", "2.0", "10.0", "30.0"]  # an empty SKU's bar has no length
    assert list(bar.marker.color) == [charts.RISK, charts.RISK, charts.RISK, charts.OK]
    assert fig.layout.shapes[0].x0 == 14
    assert fig.layout.yaxis.autorange == "reversed"


def test_sales_trend_marks_anomalies():
    series = pd.DataFrame({"period": DAYS, "revenue": [100.0, 500.0, 90.0], "orders": [2, 9, 2],
                           "change": [None, 4.0, -0.1], "anomaly": [False, True, False]})
    fig = charts.sales_trend(series, currency="EUR", granularity="week")
    assert names(fig) == ["Revenue", "Orders", "Anomaly (week over week)"]
    marker = fig.data[2]
    assert list(marker.y) == [500.0] and list(marker.customdata) == [4.0]
    assert marker.hovertemplate == "%{customdata:+.0%} vs a week earlier"
    assert fig.layout.yaxis.tickprefix == "€" and fig.layout.yaxis2.tickformat == ",d"
    assert fig.layout.xaxis.title.text == "Week of"


def test_category_breakdown_largest_on_top_with_shares():
    cats = pd.DataFrame({"key": ["Yoga", "Kitchen"], "revenue": [100.0, 700.0], "share": [0.125, 0.875]})
    fig = charts.category_breakdown(cats, currency="USD")
    assert list(fig.data[0].y) == ["Yoga", "Kitchen"]  # plotly draws the last row on top
    assert list(fig.data[0].text) == ["12%", "88%"]
    assert fig.layout.xaxis.tickprefix == "$"


def test_sites_side_by_side_percent_axis():
    frame = pd.DataFrame({"site": ["de", "us"], "revenue_change": [0.1, -0.2]})
    fig = charts.sites_side_by_side(frame, value="revenue_change", label="Revenue change", percent=True)
    assert list(fig.data[0].x) == ["de", "us"] and fig.layout.yaxis.tickformat == ".0%"
