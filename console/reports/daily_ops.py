"""The daily operations run: checks per site → Markdown report → proposed fixes as one batch → a recorded run."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.dashboards import data as dashboards
from console.errors import ConsoleError
from console.formatting import count, date_text
from console.i18n import N_, _
from console.reports.alerts import REPEATED_LOW_STARS, Alert, FixResult, file_calls, new_batch_id, plan_fixes
from console.reports.fix_evidence import window as span
from console.reports.markdown import LANG, SiteFindings, claude_summary, daily_markdown, summary_counts
from console.reports.runs import ReportRun, ReportRuns, write_report
from mcp_bridge.types import Caller, Source

log = logging.getLogger(__name__)

WINDOW_DAYS = 7  # the run looks at the last complete week
KEYWORD_WINDOW_DAYS = 14  # keyword and search-term checks need more clicks to be fair
HARVEST_DAYS = 30
VELOCITY_DAYS = 30  # the sales velocity behind days of supply: units sold per day over the trailing 30 days
LOW_STAR_MAX = 2
LIMIT = 10  # rows per check and site: a daily batch an approver can actually read
JOB_USER = "daily-ops@system"


def _source(ref: str | None = None, kind: str = "job") -> Source:
    return Source(kind=kind, ref=ref)


@dataclass
class Window:
    """The run's dates: yesterday is the last complete day; today's partial orders would look like a crash."""

    today: dt.date

    @property
    def end(self) -> str:
        return (self.today - dt.timedelta(days=1)).isoformat()

    def start(self, days: int) -> str:
        return (self.today - dt.timedelta(days=days)).isoformat()


def read_check(bridge: Any, caller: Caller, tool: str, args: dict[str, Any], ref: str | None) -> dict[str, Any]:
    # A page's checks are audited as the page's reads; the scheduled run's as the job's.
    kind = "job" if caller.channel == "job" else caller.channel if caller.channel in ("ui", "cli") else "ui"
    return dashboards.read(bridge, caller, tool, args, source=_source(ref, kind))


def check_sales(bridge: Any, caller: Caller, site: str, w: Window, ref: str | None) -> tuple[Alert, dict[str, Any]]:
    """Days of the last week and categories whose revenue moved past the threshold week over week."""
    data = read_check(bridge, caller, "analytics__get_sales_dashboard",
                 {"site": site, "start_date": w.start(WINDOW_DAYS), "end_date": w.end, "top_n": 3}, ref)
    items = [{"what": _("{date} (day)").format(date=date_text(p["period"], lang=LANG)), "period": p["period"],
              "revenue": p["revenue"],
              "week_ago": p["revenue"] / (1 + p["change"]) if p["change"] not in (None, -1) else None,
              "change": p["change"]} for p in data["anomalies"]]
    items += [{"what": _("{category} (category, last 7 days)").format(category=c["key"]), "period": c["key"],
               "revenue": c["week_revenue"],
               "week_ago": c["previous_week_revenue"], "change": c["change"]} for c in data["category_anomalies"]]
    return Alert("sales_anomaly", site, items, window=span(data.get("start_date"), data.get("end_date")),
                 currency=data.get("currency", "")), data


def _alert(kind: str, site: str, data: dict[str, Any], items: list[dict[str, Any]], **extra: Any) -> Alert:
    """An alert over a finder's answer: its rows, and the days and currency they are in."""
    return Alert(kind, site, items, window=span(data.get("start_date"), data.get("end_date")),
                 currency=data.get("currency", ""), **extra)


def check_wasted(bridge: Any, caller: Caller, site: str, w: Window, ref: str | None) -> Alert:
    """Keywords with spend and no orders, or ACOS over 100% (the finder converts "$20" per currency)."""
    data = read_check(bridge, caller, "analytics__find_wasted_spend",
                 {"site": site, "start_date": w.start(KEYWORD_WINDOW_DAYS), "end_date": w.end, "level": "keyword",
                  "limit": LIMIT}, ref)
    return _alert("wasted_spend", site, data, data["items"],
                  savings_window=span(data.get("savings_start_date"), data.get("savings_end_date")))


