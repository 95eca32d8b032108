"""Server-side configuration, read from the environment (servers stand alone: no console imports)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from servers.common.keys import Keyring

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MARKET_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'market.db'}"
DEV_APPROVAL_SECRET = "dev-approval-secret-change-me"


@dataclass(frozen=True)
class ServerConfig:
    market_database_url: str
    approval_secret: str
    # Fixed "today" for deterministic demos and tests (MARKET_TODAY=2026-11-20); None means the real date.
    today_override: dt.date | None = field(default=None)
    # The keyring file with rotated keys (CONSOLE_KEYRING); None: the approval secret is the only key.
    keyring_path: str | None = None
    # The name tokens and credentials must be addressed to: the server's name in the console's CONSOLE_MCP_SERVERS
    # (CONSOLE_SERVER_AUDIENCE); None until `for_server` fills in the server's own name.
    audience: str | None = None

    def today(self) -> dt.date:
        return self.today_override or dt.date.today()

    def for_server(self, name: str) -> ServerConfig:
        """This configuration for the server called `name`, unless an audience was configured."""
        return self if self.audience else dataclasses.replace(self, audience=name)

    @cached_property
    def keyring(self) -> Keyring:
        return Keyring(self.approval_secret, self.keyring_path)

    @classmethod
    def from_env(cls) -> ServerConfig:
        secret = os.environ.get("CONSOLE_APPROVAL_SECRET", DEV_APPROVAL_SECRET)
        # The servers' one list of values documented as examples (the console keeps its own: servers import nothing
        # of it); production refuses them, anything under 32 bytes, and anything with a placeholder marker.
        examples = {DEV_APPROVAL_SECRET, "dev-audit-secret-change-me", "dev-cookie-secret-change-me",
                    "replace-with-a-long-random-string-at-least-32-characters", "replace-me", "password", "changeme",
                    "change-me", "change_me", "secret", "x", "test", "dev", "default", "example"}
        markers = ("replace-", "replace_me", "change-me", "changeme", "change_me", "your-secret", "example")
        lowered = secret.strip().lower()
        if os.environ.get("CONSOLE_ENV") == "production" and (
                len(secret.encode()) < 32 or lowered in examples or any(m in lowered for m in markers)):
            raise RuntimeError(
                "CONSOLE_APPROVAL_SECRET must be a random value of at least 32 bytes, not a default or an example, "
                "when CONSOLE_ENV=production (the same value as the console's); generate one with: "
                'python -c "import secrets; print(secrets.token_urlsafe(48))"')
        return cls(
            market_database_url=os.environ.get("MARKET_DATABASE_URL", DEFAULT_MARKET_URL),
            approval_secret=secret,
            today_override=dt.date.fromisoformat(os.environ["MARKET_TODAY"]) if os.environ.get("MARKET_TODAY") else None,
            keyring_path=os.environ.get("CONSOLE_KEYRING") or None,
            audience=os.environ.get("CONSOLE_SERVER_AUDIENCE") or None,
        )
