"""Streamlit pieces the dashboard pages share: filters, tiles, tables, downloads, alert panels with a fix button."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from console import formatting
from console.dashboards import charts, tables
from console.dashboards.periods import (
    COMPARISONS,
    CUSTOM,
    MAX_DAYS,
    RANGES,
    Period,
    chosen_range,
    comparison_period,
    comparison_text,
    preset,
    previous_period,
)
from console.dashboards.tiles import Tile
from console.i18n import N_, _
from console.i18n import current as reading_language
from console.reports import alerts
from console.reports.markdown import COLUMNS
from pages.components import empty_state, render_error
from pages.dashboard_loaders import alert_list, operations, pacing, sites_of, today
from pages.state import site_select

GRID_COLUMNS = {"number": st.column_config.NumberColumn, "text": st.column_config.TextColumn,
                "date": st.column_config.DateColumn, "datetime": st.column_config.DatetimeColumn}
LOOKBACK_DAYS = 3 * 365  # how far back a custom range or comparison may start
# What a search found nothing of, by the kind of list searched (the pages name the kind).
NO_MATCH = {"campaigns": N_("No campaigns match “{query}”"), "products": N_("No products match “{query}”"),
            "SKUs": N_("No SKUs match “{query}”")}


@dataclass(frozen=True)
class Filters:
    """What every dashboard is filtered by: the site, the range, the period it is compared with, a search."""

    site: str
    period: Period
    mode: str
    compared: Period
    query: str
    today: dt.date

    def caption(self, currency: str = "") -> str:
        """`Oct 22 – Nov 20, 2026 vs the previous 30 days (…) · JP · JPY`."""
        where = {"site": self.site, "lang": lang()}
        parts = [f"{self.period.text(**where)} {comparison_text(self.mode, self.compared, **where)}",
                 self.site.upper(), currency]
        return " · ".join(p for p in parts if p)


def lang() -> str:
    """The reader's UI language, for the formatting layer."""
    return reading_language()


def _range_input(label: str, default: Period, *, key: str, latest: dt.date, where: Any) -> tuple[dt.date, ...]:
    value = where.date_input(label, value=(default.start, default.end), min_value=latest - dt.timedelta(LOOKBACK_DAYS),
                             max_value=latest, key=key, format="YYYY-MM-DD")
    return tuple(value) if isinstance(value, list | tuple) else (value,)


def filters(caller, *, key: str, search: str, site_column: Any = None) -> Filters:
    """Site, date range (a preset or any range), comparison period of choice and a search box; stops while a
    custom range is half picked."""
    top = st.columns([1, 2, 2])
    site = site_select(sorted(caller.sites), key=f"{key}-site", where=site_column or top[0])
    now = today(caller, site)
    latest = now - dt.timedelta(days=1)  # today's figures are still coming in
    label = top[1].selectbox(_("Date range"), [*RANGES, CUSTOM], index=2, key=f"{key}-range", format_func=_)
    picked = _range_input(_("From – to"), preset(now, "Last 30 days"), key=f"{key}-dates", latest=latest,
                          where=top[1]) if label == CUSTOM else ()
    period = chosen_range(now, label, picked)
    mode = top[2].selectbox(_("Compare with"), list(COMPARISONS), format_func=lambda m: _(COMPARISONS[m]),
                            key=f"{key}-compare")
    custom = None
    if mode == "custom":
        default = previous_period(period) if period else preset(now, "Last 30 days")
        days = _range_input(_("Comparison from – to"), default, key=f"{key}-compare-dates", latest=latest, where=top[2])
        custom = Period(min(days), max(days)) if len(days) == 2 else None
    query = st.text_input(_("Search"), key=f"{key}-search", placeholder=search, icon=":material/search:",
                          help=_("Case and accents do not matter: “creme” finds “Crème”.")).strip()
    if period is None or (mode == "custom" and custom is None):
        empty_state(_("Pick the last day too"), _("Click the first day of the range, then its last day."))
        st.stop()
    if max(period.days, custom.days if custom else 0) > MAX_DAYS:
        empty_state(_("A range covers at most {days} days").format(days=MAX_DAYS), _("Pick a shorter range."))
        st.stop()
    return Filters(site, period, mode, comparison_period(period, mode, custom), query, now)


