"""What an audit row says and how it is MACed: canonical text, redaction, rows serialised ahead of time."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

from mcp_bridge.audit.key import AuditKey
from mcp_bridge.scrub import MIN_SECRET_CHARS, safe_key, scrub_head, scrub_text
from mcp_bridge.store import AuditRow, json_text, utcnow

SECRET_KEYS = ("approval_token", "pii_grant", "api_key", "password", "secret", "token", "authorization", "cookie")
REDACTED = "[redacted]"
# The most any one string of a row's arguments or detail keeps: a 200 KB argument does not land in the log. The rest
# becomes CUT_MARK (about how many characters were dropped), within the limit, so a cut string is cut no further.
MAX_TEXT_CHARS = 2_000
CUT_MARK = "…[+{} chars]"
FIELDS = ("id", "at", "event", "actor", "channel", "site", "tool", "arguments", "outcome", "detail",
          "duration_ms", "result_size", "prev_hash")


@functools.lru_cache(maxsize=4096)  # the same few dozen keys, on every row
def _is_secret(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in SECRET_KEYS)


def redact(value: Any) -> Any:
    """A copy fit for the audit log (nested dicts and lists too): a secret-looking key's value replaced, credential-
    looking text scrubbed (`mcp_bridge.scrub`), every string cut at MAX_TEXT_CHARS; the console's own digests, nonces
    and ids (`scrub.SAFE_KEYS`) kept as they are. Keys become strings, as JSON has them, so the canonical form of a
    copy read back from the database is the same text; a redacted copy redacts to itself."""
    if isinstance(value, dict):
        return {str(k): _redact_item(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return _redact_text(value)
    return value


def _redact_item(key: str, value: Any) -> Any:
    if value is None:
        return None
    if _is_secret(key):
        return REDACTED
    if type(value) is str and safe_key(key):
        return value
    return redact(value)


def _redact_text(text: str) -> str:
    if len(text) < MIN_SECRET_CHARS:
        return text
    if len(text) <= MAX_TEXT_CHARS:
        return scrub_text(text)
    scrubbed, cut = scrub_head(text, MAX_TEXT_CHARS)
    if not cut:
        return scrubbed
    keep = MAX_TEXT_CHARS - len(CUT_MARK.format(len(text)))
    return scrubbed[:keep] + CUT_MARK.format(len(text) - keep)


canonical = json_text  # the one canonical JSON text: hashed here, stored by the engine

# A plain read is a read's request row and its result row (and an outside client's answered call): they are most of
# the log, so the Audit page hides them unless asked. Everything else is a decision: proposals, edits, approvals,
# rejections, expiries, executions, refused calls, sign-ins, user, key and group changes.
READ_EVENTS = ("tool_call", "tool_result")
PLAIN_READ_OUTCOMES = ("requested", "ok")


def plain_read(event: str, outcome: str | None) -> bool:
    """True for a read's request or result row; False for every decision (a refused call is one)."""
    return event == "tool_result" or (event == "tool_call" and outcome in PLAIN_READ_OUTCOMES)


def row_content(row: AuditRow) -> dict[str, Any]:
    """Everything a row says except its own hash, in a form that survives every database round trip."""
    content = {name: getattr(row, name) for name in FIELDS}
    content["at"] = row.at.isoformat(timespec="microseconds")
    return content


def record(row: AuditRow) -> dict[str, Any]:
    """A row as exported and archived: its content, its key id and its MAC (JSON-ready)."""
    return {**row_content(row), "key_id": row.key_id, "row_hash": row.row_hash}


def row_hash(row: AuditRow) -> str:
    """A legacy row's hash: plain SHA-256 of its content (rows written before the chain was keyed; key_id NULL)."""
    return hashlib.sha256(canonical(row_content(row)).encode()).hexdigest()


def row_mac(row: AuditRow, key: AuditKey) -> str:
    """A keyed row's MAC: HMAC-SHA256 with the audit key over its content and its key id."""
    return key.mac(canonical({**row_content(row), "key_id": row.key_id}))


JSON_FIELDS = ("arguments", "detail")
MACED = sorted((*FIELDS, "key_id"))  # the key order of the canonical text a keyed row's MAC is computed over


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


def link(row: Entry, last_id: int, last_hash: str, key: AuditKey) -> dict[str, Any]:
    """The next row's column values (JSON ones as canonical text): its id and time, the previous MAC, its own.

    The MAC is over the row as it will read back (`row_content` and its key id), which is what `verify`
    recomputes (`row_mac`): the same text, put together from the columns' own canonical texts.
    """
    at = utcnow()
    values = {"id": last_id + 1, "at": at, **row.columns, "prev_hash": last_hash, "key_id": key.id}
    # An ISO time, a hex digest and a key id need no escaping: quoted, they are their canonical JSON text.
    texts = {**row.texts, "id": str(last_id + 1), "at": f'"{at.isoformat(timespec="microseconds")}"',
             "prev_hash": f'"{last_hash}"', "key_id": f'"{key.id}"'}
    maced = "{" + ",".join(f'"{name}":{texts[name]}' for name in MACED) + "}"
    values["row_hash"] = key.mac(maced)
    return values



@dataclass(frozen=True)
class Appended:
    """What an append tells its caller: the new row's id, time and MAC."""

    id: int
    at: dt.datetime
    row_hash: str
