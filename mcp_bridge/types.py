"""Plain value types shared by every part of the bridge (the floor of the dependency graph)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

CHANNELS = frozenset({"ui", "chat", "cli", "job", "gateway"})
SOURCE_KINDS = frozenset({"chat", "job", "cli", "gateway", "ui"})
ROLES = frozenset({"seller", "manager", "approver", "admin"})


@dataclass(frozen=True)
class Caller:
    """Who is calling: a user with roles, the sites they may act on, and the channel they came through.

    Roles are held per site (`site_roles`: a user may approve on US and sell on DE); `roles` is their union, for
    navigation. `Caller(user, roles, sites, channel)` holds `roles` on every site of `sites` (API keys, jobs);
    `Caller.of(user, site_roles, channel)` holds each site's own. Given both (as `dataclasses.replace` does),
    `roles` and `sites` narrow `site_roles`, and a role of `roles` that no site holds is held on every site.
    """

    user: str
    roles: frozenset[str] = frozenset()
    sites: frozenset[str] = frozenset()
    channel: str = "ui"
    site_roles: Mapping[str, frozenset[str]] | None = field(default=None, hash=False)

    def __post_init__(self) -> None:
        roles, sites = frozenset(self.roles), frozenset(self.sites)
        if self.site_roles is None:
            held = {site: roles for site in sites}
        else:
            named = frozenset().union(*self.site_roles.values())
            everywhere = roles - named
            held = {site: (frozenset(self.site_roles.get(site, ())) & roles) | everywhere for site in sites}
            roles = frozenset().union(*held.values())
        # Frozen: these normalise the arguments once, at construction.
        object.__setattr__(self, "roles", roles)
        object.__setattr__(self, "sites", sites)
        object.__setattr__(self, "site_roles", held)

    @classmethod
    def of(cls, user: str, site_roles: Mapping[str, Iterable[str]], channel: str = "ui") -> Caller:
        """A caller holding, on each site of `site_roles`, that site's roles."""
        held = {site: frozenset(roles) for site, roles in site_roles.items()}
        return cls(user, frozenset().union(*held.values()), frozenset(held), channel, held)

    def roles_on(self, site: str | None) -> frozenset[str]:
        """The roles held on one site (none outside the caller's sites)."""
        return (self.site_roles or {}).get(site, frozenset()) if site is not None else frozenset()

    def has(self, role: str, site: str | None = None) -> bool:
        """True when the caller holds the role on `site`, or on any site when None (admin holds every role)."""
        roles = self.roles if site is None else self.roles_on(site)
        return role in roles or "admin" in roles

    def sites_with(self, *roles: str) -> frozenset[str]:
        """The sites on which the caller holds at least one of `roles`."""
        return frozenset(site for site in self.sites if any(self.has(role, site) for role in roles))

    def may_see(self, site: str | None) -> bool:
        return site is not None and site in self.sites


@dataclass(frozen=True)
class Source:
    """Where a call came from: a chat conversation, a scheduled job, the CLI, the gateway or a page."""

    kind: str
    ref: str | None = None
    batch_id: str | None = None
    reason: str | None = None
    # What justifies a proposal, when its source knows it (an alert row's metrics and the rule): stored with it.
    # Left out of the hash, so a source with evidence can still be a set member or a key.
    evidence: dict[str, Any] | None = field(default=None, hash=False)


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
    # The keyring file that adds rotated keys to the master secret (None: the master secret alone).
    keyring_path: str | None = None
    # The audit chain's HMAC key (never stored in the console database) and where its checkpoints go.
    audit_secret: str = "dev-audit-secret-change-me"
    audit_anchor: str | None = None
    # How long an approval keeps trying to record a write's result when the console database is busy.
    result_write_timeout_s: float = 120.0
    # Sessions (processes) a stdio server may get under concurrent calls; each opens on demand.
    sessions_per_server: int = 1


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
    nonce: str | None = None
    token_expires_at: dt.datetime | None = None
    evidence: dict[str, Any] | None = None
    intent: str | None = None
    supersedes: int | None = None
    # Not stored: True when a proposal found this same change already waiting, so nothing new was filed.
    already_waiting: bool = False

    @property
    def name(self) -> str:
        """The namespaced tool name (`ads__update_bid`)."""
        return f"{self.server}__{self.tool}"

    @property
    def verified(self) -> bool:
        """False when the preview was built from the arguments alone (a server without the write contract)."""
        return self.preview.get("verified", True) is not False

    @property
    def summary(self) -> str:
        """`update_bid keyword #7 'yoga mat': bid 1.50 → 1.20`."""
        target, change = self.preview.get("target", ""), self.preview.get("summary", "")
        text = f"{self.tool} {target}: {change}".strip().rstrip(":")
        return f"already waiting as #{self.id}: {text}" if self.already_waiting else text


@dataclass(frozen=True)
class BatchItem:
    """What approving or rejecting a batch did to one of its operations."""

    operation_id: int
    status: str
    code: str | None = None
    message: str | None = None
