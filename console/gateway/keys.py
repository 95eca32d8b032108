"""API keys of tool groups: random, shown once, stored as a SHA-256 hash (a unique index finds a key in one lookup
without the key being stored), with label, creator, ages, expiry, revocation and rotation. Every key event is an
audited admin action; using a key only updates its `last_used_at` (at most once a minute)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, select, update

from mcp_bridge.audit import AuditLog
from mcp_bridge.errors import AuthRequired, Conflict, NotFound, ValidationFailed
from mcp_bridge.store import ApiKey, Store, ToolGroup, utcnow

PREFIX = "ock_"  # operator-console key: tells a key from an OAuth access token, and is easy to grep for in leaks
SECRET_BYTES = 32
SHOWN_CHARS = 12  # the part of a key listings show (`ock_` + 8): enough to tell keys apart, useless to an attacker
MAX_KEY_CHARS = 128
STALE_DAYS = 90
DEFAULT_EXPIRY_DAYS = 365
DEFAULT_GRACE_HOURS = 24.0
TOUCH_EVERY = dt.timedelta(minutes=1)


def key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_key(token: str) -> bool:
    return token.startswith(PREFIX)


@dataclass(frozen=True)
class KeyInfo:
    id: int
    label: str
    shown: str
    group: str
    created_by: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    replaced_by: int | None

    def state(self, now: dt.datetime | None = None) -> str:
        now = now or utcnow()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def age_days(self, now: dt.datetime | None = None) -> float:
        return ((now or utcnow()) - self.created_at).total_seconds() / 86400

    def stale(self, now: dt.datetime | None = None) -> bool:
        """An active key older than 90 days: time to rotate it."""
        return self.state(now) == "active" and self.age_days(now) > STALE_DAYS

    @property
    def actor(self) -> str:
        """How the key's calls are named in the audit log."""
        return f"group:{self.group}/{self.label}"


@dataclass(frozen=True)
class NewKey:
    info: KeyInfo
    secret: str  # shown once, never stored


