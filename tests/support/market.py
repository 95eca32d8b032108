"""Market database fixtures for every test that talks to the bundled servers.

`market_template` seeds the demo data once per session; `market_url` hands each test its own copy
of that file, so writes never leak from one test into another.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import pytest

from servers.common.config import ServerConfig
from servers.market.db import migrate
from servers.market.seed import seed_market

TODAY = dt.date(2026, 11, 20)
SEED = 7


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def copy_sqlite(src: Path, dst: Path) -> None:
    """Copy a SQLite database file whole: fold the WAL into it first, then copy the one file."""
    with sqlite3.connect(src) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    shutil.copyfile(src, dst)


@pytest.fixture(scope="session")
def market_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file seeded with `demo` data (seed 7, today 2026-11-20); never write to it, copy it."""
    path = tmp_path_factory.mktemp("market") / "template.db"
    seed_market(sqlite_url(path), scale="demo", seed=SEED, today=TODAY)
    return path


@pytest.fixture
def market_url(market_template: Path, tmp_path: Path) -> str:
    """URL of a private copy of the seeded demo market database."""
    path = tmp_path / "market.db"
    copy_sqlite(market_template, path)
    return sqlite_url(path)


@pytest.fixture
def empty_market_url(tmp_path: Path) -> str:
    """URL of a migrated market database with no rows (build what you need with tests.support.factories)."""
    url = sqlite_url(tmp_path / "empty-market.db")
    migrate(url)
    return url


@pytest.fixture
def server_config(market_url: str) -> ServerConfig:
    """Server configuration over the private demo copy, with today fixed to 2026-11-20."""
    return ServerConfig(market_database_url=market_url, approval_secret="test-secret", today_override=TODAY)


@pytest.fixture
def empty_server_config(empty_market_url: str) -> ServerConfig:
    """Server configuration over the empty market database, with today fixed to 2026-11-20."""
    return ServerConfig(market_database_url=empty_market_url, approval_secret="test-secret", today_override=TODAY)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
