"""Dashboard charts: functions that take DataFrames and return plotly Figures (pages only place them)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from console.formatting import CURRENCY_SYMBOLS, ZERO_DECIMAL
from console.i18n import N_, _, ngettext

SPEND, SALES, ACOS, TARGET, RISK, OK, ANOMALY = "#d62728", "#2ca02c", "#1f77b4", "#7f7f7f", "#d62728", "#2ca02c", "#ff7f0e"
PERCENT = ".0%"
NO_DATA = N_("No data for these filters")
# Chart texts are translated when a chart is drawn; plotly's own placeholders (`%{y}`) go in as named fields.
TREND_TITLES = {"day": N_("Revenue by day"), "week": N_("Revenue by week")}


def money_axis(currency: str) -> dict:
    """Axis settings that read as money: `$1,200`, `¥120,000`."""
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    return {"tickprefix": symbol, "tickformat": ",.0f", "separatethousands": True}


def money_hover(currency: str) -> str:
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    return f"{symbol}%{{y:,.{0 if currency in ZERO_DECIMAL else 2}f}}"


def _layout(fig: go.Figure, title: str, **kw) -> go.Figure:
    settings = {"hovermode": "x unified", "legend": {"orientation": "h", "y": -0.2},
                "margin": {"l": 10, "r": 10, "t": 50, "b": 10}, **kw}
    fig.update_layout(title=title, **settings)
    return fig


def empty_figure(title: str, message: str | None = None) -> go.Figure:
    """A chart with nothing to draw: its title and a message (by default, that the filters leave no data)."""
    message = message if message is not None else _(NO_DATA)
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 15})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title)


def ads_trend(daily: pd.DataFrame, *, currency: str, acos_target: float) -> go.Figure:
    """Daily spend vs sales (bars, money axis) with ACOS (line, % axis) against the site's target."""
    title = _("Spend vs sales, ACOS against target")
    if daily.empty:
        return empty_figure(title)
    fig = go.Figure()
    fig.add_bar(x=daily["date"], y=daily["spend"], name=_("Spend"), marker_color=SPEND,
                hovertemplate=money_hover(currency))
    fig.add_bar(x=daily["date"], y=daily["sales"], name=_("Sales"), marker_color=SALES,
                hovertemplate=money_hover(currency))
    fig.add_scatter(x=daily["date"], y=daily["acos"], name="ACOS", yaxis="y2", mode="lines+markers",
                    line={"color": ACOS}, hovertemplate="%{y:.1%}")
    fig.add_scatter(x=[daily["date"].min(), daily["date"].max()], y=[acos_target, acos_target], yaxis="y2",
                    name=_("ACOS target {target}").format(target=f"{acos_target:.0%}"), mode="lines",
                    line={"color": TARGET, "dash": "dash"}, hovertemplate="%{y:.0%}")
    return _layout(fig, title, barmode="group",
                   yaxis={"title": _("Spend / sales ({currency})").format(currency=currency), **money_axis(currency)},
                   yaxis2={"title": "ACOS", "overlaying": "y", "side": "right", "tickformat": PERCENT, "rangemode": "tozero",
                           "showgrid": False, "tickmode": "auto"},
                   xaxis={"title": _("Date"), "tickformat": "%b %d"})


def budget_pacing(campaigns: pd.DataFrame, *, currency: str, early_hour: int = 18) -> go.Figure:
    """The hour each campaign's budget typically ran out (24 = it lasted the day), early ones in red."""
    title = _("Budget pacing: when the budget ran out")
    if campaigns.empty:
        return empty_figure(title)
    rows = campaigns.assign(hour=[_hour(v) for v in campaigns["typical_ran_out_at"]]).sort_values("hour", ascending=False)
    colors = [RISK if s == "exhausted_early" else TARGET if s == "under_utilised" else OK for s in rows["status"]]
    fig = go.Figure(go.Bar(
        x=rows["hour"], y=rows["campaign_name"], orientation="h", marker_color=colors, name=_("Ran out at"),
        customdata=list(zip(rows["utilisation"].fillna(0), rows["daily_budget"], rows["status"], strict=True)),
        hovertemplate=_("{campaign}<br>ran out at {hour}<br>utilisation {utilisation}<br>budget {budget}").format(
            campaign="%{y}", hour="%{x}:00", utilisation="%{customdata[0]:.0%}",
            budget=money_hover(currency).replace("%{y:", "%{customdata[1]:")) + "<br>%{customdata[2]}<extra></extra>",
    ))
    fig.add_vline(x=early_hour, line_dash="dash", line_color=TARGET,
                  annotation_text=_("early: before {hour}").format(hour=f"{early_hour}:00"))
    return _layout(fig, title, hovermode="closest", height=max(300, 24 * len(rows) + 120),
                   xaxis={"title": _("Hour of day the budget ran out (24 = lasted the day)"), "range": [0, 24.5],
                          "tickmode": "linear", "dtick": 2, "ticksuffix": ":00"},
                   yaxis={"title": _("Campaign")})