class ApiKeys:
    def __init__(self, engine: Engine, audit: AuditLog) -> None:
        self.store, self.audit = Store(engine), audit

    def create(self, group: str, *, label: str, actor: str, channel: str = "cli",
               expires_in_days: float | None = DEFAULT_EXPIRY_DAYS) -> NewKey:
        label = (label or "").strip()
        if not label or len(label) > 120:
            raise ValidationFailed("a key needs a label of 1-120 characters (--label dify-prod)")
        if expires_in_days is not None and not 0 < expires_in_days <= 3650:
            raise ValidationFailed(f"a key expires in 1 minute to 10 years (got {expires_in_days} days)")
        return self._issue(group, label, actor, channel, expires_in_days, event="api_key_created")

    def _issue(self, group: str, label: str, actor: str, channel: str, expires_in_days: float | None, *,
               event: str, replaces: int | None = None, grace_hours: float | None = None) -> NewKey:
        secret = PREFIX + secrets.token_urlsafe(SECRET_BYTES)
        now = utcnow()
        with self.store.write() as s:
            if s.get(ToolGroup, group) is None:
                raise NotFound(f"no tool group {group!r}; list them with `python -m console groups list`")
            row = ApiKey(name=label, prefix=secret[:SHOWN_CHARS], key_hash=key_hash(secret), tool_group=group,
                         user=actor, created_at=now, revoked_at=None, last_used_at=None,
                         expires_at=None if expires_in_days is None else now + dt.timedelta(days=expires_in_days))
            s.add(row)
            s.flush()
            detail: dict[str, object] = {"group": group, "key_id": row.id, "label": label, "shown": row.prefix,
                                         "expires_at": row.expires_at}
            if replaces is not None:
                old = s.get(ApiKey, replaces)
                assert old is not None
                grace_end = now + dt.timedelta(hours=grace_hours or 0)
                old.expires_at = min(old.expires_at, grace_end) if old.expires_at else grace_end
                old.replaced_by = row.id
                detail.update(replaces=replaces, old_key_expires_at=old.expires_at)
            self.audit.append(event, actor=actor, channel=channel, outcome="ok", session=s, detail=detail)
            info = _info(row)
        return NewKey(info, secret)

    def list(self, group: str | None = None) -> list[KeyInfo]:
        stmt = select(ApiKey).order_by(ApiKey.tool_group, ApiKey.id)
        if group:
            stmt = stmt.where(ApiKey.tool_group == group)
        with self.store.read() as s:
            return [_info(row) for row in s.scalars(stmt)]

    def get(self, key_id: int) -> KeyInfo:
        with self.store.read() as s:
            row = s.get(ApiKey, key_id)
            if row is None:
                raise NotFound(f"no API key #{key_id}; list them with `python -m console keys list`")
            return _info(row)

    def revoke(self, key_id: int, *, actor: str, channel: str = "cli") -> KeyInfo:
        with self.store.write() as s:
            row = s.get(ApiKey, key_id)
            if row is None:
                raise NotFound(f"no API key #{key_id}; list them with `python -m console keys list`")
            if row.revoked_at is not None:
                raise Conflict(f"API key #{key_id} was revoked at {row.revoked_at:%Y-%m-%d %H:%M} UTC already")
            row.revoked_at = utcnow()
            self.audit.append("api_key_revoked", actor=actor, channel=channel, outcome="ok", session=s,
                              detail={"group": row.tool_group, "key_id": key_id, "label": row.name})
            return _info(row)

    def rotate(self, key_id: int, *, actor: str, channel: str = "cli", grace_hours: float = DEFAULT_GRACE_HOURS,
               expires_in_days: float | None = DEFAULT_EXPIRY_DAYS) -> NewKey:
        """A new key for the same group and label; the old one keeps working for `grace_hours`, then expires."""
        if not 0 <= grace_hours <= 24 * 30:
            raise ValidationFailed(f"the grace period is 0-720 hours (got {grace_hours})")
        old = self.get(key_id)
        if old.state() != "active":
            raise Conflict(f"API key #{key_id} is {old.state()}; create a new one with `keys create` instead")
        if old.replaced_by is not None:
            raise Conflict(f"API key #{key_id} was rotated already (its successor is #{old.replaced_by})")
        return self._issue(old.group, old.label, actor, channel, expires_in_days, event="api_key_rotated",
                           replaces=key_id, grace_hours=grace_hours)

    def verify(self, secret: str) -> KeyInfo:
        """The key's info when it is known, not revoked and not expired; else AUTH_REQUIRED saying which."""
        if not isinstance(secret, str) or not looks_like_key(secret) or len(secret) > MAX_KEY_CHARS:
            raise AuthRequired("that is not an API key of this console")
        with self.store.read() as s:
            row = s.scalars(select(ApiKey).where(ApiKey.key_hash == key_hash(secret))).first()
            info = None if row is None else _info(row)
        if info is None:
            raise AuthRequired("unknown API key; ask an admin for one (`python -m console keys create`)")
        state = info.state()
        if state == "revoked":
            raise AuthRequired(f"API key {info.shown}… was revoked; ask an admin for a new one")
        if state == "expired":
            raise AuthRequired(f"API key {info.shown}… expired at {info.expires_at:%Y-%m-%d %H:%M} UTC; "
                               "ask an admin to rotate it")
        if info.last_used_at is None or utcnow() - info.last_used_at > TOUCH_EVERY:
            self._touch(info.id)
        return info

    def _touch(self, key_id: int) -> None:
        try:
            with self.store.write(wait_ms=200) as s:
                s.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=utcnow()))
        except Exception:  # a busy database must not refuse a valid key; the next use tries again
            pass


def _info(row: ApiKey) -> KeyInfo:
    return KeyInfo(id=row.id, label=row.name, shown=row.prefix, group=row.tool_group, created_by=row.user,
                   created_at=row.created_at, last_used_at=row.last_used_at, expires_at=row.expires_at,
                   revoked_at=row.revoked_at, replaced_by=row.replaced_by)
