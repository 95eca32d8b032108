"""Shared fixtures: fixtures live in tests/support/<module>.py and are loaded here."""

from __future__ import annotations

import importlib.util
import os

import pytest

# Fixture modules, one per concern (tests/support/). Loaded when present.
_SUPPORT = ("market", "console_db", "postgres", "messages_stub", "oidc_provider", "app_server")
pytest_plugins = [f"tests.support.{m}" for m in _SUPPORT if importlib.util.find_spec(f"tests.support.{m}") is not None]

IN_CI = os.environ.get("CI") == "true"
# Commands run by tests answer in their own process: a warm agent (console/cli_agent/) per test environment would
# outlive the test. tests/console/test_cli_agent.py turns it on where it is the subject.
os.environ["CONSOLE_CLI_AGENT"] = "off"


def require_or_skip(available: bool, reason: str) -> None:
    """In CI a missing dependency fails the test; on a laptop it skips with the reason."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)
