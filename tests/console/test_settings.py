from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from console.settings import DEV_APPROVAL_SECRET, DEV_AUDIT_SECRET, DEV_COOKIE_SECRET, Settings, weak_secret

STRONG = "Zq3vN8kR2pW7xL5mT9cB4hJ6fD1sG0aYuE-iO_kP"
STRONG_AUDIT = "u7Yt2LqP9zXc4VbN1mKs8DfG3hJw6ErTa0Sd-Fg_"
WEAK = {
    "empty": "", "x": "x", "changeme": "changeme", "change-me": "change-me", "secret": "secret", "password": "password",
    "31 bytes": "k" * 31, "31 bytes of multibyte text": "秘" * 10 + "k",
    "the approval dev default": DEV_APPROVAL_SECRET, "the audit dev default": DEV_AUDIT_SECRET,
    "the cookie dev default": DEV_COOKIE_SECRET,
    "the secrets.toml.example value": "REPLACE-with-a-long-random-string-at-least-32-characters",
    "the example upper-cased": "REPLACE-WITH-A-LONG-RANDOM-STRING-AT-LEAST-32-CHARACTERS",
    "a long placeholder": "changeme-changeme-changeme-changeme",
}
GENERATE = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'


def test_development_defaults_use_sqlite_under_data(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONSOLE_DATABASE_URL", "MARKET_DATABASE_URL", "CONSOLE_ENV"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith("data/console.db")
    assert settings.market_database_url.endswith("data/market.db")
    assert settings.approval_secret.get_secret_value() == DEV_APPROVAL_SECRET


def test_production_refuses_the_default_approval_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSOLE_ENV", "production")
    monkeypatch.delenv("CONSOLE_APPROVAL_SECRET", raising=False)
    with pytest.raises(ValidationError, match="CONSOLE_APPROVAL_SECRET"):
        Settings()


def test_production_accepts_real_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSOLE_ENV", "production")
    monkeypatch.setenv("CONSOLE_APPROVAL_SECRET", STRONG)
    monkeypatch.setenv("CONSOLE_AUDIT_SECRET", STRONG_AUDIT)
    assert Settings().env == "production"


@pytest.mark.parametrize("value", list(WEAK.values()), ids=list(WEAK))
@pytest.mark.parametrize(("variable", "other"), [("CONSOLE_APPROVAL_SECRET", "CONSOLE_AUDIT_SECRET"),
                                                  ("CONSOLE_AUDIT_SECRET", "CONSOLE_APPROVAL_SECRET")])
def test_production_refuses_a_weak_secret(monkeypatch: pytest.MonkeyPatch, variable: str, other: str, value: str) -> None:
    monkeypatch.setenv("CONSOLE_ENV", "production")
    monkeypatch.setenv(variable, value)
    monkeypatch.setenv(other, STRONG)
    with pytest.raises(ValidationError) as refused:
        Settings()
    (error,) = refused.value.errors()
    assert error["msg"] == (f"Value error, {variable} must be a random value of at least 32 bytes, not a default or an "
                            f"example, when CONSOLE_ENV=production; generate one with: {GENERATE}")


def test_production_names_every_weak_secret_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSOLE_ENV", "production")
    for name in ("CONSOLE_APPROVAL_SECRET", "CONSOLE_AUDIT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValidationError) as refused:
        Settings()
    message = refused.value.errors()[0]["msg"]
    assert "CONSOLE_APPROVAL_SECRET and CONSOLE_AUDIT_SECRET must be" in message and "\n" not in message


@pytest.mark.parametrize("env", ["development", "test"])
def test_weak_secrets_are_fine_outside_production(monkeypatch: pytest.MonkeyPatch, env: str) -> None:
    monkeypatch.setenv("CONSOLE_ENV", env)
    monkeypatch.setenv("CONSOLE_APPROVAL_SECRET", "x")
    assert Settings().approval_secret.get_secret_value() == "x"


def test_weak_secret() -> None:
    assert all(weak_secret(v) for v in (*WEAK.values(), None))
    assert not any(weak_secret(v) for v in (STRONG, STRONG_AUDIT, "k" * 32, "秘" * 11))


def test_market_url_accepts_the_servers_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKET_DATABASE_URL", "sqlite:////tmp/m.db")
    assert Settings().market_database_url == "sqlite:////tmp/m.db"


def test_default_mcp_servers_are_the_bundled_three_over_stdio(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONSOLE_MCP_SERVERS", raising=False)
    servers = Settings().mcp_servers_config["mcpServers"]
    assert sorted(servers) == ["analytics", "ads", "commerce"] or sorted(servers) == ["ads", "analytics", "commerce"]
    assert servers["ads"]["args"] == ["-m", "servers.ads"]
    assert servers["ads"]["env"]["CONSOLE_APPROVAL_SECRET"] == DEV_APPROVAL_SECRET


def test_mcp_servers_from_inline_json_or_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = {"mcpServers": {"ads": {"url": "http://127.0.0.1:8101/mcp"}}}
    monkeypatch.setenv("CONSOLE_MCP_SERVERS", json.dumps(doc))
    assert Settings().mcp_servers_config == doc
    path = tmp_path / "servers.json"
    path.write_text(json.dumps(doc))
    monkeypatch.setenv("CONSOLE_MCP_SERVERS", str(path))
    assert Settings().mcp_servers_config == doc


def test_claude_enabled_only_with_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert Settings().claude_enabled is False
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    assert Settings().claude_enabled is True
    assert "sk-test" not in repr(Settings())


def test_a_fixed_market_today_reaches_the_bundled_servers(monkeypatch) -> None:
    """The SDK gives a stdio server only a minimal environment: MARKET_TODAY must be passed on explicitly."""
    monkeypatch.setenv("MARKET_TODAY", "2026-11-21")
    servers = Settings().mcp_servers_config["mcpServers"]
    assert {name: entry["env"].get("MARKET_TODAY") for name, entry in servers.items()} == {
        "ads": "2026-11-21", "commerce": "2026-11-21", "analytics": "2026-11-21"}
    monkeypatch.delenv("MARKET_TODAY")
    assert "MARKET_TODAY" not in Settings().server_env()
