"""The Inventory page on the demo seed: tiles, days-of-supply chart, at-risk highlighting, OOS with live ads, fixes."""

from __future__ import annotations

from tests.support.dashboards import dashboard_app, page_text  # noqa: F401 - the fixture


def test_inventory_page_shows_supply_risk_and_reorders(dashboard_app):  # noqa: F811
    at = dashboard_app("manager@demo.local", "inventory")
    at.selectbox(key="inv-site").set_value("us").run()
    assert not at.exception
    assert [m.label for m in at.metric] == ["SKUs", "Units on hand", "At risk", "Out of stock", "OOS with live ads",
                                            "Units to reorder", "Units sold, 30 days"]
    at_risk = int(at.metric[2].value.replace(",", ""))
    assert at_risk > 0 and int(at.metric[6].value.replace(",", "")) > 0
    text = page_text(at)
    assert "Out of stock with live ads" in text and "Reorder = velocity × (lead time + safety days)" in text
    assert "Sold = units on paid or later orders up to 2026-11-20" in text
    skus = next(d.value for d in at.dataframe if "days_of_supply" in d.value.columns)
    assert {"sold_7d", "sold_30d", "pace_change"} <= set(skus.columns) and skus["sold_30d"].sum() > 0
    assert len(at.get("plotly_chart")) == 1
    assert at.get("download_button")
    assert "Stock-out risk" in str([e.label for e in at.expander])

    at.toggle(key="inv-only-risk").set_value(True).run()
    assert f"SKUs ({at_risk})" in page_text(at)


def test_a_tight_threshold_leaves_only_out_of_stock_and_an_empty_filter_says_what_to_do(dashboard_app):  # noqa: F811
    at = dashboard_app("manager@demo.local", "inventory")
    at.number_input(key="inv-threshold").set_value(1).run()
    at.toggle(key="inv-only-risk").set_value(True).run()
    assert not at.exception
    assert int(at.metric[2].value) == int(at.metric[3].value)  # under 1 day: only the empty SKUs


def test_seller_pauses_ads_of_out_of_stock_skus(dashboard_app):  # noqa: F811
    at = dashboard_app("admin@demo.local", "inventory")
    at.selectbox(key="inv-site").set_value("us").run()
    at.button(key="fix-oos_live_ads").click().run()
    assert not at.exception
    assert "operations filed as batch" in at.success[0].value


def test_seller_files_the_reorders_of_skus_at_risk(dashboard_app):  # noqa: F811
    at = dashboard_app("seller@demo.local", "inventory")
    at.selectbox(key="inv-site").set_value("us").run()
    at_risk = int(at.metric[2].value.replace(",", ""))
    at.button(key="fix-stock_out_risk").click().run()
    assert not at.exception
    filed = at.success[0].value
    assert "operations filed as batch" in filed and int(filed.split()[0]) <= at_risk