def tiles(items: list[Tile], per_row: int = 5) -> None:
    """KPI tiles: the value that fits (the whole one in the tooltip), a change coloured by what is good news."""
    for row in range(0, len(items), per_row):
        cols = st.columns(per_row)
        for col, t in zip(cols, items[row:row + per_row], strict=False):
            change = t.change.metric_kwargs() if t.change is not None and t.delta else {}
            col.metric(t.label, t.value, help=t.help or None, border=True, **change)
    compared = [t for t in items if t.change is not None]
    if compared and not any(t.delta for t in compared):
        st.caption(_("No change to show: the comparison period has no figures. Pick another one under “Compare with”."))


def grid(frame: pd.DataFrame, layout: tables.Layout, *, currency: str = "", key: str, more: bool = False,
         **kwargs: Any) -> Any:
    """A table as a data grid: the layout's columns in its order, formatted by kind, stored codes as words."""
    shown = tables.readable(frame, layout)
    columns = layout.columns(shown, more=more)
    kinds = {c: tables.kind_shown(layout, c) for c in columns}
    specs = formatting.column_specs(kinds, currency=currency or None)
    config = {}
    for column in columns:
        spec = specs[column]
        options = spec.kwargs() | ({"label": _(layout.headers[column])} if column in layout.headers else {})
        width = layout.widths.get(column)
        if layout.kinds.get(column) == "money" and spec.column == "text":  # amounts written per row line up right
            options["alignment"] = "right"
        config[column] = GRID_COLUMNS[spec.column](**options, **({"width": width} if width else {}))
    return st.dataframe(shown, hide_index=True, width="stretch", column_order=columns, column_config=config, key=key,
                        placeholder=formatting.NONE, **kwargs)


PAGE_ROWS = 100  # a grid sends every row it is given to the browser: longer tables are shown a page at a time


