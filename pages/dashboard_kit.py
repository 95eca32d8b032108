"""Streamlit pieces the dashboard pages share: filters, cached loaders, tiles, tables, alert panels with a fix button."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from console import alerts, charts, dashboards, formatting
from console.daily_ops import collect_alerts
from console.reports import COLUMNS
from pages.components import empty_state, kpi_tile, render_error
from pages.state import active_site, get_runtime

TTL, ENTRIES = 300, 64  # dashboards are minutes-fresh; one entry per caller × filters

# Headers people read instead of column names; anything not listed is title-cased ("on_hand" → "On hand").
LABELS = {"sku": "SKU", "acos": "ACOS", "roas": "ROAS", "tacos": "TACoS", "ctr": "CTR", "cvr": "CVR", "cpc": "CPC",
          "aov": "AOV", "live_ads": "Live ads", "days_of_supply": "Days of supply", "velocity_per_day": "Units / day",
          "reorder_quantity": "Reorder qty", "lead_time_days": "Lead time (days)", "at_risk": "At risk",
          "out_of_stock": "Out of stock", "returned_units": "Returned units", "returns_rate": "Returns rate"}


def label(column: str) -> str:
    return LABELS.get(column) or column.replace("_", " ").capitalize()


def table(frame: Any, *, column_config: dict | None = None, **kwargs) -> None:
    """st.dataframe with readable headers for every column (explicit column_config entries win)."""
    columns = getattr(frame, "data", frame).columns  # a Styler wraps its frame in .data
    config = {c: label(str(c)) for c in columns} | (column_config or {})
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config, **kwargs)


def site_and_range(caller, *, key: str) -> tuple[str, int]:
    """Site (only the caller's, the sidebar's active one first) and a range preset in days."""
    sites = sorted(caller.sites)
    active = active_site()
    cols = st.columns([1, 1, 2])
    site = cols[0].selectbox("Site", sites, index=sites.index(active) if active in sites else 0, key=f"{key}-site",
                             format_func=str.upper)
    label = cols[1].selectbox("Date range", list(dashboards.RANGES), index=2, key=f"{key}-range")
    return site, dashboards.RANGES[label]


def _caller(user: str, sites: tuple[str, ...]):
    return get_runtime().users.caller(user, "ui")


@st.cache_data(ttl=3600, max_entries=ENTRIES, show_spinner=False)
def _today(user: str, sites: tuple[str, ...], site: str) -> dt.date:
    return dashboards.server_today(get_runtime().bridge, _caller(user, sites), site)


def today(caller, site: str) -> dt.date:
    return _today(caller.user, tuple(sorted(caller.sites)), site)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def ads_view(user: str, sites: tuple[str, ...], **filters) -> dashboards.AdsView:
    return dashboards.ads_dashboard(get_runtime().bridge, _caller(user, sites), **filters)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def drilldown(user: str, sites: tuple[str, ...], **filters) -> dashboards.Drilldown:
    return dashboards.campaign_drilldown(get_runtime().bridge, _caller(user, sites), **filters)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def inventory_view(user: str, sites: tuple[str, ...], **filters) -> dashboards.InventoryView:
    return dashboards.inventory_dashboard(get_runtime().bridge, _caller(user, sites), **filters)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def sales_view(user: str, sites: tuple[str, ...], **filters) -> dashboards.SalesView:
    return dashboards.sales_dashboard(get_runtime().bridge, _caller(user, sites), **filters)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def sales_sites(user: str, sites: tuple[str, ...], **filters) -> pd.DataFrame:
    return dashboards.sales_by_site(get_runtime().bridge, _caller(user, sites), sites=list(sites), **filters)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def pacing(user: str, sites: tuple[str, ...], **filters) -> dashboards.PacingView:
    return dashboards.budget_pacing(get_runtime().bridge, _caller(user, sites), **filters)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def alert_list(user: str, sites: tuple[str, ...], site: str, today: dt.date, kinds: tuple[str, ...]) -> list[alerts.Alert]:
    return collect_alerts(get_runtime().bridge, _caller(user, sites), site, today=today, kinds=kinds)


def tiles(items: list[dashboards.Tile], per_row: int = 5) -> None:
    for row in range(0, len(items), per_row):
        cols = st.columns(per_row)
        for col, t in zip(cols, items[row:row + per_row], strict=False):
            with col:
                kpi_tile(t.label, t.value, t.change or None, inverse=t.better_when_lower)


MONEY = ("spend", "sales", "revenue", "daily_budget", "bid", "cpc", "aov", "avg_cpc", "avg_spend", "suggested_budget",
         "suggested_bid", "week_revenue",
         "previous_week_revenue", "budget", "week_ago")
RATIOS = ("acos", "ctr", "cvr", "share", "returns_rate", "change", "utilisation", "tacos", "revenue_change",
          "orders_change")


def money_columns(frame: pd.DataFrame, currency: str) -> pd.DataFrame:
    """A copy with money and ratio columns as readable text (the CSV download keeps the raw numbers)."""
    out = frame.copy()
    # Rows of several sites carry their own currency.
    currencies = list(frame["currency"]) if "currency" in frame else [currency] * len(frame)
    for col in out.columns:
        if col in MONEY:
            out[col] = [formatting.money(v, c) if pd.notna(v) else "—" for v, c in zip(out[col], currencies, strict=True)]
        elif col in RATIOS:
            out[col] = [formatting.percent(v) if pd.notna(v) else "—" for v in out[col]]
    return out


def campaign_table(frame: pd.DataFrame, currency: str) -> pd.DataFrame:
    out = money_columns(frame, currency)
    if "roas" in out:
        out["roas"] = [formatting.multiple(v) if pd.notna(v) else "—" for v in frame["roas"]]
    return out


def download(frame: pd.DataFrame, filename: str, *, key: str) -> None:
    st.download_button("Download CSV", dashboards.to_csv(frame), file_name=filename, mime="text/csv", key=key,
                       icon=":material/download:")


def budget_pacing_panel(caller, site: str, currency: str, *, start: dt.date, end: dt.date) -> None:
    try:
        view = pacing(caller.user, tuple(sorted(caller.sites)), site=site, start=start, end=end)
    except Exception as exc:
        render_error(exc)
        return
    if view.campaigns.empty:
        empty_state("No budget pacing data", "Pacing needs hourly spend of campaigns in the range; widen the range.")
        return
    st.caption(f"{view.start_date} .. {view.end_date}: when each budget typically ran out and how much of it was used. "
               f"Early-exhausted campaigns ask for {formatting.money(view.budget_needed, currency)} more; "
               f"under-utilised ones could free {formatting.money(view.budget_freed, currency)}.")
    st.plotly_chart(charts.budget_pacing(view.campaigns, currency=currency, early_hour=view.early_hour), key="ads-pacing")
    table(money_columns(view.campaigns, currency))


def alert_panels(runtime, caller, site: str, today: dt.date, *, kinds: tuple[str, ...], acos_target: float | None,
                 currency: str) -> None:
    """One expander per alert kind: its rows, the fix it proposes and a button that files it as one batch."""
    try:
        with st.spinner("Checking for alerts…"):
            found = alert_list(caller.user, tuple(sorted(caller.sites)), site, today, kinds)
    except Exception as exc:
        render_error(exc)
        return
    for alert in found:
        with st.expander(f"{alert.title} ({len(alert.items)})", expanded=bool(alert.items)):
            if not alert.items:
                st.caption("Nothing found.")
                continue
            headers = {c: header for c, header, _ in COLUMNS[alert.kind] if c in alert.frame().columns}
            shown = money_columns(alert.frame()[list(headers)], currency)
            if "created_at" in shown:  # a review's time, to the minute
                shown["created_at"] = pd.to_datetime(shown["created_at"]).dt.strftime("%Y-%m-%d %H:%M")
            table(shown, column_config=headers)  # the daily report's headers
            if alert.note:
                st.caption(alert.note)
            if not alert.fix:
                st.caption("Report only: nothing can be filed for this alert (see the daily report).")
                continue
            st.caption(f"Fix: {alert.fix}.")
            calls, notes = alerts.plan_fixes(alert.kind, site, alert.items, acos_target=acos_target)
            if not calls:
                st.caption("Nothing to file for these rows: " + "; ".join(notes[:5]) + ("…" if len(notes) > 5 else ""))
                continue
            if not caller.has("seller"):
                st.caption("Proposing fixes needs the seller role on this site.")
                continue
            if st.button("Propose fix", key=f"fix-{alert.kind}", icon=":material/build:"):
                try:
                    with st.spinner("Filing the proposed operations…"):
                        result = alerts.propose_fixes(runtime, caller, alert.kind, site, alert.items,
                                                      acos_target=acos_target)
                except Exception as exc:
                    render_error(exc)
                    continue
                show_fix_result(caller, result)


def approvals_link(caller, label: str = "Open Approvals") -> None:
    """A link to the Approvals page for those who have it in their navigation (approvers, admins)."""
    if caller.has("approver"):
        st.page_link("pages/approvals.py", label=label, icon=":material/pending_actions:")


def show_fix_result(caller, result: alerts.FixResult) -> None:
    if result.proposed:
        st.success(f"{result.proposed} operations filed as batch `{result.batch_id}`; an approver decides them on "
                   "the Approvals page.", icon=":material/task_alt:")
        approvals_link(caller)
    for what, why in result.refused:
        st.warning(f"Not filed — {what}: {why}", icon=":material/block:")
    for note in result.notes:
        st.caption(note)
    if not result.proposed and not result.refused:
        st.info("Nothing to file.")
