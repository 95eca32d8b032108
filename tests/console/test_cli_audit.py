"""`python -m console audit verify|export` and `users …` from a shell."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from console.settings import PROJECT_ROOT
from tests.support.console_db import audit_anchor, cli_env


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
    anchor = audit_anchor(console_url)
    ok = cli("audit", "verify")  # seed-demo's process left a checkpoint of its 6 rows when it closed
    checkpoint = json.loads(Path(anchor).read_text().splitlines()[-1])
    assert (checkpoint["last_id"], checkpoint["count"]) == (6, 6)
    assert (ok.returncode, ok.stdout.strip()) == (
        0, f"audit chain ok: 6 rows checked; newest checkpoint: row 6 at {checkpoint['at']}, anchor {anchor}")
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
    assert broken.stdout.splitlines() == [
        "audit chain BROKEN at row 4: row 4 fails its MAC: edited, re-hashed or forged without the audit key",
        "  bad_mac: row 4 fails its MAC: edited, re-hashed or forged without the audit key",
        f"6 rows checked; newest checkpoint: row 6 at {checkpoint['at']}, anchor {anchor}"]

    with engine.begin() as c:  # cut the tail and move the head back with it: only the anchor can tell
        c.execute(text("DELETE FROM audit_log WHERE id >= 4"))
        c.execute(text("UPDATE audit_head SET last_id = 3, last_hash = (SELECT row_hash FROM audit_log WHERE id = 3)"))
    engine.dispose()
    cut = cli("audit", "verify")
    assert cut.returncode == 1
    assert cut.stdout.splitlines()[0] == ("audit chain BROKEN at row 4: the chain ends at row 3, but the checkpoint of "
                                          f"{checkpoint['at']} recorded row 6: rows 4–6 were cut from the end")


def test_archive_then_verify_and_export_with_the_archive(cli, console_url: str, tmp_path) -> None:
    cli("users", "seed-demo")  # rows 1–6
    archive_dir = tmp_path / "archive"
    assert cli("audit", "archive", "--older-than-days", "30").stdout.strip() == (
        "nothing to archive: no row is older than 30 days (the newest row always stays)")
    out = cli("audit", "archive", "--older-than-days", "0", "--dir", str(archive_dir), "--max-rows", "3")
    path1, path2 = archive_dir / "audit-000000000001-000000000003.jsonl.gz", archive_dir / "audit-000000000004-000000000005.jsonl.gz"
    lines = out.stdout.splitlines()
    assert (out.returncode, len(lines)) == (0, 3), out.stderr
    assert lines[0].startswith(f"archived rows 1–3 (3) to {path1}, sha256 ")
    assert lines[1].startswith(f"archived rows 4–5 (2) to {path2}, sha256 ")
    # Left live: row 6 (the newest when it ran) and the two rows that audit the archiving.
    assert lines[2] == f"5 rows archived in 2 files; the live table keeps 3 rows; `audit verify` reads the archives " \
                       f"from {archive_dir}"
    ok = cli("audit", "verify")
    assert ok.returncode == 0 and ok.stdout.startswith(
        "audit chain ok: 8 rows checked (5 of them in 2 archive files); newest checkpoint: row 8"), ok.stdout
    everything = [json.loads(line) for line in cli("audit", "export", "--with-archive").stdout.splitlines()]
    assert [row["id"] for row in everything] == list(range(1, 9))
    assert [row["detail"]["file"] for row in everything if row["event"] == "audit_archived"] == [path1.name, path2.name]

    moved = tmp_path / "moved"
    archive_dir.rename(moved)
    missing = cli("audit", "verify")
    assert missing.returncode == 1
    assert missing.stdout.splitlines()[0] == (
        f"audit chain BROKEN at row 1: archive {path1.name} (rows 1–3) is not in {archive_dir}: deleted or moved")
    engine = create_engine(console_url)
    with engine.begin() as c:  # rows deleted right after the archive
        c.execute(text("DELETE FROM audit_log WHERE id = 6"))
    engine.dispose()
    gap = cli("audit", "verify", "--archive-dir", str(moved))  # the archives are found there: only the gap is left
    assert gap.returncode == 1
    assert gap.stdout.splitlines()[:2] == ["audit chain BROKEN at row 6: row 6 is missing (deleted; the next row is 7)",
                                           "  gap: row 6 is missing (deleted; the next row is 7)"]


def test_rows_per_user_hour_of_dashboard_use(console_url: str, gate_market_url: str) -> None:
    """The figure: audit rows one person's dashboard use writes per hour, and the lines the Audit page shows for them."""
    env = cli_env(console_url, gate_market_url, servers=("ads", "commerce", "analytics"))
    out = subprocess.run([sys.executable, "-m", "console", "audit", "rows-per-hour", "--minutes", "30"], cwd=PROJECT_ROOT,
                         env=env, text=True, capture_output=True, timeout=300)
    assert out.returncode == 0, out.stderr
    print(out.stdout)  # shown with -s: the figures of this run
    figures = dict(line.split(": ", 1) for line in out.stdout.splitlines()[1:5])
    reads = int(figures["reads"].split()[0].replace(",", ""))
    rows = int(figures["audit rows written"].split()[0].replace(",", ""))
    shown = figures["Audit page with reads shown"]
    grouped = int(shown.split("→ ")[1].split()[0].replace(",", ""))
    loads = int(out.stdout.split(", ")[1].split()[0])  # "… 20 page views (…), 14 of them read …"
    assert rows == 2 * reads > 0  # every read: its request row and its result row
    assert grouped == loads * 2  # one line per page load that read (per hour: 2 × 30 minutes)
    assert figures["Audit page by default (decisions only)"] == "0 lines per user-hour"
