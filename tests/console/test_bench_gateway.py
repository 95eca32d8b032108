"""`python -m console bench gateway` runs end to end in its small mode: both paths measured, no errors, the ratio and
the audit rows per call printed, every process it started gone (the throughput ratio is not asserted: machines are
noisy)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from console.settings import PROJECT_ROOT

ROW = re.compile(r"^  (bare|gateway): .+?\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s+([\d.]+) ms", re.M)


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


@pytest.mark.slow
def test_the_gateway_benchmark_measures_both_paths_without_errors(tmp_path: Path) -> None:
    # Its temporary directory, hence every database path handed to the processes it starts, lies under tmp_path.
    done = subprocess.run([sys.executable, "-m", "console", "bench", "gateway", "--clients", "3", "--seconds", "1",
                           "--rounds", "1"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TMPDIR": str(tmp_path)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert marked(str(tmp_path)) == []  # the ads server, the gateway and the gateway's tool servers are all gone
    assert list(tmp_path.iterdir()) == []  # and so is the temporary directory
    out = done.stdout
    rows = {m.group(1): [float(v) for v in m.groups()[1:]] for m in ROW.finditer(out)}
    assert set(rows) == {"bare", "gateway"}, out
    for path, (calls, rps, p50, p99, errors, cpu_ms) in rows.items():
        assert calls > 0 and rps > 0 and 0 < p50 <= p99, (path, out)
        assert errors == 0 and cpu_ms > 0, (path, out)
    assert "rate limit was raised" in out
    ratio = re.search(r"^gateway/bare throughput: ([\d.]+) \(target >= 0\.8 with 0 errors: (met|MISSED)[^)]*\)$", out, re.M)
    assert ratio and float(ratio.group(1)) > 0, out
    audit = re.search(r"^audit rows the gateway wrote per call: ([\d.]+) \((\d+) rows for (\d+) calls", out, re.M)
    assert audit and float(audit.group(1)) >= 1 and int(audit.group(3)) > 0, out  # every call leaves its request row
    assert "first error" not in out
