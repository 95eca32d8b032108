"""The weekly ads run: this week against last, top and bottom keywords, what ran, what to do next, as a recorded run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from console.dashboards.data import server_today
from console.errors import ConsoleError
from console.i18n import N_, _
from console.reports.daily_ops import read_check
from console.reports.markdown import WeeklyData, claude_summary, weekly_markdown
from console.reports.runs import ReportRuns, write_report
from mcp_bridge.store import utcnow

# What to do next per finder count, translated whole with the count in it.
NEXT_ACTIONS = {"acos_alerts": N_("{count} keywords over the ACOS target → lower bids"),
                "harvest_candidates": N_("{count} search terms to harvest → exact keywords"),
                "wasted_spend": N_("{count} keywords wasting spend → pause or cut"),
                "budget_exhausted_early": N_("{count} campaigns out of budget early → raise or move budget"),
                "budget_under_utilised": N_("{count} campaigns under half their budget → move budget away")}
EXECUTED = "succeeded"  # the gate's status of an operation whose write ran and was applied
# More executed operations than this on one site in a week would be listed only in part.
MAX_ACTIONS = 2000


def worst_first(keywords: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keywords by ACOS, highest first; spend with no sales has no ACOS and counts as the worst, biggest spend first."""

    def badness(k: dict[str, Any]) -> tuple[int, float, float, str]:
        spend, sales, acos = float(k.get("spend") or 0), float(k.get("sales") or 0), k.get("acos")
        if not sales:
            return (0, 0.0, -spend, str(k.get("text", "")))
        return (1, -float(acos if acos is not None else spend / sales), -spend, str(k.get("text", "")))

    return sorted(keywords, key=badness)


def actions_window(today: dt.date, *, market_today: dt.date, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The report's week on the console's clock: from its first day until the report was made (or its day ended).

    Operations are stamped by the console's clock, while the market may run on a fixed demo date: the week is moved
    by the difference between the two clocks' today (none in production) before operations are matched to it.
    """
    shift = now.date() - market_today
    start = dt.datetime.combine(today - dt.timedelta(days=7) + shift, dt.time())
    return start, min(now, dt.datetime.combine(today + shift + dt.timedelta(days=1), dt.time()))


def executed_operations(gate: Any, site: str, window: tuple[dt.datetime, dt.datetime]) -> list[dict[str, Any]]:
    """The operations on `site` whose write ran within `window`, oldest first, as report lines."""
    start, end = window
    done = [op for op in gate.list(status=EXECUTED, site=site, limit=MAX_ACTIONS)
            if op.executed_at is not None and start <= op.executed_at < end]
    return [{"id": op.id, "tool": op.tool, "applied_at": op.executed_at.isoformat(timespec="seconds"),
             "summary": str((op.result or {}).get("summary") or (op.preview or {}).get("summary") or "")}
            for op in sorted(done, key=lambda op: (op.executed_at, op.id))]


def weekly_data(bridge: Any, caller: Any, site: str, *, today: dt.date, ref: str | None = None, gate: Any = None,
                market_today: dt.date | None = None, now: dt.datetime | None = None) -> WeeklyData:
    """This week (the 7 days to yesterday) against last week, keywords, what ran, what to do next."""
    week_end = (today - dt.timedelta(days=1)).isoformat()
    data = read_check(bridge, caller, "analytics__get_weekly_report_data", {"site": site, "week_end": week_end, "top_n": 10}, ref)
    window = None
    if gate is not None:  # the console's own record: executed operations, whatever clock the market keeps
        window = actions_window(today, market_today=market_today or today, now=now or utcnow())
        actions = executed_operations(gate, site, window)
    else:
        actions = [{"id": "", "tool": a["tool"], "summary": a["summary"], "applied_at": a["applied_at"]}
                   for a in data["actions_taken"]]
    next_actions = [_(NEXT_ACTIONS[k]).format(count=n) if k in NEXT_ACTIONS else f"{n} {k.replace('_', ' ')}"
                    for k, n in data["next_actions"].items() if n]
    waiting = len(gate.list(status="proposed", site=site, limit=500)) if gate else 0
    if waiting:
        next_actions.append(_("{count} operations are waiting for approval on the Approvals page").format(count=waiting))
    return WeeklyData(site=site, currency=data["currency"], acos_target=data["acos_target"],
                      start_date=str(data["this_week"][0]), end_date=str(data["this_week"][1]),
                      kpis={**data["current"], "tacos": data["tacos"]}, previous=data["previous"],
                      changes=data["changes"], top_keywords=data["top_keywords"],
                      bottom_keywords=worst_first(data["bottom_keywords"]), actions_taken=actions,
                      next_actions=next_actions, actions_window=window)


def run_weekly_report(runtime: Any, caller: Any, *, sites: list[str] | None = None, today: dt.date | None = None,
                      output_dir: Any = None) -> Any:
    """Build the weekly ads report for each site, record it as a run, optionally write it to a folder."""
    runs = ReportRuns(runtime.engine)
    sites = sorted(sites or caller.sites)
    run = runs.start(kind="weekly", site=sites[0] if len(sites) == 1 else None, requested_by=caller.user)
    try:
        for site in sites:
            if not caller.may_see(site):
                raise ConsoleError(f"{caller.user} may not see site {site!r}")
        market_today = server_today(runtime.bridge, caller, sites[0])
        today = today or market_today
        now = utcnow()
        weeks = [weekly_data(runtime.bridge, caller, s, today=today, ref=run.id, gate=runtime.bridge.gate,
                             market_today=market_today, now=now) for s in sites]
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
