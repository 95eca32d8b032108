"""The scale-out rehearsal (`make rehearse`) as a test: PostgreSQL, servers over HTTP, two console replicas, two
gateway replicas; one execution for an operation approved from both replicas at once; reads recover after a server
is killed and restarted, and nothing runs twice."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.conftest import require_or_skip
from tests.support.postgres import postgres_available

ROOT = Path(__file__).resolve().parents[2]


def test_the_scaled_out_deployment_works_as_one() -> None:
    require_or_skip(postgres_available(), "PostgreSQL binaries are not installed (apt-get install -y postgresql)")
    require_or_skip(Path("/usr/bin/chromium").exists(), "Chromium is not installed (apt-get install -y chromium)")
    # A short working directory: PostgreSQL's and Chromium's Unix sockets lie under it, and both refuse a socket
    # path over 107 bytes.
    with tempfile.TemporaryDirectory(prefix="rehearse-", dir="/tmp") as workdir:
        done = subprocess.run([sys.executable, "deploy/rehearse.py", "--workdir", workdir, "--seconds", "2",
                               "--clients", "8", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode in (0, 1), done.stderr[-4000:]
    assert done.stdout.strip(), f"the rehearsal printed no figures (exit {done.returncode}):\n{done.stderr[-4000:]}"
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    approval = figures["double_approval"]
    assert (approval["status"], approval["executions"], approval["approved_rows"]) == ("succeeded", 1, 1), approval
    assert len(approval["answers"]) == 2 and any(a.startswith("Approved") for a in approval["answers"]), approval
    restart = figures["restart"]
    assert restart["before"] == "ok" and restart["after"] == ["ok", "ok"], restart
    assert restart["while_down"] != "ok", restart
    assert restart["applied_writes_after"] == restart["applied_writes_before"], restart
    for run in ("one_replica", "two_replicas"):
        assert figures["throughput"][run]["errors"] == 0 and figures["throughput"][run]["reads"] > 0, figures
    assert figures["ok"] is True
    print(json.dumps(figures, indent=2))  # the figures, for the log