def paged(frame: pd.DataFrame, *, key: str, rows: int | None = None) -> pd.DataFrame:
    """The rows of the page picked above a long table (all of a short one); the download keeps every row."""
    rows = rows or PAGE_ROWS
    pages = max(1, -(-len(frame) // rows))
    if pages == 1:
        return frame
    page = st.number_input(_("Page (of {pages}, {rows} rows each)").format(pages=pages, rows=rows), 1, pages, 1,
                           key=f"{key}-page")
    return frame.iloc[(int(page) - 1) * rows:int(page) * rows]


def more_columns(key: str, layout: tables.Layout) -> bool:
    """A toggle for a table's secondary columns (named in its help)."""
    names = ", ".join(_(layout.header(c)) for c in layout.more)
    return st.toggle(_("More columns"), key=f"{key}-more",
                     help=_("Also show {columns}.").format(columns=names)) if layout.more else False


def download(frame: pd.DataFrame, filename: str, *, key: str, layout: tables.Layout | None = None,
             currency: str | None = None) -> None:
    st.download_button(_("Download CSV"), tables.csv_bytes(frame, layout, currency=currency), file_name=filename,
                       mime="text/csv", key=key, icon=":material/download:")


def no_match(query: str, what: str) -> None:
    """A search found none of `what` (a key of NO_MATCH: campaigns, products, SKUs)."""
    empty_state(_(NO_MATCH[what]).format(query=query),
                _("Check the spelling, search a part of the name, SKU or ASIN, or clear the search."))


CELLS = {"money": formatting.money, "pct": lambda v, _c: formatting.percent(v), "delta": lambda v, _c: formatting.delta(v),
         "int": lambda v, _c: formatting.count(v), "days": lambda v, _c: formatting.number(v, 1),
         "multiple": lambda v, _c: formatting.multiple(v), "label": lambda v, _c: formatting.label(v)}


def alert_table(frame: pd.DataFrame, kind: str, currency: str) -> pd.DataFrame:
    """An alert's rows as the daily report shows them: its columns and headers, each cell formatted by its kind."""
    def cell(value: Any, fmt: str) -> str:
        if formatting.missing(value) or value == "":
            return formatting.NONE
        if fmt in CELLS:
            return CELLS[fmt](value, currency or None)
        if isinstance(value, dt.datetime) or (isinstance(value, str) and value[:4].isdigit() and "T" in value):
            return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")  # a review's time, to the minute
        return str(value)

    return pd.DataFrame({_(header): [cell(v, fmt) for v in frame[column]]
                         for column, header, fmt in COLUMNS[kind] if column in frame.columns})


def budget_pacing_panel(caller, site: str, currency: str, *, start: dt.date, end: dt.date) -> None:
    try:
        view = pacing(caller.user, sites_of(caller), site=site, start=start, end=end)
    except Exception as exc:
        render_error(exc)
        return
    if view.campaigns.empty:
        empty_state(_("No budget pacing data"),
                    _("Pacing needs hourly spend of campaigns in the range; widen the dates."))
        return
    st.caption(_("{start} .. {end}: when each budget typically ran out and how much of it was used. "
                 "Early-exhausted campaigns ask for {needed} more; under-utilised ones could free {freed}.").format(
        start=view.start_date, end=view.end_date, needed=formatting.money(view.budget_needed, currency),
        freed=formatting.money(view.budget_freed, currency)))
    st.plotly_chart(charts.budget_pacing(view.campaigns, currency=currency, early_hour=view.early_hour), key="ads-pacing")
    grid(view.campaigns, tables.PACING, currency=currency, key="ads-pacing-table",
         more=more_columns("ads-pacing", tables.PACING))


def alert_panels(runtime, caller, site: str, today: dt.date, *, kinds: tuple[str, ...], acos_target: float | None,
                 currency: str) -> None:
    """One expander per alert kind: its rows, the fix it proposes and a button that files it as one batch."""
    try:
        with st.spinner(_("Checking for alerts…")):
            found = alert_list(caller.user, sites_of(caller), site, today, kinds)
    except Exception as exc:
        render_error(exc)
        return
    for alert in found:
        with st.expander(f"{alert.title} ({len(alert.items)})", expanded=bool(alert.items)):
            if not alert.items:
                st.caption(_("Nothing found."))
                continue
            st.dataframe(alert_table(alert.frame(), alert.kind, currency), hide_index=True, width="stretch")
            if alert.window_text:
                st.caption(alert.window_text)
            if alert.note:
                st.caption(alert.note)
            if not alert.fix:
                st.caption(_("Report only: nothing can be filed for this alert (see the daily report)."))
                continue
            st.caption(_("Fix: {fix}.").format(fix=alert.fix))
            calls, notes = alerts.plan_fixes(alert.kind, site, alert.items, acos_target=acos_target,
                                             window=alert.window, currency=alert.currency or currency)
            if not calls:
                listed = "; ".join(notes[:5]) + ("…" if len(notes) > 5 else "")
                st.caption(_("Nothing to file for these rows: {notes}").format(notes=listed))
                continue
            if not alerts.may_propose_fixes(caller, site):
                st.caption(_("Proposing fixes needs the seller or manager role on this site."))
                continue
            if st.button(_("Propose fix"), key=f"fix-{alert.kind}", icon=":material/build:"):
                try:
                    with st.spinner(_("Filing the proposed operations…")):
                        result = alerts.propose_fixes(runtime, caller, alert.kind, site, alert.items,
                                                      acos_target=acos_target, window=alert.window,
                                                      currency=alert.currency or currency)
                except Exception as exc:
                    render_error(exc)
                    continue
                show_fix_result(caller, result)


def approvals_link(caller, label: str | None = None) -> None:
    """A link to the Approvals page for those who have it in their navigation (approvers, admins)."""
    if caller.has("approver"):
        st.page_link("pages/approvals.py", label=label or _("Open Approvals"), icon=":material/pending_actions:")


def show_fix_result(caller, result: alerts.FixResult) -> None:
    operations.clear()  # the drill-downs' change history shows what was just filed
    if result.proposed:
        st.success(_("{count} operations filed as batch `{batch}`; an approver decides them on the Approvals page.")
                   .format(count=result.proposed, batch=result.batch_id), icon=":material/task_alt:")
        approvals_link(caller)
    if result.already_waiting:
        ids = ", ".join(f"#{i}" for i in result.already_waiting[:10]) + (" …" if len(result.already_waiting) > 10 else "")
        st.info(_("{count} of these fixes are already waiting for approval ({ids}); they were not filed again.")
                .format(count=len(result.already_waiting), ids=ids), icon=":material/hourglass_top:")
        approvals_link(caller)
    for what, why in result.refused:
        st.warning(_("Not filed — {what}: {why}").format(what=what, why=why), icon=":material/block:")
    for note in result.notes:
        st.caption(note)
    if not result.proposed and not result.refused and not result.already_waiting:
        st.info(_("Nothing to file."))
