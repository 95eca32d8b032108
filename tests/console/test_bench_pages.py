"""`python -m console bench pages` in its tiny mode (one role, two pages, no simultaneous sessions) prints a table
with figures, and leaves no process or temporary directory behind (the figures themselves are not asserted: machines
are noisy)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from console.settings import PROJECT_ROOT
from tests.conftest import require_or_skip

CHROMIUM = Path("/usr/bin/chromium")
MS = r"\d[\d,]*"
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def marked(mark: str) -> list[int]:
    """Processes whose environment carries `mark`."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if mark.encode() in environ.read_bytes():
                found.append(int(environ.parent.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def test_the_pages_benchmark_prints_figures_for_one_role_and_two_pages() -> None:
    require_or_skip(CHROMIUM.exists(), "Chromium is not installed (apt-get install -y chromium)")
    require_or_skip(importlib.util.find_spec("playwright") is not None, "the playwright package is not installed")
    # Its temporary directory, hence every database path handed to the app it starts, lies under tmp_path: a short
    # one, since Chromium puts a Unix socket there and refuses a socket path over 107 bytes.
    tmp_path = Path(tempfile.mkdtemp(prefix="bench-pages-", dir="/tmp"))
    done = subprocess.run([sys.executable, "-m", "console", "bench", "pages", "--role", "manager", "--page", "Home",
                           "--page", "Ads", "--sessions", "0"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=900, env={**os.environ, "TMPDIR": str(tmp_path)})
    table = done.stdout
    assert done.returncode == 0, table + done.stderr
    assert re.search(rf"^first dashboard after the app starts \(spawn → Ads ready\): {MS} ms, console CPU {MS} ms; "
                     rf"health check answering → Ads ready: -?{MS} ms$",
                     table, re.M), table
    # role, page (*: landing), wall cold, warm, warm/cold; CPU console and browser cold, warm; reads cold, warm;
    # audit rows; charts; KB cold, warm
    figures = rf" +{MS} +{MS} +[\d.]+× +{MS} +{MS} +{MS} +{MS}"
    assert re.search(rf"^manager +Home \*{figures} +\d+ +\d+ +\d+ +\d+ +{MS} +{MS}$", table, re.M), table
    assert re.search(rf"^manager +Ads{figures} +[1-9]\d* +\d+ +[1-9]\d* +\d+ +{MS} +{MS}$", table, re.M), table
    assert re.search(rf"^Ads: Date range Last 30 days → Last 7 days( +{MS}){{7}} +\d+$", table, re.M), table
    assert "not measured" not in table and "sessions at once" not in table
    assert marked(str(tmp_path)) == []  # the console and its MCP servers are gone
    assert list(tmp_path.iterdir()) == []  # and so is the temporary directory
    tmp_path.rmdir()
