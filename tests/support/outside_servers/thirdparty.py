"""A third-party ads server that knows nothing of the console's write contract.

Its `update_daily_budget` applies on every call, whatever extra arguments it gets (an unknown `dry_run` is simply
ignored, as many servers do), and counts its calls in the file named by THIRDPARTY_LEDGER (one JSON line per call).
Run as `python -m tests.support.outside_servers.thirdparty`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import BaseModel, ConfigDict

READ = ToolAnnotations(readOnlyHint=True)


class Budget(BaseModel):
    campaign_id: str
    daily_budget: float
    calls: int


class AnyArguments(BaseModel):
    model_config = ConfigDict(extra="allow")


def _ledger() -> Path:
    return Path(os.environ["THIRDPARTY_LEDGER"])


def _calls() -> list[dict[str, Any]]:
    path = _ledger()
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def build_server() -> MCPServer:
    mcp = MCPServer("thirdparty", instructions="A platform's own ads server (no write contract).")

    @mcp.tool()
    def update_daily_budget(site: str, campaign_id: str, daily_budget: float, dry_run: bool = False) -> Budget:
        """Set a campaign's daily budget (applies at once)."""
        with _ledger().open("a") as fp:  # a real platform would write here; `dry_run` means nothing to it
            fp.write(json.dumps({"campaign_id": campaign_id, "daily_budget": daily_budget, "dry_run": dry_run}) + "\n")
        return Budget(campaign_id=campaign_id, daily_budget=daily_budget, calls=len(_calls()))

    @mcp.tool(annotations=READ)
    def get_budget(site: str, campaign_id: str) -> Budget:
        """The campaign's daily budget."""
        mine = [c for c in _calls() if c["campaign_id"] == campaign_id]
        return Budget(campaign_id=campaign_id, daily_budget=mine[-1]["daily_budget"] if mine else 0.0, calls=len(mine))

    return mcp


if __name__ == "__main__":
    build_server().run()