def check_acos(bridge: Any, caller: Caller, site: str, w: Window, ref: str | None, *, acos_target: float,
               skip: set[int] = frozenset()) -> Alert:
    """Enabled keywords over the site's ACOS target; `skip` holds keywords the wasted-spend fix already handles."""
    data = read_check(bridge, caller, "analytics__get_acos_alerts",
                 {"site": site, "start_date": w.start(KEYWORD_WINDOW_DAYS), "end_date": w.end, "level": "keyword",
                  "direction": "over", "sort_by": "spend", "limit": LIMIT}, ref)
    return _alert("acos_over_target", site, data, [{**k, "keyword_id": k["id"], "text": k["name"], "acos_target": acos_target}
                                                   for k in data["items"] if k["id"] not in skip])


def check_harvest(bridge: Any, caller: Caller, site: str, w: Window, ref: str | None) -> Alert:
    """Auto-campaign terms with CVR over 10% and 3+ orders that no manual campaign targets yet."""
    data = read_check(bridge, caller, "analytics__find_harvest_candidates",
                 {"site": site, "start_date": w.start(HARVEST_DAYS), "end_date": w.end, "limit": LIMIT}, ref)
    return _alert("harvest", site, data, data["items"])


def check_ads(bridge: Any, caller: Caller, site: str, w: Window, ref: str | None, *, acos_target: float) -> list[Alert]:
    """Wasted spend, ACOS over target (minus the wasted keywords) and harvestable terms."""
    wasted = check_wasted(bridge, caller, site, w, ref)
    skip = {k["keyword_id"] for k in wasted.items}
    return [check_acos(bridge, caller, site, w, ref, acos_target=acos_target, skip=skip), wasted,
            check_harvest(bridge, caller, site, w, ref)]


def check_budgets(bridge: Any, caller: Caller, site: str, w: Window, ref: str | None) -> Alert:
    """Campaigns that run out of budget early, and under-utilised ones the budget can move from."""
    data = read_check(bridge, caller, "analytics__get_budget_pacing",
                 {"site": site, "start_date": w.start(KEYWORD_WINDOW_DAYS), "end_date": w.end, "limit": 100}, ref)
    roles = {"exhausted_early": "exhausted", "under_utilised": "under_utilised"}
    items = [{**row, "role": roles[row["status"]], "exhausted_hour": _hour(row.get("typical_ran_out_at"))}
             for row in data["items"] if row["status"] in roles]
    return _alert("budget_exhausted", site, data, items)


def _hour(value: str | None) -> int | None:
    return int(value.split(":")[0]) if value else None


def check_inventory(bridge: Any, caller: Caller, site: str, ref: str | None) -> list[Alert]:
    data = read_check(bridge, caller, "analytics__get_inventory_dashboard",
                 {"site": site, "only_at_risk": True, "limit": 200}, ref)
    at_risk = data["items"]  # shortest supply first
    more = data["total"] - min(len(at_risk), LIMIT)
    # Stock is as of now; the sales velocity behind days of supply is the 30 days to `sold_through`.
    sold_through = dt.date.fromisoformat(str(data["sold_through"]))
    seen = {"window": span(sold_through - dt.timedelta(days=VELOCITY_DAYS - 1), sold_through),
            "currency": data.get("currency", "")}
    # The most urgent reorders, like every other check's rows: a daily batch an approver can read.
    return [Alert("stock_out_risk", site, at_risk[:LIMIT],
                  note=_("…and {count} more SKUs at risk: see the Inventory page").format(count=count(more, lang=LANG))
                  if more > 0 else "", **seen),
            Alert("oos_live_ads", site, [it for it in at_risk if it["out_of_stock"] and it["live_ads"] > 0], **seen)]


