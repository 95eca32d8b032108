"""Server-side configuration, read from the environment (servers stand alone: no console imports)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MARKET_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'market.db'}"
DEV_APPROVAL_SECRET = "dev-approval-secret-change-me"


@dataclass(frozen=True)
class ServerConfig:
    market_database_url: str
    approval_secret: str
    # Fixed "today" for deterministic demos and tests (MARKET_TODAY=2026-11-20); None means the real date.
    today_override: dt.date | None = field(default=None)

    def today(self) -> dt.date:
        return self.today_override or dt.date.today()

    @classmethod
    def from_env(cls) -> ServerConfig:
        secret = os.environ.get("CONSOLE_APPROVAL_SECRET", DEV_APPROVAL_SECRET)
        if os.environ.get("CONSOLE_ENV") == "production" and secret == DEV_APPROVAL_SECRET:
            raise RuntimeError("CONSOLE_APPROVAL_SECRET must be set to a non-default value in production")
        return cls(
            market_database_url=os.environ.get("MARKET_DATABASE_URL", DEFAULT_MARKET_URL),
            approval_secret=secret,
            today_override=dt.date.fromisoformat(os.environ["MARKET_TODAY"]) if os.environ.get("MARKET_TODAY") else None,
        )
