"""The market migrations build exactly the schema the models describe (no drift, no create_all)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from servers.market.db import make_engine, migrate
from servers.market.models import Base


def test_migrations_match_models(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'market.db'}"
    migrate(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_migrate_is_idempotent(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'market.db'}"
    migrate(url)
    migrate(url)
