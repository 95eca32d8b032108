"""`python -m console ops …` as scripts use it: real processes, JSON output, exit codes, channel `cli`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from console.settings import PROJECT_ROOT
from tests.support.console_db import applied_writes, cli_env, keyword, make_runtime, market_value


@pytest.fixture
def cli(console_url: str, gate_market_url: str):
    make_runtime(console_url, gate_market_url).close()  # migrated, demo users seeded
    env = cli_env(console_url, gate_market_url)

    def run(*args: str) -> tuple[int, dict | list | None, str]:
        proc = subprocess.run([sys.executable, "-m", "console", *args], cwd=PROJECT_ROOT, env=env, text=True,
                              capture_output=True, timeout=120)
        try:
            data = json.loads(proc.stdout) if proc.stdout.strip() else None
        except json.JSONDecodeError:
            data = None
        return proc.returncode, data, proc.stderr if proc.returncode else proc.stdout

    return run


def _bid_args(market_url: str, factor: float) -> tuple[int, float, str]:
    kid, bid = keyword(market_url)
    new = round(bid * factor, 2)
    return kid, new, json.dumps({"keyword_id": kid, "bid": new})


@pytest.mark.slow
def test_propose_then_approve(cli, gate_market_url, console_url) -> None:
    kid, new, args = _bid_args(gate_market_url, 0.8)
    code, data, _ = cli("ops", "propose", "--as", "seller@demo.local", "--site", "us", "--tool", "ads.update_bid",
                        "--args", args, "--reason", "ACOS 80% over target", "--json")
    assert code == 0 and data["status"] == "pending"
    op_id = data["operation_id"]
    assert data["text"].startswith(f"pending approval #{op_id} (update_bid keyword #{kid} ")
    assert data["operation"]["reason"] == "ACOS 80% over target" and data["operation"]["source_kind"] == "cli"

    code, listed, _ = cli("ops", "list", "--status", "proposed", "--site", "us", "--json")
    assert code == 0 and [o["id"] for o in listed] == [op_id]
    code, shown, _ = cli("ops", "show", str(op_id), "--json")
    assert shown["arguments"] == {"site": "us", "keyword_id": kid, "bid": new}

    code, done, _ = cli("ops", "approve", str(op_id), "--as", "approver@demo.local", "--json")
    assert code == 0 and (done["status"], done["decided_by"]) == ("succeeded", "approver@demo.local")
    assert market_value(gate_market_url, "SELECT bid FROM keywords WHERE id = :k", k=kid) == [(new,)]
    assert applied_writes(gate_market_url) == [(done["nonce"], "update_bid")] and len(done["nonce"]) == 32

    code, again, err = cli("ops", "approve", str(op_id), "--as", "approver2@demo.local", "--json")
    assert code == 2 and again["error"]["code"] == "CONFLICT"
    assert err.strip().startswith(f"CONFLICT: operation #{op_id} was already approved by approver@demo.local")

    rt = make_runtime(console_url, gate_market_url)
    try:
        rows = rt.bridge.audit.query(limit=100)
        assert {r.channel for r in rows if r.event in ("proposed", "approved", "executed")} == {"cli"}
    finally:
        rt.close()


@pytest.mark.slow
def test_edit_and_approve_from_the_cli(cli, gate_market_url) -> None:
    kid, new, args = _bid_args(gate_market_url, 0.8)
    _, data, _ = cli("ops", "propose", "--as", "seller@demo.local", "--site", "us", "--tool", "ads__update_bid",
                     "--args", args, "--json")
    op_id = data["operation_id"]
    too_far = json.dumps({"site": "us", "keyword_id": kid, "bid": new * 3})
    code, out, err = cli("ops", "approve", str(op_id), "--as", "approver@demo.local", "--args", too_far, "--json")
    assert code == 2 and out["error"]["code"] == "VALIDATION_FAILED" and "exceeds the us limit" in err
    edited = round(new * 1.1, 2)
    code, done, _ = cli("ops", "approve", str(op_id), "--as", "approver@demo.local", "--args",
                        json.dumps({"site": "us", "keyword_id": kid, "bid": edited}), "--json")
    assert code == 0 and done["arguments"]["bid"] == edited and done["original_arguments"]["bid"] == new


@pytest.mark.parametrize(("user", "site", "args", "code_name"), [
    ("seller-jp@demo.local", "us", None, "SITE_SCOPE_REQUIRED"),
    ("nobody@demo.local", "us", None, "NOT_FOUND"),
    ("seller@demo.local", "us", "{not json", "VALIDATION_FAILED"),
])
def test_refused_proposals_exit_2_with_the_code(cli, gate_market_url, user, site, args, code_name) -> None:
    _, _, good = _bid_args(gate_market_url, 0.8)
    code, out, err = cli("ops", "propose", "--as", user, "--site", site, "--tool", "ads.update_bid",
                         "--args", args or good, "--json")
    assert code == 2 and out["error"]["code"] == code_name and err.strip().startswith(f"{code_name}: ")


@pytest.mark.slow
def test_approve_and_reject_need_the_role_on_the_site(cli, gate_market_url) -> None:
    _, _, args = _bid_args(gate_market_url, 0.8)
    _, data, _ = cli("ops", "propose", "--as", "seller@demo.local", "--site", "us", "--tool", "ads.update_bid",
                     "--args", args, "--json")
    op_id = str(data["operation_id"])
    for user in ("seller@demo.local", "manager@demo.local"):
        code, out, err = cli("ops", "approve", op_id, "--as", user, "--json")
        assert code == 2 and out["error"]["code"] == "PERMISSION_DENIED", err
    code, out, _ = cli("ops", "reject", op_id, "--as", "approver@demo.local", "--reason", "bid war", "--json")
    assert code == 0 and (out["status"], out["decision_reason"]) == ("rejected", "bid war")
    code, text, _ = cli("ops", "list")
    assert code == 0


def test_show_of_a_missing_operation(cli) -> None:
    code, out, err = cli("ops", "show", "999", "--json")
    assert code == 2 and out == {"error": {"code": "NOT_FOUND", "message": "operation #999 does not exist"}}
    assert err.strip() == "NOT_FOUND: operation #999 does not exist"


@pytest.mark.slow
def test_a_key_rotation_keeps_approvals_working_and_is_audited(cli, gate_market_url, console_url, runtime) -> None:
    """`secrets rotate` by an admin: a running bridge and its servers sign and verify with the new key at once."""
    from tests.support.console_db import keyring_path

    kid, new, args = _bid_args(gate_market_url, 0.8)
    code, data, _ = cli("ops", "propose", "--as", "seller@demo.local", "--site", "us", "--tool", "ads.update_bid",
                        "--args", args, "--json")
    assert code == 0
    from mcp_bridge.types import Source

    seller = runtime.users.caller("seller@demo.local", "cli")
    assert runtime.bridge.call(seller, "ads__list_profiles", {"site": "us"}, source=Source("cli")).status == "ok"
    code, _, err = cli("secrets", "rotate", "--as", "seller@demo.local")
    assert (code, err.split(":")[0]) == (2, "PERMISSION_DENIED")
    code, _, out = cli("secrets", "rotate", "--as", "admin@demo.local", "--grace-hours", "1")
    assert code == 0 and out.startswith("new signing key k")
    new_kid = out.split()[3]
    code, _, listing = cli("secrets", "keys")
    assert code == 0
    lines = listing.splitlines()
    assert lines[0].startswith("k0") and "verifies until" in lines[0]
    assert lines[1].startswith(new_kid) and "signs" in lines[1] and "0 days old" in lines[1]
    assert keyring_path(console_url).endswith("keyring.json")
    # The bridge and its server were running before the rotation: it signs with the new key, the server accepts.
    op = runtime.bridge.gate.approve(data["operation_id"], runtime.users.caller("approver@demo.local", "cli"))
    assert op.status == "succeeded", op.error
    rotated = runtime.bridge.audit.query(event="key_rotated")[0]
    assert (rotated.actor, rotated.detail["kid"], rotated.detail["retiring"]) == ("admin@demo.local", new_kid, ["k0"])


def test_show_says_where_it_came_from_its_evidence_and_an_edit_as_approved_as() -> None:
    import datetime as dt

    from console.cli.ops import show_text
    from mcp_bridge.types import Operation

    proposed = {"site": "us", "keyword_id": 7, "bid": 1.5}
    op = Operation(id=12, batch_id=None, status="succeeded", site="us", server="ads", tool="update_bid",
                   arguments={**proposed, "bid": 1.55}, preview={"target": "keyword #7 'yoga mat'", "summary": "bid: 1.69 → 1.55"},
                   reason=None, proposer="seller@demo.local", source_kind="job", source_ref=None,
                   created_at=dt.datetime(2026, 11, 21, 9), expires_at=dt.datetime(2026, 11, 22, 9),
                   decided_by="approver@demo.local", original_arguments=proposed,
                   edit_history=[{"by": "approver@demo.local", "before": proposed, "after": {**proposed, "bid": 1.55}}],
                   evidence={"kind": "keyword", "metrics": {"spend": 41.2, "orders": 0}, "window": {"days": 30},
                             "rule": "wasted_spend"})
    assert show_text(op).splitlines()[:4] == [
        "#12 [succeeded by approver@demo.local] us update_bid keyword #7 'yoga mat': bid: 1.69 → 1.55 "
        "(proposed by seller@demo.local)",
        "source: alert: wasted spend",
        "evidence: spend $41.20 · 0 orders · 30 d",
        "edited: bid: proposed 1.50 by seller@demo.local · approved as 1.55 by approver@demo.local",
    ]
