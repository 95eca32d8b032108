"""servers/common/config.py: a bundled server refuses to start in production with a weak approval secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from servers.common.config import DEV_APPROVAL_SECRET, ServerConfig

ROOT = Path(__file__).resolve().parents[2]
STRONG = "Zq3vN8kR2pW7xL5mT9cB4hJ6fD1sG0aYuE-iO_kP"
WEAK = {
    "unset (the dev default)": None,
    "empty": "",
    "x": "x",
    "changeme": "changeme",
    "31 bytes": "k" * 31,
    "the dev default": DEV_APPROVAL_SECRET,
    "the secrets.toml.example value": "REPLACE-with-a-long-random-string-at-least-32-characters",
    "a placeholder": "change-me-" + "a" * 40,
}


def env(monkeypatch: pytest.MonkeyPatch, environment: str, secret: str | None) -> None:
    monkeypatch.setenv("CONSOLE_ENV", environment)
    if secret is None:
        monkeypatch.delenv("CONSOLE_APPROVAL_SECRET", raising=False)
    else:
        monkeypatch.setenv("CONSOLE_APPROVAL_SECRET", secret)


@pytest.mark.parametrize("secret", list(WEAK.values()), ids=list(WEAK))
def test_production_refuses_a_weak_approval_secret(monkeypatch: pytest.MonkeyPatch, secret: str | None) -> None:
    env(monkeypatch, "production", secret)
    with pytest.raises(RuntimeError) as refused:
        ServerConfig.from_env()
    message = str(refused.value)
    assert "\n" not in message and message.startswith("CONSOLE_APPROVAL_SECRET must be a random value of at least 32")
    assert 'python -c "import secrets; print(secrets.token_urlsafe(48))"' in message


def test_production_accepts_a_strong_secret_and_development_anything(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, "production", STRONG)
    assert ServerConfig.from_env().approval_secret == STRONG
    env(monkeypatch, "development", "x")
    assert ServerConfig.from_env().approval_secret == "x"


def test_a_server_process_will_not_start(tmp_path: Path) -> None:
    environment = {**os.environ, "CONSOLE_ENV": "production", "CONSOLE_APPROVAL_SECRET": "changeme",
                   "MARKET_DATABASE_URL": f"sqlite:///{tmp_path / 'market.db'}"}
    done = subprocess.run([sys.executable, "-m", "servers.ads"], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode != 0
    assert "CONSOLE_APPROVAL_SECRET must be a random value of at least 32 bytes" in done.stderr.strip().splitlines()[-1]
