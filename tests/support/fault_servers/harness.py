"""Helpers shared by the session and catalog tests: server entries, polling, process checks, a tiny market."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from servers.market.db import MarketDB
from tests.support.factories import make_profile, make_site

ROOT = Path(__file__).resolve().parents[3]
FAULTY = {"command": sys.executable, "args": ["-m", "tests.support.fault_servers.faulty"], "cwd": str(ROOT)}


def stdio_entry(module: str, **env: str) -> dict:
    """An mcpServers entry running `python -m module` from the project root."""
    return {"command": sys.executable, "args": ["-m", module], "cwd": str(ROOT), "env": env}


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def alive(pid: int) -> bool:
    """True while the process runs (a zombie has exited as far as the tests are concerned)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[-1][:1] != "Z"


def seed_ads_market(url: str) -> str:
    """One site (`us`) with one advertising profile named 'US seller', on a migrated empty market."""
    db = MarketDB(url)
    with db.session() as s:
        make_site(s, "us")
        make_profile(s, "us", account_name="US seller")
    db.engine.dispose()
    return url
