"""Migrations of the console database: `migrate_console(url)` brings it to the newest revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent
# Modules whose tables live in the console database; each revision's owner adds theirs here.
MODEL_MODULES = ("mcp_bridge.store", "console.models", "mcp_bridge.pins", "mcp_bridge.conversations",
                 "console.report_runs", "console.reports_store")


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
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate_console(url: str, revision: str = "head") -> None:
    """Bring the console schema to `revision` (the newest by default)."""
    command.upgrade(alembic_config(url), revision)
