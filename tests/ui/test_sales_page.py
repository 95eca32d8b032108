"""The Sales page on the demo seed: tiles, revenue by day/week with anomaly markers, categories, sites, products."""

from __future__ import annotations

from tests.support.dashboards import dashboard_app, page_text  # noqa: F401 - the fixture


def test_sales_page_marks_the_planted_kitchen_drop(dashboard_app):  # noqa: F811
    at = dashboard_app("manager@demo.local", "sales")
    at.selectbox(key="sales-site").set_value("us").run()
    at.selectbox(key="sales-range").set_value("Last 7 days").run()
    assert not at.exception
    assert [m.label for m in at.metric] == ["Revenue", "Orders", "Units", "AOV", "Returns rate"]
    assert at.metric[0].value.startswith("$") and at.metric[0].delta.endswith("%")
    text = page_text(at)
    assert "**Anomalies**" in text and "Category **Kitchen" in text
    charts = at.get("plotly_chart")
    assert len(charts) == 3  # trend, categories, sites
    assert "Top products" in text and "Bottom products" in text
    assert len(at.get("download_button")) == 3


def test_jp_spike_weekly_granularity_and_threshold(dashboard_app):  # noqa: F811
    at = dashboard_app("manager@demo.local", "sales")
    at.selectbox(key="sales-site").set_value("jp").run()
    assert at.metric[0].value.startswith("¥")
    assert "Category **Cat Supplies**" in page_text(at)  # the planted jp spike
    at.segmented_control(key="sales-granularity").set_value("week").run()
    assert not at.exception
    assert at.get("plotly_chart")[0].proto.spec  # the weekly trend renders
    at.slider(key="sales-threshold").set_value(1.0).run()
    assert "Category **Cat Supplies**" in page_text(at)  # +157% is still past a 100% threshold
    at.selectbox(key="sales-site").set_value("de").run()
    assert "**Anomalies**" not in page_text(at)
