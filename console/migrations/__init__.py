"""Migrations of the console database: `migrate_console(url)` brings it to the newest revision."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Alembic is imported when a migration runs, not by every start that finds the schema current
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent
# Modules whose tables live in the console database; each revision's owner adds theirs here.
MODEL_MODULES = ("mcp_bridge.store", "console.models", "mcp_bridge.catalog.pins", "mcp_bridge.agent.conversations",
                 "console.reports.runs", "console.gateway.models", "mcp_bridge.audit.archive_files")


def load_models():
    """Import every module that defines console tables; returns the shared metadata."""
    import importlib
    import importlib.util

    for name in MODEL_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    from mcp_bridge.store import Base

    return Base.metadata


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


REVISION_LINE = re.compile(r"^(down_revision|revision)\b[^=]*=\s*(?:'([^']*)'|None)", re.M)


def heads() -> set[str]:
    """The newest revisions, read from the revision files' `revision` and `down_revision` lines (no Alembic import)."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict((name, value) for name, value in REVISION_LINE.findall(path.read_text()))
        if "revision" in found:
            revisions.add(found["revision"])
        if found.get("down_revision"):
            parents.add(found["down_revision"])
    return revisions - parents


def at_revision(url: str, revision: str = "head") -> bool:
    """Whether the database already stands at `revision` (a quick read of alembic_version: a start that finds the
    schema current skips Alembic, about 0.5 s of a CLI command's wall)."""
    from sqlalchemy import create_engine, inspect, text

    wanted = heads() if revision == "head" else {revision}
    if not wanted:
        return False
    engine = create_engine(url, pool_size=1, max_overflow=0) if not url.startswith("sqlite") else create_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return False
            return {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))} == wanted
    finally:
        engine.dispose()


MIGRATION_LOCK = 0x636F6E736F6C65  # any constant: the PostgreSQL advisory lock every console replica migrates under


def migrate_console(url: str, revision: str = "head") -> None:
    """Bring the console schema to `revision` (the newest by default).

    Replicas starting together would each run the same migration; on PostgreSQL they take turns under an advisory
    lock, and the ones that come later find the schema at head and do nothing. (SQLite has one writer anyway.)
    """
    if at_revision(url, revision):
        return
    from alembic import command
    from sqlalchemy import create_engine, make_url, text

    if make_url(url).get_backend_name() != "postgresql":
        command.upgrade(alembic_config(url), revision)
        return
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as lock:
            lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                command.upgrade(alembic_config(url), revision)
            finally:
                lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
    finally:
        engine.dispose()
