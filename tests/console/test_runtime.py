"""Runtime composition and the console schema: migrations match the models on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import SecretStr
from sqlalchemy import inspect

from console.migrations import load_models, migrate_console
from console.runtime import Runtime, bridge_config
from console.settings import Settings
from mcp_bridge.store import make_engine


def _differences(url: str) -> list:
    migrate_console(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn, opts={"render_as_batch": True}), load_models())
    finally:
        engine.dispose()


def test_migrations_match_the_models_on_sqlite(console_url: str) -> None:
    assert _differences(console_url) == []


@pytest.mark.postgres
def test_migrations_match_the_models_on_postgres(postgres_url: str) -> None:
    assert _differences(postgres_url) == []


def test_migrating_twice_is_harmless_and_creates_the_gate_tables(console_url: str) -> None:
    migrate_console(console_url)
    migrate_console(console_url)
    engine = make_engine(console_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"operations", "audit_log", "audit_head", "site_policies", "tool_groups", "api_keys", "users", "user_roles",
            "user_sites", "sites"} <= tables


def test_bridge_config_comes_from_settings() -> None:
    settings = Settings(approval_secret=SecretStr("s"), call_timeout_s=5, operation_expiry_hours=12, token_ttl_s=60,
                        mcp_servers='{"mcpServers": {"ads": {"command": "x"}}}')
    config = bridge_config(settings)
    assert (config.approval_secret, config.call_timeout_s, config.operation_expiry_hours, config.token_ttl_s) == (
        "s", 5, 12, 60)
    assert config.mcp_servers == {"mcpServers": {"ads": {"command": "x"}}}
    assert config.bundled == frozenset({"ads", "commerce", "analytics"})


def test_runtime_create_migrates_and_does_not_spawn_servers(console_url: str) -> None:
    with Runtime.create(Settings(database_url=console_url)) as rt:
        assert rt.bridge._pool is None
        assert rt.users.seed_demo() == 6
        assert rt.bridge.audit.verify().ok
        assert rt.bridge.gate.list() == []
