"""The Sales page on the demo seed: tiles, revenue by day/week with anomaly markers, categories, sites, products."""

from __future__ import annotations

from tests.support.dashboards import DEMO_TODAY, dashboard_app, page_text  # noqa: F401 - the fixture


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


def test_low_star_reviews_panel_pauses_the_ads_of_a_product_with_several(dashboard_app):  # noqa: F811
    skus = _two_bad_reviews_of_an_advertised_product("de")  # before any page caches the alerts
    at = dashboard_app("seller@demo.local", "sales")
    at.selectbox(key="sales-site").set_value("us").run()  # five low-star reviews, each of another product
    assert not at.exception
    assert any(e.label.startswith("Low-star reviews (5)") for e in at.expander)
    assert "Nothing to file for these rows: " in page_text(at)
    assert "one low-star review; read it and reply" in page_text(at)
    assert "fix-low_star_reviews" not in [b.key for b in at.button]  # no button that would file nothing

    at.selectbox(key="sales-site").set_value("de").run()
    assert "Fix: Pause the ads of a product with several low-star reviews" in page_text(at)
    at.button(key="fix-low_star_reviews").click().run()
    assert not at.exception
    assert at.success[0].value.startswith(f"{len(skus)} operations filed as batch")


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
