"""The one settings object (env prefix CONSOLE_); refuses default secrets in production."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_ROOT / "data"
DEV_APPROVAL_SECRET = "dev-approval-secret-change-me"
DEV_AUDIT_SECRET = "dev-audit-secret-change-me"
# A placeholder an [auth] cookie_secret must not keep (console/auth.py refuses it).
DEV_COOKIE_SECRET = "dev-cookie-secret-change-me"

# Production refuses a secret shorter than this, equal to a value documented anywhere as an example (the defaults
# above, README.md, .streamlit/secrets.toml.example, the usual placeholders) or containing a placeholder marker.
# The one list for the console; the servers keep their own in servers/common/config.py (they import nothing of ours).
MIN_SECRET_BYTES = 32
KNOWN_EXAMPLE_SECRETS = frozenset(value.lower() for value in (
    DEV_APPROVAL_SECRET, DEV_AUDIT_SECRET, DEV_COOKIE_SECRET,
    "REPLACE-with-a-long-random-string-at-least-32-characters", "GOCSPX-replace-me", "replace-me", "PASSWORD",
    "changeme", "change-me", "change_me", "secret", "password", "x", "test", "dev", "default", "example",
))
PLACEHOLDER_MARKERS = ("replace-", "replace_me", "change-me", "changeme", "change_me", "your-secret", "example")
GENERATE_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'

# USD per million tokens: input, output, cache write (5 min), cache read.
DEFAULT_PRICES: dict[str, dict[str, float]] = {
    "claude-opus-5-5": {"input": 15.0, "output": 75.0, "cache_write": 18.75, "cache_read": 1.5},
    "claude-sonnet-5-5": {"input": 3.0, "output": 15.0, "cache_write": 3.75, "cache_read": 0.3},
    "claude-haiku-5-5": {"input": 1.0, "output": 5.0, "cache_write": 1.25, "cache_read": 0.1},
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSOLE_", extra="ignore", populate_by_name=True)

    env: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{DATA_DIR / 'console.db'}"
    market_database_url: str = Field(
        f"sqlite:///{DATA_DIR / 'market.db'}",
        validation_alias=AliasChoices("MARKET_DATABASE_URL", "CONSOLE_MARKET_DATABASE_URL"),
    )
    approval_secret: SecretStr = SecretStr(DEV_APPROVAL_SECRET)
    # Rotated approval keys (python -m console secrets rotate); the master secret alone while the file is absent.
    keyring: str = str(DATA_DIR / "keyring.json")
    # The audit chain's HMAC key; never stored in the console database.
    audit_secret: SecretStr = SecretStr(DEV_AUDIT_SECRET)
    # Where signed checkpoints of the audit chain's head are appended: a file, or a directory.
    audit_anchor: str = str(DATA_DIR / "audit-anchor.jsonl")
    # A fixed "today" for the market (demos, tests), handed to the bundled servers; None means the real date.
    market_today: str | None = Field(None, validation_alias=AliasChoices("MARKET_TODAY", "CONSOLE_MARKET_TODAY"))
    admin_emails: list[str] = Field(default_factory=list)
    # JSON list of e-mail domains whose OIDC sign-ins may lack email_verified=true (providers that never send the
    # claim); every other OIDC sign-in without it is refused.
    oidc_unverified_domains: list[str] = Field(default_factory=list)

    # MCP servers: a path to, or the text of, a Claude-Desktop-style {"mcpServers": {...}} document.
    mcp_servers: str | None = None
    call_timeout_s: float = 30.0
    read_retries: int = 1
    # Processes a stdio server may get while calls overlap (opened on demand, ~100 MB each). Two let a server's work
    # use both cores of a small machine (+20-30% reads/s for 50 sessions in `bench concurrency`); more gained little.
    sessions_per_server: int = Field(2, ge=1, le=16)
    operation_expiry_hours: float = 24.0
    token_ttl_s: int = 300
    result_write_timeout_s: float = 120.0

    anthropic_api_key: SecretStr | None = Field(None, validation_alias=AliasChoices("ANTHROPIC_API_KEY", "CONSOLE_ANTHROPIC_API_KEY"))
    anthropic_base_url: str | None = Field(None, validation_alias=AliasChoices("ANTHROPIC_BASE_URL", "CONSOLE_ANTHROPIC_BASE_URL"))
    model: str = "claude-sonnet-5-5"
    max_tokens: int = 4096
    max_tool_rounds: int = 8
    context_budget_tokens: int = 150_000
    prices: dict[str, dict[str, float]] = Field(default_factory=lambda: dict(DEFAULT_PRICES))
    # The gateway for outside MCP clients (`python -m console gateway`): its public URL (the OAuth issuer and the
    # audience of its tokens; None: http://<host>:<port>), token lifetimes and rate limits per key and per person.
    gateway_url: str | None = None
    gateway_access_token_ttl_s: int = 900
    gateway_refresh_token_ttl_s: int = 30 * 86400
    gateway_rate_per_minute: float = 600.0
    gateway_burst: int = 120

    @model_validator(mode="after")
    def _refuse_weak_secrets_in_production(self) -> Settings:
        # The sign-in cookie secret lives in [auth] of secrets.toml; console/auth.py refuses a weak one the same way.
        if self.env != "production":
            return self
        weak = [name for name, secret in (("CONSOLE_APPROVAL_SECRET", self.approval_secret),
                                          ("CONSOLE_AUDIT_SECRET", self.audit_secret))
                if weak_secret(secret.get_secret_value())]
        if weak:
            raise ValueError(f"{' and '.join(weak)} must be a random value of at least {MIN_SECRET_BYTES} bytes, not a "
                             f"default or an example, when CONSOLE_ENV=production; generate one with: {GENERATE_SECRET}")
        return self

    @property
    def claude_enabled(self) -> bool:
        return self.anthropic_api_key is not None and bool(self.anthropic_api_key.get_secret_value())

    @cached_property
    def mcp_servers_config(self) -> dict[str, Any]:
        """The mcpServers document: the bundled servers over stdio unless configured otherwise."""
        if not self.mcp_servers:
            return default_mcp_servers(self)
        text = self.mcp_servers
        if not text.lstrip().startswith("{"):
            text = Path(text).read_text()
        return json.loads(text)

    def server_env(self) -> dict[str, str]:
        """Environment handed to the bundled servers (they read the same variables)."""
        # The SDK starts a stdio server with a minimal environment, so what they share must be passed on.
        return {
            "MARKET_DATABASE_URL": self.market_database_url,
            "CONSOLE_APPROVAL_SECRET": self.approval_secret.get_secret_value(),
            "CONSOLE_KEYRING": self.keyring,
            "CONSOLE_ENV": self.env,
            **({"MARKET_TODAY": self.market_today} if self.market_today else {}),
        }


def weak_secret(value: str | None) -> bool:
    """True for a secret production must refuse: missing, under MIN_SECRET_BYTES, a documented example or placeholder."""
    if not value or len(value.encode()) < MIN_SECRET_BYTES:
        return True
    lowered = value.strip().lower()
    return lowered in KNOWN_EXAMPLE_SECRETS or any(marker in lowered for marker in PLACEHOLDER_MARKERS)


def default_mcp_servers(settings: Settings) -> dict[str, Any]:
    import sys

    return {
        "mcpServers": {
            name: {
                "command": sys.executable,
                "args": ["-m", f"servers.{name}"],
                "cwd": str(PROJECT_ROOT),
                "env": settings.server_env(),
            }
            for name in ("ads", "commerce", "analytics")
        }
    }
