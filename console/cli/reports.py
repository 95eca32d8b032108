"""`python -m console reports weekly [--site S] [--output DIR]` and `reports list`: the weekly ads report and past runs."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path

log = logging.getLogger("console.reports.markdown")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("reports", help="weekly ads report; list recorded report runs")
    cmds = parser.add_subparsers(dest="reports_command", required=True)
    weekly = cmds.add_parser("weekly", help="build the weekly ads report (this week vs last) and record it")
    weekly.add_argument("--site", action="append", help="site (repeatable; default: every site of the runner)")
    weekly.add_argument("--as", dest="as_user", metavar="EMAIL", help="run as this user (default: the job identity)")
    weekly.add_argument("--output", type=Path, metavar="DIR", help="also write the Markdown report into DIR")
    weekly.add_argument("--today", type=dt.date.fromisoformat, help="treat this day as today (default: the servers')")
    weekly.set_defaults(run=run_weekly)
    listing = cmds.add_parser("list", help="list recorded runs, newest first")
    listing.add_argument("--kind", choices=["daily", "weekly"])
    listing.add_argument("--limit", type=int, default=20)
    listing.set_defaults(run=run_list)
    show = cmds.add_parser("show", help="print one run's Markdown")
    show.add_argument("run_id")
    show.set_defaults(run=run_show)


def run_weekly(args: argparse.Namespace) -> int:
    from console.reports.daily_ops import job_caller
    from console.reports.weekly import run_weekly_report
    from console.runtime import Runtime
    from console.settings import Settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        with Runtime.create(Settings()) as runtime:
            report = run_weekly_report(runtime, job_caller(runtime, args.as_user), sites=args.site, today=args.today,
                                       output_dir=args.output)
    except Exception as exc:
        log.error("weekly report failed: %s: %s", type(exc).__name__, exc)
        return 1
    log.info("weekly report %s done", report.id)
    print(args.output / report.filename if args.output else report.id)
    return 0


def run_list(args: argparse.Namespace) -> int:
    from console.reports.runs import ReportRuns
    from console.runtime import Runtime
    from console.settings import Settings

    with Runtime.create(Settings()) as runtime:
        for r in ReportRuns(runtime.engine).list(kind=args.kind, limit=args.limit):
            print(f"{r.id:40} {r.kind:7} {r.site or 'all':4} {r.status:10} {r.started_at:%Y-%m-%d %H:%M} "
                  f"proposed={r.summary.get('proposed', 0)} batch={r.batch_id or '-'}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from console.reports.runs import ReportRuns
    from console.runtime import Runtime
    from console.settings import Settings

    with Runtime.create(Settings()) as runtime:
        print(ReportRuns(runtime.engine).get(args.run_id).markdown)
    return 0
