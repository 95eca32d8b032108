"""The catalog on real sessions: the bundled ads server's annotations, an outside server, a migrated console DB."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from console.migrations import migrate_console
from mcp_bridge.catalog.catalog import Catalog
from mcp_bridge.sessions.pool import SessionPool
from mcp_bridge.store import make_engine
from mcp_bridge.types import BridgeConfig, Caller
from tests.support.fault_servers.harness import FAULTY, seed_ads_market, stdio_entry

SELLER = Caller("seller@demo.local", frozenset({"seller"}), frozenset({"us"}), "chat")
ADMIN = Caller("admin@demo.local", frozenset({"admin"}), frozenset({"us"}), "ui")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    migrate_console(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def make_catalog(empty_market_url: str, engine: Engine, bundled: frozenset[str]) -> tuple[SessionPool, Catalog]:
    servers = {"ads": stdio_entry("servers.ads", MARKET_DATABASE_URL=seed_ads_market(empty_market_url)),
               "faulty": FAULTY}
    config = BridgeConfig({"mcpServers": servers}, approval_secret="s", bundled=bundled)
    pool = SessionPool(config)
    return pool, Catalog(pool, engine, config)


def test_bundled_annotations_decide_and_outside_tools_are_writes(empty_market_url: str, engine: Engine) -> None:
    pool, catalog = make_catalog(empty_market_url, engine, frozenset({"ads"}))
    with pool:
        specs = {s.name: s for s in catalog.specs()}
        tools = {t.name: t for t in pool.list_tools("ads")}
        for name, tool in tools.items():
            assert specs[f"ads__{name}"].is_write is (not tool.annotations.read_only_hint), name
        assert {"ads__list_profiles", "ads__update_bid"} <= set(specs)
        assert specs["ads__update_bid"].is_write and not specs["ads__list_profiles"].is_write
        # faulty is not bundled: even its read-only annotated tools count as writes.
        assert all(s.is_write for s in specs.values() if s.server == "faulty")

        seller_tools = catalog.anthropic_tools(SELLER)
        assert {t["name"] for t in seller_tools} == {n for n in specs if n.startswith("ads__")}
        json.dumps(seller_tools)  # what goes to the Messages API is plain JSON
        bid = next(t for t in seller_tools if t["name"] == "ads__update_bid")
        assert set(bid["input_schema"]["properties"]) == {"site", "keyword_id", "bid"}
        assert bid["input_schema"]["properties"]["site"]["enum"] == ["us"]
        assert seller_tools[-1]["cache_control"] == {"type": "ephemeral"}
        assert all(p.pinned_by == "trust-on-first-use" for p in catalog.pins.list())


def test_a_trusted_server_without_annotations_is_still_a_write(empty_market_url: str, engine: Engine) -> None:
    pool, catalog = make_catalog(empty_market_url, engine, frozenset({"ads", "faulty"}))
    with pool:
        kinds = {s.tool: s.is_write for s in catalog.specs() if s.server == "faulty"}
    assert kinds == {"echo": False, "hang": False, "garbage": False, "nonsense": False, "bump": True,
                     "unannotated": True}
