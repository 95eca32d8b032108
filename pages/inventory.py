"""Inventory: stock, days of supply, velocity and reorder suggestions; SKUs at risk and out-of-stock SKUs with live ads."""

from __future__ import annotations

import streamlit as st

from console import charts
from pages import dashboard_kit as kit
from pages.components import empty_state, page_header, render_error
from pages.state import active_site, current_caller, get_runtime

runtime = get_runtime()
caller = current_caller(("manager", "seller"))
page_header("Inventory", "How long the stock lasts at the current sales velocity, and what to reorder.")

sites = sorted(caller.sites)
cols = st.columns(4)
site = cols[0].selectbox("Site", sites, index=sites.index(active_site()) if active_site() in sites else 0,
                         key="inv-site", format_func=str.upper)
threshold = cols[1].number_input("At risk under (days of supply)", 1, 120, 14, key="inv-threshold")
safety = cols[2].number_input("Safety stock (days)", 0, 90, 7, key="inv-safety")
only_risk = cols[3].toggle("Only SKUs at risk", key="inv-only-risk")

try:
    with st.spinner("Loading inventory…"):
        view = kit.inventory_view(caller.user, tuple(sites), site=site, days_threshold=float(threshold),
                                  safety_days=int(safety), only_at_risk=only_risk, limit=500)
except Exception as exc:
    render_error(exc)
    st.stop()

kit.tiles(view.tiles(), per_row=4)
st.caption("Reorder = velocity × (lead time + safety days) − on hand − inbound. "
           "Days of supply = (on hand − reserved) ÷ units sold per day. "
           f"Sold = units on paid or later orders up to {view.sold_through}; 7-day pace = the last 7 days against the "
           "velocity (a SKU selling faster than its velocity runs out sooner than its days of supply say).")

if view.items.empty:
    empty_state("No SKUs match", "Turn off “Only SKUs at risk” or raise the threshold to see more SKUs.")
    st.stop()

st.plotly_chart(charts.days_of_supply_bars(view.items, threshold=float(threshold)), key="inv-dos")

oos = view.items[view.items["out_of_stock"] & (view.items["live_ads"] > 0)]
if not oos.empty:
    st.subheader(f"Out of stock with live ads ({len(oos)})")
    st.caption("These ads spend money on products nobody can buy.")
    kit.table(oos[["sku", "title", "available", "inbound", "live_ads"]])

st.subheader(f"SKUs ({view.total})")
skus = view.items.drop(columns=["variant_id"])
# What decides a reorder first, the detail after (the CSV keeps every column in its own order).
first = ["sku", "title", "available", "days_of_supply", "reorder_quantity", "velocity_per_day", "sold_7d", "sold_30d",
         "pace_change"]
kit.table(
    skus.style.apply(lambda row: ["background-color: #fde2e1" if row["at_risk"] else "" for _ in row], axis=1),
    column_config={"days_of_supply": st.column_config.NumberColumn("Days of supply", format="%.1f"),
                   "velocity_per_day": st.column_config.NumberColumn("Units / day", format="%.2f"),
                   "sold_7d": st.column_config.NumberColumn("Sold 7 d"),
                   "sold_30d": st.column_config.NumberColumn("Sold 30 d"),
                   "pace_change": st.column_config.NumberColumn("7-day pace", format="percent"),
                   "reorder_quantity": st.column_config.NumberColumn("Reorder qty")},
    column_order=[*first, *(c for c in skus.columns if c not in first)],
)
kit.download(view.items, f"inventory-{site}.csv", key="dl-inventory")

st.subheader("Alerts")
kit.alert_panels(runtime, caller, site, kit.today(caller, site), kinds=("inventory",), acos_target=None,
                 currency="")
