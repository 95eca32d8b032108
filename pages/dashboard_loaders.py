"""The dashboards' reads, cached per caller and filters (minutes-fresh), so a rerun re-reads nothing it already has."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from console.dashboards import data as dashboards
from console.dashboards import search
from console.dashboards.periods import Period
from console.reports import alerts
from console.reports.daily_ops import collect_alerts
from pages.state import get_runtime

TTL, ENTRIES = 300, 64  # dashboards are minutes-fresh; one entry per caller × filters
LISTS_TTL = 900  # keywords, SKUs and product ads change less often than their metrics


def _caller(user: str, sites: tuple[str, ...]):
    return get_runtime().users.caller(user, "ui")


def sites_of(caller) -> tuple[str, ...]:
    """The caller's sites as a cache key."""
    return tuple(sorted(caller.sites))


@st.cache_data(ttl=3600, max_entries=ENTRIES, show_spinner=False)
def _today(user: str, sites: tuple[str, ...], site: str) -> dt.date:
    return dashboards.server_today(get_runtime().bridge, _caller(user, sites), site)


def today(caller, site: str) -> dt.date:
    """The servers' today on `site` (ranges end the day before)."""
    return _today(caller.user, sites_of(caller), site)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def ads_view(user: str, sites: tuple[str, ...], **filters: Any) -> dashboards.AdsView:
    return dashboards.ads_dashboard(get_runtime().bridge, _caller(user, sites), **filters)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def drilldown(user: str, sites: tuple[str, ...], **filters: Any) -> dashboards.Drilldown:
    return dashboards.campaign_drilldown(get_runtime().bridge, _caller(user, sites), **filters)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def inventory_view(user: str, sites: tuple[str, ...], **filters: Any) -> dashboards.InventoryView:
    return dashboards.inventory_dashboard(get_runtime().bridge, _caller(user, sites), **filters)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def sales_view(user: str, sites: tuple[str, ...], **filters: Any) -> dashboards.SalesView:
    return dashboards.sales_dashboard(get_runtime().bridge, _caller(user, sites), **filters)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def sales_sites(user: str, sites: tuple[str, ...], **filters: Any) -> pd.DataFrame:
    return dashboards.sales_by_site(get_runtime().bridge, _caller(user, sites), sites=list(sites), **filters)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def pacing(user: str, sites: tuple[str, ...], **filters: Any) -> dashboards.PacingView:
    return dashboards.budget_pacing(get_runtime().bridge, _caller(user, sites), **filters)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def alert_list(user: str, sites: tuple[str, ...], site: str, today: dt.date, kinds: tuple[str, ...]) -> list[alerts.Alert]:
    return collect_alerts(get_runtime().bridge, _caller(user, sites), site, today=today, kinds=kinds)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def keywords(user: str, sites: tuple[str, ...], *, site: str, period: Period) -> pd.DataFrame:
    """Every keyword of the site with its metrics over the range (read only when someone searches)."""
    return search.keywords(get_runtime().bridge, _caller(user, sites), site=site, start=period.start, end=period.end)


@st.cache_data(ttl=LISTS_TTL, max_entries=ENTRIES, show_spinner=False)
def variants(user: str, sites: tuple[str, ...], *, site: str) -> pd.DataFrame:
    """Every SKU of the site with its ASIN and product."""
    return search.variants(get_runtime().bridge, _caller(user, sites), site=site)


@st.cache_data(ttl=LISTS_TTL, max_entries=ENTRIES, show_spinner=False)
def product_ads(user: str, sites: tuple[str, ...], *, site: str) -> pd.DataFrame:
    """Every product ad of the site with its SKU's ASIN and product."""
    caller = _caller(user, sites)
    return search.product_ads(get_runtime().bridge, caller, site=site, skus=variants(user, sites, site=site))


@st.cache_data(ttl=60, max_entries=ENTRIES, show_spinner=False)
def operations(site: str) -> list[Any]:
    """The operations filed on a site, newest first (a drill-down's change history); the page checks the site."""
    return get_runtime().bridge.gate.list(site=site, limit=2000)
