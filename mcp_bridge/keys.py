"""The bridge's keyring: the signing keys of approval tokens, PII grants and service credentials, and rotation.

Format and derivation as `servers/common/keys.py` reads them (the bridge does not import the servers; a test
checks both agree). The first key (`k0`) is the master secret itself; a keyring file adds random keys.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_KID = "k0"
PURPOSES = frozenset({"approval", "pii", "service"})
ROTATE_AFTER_DAYS = 90  # keys older than this are flagged on the Admin page
DEFAULT_GRACE = dt.timedelta(days=1)


@dataclass(frozen=True)
class Key:
    kid: str
    material: bytes
    created: dt.datetime | None = None
    retires: dt.datetime | None = None
    source: str = "file"

    def usable(self, now: dt.datetime) -> bool:
        return self.retires is None or now < self.retires

    def derive(self, purpose: str, audience: str) -> bytes:
        """The key of one purpose for one server: HMAC-SHA256(material, "operator-console/<purpose>/<audience>")."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown key purpose {purpose!r}")
        return hmac.new(self.material, f"operator-console/{purpose}/{audience}".encode(), hashlib.sha256).digest()

    def age_days(self, now: dt.datetime) -> float | None:
        return None if self.created is None else (now - self.created).total_seconds() / 86400


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _when(text: Any) -> dt.datetime | None:
    if not text:
        return None
    value = dt.datetime.fromisoformat(str(text))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_keyring(document: dict[str, Any], master: str) -> list[Key]:
    """The keys of a keyring document (oldest first); `source: env` is the master secret."""
    keys = []
    for item in document.get("keys", []):
        env = item.get("source") == "env"
        material = master.encode() if env else _unb64(str(item["secret"]))
        keys.append(Key(str(item["kid"]), material, _when(item.get("created")), _when(item.get("retires")),
                        "env" if env else "file"))
    return keys


class Keyring:
    """The keys in force, re-read when the keyring file changes."""

    def __init__(self, master: str, path: str | Path | None = None) -> None:
        self.master = master
        self.path = Path(path) if path else None
        self._lock = threading.Lock()
        self._stamp: tuple[float, int] | None = None
        self._keys: list[Key] = [Key(ENV_KID, master.encode(), source="env")]

    def entries(self) -> list[Key]:
        if self.path is None:
            return self._keys
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return [Key(ENV_KID, self.master.encode(), source="env")]
        stamp = (stat.st_mtime, stat.st_size)
        with self._lock:
            if stamp != self._stamp:
                keys = parse_keyring(json.loads(self.path.read_text(encoding="utf-8")), self.master)
                self._keys, self._stamp = keys or [Key(ENV_KID, self.master.encode(), source="env")], stamp
            return self._keys

    def signing(self, now: dt.datetime | None = None) -> Key:
        """The newest key that is not retiring: new tokens are signed with it."""
        keys = self.entries()
        now = now or now_utc()
        current = [k for k in keys if k.retires is None] or [k for k in keys if k.usable(now)] or keys
        return current[-1]

    def verifying(self, kid: Any, now: dt.datetime | None = None) -> Key | None:
        if not isinstance(kid, str):
            return None
        now = now or now_utc()
        return next((k for k in self.entries() if k.kid == kid and k.usable(now)), None)

    def service_credential(self, audience: str) -> str:
        """The bearer a bundled server over HTTP accepts: `<kid>.<hex>`, derived from that server's key."""
        key = self.signing()
        return f"{key.kid}.{key.derive('service', audience).hex()}"

    # -- the keyring file ------------------------------------------------------------------------------------
    def _document(self) -> dict[str, Any]:
        if self.path is not None and self.path.exists():
            return json.loads(self.path.read_text(encoding="utf-8"))
        return {"version": 1, "keys": [{"kid": ENV_KID, "source": "env", "created": None, "retires": None}]}

    def _save(self, document: dict[str, Any]) -> None:
        if self.path is None:
            raise ValueError("no keyring file is configured (CONSOLE_KEYRING)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        # Written whole and renamed: a server re-reading it never sees half a file. Owner-only: it holds keys.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fp:
            json.dump(document, fp, indent=2)
            fp.flush()
            os.fsync(fp.fileno())
        os.replace(tmp, self.path)

    def ensure_file(self, now: dt.datetime | None = None) -> bool:
        """Create the keyring file (the master secret as `k0`, dated now) so key ages are tracked; False if it exists."""
        if self.path is None or self.path.exists():
            return False
        document = self._document()
        document["keys"][0]["created"] = (now or now_utc()).isoformat()
        self._save(document)
        return True

    def rotate(self, *, grace: dt.timedelta = DEFAULT_GRACE, now: dt.datetime | None = None) -> Key:
        """Add a random key that signs from now on; the keys in force keep verifying until `now + grace`."""
        now = now or now_utc()
        document = self._document()
        retires = (now + grace).isoformat()
        for item in document["keys"]:
            if not item.get("retires") or _when(item["retires"]) > now + grace:
                item["retires"] = retires
        kid = f"k{now:%Y%m%d}{secrets.token_hex(2)}"
        material = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
        document["keys"].append({"kid": kid, "secret": material, "created": now.isoformat(), "retires": None})
        # Keys retired for longer than a day are dropped: nothing they signed can still be in flight.
        document["keys"] = [item for item in document["keys"]
                            if not item.get("retires") or _when(item["retires"]) > now - dt.timedelta(days=1)]
        self._save(document)
        return next(k for k in self.entries() if k.kid == kid)


@dataclass(frozen=True)
class KeyStatus:
    """One key as an admin sees it: never its material."""

    kid: str
    source: str  # "env" (the master secret) or "file" (a rotated key)
    created: dt.datetime | None
    age_days: float | None
    retires: dt.datetime | None
    signing: bool
    in_force: bool

    @property
    def stale(self) -> bool:
        """A key that signs and is past the rotation age (or of unknown age): rotate it."""
        return self.signing and (self.age_days is None or self.age_days > ROTATE_AFTER_DAYS)


def key_status(keyring: Keyring, now: dt.datetime | None = None) -> list[KeyStatus]:
    now = now or now_utc()
    signing = keyring.signing(now).kid
    return [KeyStatus(k.kid, k.source, k.created, k.age_days(now), k.retires, k.kid == signing, k.usable(now))
            for k in keyring.entries()]
