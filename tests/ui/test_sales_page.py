"""The Sales page on the demo seed: tiles against a comparison of choice, revenue by day/week with anomaly markers,
categories, products narrowed by a search with drill-down, sites, and empty states that say what to change."""

from __future__ import annotations

import datetime as dt

from tests.support.dashboards import DEMO_TODAY, dashboard_app, page_text  # noqa: F401 - the fixture


def open_tab(at, label: str):
    """Switch the page's tabs (only the open tab's content is computed)."""
    at.session_state["sales-tab"] = label
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_sales_page_marks_the_planted_kitchen_drop(dashboard_app):  # noqa: F811
    at = dashboard_app("manager@demo.local", "sales")
    at.selectbox(key="sales-site").set_value("us").run()
    at.selectbox(key="sales-range").set_value("Last 7 days").run()
    assert not at.exception
    assert [m.label for m in at.metric] == ["Revenue", "Orders", "Units", "AOV", "Returns rate"]
    assert at.metric[0].value.startswith("$") and at.metric[0].delta.endswith("%")
    assert at.metric[4].delta.endswith(" pp")  # the returns rate changes in points
    text = page_text(at)
    assert "**Anomalies**" in text and "Category **Kitchen" in text
    assert [t.label for t in at.tabs] == ["Trend", "Categories", "Products", "Sites", "Alerts"]
    assert len(at.get("plotly_chart")) == 1 and len(at.get("download_button")) == 1  # the open tab only
    open_tab(at, "Categories")
    assert at.dataframe[0].value["key"].tolist()[:1] and len(at.get("plotly_chart")) == 1
    open_tab(at, "Products")
    text = page_text(at)
    assert "Top products" in text and "Bottom products" in text and len(at.get("download_button")) == 2
    open_tab(at, "Sites")
    assert at.dataframe[0].value["site"].tolist() == ["DE", "JP", "US"]
    assert at.dataframe[0].value["revenue"].iloc[0].startswith("€")  # each site in its own currency


def test_jp_spike_weekly_granularity_and_threshold(dashboard_app):  # noqa: F811
    at = dashboard_app("manager@demo.local", "sales")
    at.selectbox(key="sales-site").set_value("jp").run()
    assert at.metric[0].value.startswith("¥")
    assert "Category **Cat Supplies**" in page_text(at)  # the planted jp spike
    at.segmented_control(key="sales-granularity").set_value("week").run()
    assert not at.exception
    assert at.get("plotly_chart")[0].proto.spec  # the weekly trend renders
    assert "Faint bars are weeks the range cuts" in page_text(at)
    at.slider(key="sales-threshold").set_value(1.0).run()
    assert "Category **Cat Supplies**" in page_text(at)  # +157% is still past a 100% threshold
    at.selectbox(key="sales-site").set_value("de").run()
    assert "**Anomalies**" not in page_text(at)


def test_low_star_reviews_panel_pauses_the_ads_of_a_product_with_several(dashboard_app):  # noqa: F811
    skus = _two_bad_reviews_of_an_advertised_product("de")  # before any page caches the alerts
    at = dashboard_app("seller@demo.local", "sales")
    at.selectbox(key="sales-site").set_value("us").run()  # five low-star reviews, each of another product
    open_tab(at, "Alerts")
    assert any(e.label.startswith("Low-star reviews (5)") for e in at.expander)
    assert "Nothing to file for these rows: " in page_text(at)
    assert "one low-star review; read it and reply" in page_text(at)
    assert "fix-low_star_reviews" not in [b.key for b in at.button]  # no button that would file nothing

    at.selectbox(key="sales-site").set_value("de").run()
    assert "Fix: Pause the ads of a product with several low-star reviews" in page_text(at)
    at.button(key="fix-low_star_reviews").click().run()
    assert not at.exception
    assert at.success[0].value.startswith(f"{len(skus)} operations filed as batch")


