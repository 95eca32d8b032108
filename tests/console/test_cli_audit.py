"""`python -m console audit verify|export` and `users …` from a shell."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

from console.settings import PROJECT_ROOT
from tests.support.console_db import cli_env


@pytest.fixture
def cli(console_url: str, gate_market_url: str):
    env = cli_env(console_url, gate_market_url)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "console", *args], cwd=PROJECT_ROOT, env=env, text=True,
                              capture_output=True, timeout=120)

    return run


def test_users_commands(cli) -> None:
    assert cli("users", "seed-demo").stdout.strip() == "demo users ready (6 created)"
    assert cli("users", "seed-demo").stdout.strip() == "demo users ready (0 created)"
    out = cli("users", "grant", "seller-jp@demo.local", "--role", "approver", "--site", "us")
    assert out.returncode == 0 and out.stdout.strip() == "seller-jp@demo.local: roles approver, seller; sites jp, us"
    out = cli("users", "revoke", "seller-jp@demo.local", "--role", "approver")
    assert out.stdout.strip() == "seller-jp@demo.local: roles seller; sites jp, us"
    listed = json.loads(cli("users", "list", "--json").stdout)
    assert [u["email"] for u in listed][:2] == ["admin@demo.local", "approver2@demo.local"]
    bad = cli("users", "grant", "seller@demo.local", "--role", "king")
    assert bad.returncode == 2 and bad.stderr.startswith("VALIDATION_FAILED: unknown role 'king'")


def test_verify_and_export(cli, console_url: str, tmp_path) -> None:
    cli("users", "seed-demo")
    ok = cli("audit", "verify")
    assert (ok.returncode, ok.stdout.strip()) == (0, "audit chain ok: 6 rows")
    lines = cli("audit", "export", "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [1, 2, 3, 4, 5, 6]
    target = tmp_path / "audit.csv"
    assert cli("audit", "export", "--format", "csv", "--output", str(target)).returncode == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [r["event"] for r in rows] == ["user_created"] * 6

    engine = create_engine(console_url)
    with engine.begin() as c:
        c.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE id = 4"))
    engine.dispose()
    broken = cli("audit", "verify")
    assert broken.returncode == 1
    assert broken.stdout.strip().startswith("audit chain BROKEN at row 4: row 4 was altered")
