"""Who is calling the gateway: a tool group's API key or a signed-in person, resolved from the request's bearer
token on every request (a revoked key, a disabled group or a removed site stops working on the next call)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any, Protocol

from console.gateway.groups import Group, ToolGroups
from console.gateway.keys import ApiKeys, KeyInfo, looks_like_key
from mcp_bridge.errors import AuthRequired, PermissionDenied
from mcp_bridge.types import Caller

# A key of a group that may propose writes gets the `agent` role: any server's tools (the group lists them), writes
# only as proposals. Never `approver` or `admin`: nothing an outside agent sends can approve anything.
KEY_ROLES = {True: frozenset({"agent"}), False: frozenset({"manager"})}


class Grants(Protocol):
    """The authorization server's side: what a signed-in person's access token grants (or a coded refusal)."""

    def grant(self, token: str, *, resource: str) -> Any: ...


@dataclass(frozen=True)
class Principal:
    """The caller of one request: who (for the audit log), what it may do (`caller`), and through which group."""

    actor: str
    caller: Caller
    group: Group | None
    key: KeyInfo | None = None
    client_id: str | None = None
    expires_at: dt.datetime | None = None

    @property
    def kind(self) -> str:
        return "key" if self.key is not None else "user"

    @property
    def source_ref(self) -> str:
        """How the audit log's `detail.source_ref` names the route in: parsed by monitoring."""
        if self.key is not None:
            return f"group={self.key.group} key={self.key.id}"
        return f"group={self.group.code} user" if self.group else "user"

    @property
    def limit_key(self) -> str:
        """What the rate limit counts: the key, or the person across every client and group."""
        return f"key:{self.key.id}" if self.key is not None else f"user:{self.caller.user}"

    @property
    def state_key(self) -> str:
        """Whose active site this is: one per key, one per person and group."""
        if self.key is not None:
            return f"key:{self.key.id}"
        return f"user:{self.caller.user}@{self.group.code if self.group else ''}"


class Resolver:
    """Turns a bearer token and the URL's group code into a `Principal`, or a coded refusal."""

    def __init__(self, runtime: Any, groups: ToolGroups, keys: ApiKeys, grants: Grants | None, *,
                 base_url: str) -> None:
        self.runtime, self.groups, self.keys, self.grants, self.base_url = runtime, groups, keys, grants, base_url

    def resource(self, code: str | None) -> str:
        return f"{self.base_url}/mcp/{code}" if code else f"{self.base_url}/mcp"

    def resolve(self, token: str | None, code: str | None) -> Principal:
        if not token:
            how = (f"sign in from your MCP client (it finds the console's sign-in at {self.resource(code)}) or "
                   if self.grants is not None else "")
            raise AuthRequired(f"{how}send a tool group's API key as `Authorization: Bearer <key>`")
        if looks_like_key(token):
            return self._by_key(token, code)
        if self.grants is None:
            raise AuthRequired("that is not an API key of this console, and sign-in is not configured here")
        grant = self.grants.grant(token, resource=self.resource(code))
        return self._by_person(grant, code)

    def _group(self, code: str) -> Group:
        group = self.groups.get(code)
        if group is None:
            raise PermissionDenied(f"no tool group {code!r} at this gateway")
        if not group.enabled:
            raise PermissionDenied(f"tool group {code!r} is switched off; ask an admin to enable it")
        return group

    def _by_key(self, token: str, code: str | None) -> Principal:
        key = self.keys.verify(token)
        if code is None:
            raise PermissionDenied(f"an API key works at its group's address: connect to {self.resource(key.group)}")
        if key.group != code:
            raise PermissionDenied(f"this API key belongs to another tool group; connect to {self.resource(key.group)}")
        group = self._group(code)
        caller = Caller(user=key.actor, roles=KEY_ROLES[group.writes], sites=frozenset(group.sites), channel="gateway")
        return Principal(actor=key.actor, caller=caller, group=group, key=key, expires_at=key.expires_at)

    def _by_person(self, grant: Any, code: str | None) -> Principal:
        info = self.runtime.users.get(grant.user)
        if info is None or not info.active:
            raise AuthRequired(f"{grant.user} has no active account on this console any more; sign in again")
        caller = replace(self.runtime.users.caller(grant.user, channel="gateway"))
        group = None
        if code is not None:
            group = self._group(code)
            if not group.writes:  # roles are per site: whatever a person holds on a site reads there, as a manager
                caller = Caller.of(caller.user, {site: roles - {"seller", "admin"} | ({"manager"} if roles else set())
                                                 for site, roles in (caller.site_roles or {}).items()}, caller.channel)
            caller = replace(caller, sites=caller.sites & frozenset(group.sites))
        if not caller.sites:
            where = f"tool group {code!r}" if code else "this console"
            raise PermissionDenied(f"{grant.user} has no site in {where}; ask an admin for access")
        return Principal(actor=grant.user, caller=caller, group=group, client_id=grant.client_id,
                         expires_at=grant.expires_at)
