"""The Inventory page on the demo seed: tiles, SKUs narrowed by a search with drill-down, days-of-supply chart,
at-risk status, OOS with live ads, fixes."""

from __future__ import annotations

from tests.support.dashboards import dashboard_app, page_text  # noqa: F401 - the fixture


def open_tab(at, label: str):
    """Switch the page's tabs (only the open tab's content is computed)."""
    at.session_state["inv-tab"] = label
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_inventory_page_shows_supply_risk_and_reorders(dashboard_app):  # noqa: F811
    at = dashboard_app("manager@demo.local", "inventory")
    at.selectbox(key="inv-site").set_value("us").run()
    assert not at.exception
    assert [m.label for m in at.metric] == ["SKUs", "Units on hand", "At risk", "Out of stock", "OOS with live ads",
                                            "Units to reorder", "Units sold, 30 days"]
    at_risk = int(at.metric[2].value.replace(",", ""))
    assert at_risk > 0 and int(at.metric[6].value.replace(",", "")) > 0
    text = page_text(at)
    assert "Reorder = velocity × (lead time + safety days)" in text
    assert "Sold = units on paid or later orders up to 2026-11-20" in text
    assert [t.label for t in at.tabs] == ["SKUs", "Days of supply", "Out of stock with live ads", "Alerts"]
    skus = at.dataframe[0].value
    assert {"sold_7d", "sold_30d", "pace_change"} <= set(skus.columns) and skus["sold_30d"].sum() > 0
    assert set(skus["status"]) == {"Out of stock", "At risk", "On track"}  # words, not True/False flags
    assert at.get("download_button") and not at.get("plotly_chart")
    open_tab(at, "Days of supply")
    assert len(at.get("plotly_chart")) == 1
    open_tab(at, "Out of stock with live ads")
    assert "These ads spend money on products nobody can buy." in page_text(at) and len(at.dataframe[0].value)
    open_tab(at, "Alerts")
    assert "Stock-out risk" in str([e.label for e in at.expander])

    open_tab(at, "SKUs")
    at.toggle(key="inv-only-risk").set_value(True).run()
    assert f"SKUs ({at_risk})" in page_text(at)


def test_a_tight_threshold_leaves_only_out_of_stock_and_an_empty_filter_says_what_to_do(dashboard_app):  # noqa: F811
    at = dashboard_app("manager@demo.local", "inventory")
    at.number_input(key="inv-threshold").set_value(1).run()
    at.toggle(key="inv-only-risk").set_value(True).run()
    assert not at.exception
    assert int(at.metric[2].value) == int(at.metric[3].value)  # under 1 day: only the empty SKUs


def test_search_by_sku_asin_or_title_narrows_and_a_sku_drills_into_its_ads_and_history(dashboard_app):  # noqa: F811
    at = dashboard_app("manager@demo.local", "inventory")
    at.selectbox(key="inv-site").set_value("us").run()
    everything = at.dataframe[0].value
    sku = everything["sku"].iloc[0]
    at.text_input(key="inv-search").input(sku.lower()).run()
    assert at.dataframe[0].value["sku"].tolist() == [sku] and f"SKUs (1 of {len(everything)})" in page_text(at)
    asin = at.dataframe[0].value["asin"].iloc[0]
    at.text_input(key="inv-search").input(f" {asin} ").run()
    assert at.dataframe[0].value["sku"].tolist() == [sku]
    at.selectbox(key="inv-drill").set_value(sku).run()
    assert [m.label for m in at.metric][-8:] == ["Available", "Days of supply", "Units / day", "Reorder qty",
                                                 "Sold 7 days", "Sold 30 days", "7-day pace", "Inbound"]
    text = page_text(at)
    assert "**Product ads** (" in text and "**Change history** (0)" in text
    at.text_input(key="inv-search").input("no such sku").run()
    assert "No SKUs match “no such sku”" in page_text(at)


def test_seller_pauses_ads_of_out_of_stock_skus(dashboard_app):  # noqa: F811
    at = dashboard_app("admin@demo.local", "inventory")
    at.selectbox(key="inv-site").set_value("us").run()
    open_tab(at, "Alerts")
    at.button(key="fix-oos_live_ads").click().run()
    assert not at.exception
    assert "operations filed as batch" in at.success[0].value


def test_seller_files_the_reorders_of_skus_at_risk(dashboard_app):  # noqa: F811
    at = dashboard_app("seller@demo.local", "inventory")
    at.selectbox(key="inv-site").set_value("us").run()
    at_risk = int(at.metric[2].value.replace(",", ""))
    open_tab(at, "Alerts")
    at.button(key="fix-stock_out_risk").click().run()
    assert not at.exception
    filed = at.success[0].value
    assert "operations filed as batch" in filed and int(filed.split()[0]) <= at_risk
    open_tab(at, "SKUs")
    reordered = at.dataframe[0].value.query("status == 'At risk' and reorder_quantity > 0")["sku"].iloc[0]
    at.selectbox(key="inv-drill").set_value(reordered).run()
    history = next(d.value for d in at.dataframe if "change" in d.value.columns)
    assert "**Change history** (1)" in page_text(at) and history["status"].tolist() == ["Waiting for approval"]


def test_a_long_sku_table_is_sent_a_page_at_a_time_and_downloaded_whole(dashboard_app, monkeypatch):  # noqa: F811
    from pages import dashboard_kit

    monkeypatch.setattr(dashboard_kit, "PAGE_ROWS", 10)
    at = dashboard_app("manager@demo.local", "inventory")
    at.selectbox(key="inv-site").set_value("us").run()
    total = int(at.metric[0].value.replace(",", ""))
    assert total > 20
    first = at.dataframe[0].value
    assert len(first) == 10
    pages = -(-total // 10)
    picker = at.number_input(key="inv-skus-page")
    assert picker.label == f"Page (of {pages}, 10 rows each)"
    picker.set_value(pages).run()
    last = at.dataframe[0].value
    assert len(last) == total - 10 * (pages - 1) and set(last["sku"]).isdisjoint(first["sku"])
    assert at.get("download_button")  # the CSV holds every row (tables.csv_bytes of the whole frame)
