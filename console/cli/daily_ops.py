"""`python -m console daily-ops [--site S] [--as EMAIL] [--output DIR]`: the cron-friendly daily operations run."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path

log = logging.getLogger("console.reports.daily_ops")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("daily-ops", help="check sales, ads, inventory and reviews; write the report; file fixes")
    parser.add_argument("--site", action="append", help="site to check (repeatable; default: every site of the runner)")
    parser.add_argument("--as", dest="as_user", metavar="EMAIL",
                        help="run as this user (default: the daily-ops@system job identity)")
    parser.add_argument("--output", type=Path, metavar="DIR", help="also write the Markdown report into DIR")
    parser.add_argument("--no-propose", action="store_true", help="report only; file no fixes")
    parser.add_argument("--today", type=dt.date.fromisoformat, help="treat this day as today (default: the servers')")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from console.reports.daily_ops import job_caller, run_daily_ops
    from console.runtime import Runtime
    from console.settings import Settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        with Runtime.create(Settings()) as runtime:
            caller = job_caller(runtime, args.as_user)
            result = run_daily_ops(runtime, caller, sites=args.site, today=args.today, output_dir=args.output,
                                   propose=not args.no_propose)
    except Exception as exc:  # cron reads the exit code and this one line
        log.error("daily-ops failed: %s: %s", type(exc).__name__, exc)
        return 1
    s = result.run.summary
    found = ", ".join(f"{k}={s[k]}" for k in ("sales_anomaly", "acos_over_target", "budget_exhausted", "wasted_spend",
                                                "harvest", "stock_out_risk", "oos_live_ads", "low_star_reviews"))
    log.info("daily-ops %s done: %s; proposed %s (batch %s), refused %s%s", result.run.id, found, s["proposed"],
             result.run.batch_id or "-", s["refused"], f"; report {result.path}" if result.path else "")
    print(result.path or result.run.id)
    return 0
