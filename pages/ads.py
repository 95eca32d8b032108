"""Ads: KPI tiles vs the previous period, trend against the ACOS target, ranked campaigns with drill-down,
budget pacing, platforms side by side, and alert panels that propose fixes."""

from __future__ import annotations

import streamlit as st

from console import charts, dashboards
from pages import dashboard_kit as kit
from pages.components import empty_state, page_header, render_error
from pages.state import current_caller, get_runtime

runtime = get_runtime()
caller = current_caller(("manager", "seller"))
page_header("Ads", "Spend, sales and efficiency of every campaign; alerts with a one-click proposed fix.")

site, days = kit.site_and_range(caller, key="ads")
cols = st.columns(4)
platform = cols[0].selectbox("Platform", ["All", "amazon", "meta", "google"], key="ads-platform")
ctype = cols[1].selectbox("Campaign type", ["All", "SP", "SB", "SD"], key="ads-type")
cstate = cols[2].selectbox("State", ["All", "enabled", "paused", "archived"], key="ads-state")
rank_by = cols[3].selectbox("Rank campaigns by", ["spend", "sales", "acos", "roas", "orders", "clicks", "ctr", "cvr", "cpc"],
                            key="ads-rank")
filters = {k: (None if v == "All" else v) for k, v in (("platform", platform), ("campaign_type", ctype), ("state", cstate))}

try:
    today = kit.today(caller, site)
    start, end = dashboards.last_days(today, days)
    with st.spinner("Loading the ads dashboard…"):
        view = kit.ads_view(caller.user, tuple(sorted(caller.sites)), site=site, start=start, end=end, rank_by=rank_by,
                            **filters)
except Exception as exc:
    render_error(exc)
    st.stop()

st.caption(f"{view.start_date} .. {view.end_date} vs the {days} days before · {site.upper()} · {view.currency}")
kit.tiles(view.tiles())

if view.daily.empty:
    empty_state("No ad activity in this range", "Widen the date range or clear the platform, type and state filters.")
    st.stop()

trend, table, pacing, platforms, alerts = st.tabs(["Trend", "Campaigns", "Budget pacing", "Platforms", "Alerts"])
with trend:
    st.plotly_chart(charts.ads_trend(view.daily, currency=view.currency, acos_target=view.acos_target), key="ads-trend")

with table:
    st.caption(f"Top {len(view.campaigns)} of {view.total_campaigns} campaigns by {rank_by}")
    st.dataframe(kit.campaign_table(view.campaigns, view.currency), hide_index=True, width="stretch")
    kit.download(view.campaigns, f"campaigns-{site}-{start}-{end}.csv", key="dl-campaigns")
    names = dict(zip(view.campaigns["name"], view.campaigns["id"], strict=True))
    chosen = st.selectbox("Drill into a campaign", ["—", *names], key="ads-drill")
    if chosen != "—":
        try:
            drill = kit.drilldown(caller.user, tuple(sorted(caller.sites)), site=site, campaign_id=int(names[chosen]),
                                  start=start, end=end)
            group_names = dict(zip(drill.ad_groups["name"], drill.ad_groups["id"], strict=True))
            group = st.selectbox("Ad group", ["All", *group_names], key="ads-drill-group")
            if group != "All":
                drill = kit.drilldown(caller.user, tuple(sorted(caller.sites)), site=site, campaign_id=int(names[chosen]),
                                      ad_group_id=int(group_names[group]), start=start, end=end)
        except Exception as exc:
            render_error(exc)
        else:
            for label, frame in (("Ad groups", drill.ad_groups), ("Keywords", drill.keywords),
                                 ("Search terms", drill.search_terms)):
                st.markdown(f"**{label}** ({len(frame)})")
                st.dataframe(kit.money_columns(frame, view.currency), hide_index=True, width="stretch")

with pacing:
    kit.budget_pacing_panel(caller, site, view.currency, start=start, end=end)

with platforms:
    st.plotly_chart(charts.platform_bars(view.platforms, currency=view.currency), key="ads-platforms")
    st.dataframe(kit.money_columns(view.platforms, view.currency), hide_index=True, width="stretch")

with alerts:
    kit.alert_panels(runtime, caller, site, today, kinds=("ads", "budgets"), acos_target=view.acos_target,
                     currency=view.currency)
