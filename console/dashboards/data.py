"""Dashboard data for the pages: the analytics read tools called through the bridge, as DataFrames."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from console import errors, formatting
from console.dashboards.periods import Period, previous_period, week_cut_by
from mcp_bridge.types import Caller, Source, ToolOutcome

UI = Source(kind="ui")
_ERRORS: dict[str, type[errors.ConsoleError]] = {
    cls.code: cls
    for cls in (errors.AuthRequired, errors.PermissionDenied, errors.SiteScopeRequired, errors.NotFound,
                errors.ValidationFailed, errors.ConfirmationRequired, errors.Conflict, errors.UpstreamError)
}


class ToolCaller(Protocol):  # pragma: no cover - typing aid only
    def call(self, caller: Caller, name: str, arguments: dict[str, Any], *, source: Source) -> ToolOutcome: ...


def raise_for(outcome: ToolOutcome) -> None:
    """Turn an error outcome into the console's coded error (rendered by pages/components.render_error)."""
    if outcome.status != "error":
        return
    code = outcome.code or outcome.text.split(":", 1)[0].strip()
    message = outcome.text.split(":", 1)[1].strip() if outcome.text.startswith(f"{code}:") else outcome.text
    raise _ERRORS.get(code, errors.UpstreamError)(message, tool=outcome.tool)


def read(bridge: ToolCaller, caller: Caller, name: str, arguments: dict[str, Any], *, source: Source = UI) -> dict[str, Any]:
    """Call a read tool through the bridge; its structured result, or a coded ConsoleError."""
    outcome = bridge.call(caller, name, {k: v for k, v in arguments.items() if v is not None}, source=source)
    raise_for(outcome)
    if outcome.status != "ok" or outcome.structured is None:
        raise errors.UpstreamError(f"{name} answered without data ({outcome.status}: {outcome.text[:200]})", tool=name)
    return outcome.structured


def _iso(day: dt.date | str | None) -> str | None:
    return day.isoformat() if isinstance(day, dt.date) else day


def frame(rows: list[dict[str, Any]], columns: list[str] | None = None, dates: tuple[str, ...] = ()) -> pd.DataFrame:
    """Rows as a DataFrame with the given columns even when empty; date columns parsed."""
    df = pd.DataFrame(rows, columns=columns) if columns else pd.DataFrame(rows)
    for col in dates:
        if col in df:
            df[col] = pd.to_datetime(df[col])
    return df


def period_of(data: dict[str, Any], start: str = "start_date", end: str = "end_date") -> Period:
    """The range a tool answered for (its ISO dates)."""
    return Period(dt.date.fromisoformat(str(data[start])), dt.date.fromisoformat(str(data[end])))


def compared(now: dict[str, Any], before: dict[str, Any], names: tuple[str, ...]) -> dict[str, float | None]:
    """Each metric's change: points for ratios (ACOS, CTR…), relative for amounts; None with nothing to compare."""
    return {n: formatting.change(n, now.get(n), before.get(n)).value for n in names}


@dataclass
class AdsView:
    site: str
    currency: str
    acos_target: float
    start_date: str
    end_date: str
    kpis: dict[str, Any]
    previous: dict[str, Any]
    changes: dict[str, float | None]
    daily: pd.DataFrame
    platforms: pd.DataFrame
    campaigns: pd.DataFrame
    total_campaigns: int
    compared_to: Period | None = None  # the range `previous` covers


ADS_KPIS = ("spend", "sales", "orders", "acos", "roas", "tacos", "ctr", "cvr", "cpc")
CAMPAIGN_COLUMNS = ["id", "name", "platform", "campaign_type", "targeting", "state", "daily_budget", "impressions",
                    "clicks", "spend", "sales", "orders", "acos", "roas", "ctr", "cvr", "cpc"]


