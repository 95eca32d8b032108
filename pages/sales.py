"""Sales: revenue, orders, units and AOV by day or week with anomaly markers; sites, categories, top/bottom products."""

from __future__ import annotations

import streamlit as st

from console import charts, dashboards
from pages import dashboard_kit as kit
from pages.components import empty_state, page_header, render_error
from pages.state import current_caller, get_runtime

runtime = get_runtime()
caller = current_caller(("manager", "seller"))
page_header("Sales", "Store revenue, orders and returns; days and categories that moved more than the threshold.")

site, days = kit.site_and_range(caller, key="sales")
cols = st.columns(3)
granularity = cols[0].segmented_control("By", ["day", "week"], default="day", key="sales-granularity") or "day"
threshold = cols[1].slider("Anomaly threshold (week over week)", 0.1, 1.0, 0.3, 0.05, key="sales-threshold",
                           format="%.2f")
top_n = cols[2].number_input("Top / bottom products", 3, 25, 5, key="sales-top")
sites = tuple(sorted(caller.sites))

try:
    start, end = dashboards.last_days(kit.today(caller, site), days)
    with st.spinner("Loading sales…"):
        view = kit.sales_view(caller.user, sites, site=site, start=start, end=end, granularity=granularity,
                              anomaly_threshold=float(threshold), top_n=int(top_n))
except Exception as exc:
    render_error(exc)
    st.stop()

st.caption(f"{start} .. {end} vs the {days} days before · {site.upper()} · {view.currency}")
kit.tiles(view.tiles())

if view.totals["orders"] == 0:
    empty_state("No orders in this range", "Pick a longer date range or another site.")
    st.stop()

st.plotly_chart(charts.sales_trend(view.series, currency=view.currency, granularity=granularity), key="sales-trend")
flagged = [*view.anomalies.itertuples(), *[c for c in view.by_category.itertuples() if c.anomaly]]
if flagged:
    with st.container(border=True):
        st.markdown(f"**Anomalies** — moved more than {threshold:.0%} week over week")
        for p in view.anomalies.itertuples():
            st.markdown(f"- {p.period:%a %d %b}: {dashboards.money_text(p.revenue, view.currency)} ({p.change:+.0%})")
        for c in view.by_category[view.by_category["anomaly"]].itertuples():
            st.markdown(f"- Category **{c.key}**: {dashboards.money_text(c.week_revenue, view.currency)} in the last "
                        f"7 days vs {dashboards.money_text(c.previous_week_revenue, view.currency)} ({c.change:+.0%})")

left, right = st.columns(2)
with left:
    st.plotly_chart(charts.category_breakdown(view.by_category, currency=view.currency), key="sales-categories")
with right:
    try:
        by_site = kit.sales_sites(caller.user, sites, start=start, end=end)
    except Exception as exc:
        render_error(exc)
    else:
        st.plotly_chart(charts.sites_side_by_side(by_site, value="revenue_change", label="Revenue change", percent=True),
                        key="sales-sites")
        kit.table(kit.money_columns(by_site, ""))

for label, frame, key in (("Top products", view.top_products, "top"), ("Bottom products", view.bottom_products, "bottom")):
    st.subheader(label)
    kit.table(kit.money_columns(frame.drop(columns=["product_id"]), view.currency))
    kit.download(frame, f"{key}-products-{site}-{start}-{end}.csv", key=f"dl-{key}")
st.subheader(f"Revenue by {granularity} (data)")
kit.download(view.series, f"sales-{granularity}-{site}-{start}-{end}.csv", key="dl-series")

st.subheader("Alerts")
kit.alert_panels(runtime, caller, site, kit.today(caller, site), kinds=("reviews",), acos_target=None,
                 currency=view.currency)
