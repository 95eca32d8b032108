"""Meta-tests over every bundled server: each tool is tested, annotated, described, site-scoped and typed."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import Tool

from servers.common.config import ServerConfig

pytestmark = pytest.mark.anyio

SERVERS = ("ads", "commerce", "analytics")
TESTS = Path(__file__).resolve().parent
WRITE_CONTROLS = ("dry_run", "approval_token", "idempotency_key", "expected_before")


async def tools_of(name: str, tmp_path: Path) -> list[Tool]:
    """The tools the server lists over MCP (in memory), or a skip while its package does not exist yet."""
    try:
        module = importlib.import_module(f"servers.{name}.server")
    except ModuleNotFoundError as exc:
        if exc.name in (f"servers.{name}", f"servers.{name}.server"):
            pytest.skip(f"servers/{name} has no server module yet")
        raise
    config = ServerConfig(market_database_url=f"sqlite:///{tmp_path / 'market.db'}", approval_secret="meta-test")
    async with Client(module.build_server(config)) as client:
        return (await client.list_tools()).tools


def sources_of_tests(name: str) -> str:
    return "\n".join(p.read_text() for p in sorted((TESTS / name).rglob("*.py")))


@pytest.mark.parametrize("server", SERVERS)
async def test_every_tool_appears_in_a_test_of_its_server(server, tmp_path):
    tools = await tools_of(server, tmp_path)
    text = sources_of_tests(server) if (TESTS / server).is_dir() else ""
    untested = [t.name for t in tools if not re.search(rf"\b{re.escape(t.name)}\b", text)]
    assert untested == [], f"tools of {server} named in no file under tests/servers/{server}/"


def problems_of(tool: Tool) -> list[str]:
    """What a tool lacks of the contract in DESIGN.md §3 and docs/ARCHITECTURE.md."""
    found = []
    hints: Any = tool.annotations
    if hints is None or hints.read_only_hint is None:
        found.append("no explicit readOnlyHint annotation")
    elif hints.read_only_hint is False and (hints.destructive_hint is None or hints.idempotent_hint is None):
        found.append("a write without explicit destructiveHint and idempotentHint")
    description = (tool.description or "").strip()
    if not description or "\n" in description:
        found.append("description is not one line")
    schema = tool.input_schema
    if "site" not in schema.get("properties", {}) or "site" not in schema.get("required", []):
        found.append("`site` is not a required argument")
    if not tool.output_schema:
        found.append("no outputSchema")
    if hints is not None and hints.read_only_hint is False:
        missing = [c for c in WRITE_CONTROLS if c not in schema.get("properties", {})]
        if missing:
            found.append(f"a write without {', '.join(missing)}")
    return found


@pytest.mark.parametrize("server", SERVERS)
async def test_every_tool_keeps_the_tool_contract(server, tmp_path):
    tools = await tools_of(server, tmp_path)
    assert tools, f"{server} lists no tools"
    broken = {t.name: problems for t in tools if (problems := problems_of(t))}
    assert broken == {}


@pytest.mark.parametrize("server", SERVERS)
async def test_tool_names_are_snake_case_and_unique(server, tmp_path):
    names = [t.name for t in await tools_of(server, tmp_path)]
    assert [n for n in names if not re.fullmatch(r"[a-z][a-z0-9_]*", n)] == []
    assert len(names) == len(set(names))