def ads_dashboard(bridge: ToolCaller, caller: Caller, *, site: str, start: dt.date | str | None = None,
                  end: dt.date | str | None = None, platform: str | None = None, campaign_type: str | None = None,
                  state: str | None = None, rank_by: str = "spend", descending: bool = True, limit: int = 20,
                  compare: Period | None = None) -> AdsView:
    """KPIs against `compare` (default: the days just before), the daily trend, platforms and ranked campaigns."""
    arguments = {"site": site, "start_date": _iso(start), "end_date": _iso(end), "platform": platform,
                 "campaign_type": campaign_type, "state": state, "rank_by": rank_by, "descending": descending,
                 "limit": limit}
    data = read(bridge, caller, "analytics__get_ads_dashboard", arguments)
    previous, compared_to = data["previous"], period_of(data, "previous_start", "previous_end")
    if compare is not None and compare != compared_to:  # one more read, of the totals only
        previous = read(bridge, caller, "analytics__get_ads_dashboard", arguments | {
            "start_date": compare.start.isoformat(), "end_date": compare.end.isoformat(), "limit": 1})["kpis"]
        compared_to = compare
    return AdsView(
        site=data["site"], currency=data["currency"], acos_target=data["acos_target"], start_date=data["start_date"],
        end_date=data["end_date"], kpis=data["kpis"], previous=previous, compared_to=compared_to,
        changes=compared(data["kpis"], previous, ADS_KPIS),
        daily=frame(data["daily"], ["date", "impressions", "clicks", "spend", "sales", "orders", "acos"], dates=("date",)),
        platforms=frame(data["platforms"], ["platform", "campaigns", "impressions", "clicks", "spend", "sales", "orders",
                                            "acos", "roas", "cpc"]),
        campaigns=frame(data["campaigns"], CAMPAIGN_COLUMNS),
        total_campaigns=data["total_campaigns"],
    )


@dataclass
class Drilldown:
    campaign_name: str
    ad_groups: pd.DataFrame
    keywords: pd.DataFrame
    search_terms: pd.DataFrame


DRILL_COLUMNS = ["id", "name", "detail", "state", "bid", "impressions", "clicks", "spend", "sales", "orders", "acos",
                 "cvr", "cpc"]


def campaign_drilldown(bridge: ToolCaller, caller: Caller, *, site: str, campaign_id: int, ad_group_id: int | None = None,
                       keyword_id: int | None = None, start: dt.date | str | None = None,
                       end: dt.date | str | None = None, limit: int = 50) -> Drilldown:
    data = read(bridge, caller, "analytics__get_campaign_drilldown", {
        "site": site, "campaign_id": campaign_id, "ad_group_id": ad_group_id, "keyword_id": keyword_id,
        "start_date": _iso(start), "end_date": _iso(end), "limit": limit,
    })
    return Drilldown(campaign_name=data["campaign_name"], ad_groups=frame(data["ad_groups"], DRILL_COLUMNS),
                     keywords=frame(data["keywords"], DRILL_COLUMNS),
                     search_terms=frame(data["search_terms"], DRILL_COLUMNS).drop(columns=["id", "detail", "state", "bid"]))


@dataclass
class InventoryView:
    site: str
    days_threshold: float
    sold_through: str
    totals: dict[str, int]
    total: int
    items: pd.DataFrame


INVENTORY_COLUMNS = ["variant_id", "sku", "title", "category", "on_hand", "reserved", "available", "inbound",
                     "velocity_per_day", "sold_7d", "sold_30d", "pace_change", "lead_time_days", "days_of_supply",
                     "reorder_quantity", "at_risk", "out_of_stock", "live_ads"]


def inventory_dashboard(bridge: ToolCaller, caller: Caller, *, site: str, days_threshold: float = 14, safety_days: int = 7,
                        only_at_risk: bool = False, sort_by: str = "days_of_supply", descending: bool = False,
                        limit: int = 100) -> InventoryView:
    data = read(bridge, caller, "analytics__get_inventory_dashboard", {
        "site": site, "days_threshold": days_threshold, "safety_days": safety_days, "only_at_risk": only_at_risk,
        "sort_by": sort_by, "descending": descending, "limit": limit,
    })
    items = frame(data["items"], INVENTORY_COLUMNS)
    items["status"] = ["out_of_stock" if oos else "at_risk" if risk else "ok"
                       for oos, risk in zip(items["out_of_stock"], items["at_risk"], strict=True)]
    return InventoryView(site=data["site"], days_threshold=data["days_threshold"], sold_through=data["sold_through"],
                         totals=data["totals"], total=data["total"], items=items)


@dataclass
class SalesView:
    site: str
    currency: str
    granularity: str
    totals: dict[str, Any]
    previous: dict[str, Any]
    changes: dict[str, float | None]
    series: pd.DataFrame
    by_category: pd.DataFrame
    top_products: pd.DataFrame
    bottom_products: pd.DataFrame
    anomalies: pd.DataFrame = field(default_factory=pd.DataFrame)
    period: Period | None = None
    compared_to: Period | None = None  # the range `previous` covers


SALES_KPIS = ("revenue", "orders", "units", "aov", "returns_rate")
SERIES_COLUMNS = ["period", "revenue", "orders", "units", "aov", "change", "anomaly"]
PRODUCT_COLUMNS = ["product_id", "title", "category", "revenue", "units", "returned_units", "returns_rate"]


