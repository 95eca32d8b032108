"""`python -m console bench cli -n 1` prints the command line's table, the agent's start apart, and stops the agent it
started (the figures themselves are not asserted: machines are noisy)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from console.settings import PROJECT_ROOT

MS = r"\d[\d,]*"


@pytest.mark.slow
def test_bench_cli_prints_each_command_both_ways_and_leaves_no_agent(tmp_path) -> None:
    proc = subprocess.run([sys.executable, "-m", "console", "bench", "cli", "-n", "1"], cwd=PROJECT_ROOT, text=True,
                          capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert re.search(rf"the agent's first command \(starts it\): {MS} ms", out)
    for name in ("ops list", "ops approve", "chat"):
        assert re.search(rf"^{name} +{MS} ms +{MS} ms +\d+\.\d\d× +{MS} ms (ok|MISSED)$", out, re.M), out
    leftover = subprocess.run(["pgrep", "-f", "console.cli_agent.server /tmp/bench-cli-"], capture_output=True, text=True)
    assert leftover.stdout == ""
