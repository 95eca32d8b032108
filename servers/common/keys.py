"""Signing keys: a keyring of key ids, each a secret from which every server's own keys are derived.

The keyring's first key (`k0`) is the master secret `CONSOLE_APPROVAL_SECRET`; `python -m console secrets rotate`
writes a keyring file (`CONSOLE_KEYRING`) that adds a random key and gives the older ones a retirement time, so a
token signed just before a rotation still verifies during the grace period. A server derives its keys for its own
name (the audience) only: a token or credential made for one server is worthless to another.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_KID = "k0"
PURPOSES = frozenset({"approval", "pii", "service"})


@dataclass(frozen=True)
class Key:
    kid: str
    material: bytes
    created: dt.datetime | None = None
    retires: dt.datetime | None = None

    def usable(self, now: dt.datetime) -> bool:
        return self.retires is None or now < self.retires

    def derive(self, purpose: str, audience: str) -> bytes:
        """The key of one purpose for one server: HMAC-SHA256(material, "operator-console/<purpose>/<audience>")."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown key purpose {purpose!r}")
        return hmac.new(self.material, f"operator-console/{purpose}/{audience}".encode(), hashlib.sha256).digest()


def _when(text: Any) -> dt.datetime | None:
    if not text:
        return None
    value = dt.datetime.fromisoformat(str(text))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def parse_keyring(document: dict[str, Any], master: str) -> list[Key]:
    """The keys of a keyring document (oldest first); `source: env` is the master secret."""
    keys = []
    for item in document.get("keys", []):
        if item.get("source") == "env":
            material = master.encode()
        else:
            material = base64.urlsafe_b64decode(str(item["secret"]) + "=" * (-len(str(item["secret"])) % 4))
        keys.append(Key(str(item["kid"]), material, _when(item.get("created")), _when(item.get("retires"))))
    return keys


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Keyring:
    """The keys in force, re-read when the keyring file changes (a rotation reaches running servers)."""

    def __init__(self, master: str, path: str | Path | None = None) -> None:
        self.master = master
        self.path = Path(path) if path else None
        self._lock = threading.Lock()
        self._stamp: tuple[float, int] | None = None
        self._keys: list[Key] = [Key(ENV_KID, master.encode())]

    def entries(self) -> list[Key]:
        if self.path is None:
            return self._keys
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return [Key(ENV_KID, self.master.encode())]
        stamp = (stat.st_mtime, stat.st_size)
        with self._lock:
            if stamp != self._stamp:
                keys = parse_keyring(json.loads(self.path.read_text(encoding="utf-8")), self.master)
                self._keys, self._stamp = keys or [Key(ENV_KID, self.master.encode())], stamp
            return self._keys

    def signing(self, now: dt.datetime | None = None) -> Key:
        """The newest key that is not retiring: new tokens are signed with it."""
        keys = self.entries()
        now = now or now_utc()
        current = [k for k in keys if k.retires is None] or [k for k in keys if k.usable(now)] or keys
        return current[-1]

    def verifying(self, kid: Any, now: dt.datetime | None = None) -> Key | None:
        """The key with this id while it is in force, else None."""
        if not isinstance(kid, str):
            return None
        now = now or now_utc()
        for key in self.entries():
            if key.kid == kid and key.usable(now):
                return key
        return None


def service_credential(keyring: Keyring, audience: str) -> str:
    """The bearer the bridge sends to a bundled server over HTTP: `<kid>.<hex>`, derived from that server's key."""
    key = keyring.signing()
    return f"{key.kid}.{key.derive('service', audience).hex()}"


def check_service_credential(keyring: Keyring, audience: str, credential: str) -> bool:
    """True for a bearer made with a key in force for this server; constant-time for any input."""
    kid, _, mac = credential.partition(".")
    key = keyring.verifying(kid)
    expected = key.derive("service", audience).hex() if key else "0" * 64
    return hmac.compare_digest(mac.encode("utf-8", "replace"), expected.encode()) and key is not None
