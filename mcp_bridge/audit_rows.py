"""What an audit row says and how it is hashed: canonical text, redaction, rows serialised ahead of time."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

from mcp_bridge.store import AuditRow, json_text, utcnow

SECRET_KEYS = ("approval_token", "pii_grant", "api_key", "password", "secret", "token", "authorization", "cookie")
REDACTED = "[redacted]"
FIELDS = ("id", "at", "event", "actor", "channel", "site", "tool", "arguments", "outcome", "detail",
          "duration_ms", "result_size", "prev_hash")


def _is_secret(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in SECRET_KEYS)


def redact(value: Any) -> Any:
    """A copy with every secret-looking key's value replaced (nested dicts and lists too); keys become strings,
    as JSON has them, so the canonical form of a copy read back from the database is the same text."""
    if isinstance(value, dict):
        return {str(k): REDACTED if _is_secret(str(k)) and v is not None else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


canonical = json_text  # the one canonical JSON text: hashed here, stored by the engine


def row_content(row: AuditRow) -> dict[str, Any]:
    """Everything a row says except its own hash, in a form that survives every database round trip."""
    content = {name: getattr(row, name) for name in FIELDS}
    content["at"] = row.at.isoformat(timespec="microseconds")
    return content


def row_hash(row: AuditRow) -> str:
    return hashlib.sha256(canonical(row_content(row)).encode()).hexdigest()


JSON_FIELDS = ("arguments", "detail")
HASHED = sorted(FIELDS)  # the key order of the canonical text a row's hash is computed over


@dataclass(frozen=True)
class Entry:
    """A row's own columns, serialised once: JSON ones as their canonical (redacted) text, and each column's
    canonical JSON text, from which the hashed text is assembled without serialising the row again."""

    columns: dict[str, Any]
    texts: dict[str, str]


def entry(event: str, *, actor: str, channel: str, site: str | None = None, tool: str | None = None,
          arguments: dict[str, Any] | None = None, outcome: str | None = None, detail: dict[str, Any] | None = None,
          duration_ms: float | None = None, result_size: int | None = None) -> Entry:
    """The row `AuditLog.append` writes for these values (without its id, time and links)."""
    columns = {
        "event": event, "actor": actor, "channel": channel, "site": site, "tool": tool,
        "arguments": canonical(redact(arguments)) if arguments is not None else None,
        "outcome": outcome,
        "detail": canonical(redact(detail)) if detail is not None else None,
        "duration_ms": _duration(duration_ms),
        "result_size": result_size,
    }
    return Entry(columns, _texts(columns))


def _duration(duration_ms: float | None) -> float | None:
    return round(duration_ms, 3) if duration_ms is not None else None


def _texts(columns: dict[str, Any]) -> dict[str, str]:
    # A JSON column's text is already canonical; `null` when absent, as canonical() writes None.
    return {name: (value if value is not None else "null") if name in JSON_FIELDS else _scalar_text(value)
            for name, value in columns.items()}


def _scalar_text(value: Any) -> str:
    """canonical(value) for a column's scalar, the common ones without a trip through json.dumps."""
    if value is None:
        return "null"
    if type(value) is str:
        return encode_basestring(value)  # json's own (C) string encoder, as dumps uses with ensure_ascii=False
    if type(value) is int:
        return int.__repr__(value)
    return canonical(value)


def link(row: Entry, last_id: int, last_hash: str) -> dict[str, Any]:
    """The next row's column values (JSON ones as canonical text): its id and time, the previous hash, its own.

    The hash is over the row as it will read back (`row_content`), which is what `verify` recomputes: the same
    text as canonical(row_content(row)), put together from the columns' own canonical texts.
    """
    at = utcnow()
    values = {"id": last_id + 1, "at": at, **row.columns, "prev_hash": last_hash}
    # An ISO time and a hex digest need no escaping: quoted, they are their canonical JSON text.
    texts = {**row.texts, "id": str(last_id + 1), "at": f'"{at.isoformat(timespec="microseconds")}"',
             "prev_hash": f'"{last_hash}"'}
    hashed = "{" + ",".join(f'"{name}":{texts[name]}' for name in HASHED) + "}"
    values["row_hash"] = hashlib.sha256(hashed.encode()).hexdigest()
    return values



@dataclass(frozen=True)
class Appended:
    """What an append tells its caller: the new row's id, time and hash."""

    id: int
    at: dt.datetime
    row_hash: str
