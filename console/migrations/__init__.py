"""Migrations of the console database: `migrate_console(url)` brings it to the newest revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate_console(url: str, revision: str = "head") -> None:
    """Bring the console schema to `revision` (the newest by default)."""
    command.upgrade(alembic_config(url), revision)