def check_reviews(bridge: Any, caller: Caller, site: str, w: Window, ref: str | None) -> Alert:
    """1–2 star reviews of the last three days (today's included: they are complete when they arrive).

    A product with several of them gets the SKUs whose ads still run (`live_ad_skus`): its fix pauses them.
    """
    data = read_check(bridge, caller, "analytics__get_recent_reviews",
                 {"site": site, "start_date": w.start(3), "end_date": w.today.isoformat(), "max_rating": LOW_STAR_MAX,
                  "limit": LIMIT}, ref)
    per_product = Counter(item["product_id"] for item in data["items"])
    live: dict[int, list[str]] = {}
    for product_id, n in per_product.items():
        if n >= REPEATED_LOW_STARS:
            variants = read_check(bridge, caller, "commerce__list_variants",
                             {"site": site, "product_id": product_id, "status": "active"}, ref)["variants"]
            live[product_id] = [v["sku"] for v in variants if read_check(
                bridge, caller, "ads__list_product_ads", {"site": site, "sku": v["sku"], "state": "enabled", "limit": 1},
                ref)["total"]]
    items = [{**item, "low_star_reviews_of_product": per_product[item["product_id"]],
              "live_ad_skus": live.get(item["product_id"], [])} for item in data["items"]]
    return _alert("low_star_reviews", site, data, items)


def collect_alerts(bridge: Any, caller: Caller, site: str, *, today: dt.date, kinds: tuple[str, ...]) -> list[Alert]:
    """The alerts of some checks for a dashboard page ("ads": ACOS, wasted, harvest, budgets; "inventory")."""
    w, out = Window(today), []
    if "ads" in kinds:
        ads = read_check(bridge, caller, "analytics__get_ads_dashboard", {"site": site, "start_date": w.start(WINDOW_DAYS),
                                                                     "end_date": w.end, "limit": 1}, None)
        out += check_ads(bridge, caller, site, w, None, acos_target=ads["acos_target"])
    if "budgets" in kinds:
        out.append(check_budgets(bridge, caller, site, w, None))
    if "inventory" in kinds:
        out += check_inventory(bridge, caller, site, None)
    if "reviews" in kinds:
        out.append(check_reviews(bridge, caller, site, w, None))
    return out


def collect_site(bridge: Any, caller: Caller, site: str, *, today: dt.date, ref: str | None = None) -> SiteFindings:
    """Run every check on one site; a failing check is reported in the findings, the others still run."""
    w = Window(today)
    ads = read_check(bridge, caller, "analytics__get_ads_dashboard",
                {"site": site, "start_date": w.start(WINDOW_DAYS), "end_date": w.end, "limit": 1}, ref)
    findings = SiteFindings(site=site, currency=ads["currency"], acos_target=ads["acos_target"], alerts=[])
    wasted_ids: set[int] = set()

    def wasted() -> list[Alert]:
        alert = check_wasted(bridge, caller, site, w, ref)
        wasted_ids.update(k["keyword_id"] for k in alert.items)
        return [alert]

    # One failing check is reported in the findings; the others still run. Names: English in the log, translated
    # in the report.
    checks = [
        (N_("sales"), lambda: [check_sales(bridge, caller, site, w, ref)[0]]),
        (N_("wasted spend"), wasted),
        ("ACOS", lambda: [check_acos(bridge, caller, site, w, ref, acos_target=ads["acos_target"], skip=wasted_ids)]),
        (N_("harvest"), lambda: [check_harvest(bridge, caller, site, w, ref)]),
        (N_("budgets"), lambda: [check_budgets(bridge, caller, site, w, ref)]),
        (N_("inventory"), lambda: check_inventory(bridge, caller, site, ref)),
        (N_("reviews"), lambda: [check_reviews(bridge, caller, site, w, ref)]),
    ]
    for name, check in checks:
        try:
            findings.alerts += check()
        except ConsoleError as exc:
            log.warning("daily-ops %s check on %s failed: %s", name, site, exc)
            findings.errors.append(_("{check} check: {error}").format(check=_(name), error=exc))
    return findings


