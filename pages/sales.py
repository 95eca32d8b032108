"""Sales: revenue, orders, units and AOV against a comparison period of choice, by day or week with anomaly markers;
categories, products narrowed by a search with drill-down, sites side by side, review alerts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from console import formatting
from console.dashboards import charts, search, tables, tiles
from console.i18n import N_, _, ngettext, pgettext
from pages import dashboard_drilldowns as drilldowns
from pages import dashboard_kit as kit
from pages import dashboard_loaders as loaders
from pages.components import empty_state, page_header, render_error
from pages.state import current_caller, get_runtime

SEARCHED = 50  # products ranked each way when searching (the most the tool ranks)
GRANULARITIES = {"day": N_("day"), "week": N_("week")}

runtime = get_runtime()
caller = current_caller(("manager", "seller"))
page_header(pgettext("page", "Sales"), _("Store revenue, orders and returns; days and categories that moved more than the threshold."))

f = kit.filters(caller, key="sales", search=_("Search a product, category, SKU or ASIN"))
cols = st.columns(3)
granularity = cols[0].segmented_control(_("By"), list(GRANULARITIES), default="day", key="sales-granularity",
                                        format_func=lambda g: _(GRANULARITIES[g])) or "day"
threshold = cols[1].slider(_("Anomaly threshold (week over week)"), 0.1, 1.0, 0.3, 0.05, key="sales-threshold",
                           format="%.2f")
top_n = cols[2].number_input(_("Top / bottom products"), 3, 25, 5, key="sales-top")
sites = loaders.sites_of(caller)
where = {"site": f.site, "lang": kit.lang()}

try:
    with st.spinner(_("Loading sales…")):
        # A search looks through the most products the tool ranks, not just the top and bottom few.
        view = loaders.sales_view(caller.user, sites, site=f.site, start=f.period.start, end=f.period.end,
                                  granularity=granularity, anomaly_threshold=float(threshold),
                                  top_n=SEARCHED if f.query else int(top_n), compare=f.compared)
except Exception as exc:
    render_error(exc)
    st.stop()

st.caption(f.caption(view.currency))
kit.tiles(tiles.sales_tiles(view, lang=kit.lang()))
if view.totals["orders"] == 0:
    empty_state(_("No sales in this range"), _("Widen the dates or pick another site."))
    st.stop()

trend, categories, products, by_site, alerts = st.tabs([_("Trend"), _("Categories"), _("Products"),
                                                        _("Sites"), _("Alerts")], key="sales-tab", on_change="rerun")
with trend:
    if trend.open:
        st.plotly_chart(charts.sales_trend(view.series, currency=view.currency, granularity=granularity),
                        key="sales-trend")
        if view.series["partial"].any():
            st.caption(_("Faint bars are weeks the range cuts: they hold fewer days, so they are never flagged."))
        flagged = view.by_category[view.by_category["anomaly"]]
        if not view.anomalies.empty or not flagged.empty:
            with st.container(border=True):
                st.markdown(_("**Anomalies** — moved more than {threshold} week over week").format(
                    threshold=formatting.percent(threshold, 0)))
                for p in view.anomalies.itertuples():
                    st.markdown(_("- {date}: {revenue} ({change})").format(
                        date=formatting.date_text(p.period, **where),
                        revenue=formatting.money(p.revenue, view.currency, **where),
                        change=formatting.delta(p.change, **where)))
                for c in flagged.itertuples():
                    st.markdown(_("- Category **{category}**: {revenue} in the last 7 days vs {previous} ({change})")
                                .format(category=c.key, revenue=formatting.money(c.week_revenue, view.currency, **where),
                                        previous=formatting.money(c.previous_week_revenue, view.currency, **where),
                                        change=formatting.delta(c.change, **where)))
        kit.download(view.series, f"sales-{granularity}-{f.site}-{f.period.start}-{f.period.end}.csv", key="dl-series",
                     currency=view.currency)

with categories:
    if categories.open:
        shown = search.narrow(view.by_category, f.query, ["key"])
        st.plotly_chart(charts.category_breakdown(shown, currency=view.currency), key="sales-categories")
        kit.grid(shown, tables.CATEGORIES, currency=view.currency, key="sales-categories-table")

with products:
    if products.open:
        both = pd.concat([view.top_products, view.bottom_products]).drop_duplicates("product_id")
        if f.query:
            try:
                skus = loaders.variants(caller.user, sites, site=f.site)
            except Exception as exc:
                render_error(exc)
                st.stop()
            found = search.products_matching(f.query, both, skus).sort_values("revenue", ascending=False)
            st.caption(ngettext("{count} product matches “{query}” by title, category, SKU or ASIN (among the "
                                "{searched} best and {searched} worst sellers)",
                                "{count} products match “{query}” by title, category, SKU or ASIN (among the "
                                "{searched} best and {searched} worst sellers)", len(found))
                       .format(count=len(found), query=f.query, searched=SEARCHED))
            ranked = [(_("Matching products"), found, "found")]
        else:
            ranked = [(_("Top products"), view.top_products, "top"),
                      (_("Bottom products"), view.bottom_products, "bottom")]
        for heading, frame, key in ranked:
            st.subheader(heading)
            if frame.empty:
                kit.no_match(f.query, "products")
                continue
            kit.grid(frame, tables.PRODUCTS, currency=view.currency, key=f"sales-{key}")
            kit.download(frame, f"{key}-products-{f.site}-{f.period.start}-{f.period.end}.csv", key=f"dl-{key}",
                         layout=tables.PRODUCTS, currency=view.currency)
        drilldowns.product(caller, f.site, ranked[0][1] if f.query else both, view.currency)

with by_site:
    if by_site.open:
        try:
            with st.spinner(_("Loading every site…")):
                frame = loaders.sales_sites(caller.user, sites, start=f.period.start, end=f.period.end,
                                            compare=f.compared)
        except Exception as exc:
            render_error(exc)
        else:
            nothing = _("No revenue in {period} to compare with: pick another comparison period").format(
                period=f.compared.text(**where))
            st.plotly_chart(charts.sites_side_by_side(frame, value="revenue_change", label=_("Revenue change"),
                                                      percent=True, empty=nothing), key="sales-sites")
            kit.grid(frame.assign(site=frame["site"].str.upper()), tables.SITES, key="sales-sites-table")

with alerts:
    if alerts.open:
        st.caption(_("Reviews of the last three days, not the range above (the panel states its days)."))
        kit.alert_panels(runtime, caller, f.site, f.today, kinds=("reviews",), acos_target=None, currency=view.currency)