def sales_dashboard(bridge: ToolCaller, caller: Caller, *, site: str, start: dt.date | str | None = None,
                    end: dt.date | str | None = None, granularity: str = "day", anomaly_threshold: float | None = None,
                    top_n: int = 5, compare: Period | None = None) -> SalesView:
    """Totals against `compare` (default: the days just before), the series with anomalies, categories, products."""
    arguments = {"site": site, "start_date": _iso(start), "end_date": _iso(end), "granularity": granularity,
                 "anomaly_threshold": anomaly_threshold, "top_n": top_n}
    data = read(bridge, caller, "analytics__get_sales_dashboard", arguments)
    period = period_of(data)
    previous, compared_to = data["previous"], previous_period(period)
    if compare is not None and compare != compared_to:  # one more read, of the totals only
        previous = read(bridge, caller, "analytics__get_sales_dashboard", arguments | {
            "start_date": compare.start.isoformat(), "end_date": compare.end.isoformat(), "granularity": "day",
            "top_n": 1})["totals"]
        compared_to = compare
    series = sales_series(data["series"], period, data["granularity"])
    return SalesView(
        site=data["site"], currency=data["currency"], granularity=data["granularity"], totals=data["totals"],
        previous=previous, changes=compared(data["totals"], previous, SALES_KPIS), period=period,
        compared_to=compared_to, series=series, anomalies=series[series["anomaly"]].reset_index(drop=True),
        by_category=frame(data["by_category"], ["key", "revenue", "lines", "units", "share", "week_revenue",
                                               "previous_week_revenue", "change",
                                               "anomaly"]),
        top_products=frame(data["top_products"], PRODUCT_COLUMNS),
        bottom_products=frame(data["bottom_products"], PRODUCT_COLUMNS),
    )


def sales_series(points: list[dict[str, Any]], period: Period, granularity: str) -> pd.DataFrame:
    """The revenue series; a week the range cuts (its first or last) is `partial` and never an anomaly.

    A cut week is compared with a whole one a week earlier, so its "change" says more about the calendar than
    about sales.
    """
    series = frame(points, SERIES_COLUMNS, dates=("period",))
    series["partial"] = [granularity == "week" and week_cut_by(p.date(), period.start, period.end)
                         for p in series["period"]]
    series["anomaly"] = series["anomaly"].astype(bool) & ~series["partial"]
    return series


def sales_by_site(bridge: ToolCaller, caller: Caller, *, sites: list[str], start: dt.date | str | None = None,
                  end: dt.date | str | None = None, compare: Period | None = None) -> pd.DataFrame:
    """One row per site the caller may see: revenue (own currency), orders, units, AOV, returns rate, changes."""
    rows = []
    for site in sorted(s for s in sites if caller.may_see(s)):
        view = sales_dashboard(bridge, caller, site=site, start=start, end=end, top_n=1, compare=compare)
        rows.append({"site": site, "currency": view.currency, **view.totals,
                     "revenue_change": view.changes.get("revenue"), "orders_change": view.changes.get("orders")})
    return frame(rows, ["site", "currency", "revenue", "orders", "units", "aov", "returned_units", "returns_rate",
                        "revenue_change", "orders_change"])


@dataclass
class PacingView:
    start_date: str
    end_date: str
    early_hour: int
    budget_needed: float
    budget_freed: float
    campaigns: pd.DataFrame


PACING_COLUMNS = ["campaign_id", "campaign_name", "platform", "state", "daily_budget", "avg_spend", "utilisation",
                  "days_exhausted", "days_exhausted_early", "typical_ran_out_at", "status", "suggested_budget"]


def budget_pacing(bridge: ToolCaller, caller: Caller, *, site: str, start: dt.date | str | None = None,
                  end: dt.date | str | None = None, limit: int = 100) -> PacingView:
    """The analytics server's budget pacing (hour the budget ran out, utilisation), as a table."""
    data = read(bridge, caller, "analytics__get_budget_pacing",
                {"site": site, "start_date": _iso(start), "end_date": _iso(end), "limit": limit})
    return PacingView(start_date=str(data["start_date"]), end_date=str(data["end_date"]), early_hour=data["early_hour"],
                      budget_needed=data["budget_needed"], budget_freed=data["budget_freed"],
                      campaigns=frame(data["items"], PACING_COLUMNS))


def server_today(bridge: ToolCaller, caller: Caller, site: str) -> dt.date:
    """The date the servers treat as today (fixed in demos by MARKET_TODAY): the end of a default range."""
    data = read(bridge, caller, "analytics__get_sales_dashboard", {"site": site, "top_n": 1})
    return dt.date.fromisoformat(data["end_date"])


def to_csv(df: pd.DataFrame) -> bytes:
    """A table as UTF-8 CSV for a download button."""
    return df.to_csv(index=False).encode("utf-8")
