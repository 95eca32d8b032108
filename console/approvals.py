"""What the Approvals and Admin pages need around the gate: statuses, ownership, per-site policy read/write."""

from __future__ import annotations

import dataclasses
from typing import Any

from mcp_bridge.policy import SitePolicy, load_policy, save_policy
from mcp_bridge.store import Store
from mcp_bridge.types import Caller

PENDING = "proposed"
STATUSES = ["proposed", "approved", "executing", "succeeded", "failed", "unknown", "rejected", "expired"]
OPEN_STATUSES = frozenset({"proposed", "approved", "executing"})
POLICY_FIELDS = [f.name for f in dataclasses.fields(SitePolicy) if f.name != "site"]


def is_own(operation: Any, caller: Caller) -> bool:
    """True when the caller proposed the operation (self-approval needs the site's permission)."""
    return str(getattr(operation, "proposer", "")).lower() == caller.user.lower()


def site_policy(runtime: Any, site: str) -> SitePolicy:
    with Store(runtime.engine).read() as session:
        return load_policy(session, site, default_expiry_hours=runtime.settings.operation_expiry_hours)


def self_approval_allowed(runtime: Any, site: str) -> bool:
    return site_policy(runtime, site).allow_self_approval


def update_site_policy(runtime: Any, policy: SitePolicy, *, actor: Caller) -> SitePolicy:
    """Store a site's limits and audit the change (both in one transaction; admin only)."""
    if not actor.has("admin") or not actor.may_see(policy.site):
        from mcp_bridge.errors import PermissionDenied

        raise PermissionDenied(f"{actor.user} may not change the safety limits of {policy.site}")
    before = site_policy(runtime, policy.site)
    changes = {
        name: {"before": getattr(before, name), "after": getattr(policy, name)}
        for name in POLICY_FIELDS
        if getattr(before, name) != getattr(policy, name)
    }
    with Store(runtime.engine).write() as session:
        save_policy(session, policy)
        runtime.bridge.audit.append("policy_changed", actor=actor.user, channel=actor.channel, site=policy.site,
                                    outcome="ok", detail={"changes": changes}, session=session)
    return policy
