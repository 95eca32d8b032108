"""Approval tokens and PII grants (format in the README): claims signed with the key of one server.

A token names its audience (the server), the tool, the operation, a hash of the arguments, a random nonce that
the server's write ledger spends once, its expiry and the id of the key that signed it. The MAC key is derived
for the audience, so a token relayed to another server fails there even before its audience is compared.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from servers.common.keys import Keyring

# Arguments that steer the write protocol itself; they are not part of what the approver approved.
CONTROL_ARGS = frozenset({"dry_run", "approval_token", "idempotency_key", "expected_before", "pii_grant"})
TOKEN_VERSION = 2
MAX_TOKEN_CHARS = 4096


def _normalise(value: Any) -> Any:
    """Integral floats as ints, so `20` and `20.0` (JSON cannot tell them apart in every language) agree."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no spaces, UTF-8 kept: the same bytes on every side."""
    return json.dumps(_normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def arguments_hash(arguments: dict[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of the business arguments (control arguments and nulls dropped)."""
    business = {k: v for k, v in arguments.items() if k not in CONTROL_ARGS and v is not None}
    return hashlib.sha256(canonical_json(business).encode()).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenRefused(ValueError):
    """The token is malformed, forged, expired, retired or addressed to another server."""


def _keyring(keys: Keyring | str) -> Keyring:
    return keys if isinstance(keys, Keyring) else Keyring(keys)


def sign_token(keys: Keyring | str, purpose: str, audience: str, claims: dict[str, Any]) -> str:
    """`PAYLOAD.MAC` for these claims, with `v`, `kid` and `aud` added, signed with the audience's key."""
    key = _keyring(keys).signing()
    payload = _b64(canonical_json({**claims, "v": TOKEN_VERSION, "kid": key.kid, "aud": audience}).encode())
    mac = hmac.new(key.derive(purpose, audience), payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{mac}"


def read_token(keys: Keyring | str, token: Any, *, purpose: str, audience: str, now: float | None = None) -> dict[str, Any]:
    """The claims of a token made for this server, or TokenRefused saying why (for any input, never a crash)."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        raise TokenRefused("malformed token")
    payload, _, mac = token.partition(".")
    try:
        claims = json.loads(_unb64(payload))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise TokenRefused("malformed token") from exc
    if not isinstance(claims, dict):
        raise TokenRefused("malformed token")
    if claims.get("v") != TOKEN_VERSION:
        raise TokenRefused("unsupported token version; the console must sign version 2 tokens")
    aud = claims.get("aud")
    if aud != audience:
        raise TokenRefused(f"issued for server {str(aud)[:40]!r}, not {audience!r}")
    key = _keyring(keys).verifying(claims.get("kid"))
    expected = hmac.new(key.derive(purpose, audience) if key else b"", payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac.encode(), expected.encode()) or key is None:
        raise TokenRefused("bad signature" if key else "signed with an unknown or retired key")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise TokenRefused("malformed token")
    if exp < (time.time() if now is None else now):
        raise TokenRefused("expired")
    return claims


def new_nonce() -> str:
    return uuid.uuid4().hex


def sign_approval(keys: Keyring | str, *, audience: str, operation_id: int | str, tool: str, arguments: dict[str, Any],
                  nonce: str | None = None, ttl_s: int = 300, now: float | None = None) -> str:
    """The token `audience` accepts once for exactly these arguments of this tool."""
    issued = time.time() if now is None else now
    claims = {"op": str(operation_id), "tool": tool, "args": arguments_hash(arguments),
              "nonce": nonce or new_nonce(), "exp": int(issued) + ttl_s}
    return sign_token(keys, "approval", audience, claims)


def read_approval(keys: Keyring | str, token: Any, *, audience: str, now: float | None = None) -> dict[str, Any]:
    claims = read_token(keys, token, purpose="approval", audience=audience, now=now)
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not 16 <= len(nonce) <= 64:
        raise TokenRefused("malformed token (no nonce)")
    return claims


def sign_pii_grant(keys: Keyring | str, *, audience: str, site: str, subject: str, ttl_s: int = 300) -> str:
    """A grant that lets the holder see unmasked customer contact details on one site of one server."""
    return sign_token(keys, "pii", audience, {"scope": "pii", "site": site, "sub": subject,
                                              "exp": int(time.time()) + ttl_s})
