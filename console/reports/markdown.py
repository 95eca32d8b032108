"""Markdown reports: the daily operations report and the weekly ads report, with an optional Claude summary."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from console.formatting import (
    change,
    count,
    date_range,
    date_text,
    datetime_text,
    delta,
    hour_text,
    label,
    money,
    multiple,
    number,
    percent,
)
from console.i18n import N_, _
from console.reports.alerts import KINDS, Alert, FixResult
from console.settings import Settings

log = logging.getLogger(__name__)
MAX_ROWS = 15
ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T")  # a timestamp cell shows its day
LANG = "en"  # numbers in English symbols, amounts in each site's currency; the words are the reader's language

# kind → columns: (item key, header, format); format ∈ money | pct | delta | int | multiple | label | text | days | hour
# Headers are marked for translation: show them through `_()`.
COLUMNS: dict[str, list[tuple[str, str, str]]] = {
    "sales_anomaly": [("what", N_("What"), "text"), ("revenue", N_("Revenue"), "money"),
                      ("week_ago", N_("A week earlier"), "money"), ("change", N_("Change"), "delta")],
    "acos_over_target": [("text", N_("Keyword"), "text"), ("campaign_name", N_("Campaign"), "text"),
                         ("spend", N_("Spend"), "money"), ("sales", N_("Sales"), "money"), ("acos", "ACOS", "pct"),
                         ("bid", N_("Bid"), "money")],
    "budget_exhausted": [("campaign_name", N_("Campaign"), "text"), ("role", N_("Finding"), "label"),
                         ("daily_budget", N_("Budget"), "money"), ("exhausted_hour", N_("Ran out at"), "hour"),
                         ("utilisation", N_("Utilisation"), "pct")],
    "wasted_spend": [("text", N_("Keyword"), "text"), ("campaign_name", N_("Campaign"), "text"),
                     ("spend", N_("Spend"), "money"), ("orders", N_("Orders"), "int"), ("acos", "ACOS", "pct"),
                     ("daily_savings", N_("Saves / day"), "money")],
    "harvest": [("search_term", N_("Search term"), "text"), ("campaign_name", N_("Auto campaign"), "text"),
                ("orders", N_("Orders"), "int"), ("cvr", "CVR", "pct"), ("avg_cpc", N_("Avg CPC"), "money"),
                ("target_ad_group_name", N_("Into ad group"), "text")],
    "stock_out_risk": [("sku", "SKU", "text"), ("title", N_("Product"), "text"), ("available", N_("Available"), "int"),
                       ("days_of_supply", N_("Days of supply"), "days"), ("reorder_quantity", N_("Reorder"), "int")],
    "oos_live_ads": [("sku", "SKU", "text"), ("title", N_("Product"), "text"), ("live_ads", N_("Live ads"), "int")],
    "low_star_reviews": [("rating", N_("Stars"), "int"), ("product_title", N_("Product"), "text"),
                         ("title", N_("Review"), "text"), ("created_at", N_("Date"), "text"),
                         ("low_star_reviews_of_product", N_("Low-star reviews of it"), "int")],
}


def cell(value: Any, fmt: str, currency: str) -> str:
    """One table cell through the formatting layer: amounts in `currency`, ratios as percentages, counts whole."""
    if value is None or value == "":
        return "—"
    text = {
        "money": lambda v: money(v, currency, lang=LANG),
        "pct": lambda v: percent(v, lang=LANG),
        "delta": lambda v: delta(v, lang=LANG),
        "int": lambda v: count(v, lang=LANG),
        "multiple": lambda v: multiple(v, lang=LANG),
        "days": lambda v: number(v, 1, lang=LANG),
        "hour": lambda v: hour_text(v, lang=LANG),
        "label": label,
    }.get(fmt, lambda v: date_text(v, lang=LANG) if isinstance(v, str) and ISO_DATETIME.match(v) else str(v))(value)
    return text.replace("|", "\\|").replace("\n", " ")


def md_table(items: list[dict[str, Any]], columns: list[tuple[str, str, str]], currency: str, *, limit: int = MAX_ROWS) -> str:
    """A Markdown table of the first `limit` rows, saying how many more there are."""
    head = "| " + " | ".join(_(h) for _k, h, _f in columns) + " |\n|" + "---|" * len(columns)
    rows = ["| " + " | ".join(cell(it.get(k), f, currency) for k, _h, f in columns) + " |" for it in items[:limit]]
    more = "\n\n" + _("…and {count} more.").format(count=len(items) - limit) if len(items) > limit else ""
    return "\n".join([head, *rows]) + more


@dataclass
class SiteFindings:
    """Everything the daily run found on one site."""

    site: str
    currency: str
    acos_target: float
    alerts: list[Alert]
    errors: list[str] = field(default_factory=list)

    def alert(self, kind: str) -> Alert:
        return next((a for a in self.alerts if a.kind == kind), Alert(kind, self.site, []))


def summary_counts(findings: list[SiteFindings], fixes: FixResult | None) -> dict[str, Any]:
    counts: dict[str, Any] = {kind: sum(len(f.alert(kind).items) for f in findings) for kind in KINDS}
    counts["sites"] = [f.site for f in findings]
    counts["errors"] = sum(len(f.errors) for f in findings)
    counts["proposed"] = fixes.proposed if fixes else 0
    counts["refused"] = len(fixes.refused) if fixes else 0
    counts["already_waiting"] = len(fixes.already_waiting) if fixes else 0
    return counts


def template_summary(findings: list[SiteFindings], fixes: FixResult | None) -> str:
    """The plain summary used when Claude is not configured: one line per finding kind, biggest first."""
    counts = summary_counts(findings, fixes)
    lines = []
    for kind, (title, fix) in KINDS.items():
        n = counts[kind]
        if n:
            where = ", ".join(f.site.upper() for f in findings if f.alert(kind).items)
            line = (_("**{alert}**: {count} ({sites}) — fix proposed") if fix and fixes and fixes.proposed
                    else _("**{alert}**: {count} ({sites})"))
            lines.append("- " + line.format(alert=_(title), count=n, sites=where))
    if not lines:
        lines.append("- " + _("Nothing needs attention today."))
    if fixes is not None:
        queue = [_("**Approval queue**: {count} operations filed as batch `{batch}`").format(count=fixes.proposed,
                                                                                          batch=fixes.batch_id)]
        if fixes.already_waiting:
            queue.append(_("{count} already waiting from an earlier run").format(count=len(fixes.already_waiting)))
        if fixes.refused:
            queue.append(_("{count} refused by policy").format(count=len(fixes.refused)))
        lines.append("- " + "; ".join(queue))
    return "\n".join(lines)


def claude_summary(settings: Settings, markdown: str, *, make_client: Callable[..., Any] | None = None) -> str | None:
    """A short manager-facing summary of the report from Claude; None when not configured or on any API error."""
    if not settings.claude_enabled:
        return None
    try:
        if make_client is None:
            from mcp_bridge.agent import make_client
        client = make_client(api_key=settings.anthropic_api_key.get_secret_value(), base_url=settings.anthropic_base_url)
        reply = client.messages.create(
            model=settings.model, max_tokens=600,
            system="You summarise an e-commerce daily operations report for a busy manager: five bullet points at "
                   "most, the biggest money first, name sites and numbers, say what is waiting for approval. "
                   "Markdown bullets only, no heading.",
            messages=[{"role": "user", "content": markdown[:60_000]}],
        )
        text = "".join(getattr(block, "text", "") for block in reply.content).strip()
        return text or None
    except Exception as exc:  # the report must not fail because the summary did
        log.warning("Claude summary failed, using the template: %s", exc)
        return None


def daily_markdown(findings: list[SiteFindings], fixes: FixResult | None, *, run_id: str, user: str,
                   today: dt.date, summary: str | None = None) -> str:
    """The daily operations report: summary, each site's findings, the proposed fixes, reorder suggestions."""
    sites = ", ".join(f.site.upper() for f in findings) or _("no sites")
    out = ["# " + _("Daily operations — {date} ({sites})").format(date=date_text(today, lang=LANG), sites=sites), "",
           "_" + _("Run `{run}` by {user}. Each section says which days its figures cover.").format(run=run_id, user=user)
           + "_", "", "## " + _("Summary"), "", summary or template_summary(findings, fixes), ""]
    for f in findings:
        out += ["## " + _("{site} ({currency}, ACOS target {target})").format(
            site=f.site.upper(), currency=f.currency, target=percent(f.acos_target, 0, lang=LANG)), ""]
        for message in f.errors:
            out += ["> " + _("**Check failed**: {message}").format(message=message), ""]
        for kind in KINDS:
            alert = f.alert(kind)
            out += [f"### {alert.title} ({len(alert.items)})", ""]
            if alert.items:
                out += [md_table(alert.items, COLUMNS[kind], f.currency), ""]
                if alert.window_text:
                    out += [f"_{alert.window_text}_", ""]
                if alert.fix:
                    out += [_("_Fix_: {fix}.").format(fix=alert.fix), ""]
            else:
                out += [_("Nothing found."), ""]
            if alert.note:
                out += [f"_{alert.note}_", ""]
    out += ["## " + _("Proposed fixes"), ""]
    if fixes is None or (not fixes.proposed and not fixes.refused and not fixes.already_waiting):
        out += [_("Nothing was filed."), ""]
    else:
        out += [_("**{count}** operations are waiting for approval as batch `{batch}` (Approvals page; approve or "
                  "reject them together or one by one).").format(count=fixes.proposed, batch=fixes.batch_id), ""]
        if fixes.already_waiting:
            ids = ", ".join(f"#{i}" for i in fixes.already_waiting[:MAX_ROWS])
            ids += " …" if len(fixes.already_waiting) > MAX_ROWS else ""
            out += [_("{count} of today's fixes were already waiting from an earlier run and were not filed again: "
                      "{ids}.").format(count=len(fixes.already_waiting), ids=ids), ""]
        if fixes.refused:
            out += [_("Refused by the site's policy (not filed):"), ""]
            out += [f"- {what}: {why}" for what, why in fixes.refused[:MAX_ROWS]] + [""]
    return "\n".join(out).rstrip() + "\n"