def propose_all(bridge: Any, caller: Caller, findings: list[SiteFindings], *, batch_id: str, ref: str | None,
                source_kind: str = "job") -> FixResult:
    """Every fixable finding of every site, filed as one batch."""
    result = FixResult(batch_id=batch_id)
    planned: set[tuple[str, str]] = set()
    for f in findings:
        for alert in f.alerts:
            calls, notes = plan_fixes(alert.kind, f.site, alert.items, acos_target=f.acos_target, window=alert.window,
                                      currency=alert.currency or f.currency)
            # Two checks may ask for the same write (an out-of-stock SKU with bad reviews): it is filed once.
            unique = []
            for call in calls:
                key = (call.tool, json.dumps(call.arguments, sort_keys=True))
                if key not in planned:
                    planned.add(key)
                    unique.append(call)
            filed = file_calls(bridge, caller, unique, batch_id=batch_id, source_kind=source_kind, ref=ref)
            filed.notes += notes
            result.merge(filed)
    return result


@dataclass
class DailyOpsResult:
    run: ReportRun
    findings: list[SiteFindings]
    fixes: FixResult | None
    path: Path | None


def run_daily_ops(runtime: Any, caller: Caller, *, sites: list[str] | None = None, today: dt.date | None = None,
                  output_dir: Path | None = None, propose: bool = True, progress: Any = None) -> DailyOpsResult:
    """Check each site, write the report, file the fixes as one batch and record the run (failed runs too)."""
    runs = ReportRuns(runtime.engine)
    bridge = runtime.bridge
    sites = sorted(sites or caller.sites)
    run = runs.start(kind="daily", site=sites[0] if len(sites) == 1 else None, requested_by=caller.user)
    notify = progress or (lambda fraction, text: None)
    try:
        for site in sites:
            if not caller.may_see(site):
                raise ConsoleError(f"{caller.user} may not see site {site!r}")
        today = today or dashboards.server_today(bridge, caller, sites[0])
        findings = []
        for i, site in enumerate(sites):
            notify(i / (len(sites) + 1), _("checking {site}").format(site=site.upper()))
            findings.append(collect_site(bridge, caller, site, today=today, ref=run.id))
        notify(len(sites) / (len(sites) + 1), _("filing proposed fixes"))
        fixes = propose_all(bridge, caller, findings, batch_id=new_batch_id("daily"), ref=run.id) if propose else None
        draft = daily_markdown(findings, fixes, run_id=run.id, user=caller.user, today=today)
        summary = claude_summary(runtime.settings, draft)
        markdown = daily_markdown(findings, fixes, run_id=run.id, user=caller.user, today=today, summary=summary) if summary else draft
        counts = {**summary_counts(findings, fixes), "summarised_by": "claude" if summary else "template"}
        if all(f.errors and not any(a.items for a in f.alerts) for f in findings):
            raise ConsoleError("every check failed: " + "; ".join(e for f in findings for e in f.errors))
        batch = fixes.batch_id if fixes and fixes.proposed else None
        run = runs.finish(run.id, summary=counts, markdown=markdown, batch_id=batch)
        path = write_report(output_dir, run) if output_dir else None
        notify(1.0, _("done"))
        return DailyOpsResult(run=run, findings=findings, fixes=fixes, path=path)
    except Exception as exc:
        runs.fail(run.id, f"{type(exc).__name__}: {exc}")
        raise


def job_caller(runtime: Any, email: str | None = None) -> Caller:
    """Who the run acts as: the given user, else the system job identity (seller + manager on every site)."""
    if email:
        return runtime.users.caller(email, "job")
    sites = tuple(runtime.users.sites())
    if runtime.users.get(JOB_USER) is None:
        runtime.users.create(JOB_USER, name="Daily operations job", roles=("seller", "manager"), sites=sites)
    else:
        have = set(runtime.users.caller(JOB_USER, "job").sites)
        for site in sites:
            if site not in have:  # roles are held per site: a site added later gets both
                for role in ("seller", "manager"):
                    runtime.users.grant(JOB_USER, role=role, site=site)
    return runtime.users.caller(JOB_USER, "job")
