"""Plain value types shared by every part of the bridge (the floor of the dependency graph)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

CHANNELS = frozenset({"ui", "chat", "cli", "job", "gateway"})
SOURCE_KINDS = frozenset({"chat", "job", "cli", "gateway", "ui"})
ROLES = frozenset({"seller", "manager", "approver", "admin"})


@dataclass(frozen=True)
class Caller:
    """Who is calling: a user with roles, the sites they may act on, and the channel they came through."""

    user: str
    roles: frozenset[str] = frozenset()
    sites: frozenset[str] = frozenset()
    channel: str = "ui"

    def has(self, role: str) -> bool:
        """True when the caller holds the role (admin holds every role)."""
        return role in self.roles or "admin" in self.roles

    def may_see(self, site: str | None) -> bool:
        return site is not None and site in self.sites


@dataclass(frozen=True)
class Source:
    """Where a call came from: a chat conversation, a scheduled job, the CLI, the gateway or a page."""

    kind: str
    ref: str | None = None
    batch_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ToolSpec:
    """One tool of one server as the catalog sees it; `name` is `server__tool`."""

    name: str
    server: str
    tool: str
    description: str
    input_schema: dict[str, Any]
    is_write: bool
    annotations: dict[str, Any] = field(default_factory=dict)
    pinned_ok: bool = True


OutcomeStatus = Literal["ok", "pending", "error"]


@dataclass
class ToolOutcome:
    """What a tool call came to, as the caller (a person or the model) sees it."""

    tool: str
    status: OutcomeStatus
    text: str
    structured: dict[str, Any] | None = None
    operation_id: int | None = None
    batch_id: str | None = None
    code: str | None = None
    duration_ms: float = 0.0


def _default_bundled() -> frozenset[str]:
    return frozenset({"ads", "commerce", "analytics"})


@dataclass(frozen=True)
class BridgeConfig:
    """Everything the bridge needs from the console's settings, and nothing else."""

    mcp_servers: dict[str, Any]
    approval_secret: str
    call_timeout_s: float = 30
    read_retries: int = 1
    operation_expiry_hours: float = 24
    token_ttl_s: int = 300
    bundled: frozenset[str] = field(default_factory=_default_bundled)


@dataclass(frozen=True)
class Operation:
    """A pending (or decided) write as people see it: the server's dry-run preview and its whole story."""

    id: int
    batch_id: str | None
    status: str
    site: str
    server: str
    tool: str
    arguments: dict[str, Any]
    preview: dict[str, Any]
    reason: str | None
    proposer: str
    source_kind: str
    source_ref: str | None
    created_at: dt.datetime
    expires_at: dt.datetime
    decided_by: str | None = None
    decided_at: dt.datetime | None = None
    decision_reason: str | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    error_code: str | None = None
    original_arguments: dict[str, Any] | None = None
    edit_history: list[dict[str, Any]] = field(default_factory=list)
    executed_at: dt.datetime | None = None
    version: int = 1

    @property
    def name(self) -> str:
        """The namespaced tool name (`ads__update_bid`)."""
        return f"{self.server}__{self.tool}"

    @property
    def summary(self) -> str:
        """`update_bid keyword #7 'yoga mat': bid 1.50 → 1.20`."""
        target, change = self.preview.get("target", ""), self.preview.get("summary", "")
        return f"{self.tool} {target}: {change}".strip().rstrip(":")


@dataclass(frozen=True)
class BatchItem:
    """What approving or rejecting a batch did to one of its operations."""

    operation_id: int
    status: str
    code: str | None = None
    message: str | None = None
