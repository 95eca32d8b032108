"""Console-side fixtures (gate helper): a tmp console DB, a market copy, a Runtime/Bridge on real stdio servers."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
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


def build_small_market(url: str) -> None:
    """A tiny market (3 sites, a few keywords with known bids) for when the data helper's fixture is absent."""
    from servers.market.db import MarketDB, migrate
    from servers.market.models import AdGroup, AdProfile, Campaign, Keyword, Site

    migrate(url)
    db = MarketDB(url)
    with db.session() as s:
        for sid, cur, region in (("us", "USD", "NA"), ("de", "EUR", "EU"), ("jp", "JPY", "FE")):
            s.add(Site(id=sid, name=sid.upper(), marketplace=f"amazon.{sid}", region=region, currency=cur,
                       timezone="UTC", acos_target=0.3))
        s.flush()
        for sid, bid in (("us", 1.50), ("de", 1.20), ("jp", 100.0)):
            prof = AdProfile(site_id=sid, platform="amazon", account_name=f"acct {sid}", account_type="seller")
            s.add(prof)
            s.flush()
            camp = Campaign(site_id=sid, profile_id=prof.id, platform="amazon", name=f"{sid} manual", campaign_type="SP",
                            targeting="manual", state="enabled", daily_budget=50.0, start_date=dt.date(2026, 1, 1))
            s.add(camp)
            s.flush()
            group = AdGroup(site_id=sid, campaign_id=camp.id, name="main", default_bid=bid, state="enabled")
            s.add(group)
            s.flush()
            for i, word in enumerate(("yoga mat", "yoga block", "yoga strap", "cork mat", "mat bag")):
                s.add(Keyword(site_id=sid, campaign_id=camp.id, ad_group_id=group.id, text=word, match_type="exact",
                              bid=round(bid + i * 0.1 * (100 if sid == "jp" else 1), 2), state="enabled"))
    db.engine.dispose()


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


def gate_settings(console_url: str, market_url: str, servers: tuple[str, ...] = ("ads",)) -> Settings:
    env = {"MARKET_DATABASE_URL": market_url, "CONSOLE_APPROVAL_SECRET": SECRET, "CONSOLE_ENV": "test",
           "MARKET_TODAY": TODAY.isoformat()}
    return Settings(env="test", database_url=console_url, market_database_url=market_url,
                    approval_secret=SecretStr(SECRET), mcp_servers=json.dumps(servers_document(servers, env)),
                    call_timeout_s=20.0)


def cli_env(console_url: str, market_url: str, servers: tuple[str, ...] = ("ads",)) -> dict[str, str]:
    """Environment for `python -m console …` subprocesses pointing at the test databases."""
    settings = gate_settings(console_url, market_url, servers)
    return {**os.environ, "CONSOLE_ENV": "test", "CONSOLE_DATABASE_URL": console_url,
            "MARKET_DATABASE_URL": market_url, "CONSOLE_APPROVAL_SECRET": SECRET,
            "CONSOLE_MCP_SERVERS": settings.mcp_servers or "", "PYTHONPATH": str(PROJECT_ROOT)}


@pytest.fixture
def console_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'console.db'}"


@pytest.fixture(scope="session")
def _gate_market_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('gate-market') / 'market.db'}"
    build_small_market(url)
    return url


@pytest.fixture
def gate_market_url(request: pytest.FixtureRequest, tmp_path: Path, _gate_market_template: str) -> str:
    """A private SQLite copy of the market (the data helper's `market_url` when present) for one test."""
    try:
        return request.getfixturevalue("market_url")  # already a private copy of the seeded demo market
    except pytest.FixtureLookupError:
        pass
    target = tmp_path / "gate-market.db"
    shutil.copyfile(sqlite_path(_gate_market_template), target)
    return f"sqlite:///{target}"


class MiniCatalog:
    """Stand-in for mcp_bridge.catalog until it lands: annotations decide read/write; managers only read."""

    def __init__(self, pool) -> None:
        from mcp_bridge.types import ToolSpec

        self._specs = {}
        for server in pool.servers:
            for tool in pool.list_tools(server):
                ann = tool.annotations.model_dump() if tool.annotations else {}
                self._specs[f"{server}__{tool.name}"] = ToolSpec(
                    f"{server}__{tool.name}", server, tool.name, tool.description or "", tool.input_schema,
                    not ann.get("read_only_hint", ann.get("readOnlyHint", False)), ann)

    def specs(self):
        return list(self._specs.values())

    def get(self, name):
        from mcp_bridge.errors import NotFound

        if name not in self._specs:
            raise NotFound(f"no tool {name}")
        return self._specs[name]

    def for_caller(self, caller, group=None):
        writer = caller.has("seller")
        return [s for s in self._specs.values() if writer or not s.is_write]


class InMemoryPool:
    """Stand-in for mcp_bridge.sessions while it is being written: in-process servers on one portal thread."""

    def __init__(self, market_url: str, servers: tuple[str, ...] = ("ads",)) -> None:
        import importlib

        from anyio.from_thread import start_blocking_portal
        from mcp import Client

        from servers.common.config import ServerConfig

        self.servers = list(servers)
        self._cm = start_blocking_portal()
        self._portal = self._cm.__enter__()
        config = ServerConfig(market_url, SECRET, TODAY)
        self._clients, self._contexts = {}, []
        for name in servers:
            server = importlib.import_module(f"servers.{name}.server").build_server(config)
            client = Client(server)
            self._contexts.append(self._portal.wrap_async_context_manager(client))
            self._clients[name] = self._contexts[-1].__enter__()

    def list_tools(self, server):
        return self._portal.call(self._clients[server].list_tools).tools

    def call(self, server, tool, arguments, *, timeout=None, retry=False):
        return self._portal.call(self._clients[server].call_tool, tool, arguments)

    def close(self):
        for context in self._contexts:
            context.__exit__(None, None, None)
        self._cm.__exit__(None, None, None)


def attach_catalog(rt: Runtime, servers: tuple[str, ...] = ("ads",)) -> None:
    import importlib.util

    if importlib.util.find_spec("mcp_bridge.catalog") is None:
        rt.bridge._pool = InMemoryPool(rt.settings.market_database_url, servers)
        rt.bridge._catalog = MiniCatalog(rt.bridge._pool)


def make_runtime(console_url: str, market_url: str, servers: tuple[str, ...] = ("ads",)) -> Runtime:
    """A Runtime on a migrated console DB with the demo users, its bridge on the given bundled servers."""
    rt = Runtime.create(gate_settings(console_url, market_url, servers))
    rt.users.seed_demo()
    attach_catalog(rt, servers)
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


__all__ = ["SECRET", "applied_writes", "build_small_market", "cli_env", "gate_settings", "keyword", "market_value"]
