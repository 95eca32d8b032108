"""The audit chain's key: HMAC-SHA256 with a secret that is kept outside the console database, and its short id."""

from __future__ import annotations

import hashlib
import hmac

KEY_ID_LABEL = "audit-key-id"
_BLOCK = 64  # SHA-256's block size
_INNER = bytes(x ^ 0x36 for x in range(256))  # RFC 2104's pads, as translation tables (as the hmac module has them)
_OUTER = bytes(x ^ 0x5C for x in range(256))


class AuditKey:
    """MACs audit rows and checkpoints; `id` (8 hex digits) names the key on every row without revealing it."""

    __slots__ = ("_inner", "_outer", "id")

    def __init__(self, secret: str | bytes) -> None:
        material = secret.encode() if isinstance(secret, str) else bytes(secret)
        if not material:
            raise ValueError("the audit key must not be empty (CONSOLE_AUDIT_SECRET)")
        if len(material) > _BLOCK:
            material = hashlib.sha256(material).digest()
        material = material.ljust(_BLOCK, b"\0")
        # HMAC (RFC 2104) with both padded keys hashed once: a MAC is then two copies of a hash state, about
        # half a microsecond more than plain SHA-256 (hmac.HMAC.copy() costs three times that; appends are hot).
        self._inner = hashlib.sha256(material.translate(_INNER))
        self._outer = hashlib.sha256(material.translate(_OUTER))
        self.id = self.mac(KEY_ID_LABEL)[:8]

    def mac(self, text: str) -> str:
        """HMAC-SHA256 of `text` (UTF-8), as 64 hex digits: hmac.new(secret, text, sha256).hexdigest()."""
        inner = self._inner.copy()
        inner.update(text.encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def matches(self, text: str, mac: object) -> bool:
        return isinstance(mac, str) and hmac.compare_digest(self.mac(text), mac)

    def __repr__(self) -> str:  # never the secret
        return f"AuditKey(id={self.id!r})"
