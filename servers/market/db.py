"""Engine, sessions and migrations of the market database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, make_url, select, text
from sqlalchemy.orm import Session, sessionmaker

from servers.common.errors import SiteScopeRequired, ValidationFailed
from servers.common.inputs import quote
from servers.market.models import Site

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

if TYPE_CHECKING:  # Alembic loads when a migration runs, not with every server process
    from alembic.config import Config


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
    from alembic.config import Config

    """Alembic's configuration for the market migrations against `url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


MIGRATION_LOCK = 0x6D61726B6574  # the PostgreSQL advisory lock servers starting together migrate under


def migrate(url: str) -> None:
    """Bring the market schema to the newest migration (on PostgreSQL one process at a time: the others wait, then
    find it at head)."""
    from alembic import command

    if make_url(url).get_backend_name() != "postgresql":
        command.upgrade(alembic_config(url), "head")
        return
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as lock:
            lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                command.upgrade(alembic_config(url), "head")
            finally:
                lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
    finally:
        engine.dispose()


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
    what = f"unknown site {quote(site, 40)}" if site else "a site is required"
    raise SiteScopeRequired(f"{what}; pass one of: {known}")


# The days a date argument may name: beyond them a date is a typo, and date arithmetic near year 1 or 9999 overflows.
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2100, 12, 31)


def parse_day(value: str, argument: str) -> dt.date:
    """An ISO date between FIRST_DAY and LAST_DAY, or VALIDATION_FAILED naming the argument."""
    try:
        day = dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{argument} must look like 2026-11-21; got {quote(value)}") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationFailed(f"{argument} must be between {FIRST_DAY} and {LAST_DAY}; got {day}")
    return day


def parse_date_range(start: str | None, end: str | None, *, default_days: int = 30, today: dt.date | None = None,
                     names: tuple[str, str] = ("start_date", "end_date")) -> tuple[dt.date, dt.date]:
    """Inclusive (start, end) from ISO dates; the last `default_days` days up to today when absent."""
    end_d = parse_day(end, names[1]) if end else today or dt.date.today()
    start_d = parse_day(start, names[0]) if start else end_d - dt.timedelta(days=default_days - 1)
    if start_d > end_d:
        raise ValidationFailed(f"{names[0]} {start_d} is after {names[1]} {end_d}")
    if (end_d - start_d).days > 731:
        raise ValidationFailed("a date range may span at most two years")
    return start_d, end_d
