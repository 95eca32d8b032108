"""Markdown reports: the daily operations report and the weekly ads report, with an optional Claude summary."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from console.alerts import KINDS, Alert, FixResult
from console.formatting import count, delta, money, percent
from console.settings import Settings

log = logging.getLogger(__name__)
MAX_ROWS = 15
ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T")  # a timestamp cell shows its day

# kind → columns: (item key, header, format); format ∈ money | pct | delta | int | text | days | hour
COLUMNS: dict[str, list[tuple[str, str, str]]] = {
    "sales_anomaly": [("what", "What", "text"), ("revenue", "Revenue", "money"), ("week_ago", "A week earlier", "money"),
                      ("change", "Change", "delta")],
    "acos_over_target": [("text", "Keyword", "text"), ("campaign_name", "Campaign", "text"), ("spend", "Spend", "money"),
                         ("sales", "Sales", "money"), ("acos", "ACOS", "pct"), ("bid", "Bid", "money")],
    "budget_exhausted": [("campaign_name", "Campaign", "text"), ("role", "Finding", "text"),
                         ("daily_budget", "Budget", "money"), ("exhausted_hour", "Ran out at", "hour"),
                         ("utilisation", "Utilisation", "pct")],
    "wasted_spend": [("text", "Keyword", "text"), ("campaign_name", "Campaign", "text"), ("spend", "Spend", "money"),
                     ("orders", "Orders", "int"), ("acos", "ACOS", "pct")],
    "harvest": [("search_term", "Search term", "text"), ("campaign_name", "Auto campaign", "text"),
                ("orders", "Orders", "int"), ("cvr", "CVR", "pct"), ("avg_cpc", "Avg CPC", "money")],
    "stock_out_risk": [("sku", "SKU", "text"), ("title", "Product", "text"), ("available", "Available", "int"),
                       ("days_of_supply", "Days of supply", "days"), ("reorder_quantity", "Reorder", "int")],
    "oos_live_ads": [("sku", "SKU", "text"), ("title", "Product", "text"), ("live_ads", "Live ads", "int")],
    "low_star_reviews": [("rating", "Stars", "int"), ("product_title", "Product", "text"), ("title", "Review", "text"),
                         ("created_at", "Date", "text"), ("low_star_reviews_of_product", "Low-star reviews of it", "int")],
}


def cell(value: Any, fmt: str, currency: str) -> str:
    if value is None or value == "":
        return "—"
    text = {
        "money": lambda v: money(float(v), currency),
        "pct": lambda v: percent(float(v)),
        "delta": lambda v: delta(float(v)),
        "int": lambda v: count(v),
        "days": lambda v: f"{float(v):.1f}",
        "hour": lambda v: f"{int(v):02d}:00",
    }.get(fmt, lambda v: v[:10] if isinstance(v, str) and ISO_DATETIME.match(v) else str(v))(value)
    return text.replace("|", "\\|").replace("\n", " ")


def md_table(items: list[dict[str, Any]], columns: list[tuple[str, str, str]], currency: str, *, limit: int = MAX_ROWS) -> str:
    """A Markdown table of the first `limit` rows, saying how many more there are."""
    head = "| " + " | ".join(h for _, h, _ in columns) + " |\n|" + "---|" * len(columns)
    rows = ["| " + " | ".join(cell(it.get(k), f, currency) for k, _, f in columns) + " |" for it in items[:limit]]
    more = f"\n\n…and {len(items) - limit} more." if len(items) > limit else ""
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
    return counts


def template_summary(findings: list[SiteFindings], fixes: FixResult | None) -> str:
    """The plain summary used when Claude is not configured: one line per finding kind, biggest first."""
    counts = summary_counts(findings, fixes)
    lines = []
    for kind, (title, fix) in KINDS.items():
        n = counts[kind]
        if n:
            where = ", ".join(f.site.upper() for f in findings if f.alert(kind).items)
            lines.append(f"- **{title}**: {n} ({where})" + (" — fix proposed" if fix and fixes and fixes.proposed else ""))
    if not lines:
        lines.append("- Nothing needs attention today.")
    if fixes is not None:
        lines.append(f"- **Approval queue**: {fixes.proposed} operations filed as batch `{fixes.batch_id}`"
                     + (f"; {len(fixes.refused)} refused by policy" if fixes.refused else ""))
    return "\n".join(lines)


def claude_summary(settings: Settings, markdown: str, *, make_client: Callable[..., Any] | None = None) -> str | None:
    """A short manager-facing summary of the report from Claude; None when not configured or on any API error."""
    if not settings.claude_enabled:
        return None
    try:
        if make_client is None:
            from mcp_bridge.claude import make_client
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
    sites = ", ".join(f.site.upper() for f in findings) or "no sites"
    out = [f"# Daily operations — {today.isoformat()} ({sites})", "",
           f"_Run `{run_id}` by {user}. Figures cover the last 7 days unless a section says otherwise._", "",
           "## Summary", "", summary or template_summary(findings, fixes), ""]
    for f in findings:
        out += [f"## {f.site.upper()} ({f.currency}, ACOS target {percent(f.acos_target, 0)})", ""]
        for message in f.errors:
            out += [f"> **Check failed**: {message}", ""]
        for kind in KINDS:
            alert = f.alert(kind)
            out += [f"### {alert.title} ({len(alert.items)})", ""]
            if alert.items:
                out += [md_table(alert.items, COLUMNS[kind], f.currency), ""]
                if alert.fix:
                    out += [f"_Fix_: {alert.fix}.", ""]
            else:
                out += ["Nothing found.", ""]
            if alert.note:
                out += [f"_{alert.note}_", ""]
    out += ["## Proposed fixes", ""]
    if fixes is None or (not fixes.proposed and not fixes.refused):
        out += ["Nothing was filed.", ""]
    else:
        out += [f"**{fixes.proposed}** operations are waiting for approval as batch `{fixes.batch_id}` "
                "(Approvals page; approve or reject them together or one by one).", ""]
        if fixes.refused:
            out += ["Refused by the site's policy (not filed):", ""]
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


KEYWORD_COLUMNS = [("text", "Keyword", "text"), ("campaign_name", "Campaign", "text"), ("spend", "Spend", "money"),
                   ("sales", "Sales", "money"), ("orders", "Orders", "int"), ("acos", "ACOS", "pct")]


def weekly_markdown(weeks: list[WeeklyData], *, run_id: str, user: str, today: dt.date, summary: str | None = None) -> str:
    sites = ", ".join(w.site.upper() for w in weeks) or "no sites"
    out = [f"# Weekly ads report — week to {today - dt.timedelta(days=1)} ({sites})", "",
           f"_Run `{run_id}` by {user}._", ""]
    if summary:
        out += ["## Summary", "", summary, ""]
    for w in weeks:
        cur = w.currency
        out += [f"## {w.site.upper()} — {w.start_date} .. {w.end_date}", "",
                "| Metric | This week | Last week | Change |", "|---|---|---|---|"]
        for key, label, fmt in (("spend", "Spend", "money"), ("sales", "Sales", "money"), ("acos", "ACOS", "pct"),
                                ("roas", "ROAS", "text"), ("orders", "Orders", "int"), ("tacos", "TACoS", "pct")):
            now, before = w.kpis.get(key), w.previous.get(key)
            if fmt == "text":
                now, before = (f"{v:.2f}×" if v is not None else None for v in (now, before))
            out.append(f"| {label} | {cell(now, fmt, cur)} | {cell(before, fmt, cur)} | {cell(w.changes.get(key), 'delta', cur)} |")
        out += ["", f"ACOS target {percent(w.acos_target, 0)}.", "", "### Top keywords (by sales)", "",
                md_table(w.top_keywords, KEYWORD_COLUMNS, cur, limit=10), "", "### Bottom keywords (by ACOS)", "",
                md_table(w.bottom_keywords, KEYWORD_COLUMNS, cur, limit=10), "", "### Actions taken", ""]
        if w.actions_taken:
            out += [f"- {a['tool']}: {a['summary']} ({str(a.get('applied_at') or '')[:16].replace('T', ' ')})"
                    for a in w.actions_taken[:MAX_ROWS]]
        else:
            out.append("- No approved changes ran this week.")
        out += ["", "### Next actions", ""] + [f"- {n}" for n in w.next_actions or ["Nothing stands out."]] + [""]
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------- the weekly ads run


NEXT_ACTIONS = {"acos_alerts": "keywords over the ACOS target → lower bids", "harvest_candidates":
                "search terms to harvest → exact keywords", "wasted_spend": "keywords wasting spend → pause or cut",
                "budget_exhausted_early": "campaigns out of budget early → raise or move budget",
                "budget_under_utilised": "campaigns under half their budget → move budget away"}


def weekly_data(bridge: Any, caller: Any, site: str, *, today: dt.date, ref: str | None = None,
                gate: Any = None) -> WeeklyData:
    """This week (the 7 days to yesterday) against last week, keywords, what ran, what to do next."""
    from console.daily_ops import _read

    week_end = (today - dt.timedelta(days=1)).isoformat()
    data = _read(bridge, caller, "analytics__get_weekly_report_data", {"site": site, "week_end": week_end, "top_n": 10}, ref)
    actions = [{"id": "", "tool": a["tool"], "summary": a["summary"], "applied_at": a["applied_at"]}
               for a in data["actions_taken"]]
    next_actions = [f"{n} {NEXT_ACTIONS.get(k, k.replace('_', ' '))}" for k, n in data["next_actions"].items() if n]
    waiting = len(gate.list(status="proposed", site=site, limit=500)) if gate else 0
    if waiting:
        next_actions.append(f"{waiting} operations are waiting for approval on the Approvals page")
    return WeeklyData(site=site, currency=data["currency"], acos_target=data["acos_target"],
                      start_date=str(data["this_week"][0]), end_date=str(data["this_week"][1]),
                      kpis={**data["current"], "tacos": data["tacos"]}, previous=data["previous"],
                      changes=data["changes"], top_keywords=data["top_keywords"],
                      bottom_keywords=data["bottom_keywords"], actions_taken=actions, next_actions=next_actions)


def run_weekly_report(runtime: Any, caller: Any, *, sites: list[str] | None = None, today: dt.date | None = None,
                      output_dir: Any = None) -> Any:
    """Build the weekly ads report for each site, record it as a run, optionally write it to a folder."""
    from console.daily_ops import write_report
    from console.dashboards import server_today
    from console.errors import ConsoleError
    from console.report_runs import ReportRuns

    runs = ReportRuns(runtime.engine)
    sites = sorted(sites or caller.sites)
    run = runs.start(kind="weekly", site=sites[0] if len(sites) == 1 else None, requested_by=caller.user)
    try:
        for site in sites:
            if not caller.may_see(site):
                raise ConsoleError(f"{caller.user} may not see site {site!r}")
        today = today or server_today(runtime.bridge, caller, sites[0])
        weeks = [weekly_data(runtime.bridge, caller, s, today=today, ref=run.id, gate=runtime.bridge.gate) for s in sites]
        draft = weekly_markdown(weeks, run_id=run.id, user=caller.user, today=today)
        summary = claude_summary(runtime.settings, draft)
        markdown = weekly_markdown(weeks, run_id=run.id, user=caller.user, today=today, summary=summary) if summary else draft
        counts = {"sites": sites, "actions_taken": sum(len(w.actions_taken) for w in weeks),
                  "summarised_by": "claude" if summary else "template",
                  **{f"spend_{w.site}": w.kpis["spend"] for w in weeks}}
        run = runs.finish(run.id, summary=counts, markdown=markdown, batch_id=None)
    except Exception as exc:
        runs.fail(run.id, f"{type(exc).__name__}: {exc}")
        raise
    if output_dir is not None:
        write_report(output_dir, run)
    return run
