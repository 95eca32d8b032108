"""Approval tokens and PII grants, version 2, signed as servers/common/approval.py reads them (README)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from mcp_bridge.keys import Keyring

# Arguments that steer the write protocol itself; never part of what an approver approved.
CONTROL_ARGS = frozenset({"dry_run", "approval_token", "idempotency_key", "expected_before", "pii_grant"})


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
    """JSON with sorted keys, no spaces, UTF-8 kept: the same bytes the servers hash."""
    return json.dumps(_normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def business_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments without the write-protocol controls (a caller may never pass those in)."""
    return {k: v for k, v in arguments.items() if k not in CONTROL_ARGS}


def arguments_hash(arguments: dict[str, Any]) -> str:
    """SHA-256 hex of the canonical business arguments (controls and nulls dropped)."""
    business = {k: v for k, v in business_arguments(arguments).items() if v is not None}
    return hashlib.sha256(canonical_json(business).encode()).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


TOKEN_VERSION = 2


def sign_token(keyring: Keyring, purpose: str, audience: str, claims: dict[str, Any]) -> str:
    """`PAYLOAD.MAC` for these claims, with `v`, `kid` and `aud` added, signed with the audience's own key."""
    key = keyring.signing()
    payload = _b64(canonical_json({**claims, "v": TOKEN_VERSION, "kid": key.kid, "aud": audience}).encode())
    mac = hmac.new(key.derive(purpose, audience), payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{mac}"


def new_nonce() -> str:
    """A per-operation random nonce: the write's idempotency key on the server, never derived from the id."""
    return uuid.uuid4().hex


def sign_approval(keyring: Keyring, *, audience: str, operation_id: int | str, tool: str, arguments: dict[str, Any],
                  nonce: str, expires: int) -> str:
    """The token `audience` accepts once (its `nonce`) for exactly these arguments of this tool, until `expires`."""
    claims = {"op": str(operation_id), "tool": tool, "args": arguments_hash(arguments), "nonce": nonce, "exp": expires}
    return sign_token(keyring, "approval", audience, claims)


def sign_pii_grant(keyring: Keyring, *, audience: str, site: str, subject: str, ttl_s: int = 300) -> str:
    """A grant that lets the holder see unmasked customer contact details on one site of one server."""
    return sign_token(keyring, "pii", audience, {"scope": "pii", "site": site, "sub": subject,
                                                 "exp": int(time.time()) + ttl_s})
