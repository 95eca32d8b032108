"""Runtime composition and the console schema: migrations match the models on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import SecretStr
from sqlalchemy import inspect

from console.migrations import load_models, migrate_console
from console.runtime import Runtime, bridge_config
from console.settings import DATA_DIR, Settings
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


@pytest.mark.parametrize(("overrides", "anchor"), [
    ({"database_url": "sqlite:////srv/console/console.db"}, "/srv/console/audit-anchor.jsonl"),  # beside its DB
    ({}, str(DATA_DIR / "audit-anchor.jsonl")),  # the default database, the default anchor
    ({"database_url": "postgresql+psycopg://u@db/console"}, str(DATA_DIR / "audit-anchor.jsonl")),
    ({"database_url": "sqlite:////srv/c.db", "audit_anchor": "/worm/anchors/"}, "/worm/anchors/"),  # as configured
    ({"database_url": "sqlite:////srv/c.db", "audit_anchor": ""}, None),  # turned off
    ({"database_url": "sqlite://"}, None),  # an in-memory chain has nothing to anchor
])
def test_the_audit_anchor_follows_the_database_unless_configured(monkeypatch: pytest.MonkeyPatch, overrides: dict,
                                                                  anchor: str | None) -> None:
    for name in ("CONSOLE_DATABASE_URL", "CONSOLE_AUDIT_ANCHOR", "CONSOLE_AUDIT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    config = bridge_config(Settings(audit_secret=SecretStr("a"), **overrides))
    assert (config.audit_secret, config.audit_anchor) == ("a", anchor)


def test_runtime_create_migrates_and_does_not_spawn_servers(console_url: str) -> None:
    with Runtime.create(Settings(database_url=console_url)) as rt:
        assert {s.state for s in rt.bridge.pool.status()} == {"down"}  # the pool opens a server on its first call
        assert rt.users.seed_demo() == 6
        assert rt.bridge.audit.verify().ok
        assert rt.bridge.gate.list() == []


def _saved_sites_migrated(tmp_path, revision: str, insert: str, select: str) -> list[tuple]:
    """Sites us and jp saved (`insert`, with :s) by the schema at `revision`, then migrated to head; `select`'s rows."""
    import sqlalchemy as sa

    from console.migrations import migrate_console

    url = f"sqlite:///{tmp_path / 'console.db'}"
    migrate_console(url, revision)
    engine = sa.create_engine(url)
    with engine.begin() as c:
        for site in ("us", "jp"):
            c.execute(sa.text(insert), {"s": site})
    migrate_console(url)
    with engine.connect() as c:
        rows = c.execute(sa.text(select)).all()
    engine.dispose()
    return rows


def test_migration_0005_scales_the_new_amount_limits_of_a_saved_yen_site(tmp_path) -> None:
    found = _saved_sites_migrated(
        tmp_path, "0004", "INSERT INTO site_policies VALUES (:s, 2, 50, 20, 100, 200, -30, 30, 24, 0)",
        "SELECT site, max_new_bid, max_new_daily_budget, import_price_max, max_discount_pct FROM site_policies")
    rows = {r[0]: tuple(r[1:]) for r in found}
    assert rows == {"us": (5.0, 500.0, 10000.0, 50.0), "jp": (500.0, 50000.0, 1000000.0, 50.0)}


def test_migration_0009_gives_saved_sites_a_fixed_discount_limit_in_their_currency(tmp_path) -> None:
    found = _saved_sites_migrated(
        tmp_path, "0008",
        "INSERT INTO site_policies (site, max_bid_change_abs, max_bid_change_pct, max_bid_change_daily_total, "
        "max_budget_increase_pct, max_budget_increase_abs, price_change_min_pct, price_change_max_pct, expiry_hours, "
        "allow_self_approval) VALUES (:s, 2, 50, 20, 100, 200, -30, 30, 24, 0)",
        "SELECT site, max_discount_fixed FROM site_policies")
    rows = dict(found)
    assert rows == {"us": 100.0, "jp": 10000.0}