@dataclass
class WeeklyData:
    """One site's weekly ads figures: this week vs last, top and bottom keywords, actions taken, next actions."""

    site: str
    currency: str
    acos_target: float
    start_date: str
    end_date: str
    kpis: dict[str, Any]
    previous: dict[str, Any]
    changes: dict[str, float | None]
    top_keywords: list[dict[str, Any]]
    bottom_keywords: list[dict[str, Any]]
    actions_taken: list[dict[str, Any]]
    next_actions: list[str]
    # When the listed operations ran (the console's clock, UTC); None when they come from the server's ledger.
    actions_window: tuple[dt.datetime, dt.datetime] | None = None


KEYWORD_COLUMNS = [("text", N_("Keyword"), "text"), ("campaign_name", N_("Campaign"), "text"),
                   ("spend", N_("Spend"), "money"), ("sales", N_("Sales"), "money"), ("orders", N_("Orders"), "int"),
                   ("acos", "ACOS", "pct")]
BOTTOM_COLUMNS = [*KEYWORD_COLUMNS[:-1], ("acos_text", "ACOS", "text")]
KPI_ROWS = (("spend", N_("Spend"), "money"), ("sales", N_("Sales"), "money"), ("acos", "ACOS", "pct"),
            ("roas", "ROAS", "multiple"), ("orders", N_("Orders"), "int"), ("tacos", "TACoS", "pct"))
