"""Console-side fixtures: a tmp console DB, a market copy, a Runtime/Bridge on real stdio servers."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from console.runtime import Runtime
from console.settings import PROJECT_ROOT, Settings
from mcp_bridge.types import Caller

SECRET = "test-approval-secret"
TODAY = dt.date(2026, 11, 20)  # the seeded demo market's "today"


def sqlite_path(url: str) -> Path:
    return Path(url.split("///", 1)[-1])


def keyword(market_url: str, site: str = "us", *, offset: int = 0) -> tuple[int, float]:
    """(id, bid) of an enabled keyword on a site, with a bid large enough for percentage edits."""
    engine = create_engine(market_url)
    with engine.connect() as c:
        row = c.execute(text("SELECT id, bid FROM keywords WHERE site_id = :s AND state = 'enabled' AND bid >= 0.5 "
                             "ORDER BY id LIMIT 1 OFFSET :o"), {"s": site, "o": offset}).one()
    engine.dispose()
    return int(row[0]), float(row[1])


def market_value(market_url: str, sql: str, **params: object) -> list[tuple]:
    engine = create_engine(market_url)
    with engine.connect() as c:
        rows = [tuple(r) for r in c.execute(text(sql), params)]
    engine.dispose()
    return rows


def servers_document(names: tuple[str, ...], env: dict[str, str]) -> dict:
    return {"mcpServers": {n: {"command": sys.executable, "args": ["-m", f"servers.{n}"], "cwd": str(PROJECT_ROOT),
                               "env": env} for n in names}}


_ANCHORS = Path(tempfile.mkdtemp(prefix="audit-anchors-"))


def audit_anchor(console_url: str) -> str:
    """Each test database's own audit anchor: beside a SQLite file (as the runtime puts it), else in a temp dir."""
    if console_url.startswith("sqlite"):
        return str(sqlite_path(console_url).parent / "audit-anchor.jsonl")
    return str(_ANCHORS / f"{hashlib.sha256(console_url.encode()).hexdigest()[:16]}.jsonl")


def keyring_path(console_url: str) -> str:
    """Each test database's own keyring file (absent until a test rotates): never the project's data/keyring.json."""
    if console_url.startswith("sqlite"):
        return str(sqlite_path(console_url).parent / "keyring.json")
    return str(_ANCHORS / f"{hashlib.sha256(console_url.encode()).hexdigest()[:16]}.keyring.json")


def gate_settings(console_url: str, market_url: str, servers: tuple[str, ...] = ("ads",)) -> Settings:
    env = {"MARKET_DATABASE_URL": market_url, "CONSOLE_APPROVAL_SECRET": SECRET, "CONSOLE_ENV": "test",
           "MARKET_TODAY": TODAY.isoformat(), "CONSOLE_KEYRING": keyring_path(console_url)}
    return Settings(env="test", database_url=console_url, market_database_url=market_url,
                    approval_secret=SecretStr(SECRET), mcp_servers=json.dumps(servers_document(servers, env)),
                    call_timeout_s=20.0, audit_anchor=audit_anchor(console_url), keyring=keyring_path(console_url))


def cli_env(console_url: str, market_url: str, servers: tuple[str, ...] = ("ads",)) -> dict[str, str]:
    """Environment for `python -m console …` subprocesses pointing at the test databases."""
    settings = gate_settings(console_url, market_url, servers)
    return {**os.environ, "CONSOLE_ENV": "test", "CONSOLE_DATABASE_URL": console_url,
            "MARKET_DATABASE_URL": market_url, "CONSOLE_APPROVAL_SECRET": SECRET,
            "CONSOLE_MCP_SERVERS": settings.mcp_servers or "", "PYTHONPATH": str(PROJECT_ROOT),
            "CONSOLE_AUDIT_ANCHOR": settings.audit_anchor, "CONSOLE_KEYRING": settings.keyring}


@pytest.fixture
def console_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'console.db'}"


@pytest.fixture
def gate_market_url(market_url: str) -> str:
    """The market the gate tests write to: a private copy of the seeded demo market."""
    return market_url


def make_runtime(console_url: str, market_url: str, servers: tuple[str, ...] = ("ads",)) -> Runtime:
    """A Runtime on a migrated console DB with the demo users, its bridge on the given bundled servers."""
    rt = Runtime.create(gate_settings(console_url, market_url, servers))
    rt.users.seed_demo()
    return rt


@pytest.fixture
def runtime(console_url: str, gate_market_url: str) -> Iterator[Runtime]:
    """A Runtime on a fresh console DB (demo users seeded) whose bridge talks to the real ads server over stdio."""
    rt = make_runtime(console_url, gate_market_url)
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture
def bridge(runtime: Runtime):
    return runtime.bridge


@pytest.fixture
def callers(runtime: Runtime) -> dict[str, Caller]:
    """The demo users as Callers on the chat channel, keyed by the part before @."""
    return {u.email.split("@")[0]: runtime.users.caller(u.email, "chat") for u in runtime.users.list()}


def applied_writes(market_url: str) -> list[tuple]:
    return market_value(market_url, "SELECT idempotency_key, tool FROM applied_writes ORDER BY idempotency_key")


__all__ = ["SECRET", "applied_writes", "audit_anchor", "cli_env", "gate_settings", "keyring_path", "keyword",
           "market_value"]
