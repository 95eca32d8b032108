"""Engine, sessions and migrations of the market database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from servers.common.errors import SiteScopeRequired
from servers.market.models import Site

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine with SQLite set up for several processes (WAL, busy timeout, foreign keys)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - exercised by every test
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str) -> Config:
    """Alembic's configuration for the market migrations against `url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    """Bring the market schema to the newest migration."""
    command.upgrade(alembic_config(url), "head")


class MarketDB:
    """The market database as the servers see it: one engine, short transactions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on any error."""
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def reader(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session


def require_site(session: Session, site: str | None) -> Site:
    """The site row, or SITE_SCOPE_REQUIRED naming the sites that exist."""
    if site:
        row = session.get(Site, site)
        if row is not None:
            return row
    known = ", ".join(session.scalars(select(Site.id).order_by(Site.id)))
    what = f"unknown site {site!r}" if site else "a site is required"
    raise SiteScopeRequired(f"{what}; pass one of: {known}")


def parse_date_range(start: str | None, end: str | None, *, default_days: int = 30, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """Inclusive (start, end) from ISO dates; the last `default_days` days up to today when absent."""
    from servers.common.errors import ValidationFailed

    today = today or dt.date.today()
    try:
        end_d = dt.date.fromisoformat(end) if end else today
        start_d = dt.date.fromisoformat(start) if start else end_d - dt.timedelta(days=default_days - 1)
    except ValueError as exc:
        raise ValidationFailed(f"dates must look like 2026-11-21 ({exc})") from None
    if start_d > end_d:
        raise ValidationFailed(f"start_date {start_d} is after end_date {end_d}")
    if (end_d - start_d).days > 731:
        raise ValidationFailed("a date range may span at most two years")
    return start_d, end_d