BOTTOM_RULE = N_("_The biggest spenders over the ACOS target or without sales, worst ACOS first; spend without sales "
                 "has no ACOS and counts as the worst._")


def kpi_table(w: WeeklyData) -> list[str]:
    """This week, last week and the change of each KPI: ratios change in points, the rest relative to last week."""
    out = ["| " + " | ".join([_("Metric"), _("This week"), _("Last week"), _("Change")]) + " |", "|---|---|---|---|"]
    for key, title, fmt in KPI_ROWS:
        now, before = w.kpis.get(key), w.previous.get(key)
        moved = change(key, now, before, lang=LANG).text
        out.append(f"| {_(title)} | {cell(now, fmt, w.currency)} | {cell(before, fmt, w.currency)} | {moved} |")
    return [*out, "", _("_Change: ACOS and TACoS in percentage points (pp), the others relative to last week._")]


def bottom_rows(keywords: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bottom keywords with an ACOS people can read: `no sales` where there were none."""
    return [{**k, "acos_text": _("no sales") if not k.get("sales") else percent(k.get("acos"), lang=LANG)}
            for k in keywords]


def actions_section(w: WeeklyData) -> list[str]:
    """What ran: the operations executed in the report's week, oldest first, or that none did."""
    out = ["### " + _("Actions taken ({count})").format(count=count(len(w.actions_taken), lang=LANG)), ""]
    if w.actions_window:
        start, end = w.actions_window
        out += ["_" + _("Operations executed {dates} (UTC), up to {time}.").format(
            dates=date_range(start, end, lang=LANG), time=datetime_text(end, lang=LANG)) + "_", ""]
    for a in w.actions_taken[:MAX_ROWS]:
        ref = f"#{a['id']} " if a.get("id") not in (None, "") else ""
        out.append(f"- {ref}{label(a['tool'])}: {a['summary'] or '—'} ({datetime_text(a.get('applied_at'), lang=LANG)})")
    if len(w.actions_taken) > MAX_ROWS:
        out.append("- " + _("…and {count} more (Approvals page → History).").format(
            count=count(len(w.actions_taken) - MAX_ROWS, lang=LANG)))
    if not w.actions_taken:
        out.append("- " + _("No approved change ran in this period."))
    return out


def weekly_markdown(weeks: list[WeeklyData], *, run_id: str, user: str, today: dt.date, summary: str | None = None) -> str:
    """The weekly ads report: per site its KPIs against last week, top and bottom keywords, actions, next actions."""
    sites = ", ".join(w.site.upper() for w in weeks) or _("no sites")
    out = ["# " + _("Weekly ads report — week to {date} ({sites})").format(
               date=date_text(today - dt.timedelta(days=1), lang=LANG), sites=sites), "",
           "_" + _("Run `{run}` by {user}.").format(run=run_id, user=user) + "_", ""]
    if summary:
        out += ["## " + _("Summary"), "", summary, ""]
    for w in weeks:
        cur = w.currency
        out += [f"## {w.site.upper()} — {date_range(w.start_date, w.end_date, lang=LANG)} ({cur})", "", *kpi_table(w),
                "", _("ACOS target {target}.").format(target=percent(w.acos_target, 0, lang=LANG)), "",
                "### " + _("Top keywords (by sales)"), "",
                md_table(w.top_keywords, KEYWORD_COLUMNS, cur, limit=10), "", "### " + _("Bottom keywords (by ACOS)"), "",
                md_table(bottom_rows(w.bottom_keywords), BOTTOM_COLUMNS, cur, limit=10), "", _(BOTTOM_RULE), "",
                *actions_section(w)]
        out += ["", "### " + _("Next actions"), ""] + [f"- {n}" for n in w.next_actions or [_("Nothing stands out.")]]
        out += [""]
    return "\n".join(out).rstrip() + "\n"
