"""Recorded report runs (daily operations, weekly ads): who ran what, when, the counts, the batch and the Markdown."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, Index, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from mcp_bridge.store import Base, Store, utcnow

KINDS = ("daily", "weekly")
STATUSES = ("running", "succeeded", "failed")


class ReportRunRow(Base):
    __tablename__ = "report_runs"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # daily, weekly
    site: Mapped[str | None] = mapped_column(String(16))  # None: every site the runner may see
    status: Mapped[str] = mapped_column(String(16))  # running, succeeded, failed
    requested_by: Mapped[str] = mapped_column(String(254))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # counts per alert kind, proposed, refused
    batch_id: Mapped[str | None] = mapped_column(String(64))
    markdown: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_report_runs_kind_started", "kind", "started_at"),)


@dataclass(frozen=True)
class ReportRun:
    id: str
    kind: str
    site: str | None
    status: str
    requested_by: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    summary: dict[str, Any]
    batch_id: str | None
    markdown: str
    error: str | None

    @property
    def filename(self) -> str:
        # To the second: two runs in one minute (a cron and a click) must not overwrite each other's report.
        return f"{self.kind}-{self.site or 'all'}-{self.started_at:%Y%m%d-%H%M%S}.md"


def _run(row: ReportRunRow) -> ReportRun:
    return ReportRun(id=row.id, kind=row.kind, site=row.site, status=row.status, requested_by=row.requested_by,
                     started_at=row.started_at, finished_at=row.finished_at, summary=dict(row.summary or {}),
                     batch_id=row.batch_id, markdown=row.markdown or "", error=row.error)


class ReportRuns:
    """The report_runs table: start a run, finish or fail it, list and read runs."""

    def __init__(self, engine: Engine) -> None:
        self.store = Store(engine)

    def start(self, *, kind: str, site: str | None, requested_by: str) -> ReportRun:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        row = ReportRunRow(id=f"{kind}-{utcnow():%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}", kind=kind, site=site,
                           status="running", requested_by=requested_by, started_at=utcnow(), summary={}, markdown="")
        with self.store.write() as s:
            s.add(row)
        return _run(row)

    def finish(self, run_id: str, *, summary: dict[str, Any], markdown: str, batch_id: str | None) -> ReportRun:
        return self._close(run_id, status="succeeded", summary=summary, markdown=markdown, batch_id=batch_id)

    def fail(self, run_id: str, error: str, *, markdown: str = "", summary: dict[str, Any] | None = None) -> ReportRun:
        return self._close(run_id, status="failed", error=error[:4000], markdown=markdown, summary=summary or {})

    def _close(self, run_id: str, **values: Any) -> ReportRun:
        with self.store.write() as s:
            s.execute(update(ReportRunRow).where(ReportRunRow.id == run_id).values(finished_at=utcnow(), **values))
        return self.get(run_id)

    def get(self, run_id: str) -> ReportRun:
        with self.store.read() as s:
            row = s.get(ReportRunRow, run_id)
            if row is None:
                from console.errors import NotFound

                raise NotFound(f"report run {run_id!r} does not exist")
            return _run(row)

    def list(self, *, kind: str | None = None, sites: frozenset[str] | None = None, limit: int = 50) -> list[ReportRun]:
        """Newest first; with `sites`, only runs of those sites (runs over every site need all of them)."""
        stmt = select(ReportRunRow).order_by(ReportRunRow.started_at.desc()).limit(limit)
        if kind:
            stmt = stmt.where(ReportRunRow.kind == kind)
        if sites is not None:
            stmt = stmt.where(ReportRunRow.site.in_(sorted(sites)) | ReportRunRow.site.is_(None))
        with self.store.read() as s:
            runs = [_run(r) for r in s.scalars(stmt)]
        if sites is not None:
            # A run over "every site" holds findings of all of them; show it only to someone who sees them all.
            runs = [r for r in runs if r.site is not None or set(r.summary.get("sites", [])) <= sites]
        return runs


def write_report(output_dir: Path, run: ReportRun) -> Path:
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / run.filename
    path.write_text(run.markdown, encoding="utf-8")
    return path