def test_ninety_days_with_nothing_before_them_say_so_instead_of_empty_arrows(dashboard_app):  # noqa: F811
    at = dashboard_app("manager@demo.local", "sales")
    at.selectbox(key="sales-site").set_value("jp").run()
    at.selectbox(key="sales-range").set_value("Last 90 days").run()
    assert not any(m.delta for m in at.metric)  # the demo's history starts with the range: no "↑ —"
    assert "No change to show: the comparison period has no figures" in page_text(at)
    at.segmented_control(key="sales-granularity").set_value("week").run()
    assert "Faint bars are weeks the range cuts" in page_text(at)
    open_tab(at, "Sites")
    chart = at.get("plotly_chart")[0].proto.spec
    assert "No revenue in May 25" in chart and "to compare with: pick another comparison period" in chart
    at.selectbox(key="sales-compare").set_value("custom").run()
    at.date_input(key="sales-compare-dates").set_value((dt.date(2026, 8, 23), dt.date(2026, 9, 21))).run()
    assert all(m.delta for m in at.metric[:4])


def test_a_range_without_sales_says_what_to_change(dashboard_app):  # noqa: F811
    at = dashboard_app("manager@demo.local", "sales")
    at.selectbox(key="sales-range").set_value("Custom range").run()
    at.date_input(key="sales-dates").set_value((dt.date(2026, 1, 1), dt.date(2026, 1, 31))).run()
    assert "No sales in this range" in page_text(at) and "Widen the dates or pick another site." in page_text(at)
    at.date_input(key="sales-dates").set_value((dt.date(2026, 1, 1),)).run()  # only the first day picked so far
    assert "Pick the last day too" in page_text(at) and not at.metric


def test_search_narrows_products_by_title_sku_or_asin_and_drills_into_one(dashboard_app):  # noqa: F811
    at = dashboard_app("manager@demo.local", "sales")
    at.selectbox(key="sales-site").set_value("us").run()
    open_tab(at, "Products")
    at.text_input(key="sales-search").input("CHEF knife").run()
    found = at.dataframe[0].value
    assert found["title"].tolist() == ["Saltbox Classic Chef Knife"] and "1 product matches “CHEF knife”" in page_text(at)
    at.text_input(key="sales-search").input("us-kit-000011-2").run()  # a SKU of it
    assert at.dataframe[0].value["title"].tolist() == ["Saltbox Classic Chef Knife"]
    at.selectbox(key="sales-drill").set_value(int(found["product_id"].iloc[0])).run()
    text = page_text(at)
    assert "**SKUs** (" in text and "**Change history** (0)" in text
    skus = next(d.value for d in at.dataframe if "asin" in d.value.columns)
    assert {"US-KIT-000011-1", "US-KIT-000011-2"} <= set(skus["sku"])
    at.text_input(key="sales-search").input("nothing like this").run()
    assert "No products match “nothing like this”" in page_text(at)


def _two_bad_reviews_of_an_advertised_product(site: str) -> list[str]:
    """Two 1-star reviews of a product whose ads run, yesterday (the demo's own are of products without ads)."""
    import datetime as dt
    import os

    from sqlalchemy import select

    from servers.market.db import MarketDB
    from servers.market.models import Product, ProductAd, Variant
    from tests.support import factories as f

    db = MarketDB(os.environ["MARKET_DATABASE_URL"])
    with db.session() as s:
        product = s.scalars(select(Product).join(Variant, Variant.product_id == Product.id)
                            .join(ProductAd, ProductAd.variant_id == Variant.id)
                            .where(Product.site_id == site, ProductAd.state == "enabled").order_by(Product.id)).first()
        when = dt.datetime.combine(DEMO_TODAY - dt.timedelta(days=1), dt.time(10))
        for n in range(2):
            f.make_review(s, product, rating=1, title=f"Broke after a week ({n})", created_at=when)
        skus = sorted(set(s.scalars(select(ProductAd.sku).join(Variant, Variant.id == ProductAd.variant_id)
                                    .where(Variant.product_id == product.id, ProductAd.state == "enabled"))))
    db.engine.dispose()
    return skus
