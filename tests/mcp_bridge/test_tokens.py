"""Approval tokens, PII grants and the keyring: the bridge signs what the servers read, and nothing else passes."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time

import pytest

from mcp_bridge import keys as bridge_keys
from mcp_bridge.gate import tokens
from servers.common import approval
from servers.common import keys as server_keys

NONCE = "5f0c9a6e2d1b4c3a8e7f6a5b4c3d2e1f"


def keyrings(secret: str = "s3cret-master", path=None) -> tuple[bridge_keys.Keyring, server_keys.Keyring]:
    return bridge_keys.Keyring(secret, path), server_keys.Keyring(secret, path)


def approval_token(keyring, *, audience="commerce", tool="update_inventory", arguments=None, ttl=60, now=None):
    now = time.time() if now is None else now
    return tokens.sign_approval(keyring, audience=audience, operation_id=42, tool=tool,
                                arguments=arguments or {"site": "us", "variant_id": 1, "add_inbound": 100},
                                nonce=NONCE, expires=int(now) + ttl)


@pytest.mark.parametrize("arguments", [
    {"site": "us", "keyword_id": 7, "bid": 1.2},
    {"site": "jp", "text": "ヨガマット", "bid": 120, "match_type": "exact", "note": None},
    {"site": "de", "keyword_id": 7, "bid": 1.2, "dry_run": False, "approval_token": "t", "idempotency_key": "k"},
    {"site": "us", "nested": {"b": [1, 2], "a": 1.5}},
])
def test_the_bridge_signs_what_the_servers_read(arguments: dict) -> None:
    assert tokens.arguments_hash(arguments) == approval.arguments_hash(arguments)
    assert tokens.CONTROL_ARGS == approval.CONTROL_ARGS
    signer, reader = keyrings()
    now = time.time()
    token = approval_token(signer, tool="update_bid", arguments=arguments, now=now)
    claims = approval.read_approval(reader, token, audience="commerce")
    assert claims == {"v": 2, "kid": "k0", "aud": "commerce", "op": "42", "tool": "update_bid",
                      "args": approval.arguments_hash(arguments), "nonce": NONCE, "exp": int(now) + 60}
    # The server-side signer (reference implementation for outside implementers) makes the same token.
    assert approval.sign_approval(reader, audience="commerce", operation_id=42, tool="update_bid", arguments=arguments,
                                  nonce=NONCE, ttl_s=60, now=now) == token


def test_the_token_format_is_the_documented_one() -> None:
    signer, _ = keyrings("master")
    token = approval_token(signer, now=1_800_000_000.0)
    payload, mac = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert list(claims) == sorted(claims)  # canonical JSON: keys sorted, no spaces
    assert base64.urlsafe_b64decode(payload + "==").decode() == json.dumps(claims, sort_keys=True, separators=(",", ":"))
    import hashlib
    import hmac
    key = hmac.new(b"master", b"operator-console/approval/commerce", hashlib.sha256).digest()
    assert mac == hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize(("mutate", "reason"), [
    (lambda s: approval_token(s, audience="notes"), "issued for server 'notes', not 'commerce'"),
    (lambda s: approval_token(bridge_keys.Keyring("other-master")), "bad signature"),
    (lambda s: approval_token(s, ttl=-10), "expired"),
    (lambda s: tokens.sign_pii_grant(s, audience="commerce", site="us", subject="x"), "bad signature"),
    (lambda s: tokens.sign_token(s, "approval", "commerce", {"op": "1", "tool": "t", "args": "a", "exp": 2**40}),
     "no nonce"),
])
def test_tokens_for_another_server_key_or_purpose_are_refused(mutate, reason) -> None:
    signer, reader = keyrings()
    with pytest.raises(approval.TokenRefused, match=reason):
        approval.read_approval(reader, mutate(signer), audience="commerce")


def _forge(claims) -> str:
    return base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=") + "." + "0" * 64


@pytest.mark.parametrize("token", [
    None, 42, 4.2, ["a.b"], {"t": 1}, b"abc.def", "", ".", "no-dot", "a.b.c", "é.ü", "x" * 100_000,
    "%%%%.abcd", "AAAA.zz", _forge([1, 2]), _forge("text"), _forge({"v": 1}), _forge({"v": 2, "aud": "commerce"}),
    _forge({"v": 2, "aud": "commerce", "kid": "k0", "exp": "soon"}), _forge({"v": 2, "aud": ["commerce"]}),
    _forge({"v": 2, "aud": "commerce", "kid": {"x": 1}}), "eyJ2IjoyfQ." + "ff" * 5000, "\x00\x00.\x00",
])
def test_any_input_is_refused_without_a_crash(token) -> None:
    _, reader = keyrings()
    with pytest.raises(approval.TokenRefused):
        approval.read_approval(reader, token, audience="commerce")


def test_a_rotated_keyring_signs_with_the_new_key_and_verifies_the_old_during_the_grace(tmp_path) -> None:
    path = tmp_path / "keyring.json"
    signer, reader = keyrings(path=path)
    before = approval_token(signer)
    assert signer.ensure_file(now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) is True
    new = signer.rotate(grace=dt.timedelta(hours=1))
    after = approval_token(signer)
    assert json.loads(base64.urlsafe_b64decode(after.split(".")[0] + "=="))["kid"] == new.kid != "k0"
    for token in (before, after):  # the server re-reads the file and knows both
        assert approval.read_approval(reader, token, audience="commerce")["nonce"] == NONCE
    document = json.loads(path.read_text())
    assert [k["kid"] for k in document["keys"]] == ["k0", new.kid]
    assert "secret" not in document["keys"][0] and path.stat().st_mode & 0o077 == 0
    # Past the grace period the old key no longer verifies.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    assert reader.verifying("k0", now=later) is None and reader.verifying(new.kid, now=later) is not None


def test_a_rotation_without_grace_retires_the_old_key_at_once(tmp_path) -> None:
    signer, reader = keyrings(path=tmp_path / "keyring.json")
    old = approval_token(signer)
    signer.rotate(grace=dt.timedelta(0))
    with pytest.raises(approval.TokenRefused, match="unknown or retired key"):
        approval.read_approval(reader, old, audience="commerce")
    assert approval.read_approval(reader, approval_token(signer), audience="commerce")


def test_pii_grants_are_read_by_the_servers() -> None:
    signer, reader = keyrings()
    grant = tokens.sign_pii_grant(signer, audience="commerce", site="us", subject="manager@demo.local")
    claims = approval.read_token(reader, grant, purpose="pii", audience="commerce")
    assert (claims["scope"], claims["site"], claims["sub"], claims["aud"]) == ("pii", "us", "manager@demo.local", "commerce")
    with pytest.raises(approval.TokenRefused):
        approval.read_token(reader, grant, purpose="approval", audience="commerce")


def test_both_keyrings_derive_the_same_keys(tmp_path) -> None:
    path = tmp_path / "keyring.json"
    signer, reader = keyrings(path=path)
    signer.rotate()
    for mine, theirs in zip(signer.entries(), reader.entries(), strict=True):
        assert mine.kid == theirs.kid and mine.material == theirs.material
        for purpose in ("approval", "pii", "service"):
            assert mine.derive(purpose, "ads") == theirs.derive(purpose, "ads") != mine.derive(purpose, "commerce")
    assert server_keys.check_service_credential(reader, "ads", signer.service_credential("ads"))
    assert not server_keys.check_service_credential(reader, "commerce", signer.service_credential("ads"))