def _hour(value: object) -> float:
    """'14:00' → 14; missing (never ran out) → 24."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return 24.0
    text = str(value)
    return float(text.split(":")[0]) + float(text.split(":")[1]) / 60 if ":" in text else float(text)


def platform_bars(platforms: pd.DataFrame, *, currency: str) -> go.Figure:
    """Spend and sales per ad platform side by side, ACOS on the bars."""
    title = _("Platforms side by side")
    if platforms.empty:
        return empty_figure(title)
    fig = go.Figure()
    fig.add_bar(x=platforms["platform"], y=platforms["spend"], name=_("Spend"), marker_color=SPEND,
                hovertemplate=money_hover(currency))
    fig.add_bar(x=platforms["platform"], y=platforms["sales"], name=_("Sales"), marker_color=SALES,
                text=[f"ACOS {a:.0%}" if pd.notna(a) else "" for a in platforms["acos"]], textposition="outside",
                hovertemplate=money_hover(currency))
    return _layout(fig, title, barmode="group", xaxis={"title": _("Platform")},
                   yaxis={"title": currency, **money_axis(currency)})


def days_of_supply_bars(items: pd.DataFrame, *, threshold: float, limit: int = 30) -> go.Figure:
    """Days of supply per SKU (shortest first), at-risk SKUs in red, the threshold as a line."""
    title = _("Days of supply")
    rows = items.dropna(subset=["days_of_supply"]).nsmallest(limit, "days_of_supply") if not items.empty else items
    if rows.empty:
        return empty_figure(title)
    colors = [RISK if risk else OK for risk in rows["at_risk"]]
    # An empty SKU has a zero-length bar: say so next to it.
    empty = rows["out_of_stock"] if "out_of_stock" in rows else rows["days_of_supply"] <= 0
    out_of_stock = _("out of stock")
    labels = [out_of_stock if oos else f"{d:.1f}" for oos, d in zip(empty, rows["days_of_supply"], strict=True)]
    hover = _("{sku}: {days} days").format(sku="%{y}", days="%{x:.1f}") + "<extra></extra>"
    fig = go.Figure(go.Bar(x=rows["days_of_supply"], y=rows["sku"], orientation="h", marker_color=colors,
                           text=labels, textposition="outside", cliponaxis=False,
                           name=title, hovertemplate=hover))
    fig.add_vline(x=threshold, line_dash="dash", line_color=TARGET,
                  annotation_text=ngettext("{days} day", "{days} days", threshold).format(days=f"{threshold:g}"))
    fig.update_yaxes(autorange="reversed", title="SKU")
    return _layout(fig, title, hovermode="closest", xaxis={"title": title, "tickformat": ",.0f"},
                   height=max(300, 22 * len(rows) + 120))


def sales_trend(series: pd.DataFrame, *, currency: str, granularity: str = "day") -> go.Figure:
    """Revenue by day or week (bars), orders (line), and anomaly markers where week-over-week passed the threshold."""
    title = _(TREND_TITLES[granularity]) if granularity in TREND_TITLES else _("Revenue by {period}").format(
        period=granularity)
    if series.empty:
        return empty_figure(title)
    fig = go.Figure()
    partial = series["partial"] if "partial" in series else pd.Series(False, index=series.index)
    # A week the range cuts holds fewer days than the others: drawn faint, and said so on hover.
    cut = _("partial week (the range cuts it)")
    fig.add_bar(x=series["period"], y=series["revenue"], name=_("Revenue"), marker_color=SALES,
                marker_opacity=[0.4 if p else 1.0 for p in partial],
                customdata=[cut if p else "" for p in partial],
                hovertemplate=money_hover(currency) + " %{customdata}")
    fig.add_scatter(x=series["period"], y=series["orders"], name=_("Orders"), yaxis="y2", mode="lines",
                    line={"color": ACOS}, hovertemplate=_("{orders} orders").format(orders="%{y:,}"))
    flagged = series[series["anomaly"]]
    fig.add_scatter(x=flagged["period"], y=flagged["revenue"], name=_("Anomaly (week over week)"), mode="markers",
                    marker={"color": ANOMALY, "size": 13, "symbol": "diamond", "line": {"width": 1, "color": "black"}},
                    customdata=flagged["change"],
                    hovertemplate=_("{change} vs a week earlier").format(change="%{customdata:+.0%}"))
    return _layout(fig, title,
                   xaxis={"title": _("Week of") if granularity == "week" else _("Date"), "tickformat": "%b %d"},
                   yaxis={"title": _("Revenue ({currency})").format(currency=currency), **money_axis(currency)},
                   yaxis2={"title": _("Orders"), "overlaying": "y", "side": "right", "tickformat": ",d", "showgrid": False,
                           "rangemode": "tozero", "tickmode": "auto"})


def category_breakdown(by_category: pd.DataFrame, *, currency: str) -> go.Figure:
    """Revenue per category (horizontal bars, largest on top) with each one's share."""
    title = _("Revenue by category")
    if by_category.empty:
        return empty_figure(title)
    rows = by_category.sort_values("revenue")
    fig = go.Figure(go.Bar(x=rows["revenue"], y=rows["key"], orientation="h", marker_color=SALES, name=_("Revenue"),
                           text=[f"{s:.0%}" if pd.notna(s) else "" for s in rows["share"]], textposition="auto",
                           hovertemplate=money_hover(currency).replace("y:", "x:") + "<extra>%{y}</extra>"))
    return _layout(fig, title, hovermode="closest",
                   xaxis={"title": _("Revenue ({currency})").format(currency=currency), **money_axis(currency)},
                   yaxis={"title": _("Category")})


def sites_side_by_side(frame: pd.DataFrame, *, value: str, label: str, percent: bool = False,
                       empty: str | None = None) -> go.Figure:
    """One bar per site for one metric (sites have different currencies, so money is compared per site).

    `label` names the metric in the reader's language; `empty` is what the chart says when no site has a value (a
    change with nothing to compare with).
    """
    title = _("{metric} by site").format(metric=label)
    if frame.empty or frame[value].isna().all():
        return empty_figure(title, empty)
    fig = go.Figure(go.Bar(x=frame["site"], y=frame[value], name=label, marker_color=ACOS,
                           hovertemplate="%{y:.1%}" if percent else "%{y:,.0f}"))
    return _layout(fig, title, xaxis={"title": _("Site")}, yaxis={"title": label, "tickformat": PERCENT if percent else ",.0f"})
