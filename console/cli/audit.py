"""`python -m console audit verify|export|archive|rows-per-hour`: check the keyed chain (archives included) against
its anchor; export rows as JSON lines or CSV; move old rows to archive files; count the rows dashboards write."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from console.cli.ops import guarded


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("audit", help="verify, export or archive the audit log")
    audit = parser.add_subparsers(dest="audit_command", required=True)
    p = audit.add_parser("verify", help="exit 0 when the chain (archives, then live rows) and its anchor agree, "
                                        "1 with every problem otherwise")
    p.add_argument("--archive-dir", help="where the archive files are now (default: where each was written)")
    p.set_defaults(run=guarded(verify))
    p = audit.add_parser("export", help="write the audit rows, oldest first")
    p.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    p.add_argument("--output", "-o", help="file to write (default: standard output)")
    p.add_argument("--user", help="only rows of this actor")
    p.add_argument("--site")
    p.add_argument("--tool")
    p.add_argument("--event")
    p.add_argument("--with-archive", action="store_true", help="the archived rows first, then the live ones")
    p.add_argument("--archive-dir", help="where the archive files are now (default: where each was written)")
    p.set_defaults(run=guarded(export))
    p = audit.add_parser("archive", help="move rows older than N days to gzip JSON-lines files, one per id range, "
                                         "each with a signed checkpoint of its last row")
    p.add_argument("--older-than-days", type=int, required=True, metavar="N")
    p.add_argument("--dir", help="where the files go (default: audit-archive/ beside the anchor)")
    p.add_argument("--max-rows", type=int, default=100_000, help="rows per file (and per transaction)")
    p.set_defaults(run=guarded(archive))
    p = audit.add_parser("rows-per-hour", help="drive the dashboards for a simulated hour of one person's use and "
                                               "print the audit rows it writes")
    p.add_argument("--market-url", help="market database to read (default: settings)")
    p.add_argument("--minutes", type=int, default=60)
    p.set_defaults(run=guarded(rows_per_hour))


def _runtime():
    from console.runtime import Runtime

    return Runtime.create()


def verify(args: argparse.Namespace) -> int:
    with _runtime() as rt:
        result = rt.bridge.audit.verify(archive_dir=args.archive_dir)
    if result.ok:
        print(f"audit chain ok: {result.summary()}")
        return 0
    where = f" at row {result.first_bad_id}" if result.first_bad_id is not None else ""
    print(f"audit chain BROKEN{where}: {result.reason}")
    for problem in result.problems:
        print(f"  {problem.kind}: {problem.reason}")
    print(result.summary())
    return 1


def export(args: argparse.Namespace) -> int:
    filters: dict[str, Any] = {k: v for k, v in (("actor", args.user), ("site", args.site), ("tool", args.tool),
                                                 ("event", args.event)) if v}
    filters.update(with_archive=args.with_archive, archive_dir=args.archive_dir)
    with _runtime() as rt:
        if args.output:
            with open(args.output, "w", newline="", encoding="utf-8") as fp:
                count = rt.bridge.audit.export(args.format, fp, **filters)
            print(f"{count} rows written to {args.output}", file=sys.stderr)
        else:
            rt.bridge.audit.export(args.format, sys.stdout, **filters)
    return 0


def archive(args: argparse.Namespace) -> int:
    import datetime as dt

    from mcp_bridge.errors import ValidationFailed
    from mcp_bridge.store import utcnow

    if args.older_than_days < 0 or args.max_rows < 1:
        raise ValidationFailed("--older-than-days must be 0 or more and --max-rows 1 or more")
    with _runtime() as rt:
        directory = Path(args.dir) if args.dir else default_archive_dir(rt)
        done = rt.bridge.audit.archive(before=utcnow() - dt.timedelta(days=args.older_than_days), directory=directory,
                                       actor=f"cli:{getpass.getuser()}", max_rows=args.max_rows)
        live = rt.bridge.audit.count()
    if not done:
        print(f"nothing to archive: no row is older than {args.older_than_days} days (the newest row always stays)")
        return 0
    for a in done:
        print(f"archived rows {a.first_id:,}–{a.last_id:,} ({a.rows:,}) to {a.path}, sha256 {a.sha256}")
    files = f"{len(done)} file" + ("s" if len(done) != 1 else "")
    print(f"{sum(a.rows for a in done):,} rows archived in {files}; the live table keeps {live:,} rows; "
          f"`audit verify` reads the archives from {directory}")
    return 0


def default_archive_dir(rt: Any) -> Path:
    """`audit-archive/` beside the anchor file (beside a SQLite database by default), else under data/."""
    from console.settings import DATA_DIR
    from mcp_bridge.audit import ARCHIVE_DIR
    from mcp_bridge.audit.anchor import FileAnchor

    anchor = rt.bridge.audit.anchor
    return (anchor.path.parent if isinstance(anchor, FileAnchor) else DATA_DIR) / ARCHIVE_DIR


def rows_per_hour(args: argparse.Namespace) -> int:
    from console.bench import audit_rows

    return audit_rows.main(args)
