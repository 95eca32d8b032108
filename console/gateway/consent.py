"""Sign-ins under way: who may sign in for an authorization request, and the consent that answers it.

No cookies: the consent form carries a MAC bound to the request and the person who signed in, and only the browser
that completed the sign-in receives it (the consent page is the answer to the sign-in itself). Whoever else knows
a request id (it travels in URLs) can neither read that value nor answer the request.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from mcp.server.auth.provider import construct_redirect_uri
from sqlalchemy import update

from console.auth import SignInMode, verified
from console.gateway.groups import Group
from console.gateway.models import OAuthRequest
from console.gateway.oauth import ConsoleAuthProvider, changed
from console.users import UserInfo
from mcp_bridge.errors import AuthRequired, PermissionDenied

DEMO_DOMAIN = "@demo.local"


class PersonRefused(PermissionDenied):
    """This person may not sign in for this request (another account may)."""


@dataclass(frozen=True)
class PendingRequest:
    """An authorization request waiting for its sign-in or consent."""

    id: str
    client_id: str
    client_name: str
    redirect_uri: str
    resource: str
    group: Group | None
    user: str | None


@dataclass(frozen=True)
class Consent:
    """What the consent page names: the person, the client, the group and the sites it will reach."""

    request: PendingRequest
    person: UserInfo
    sites: tuple[str, ...]
    form_token: str


class SignIns:
    """The steps between the client's /authorize and the code: admit the person, then record their answer."""

    def __init__(self, provider: ConsoleAuthProvider) -> None:
        self.provider = provider
        self.runtime, self.audit = provider.runtime, provider.audit

    def pending(self, request_id: str) -> PendingRequest:
        """The request, if it is still open; AuthRequired (start again from the MCP client) otherwise."""
        with self.provider.store.read() as s:
            row = s.get(OAuthRequest, request_id[:64]) if request_id else None
        if row is None or row.done_at is not None or row.expires_at <= self.provider.clock():
            raise AuthRequired("this sign-in link has expired or was used already; connect again from your MCP "
                               "client to start a new sign-in")
        client = self.provider.clients.get(row.client_id)
        group = self.provider.groups.get(row.group) if row.group else None
        if client is None or (row.group and (group is None or not group.enabled)):
            raise AuthRequired(f"the application or the tool group {row.group!r} of this sign-in is gone or "
                               "switched off; ask a console admin")
        return PendingRequest(id=row.id, client_id=row.client_id, client_name=client.client_name or row.client_id,
                              redirect_uri=str(row.params["redirect_uri"]), resource=str(row.params["resource"]),
                              group=group, user=row.user)

    def admit(self, request_id: str, *, email: str, name: str = "", mode: SignInMode,
              email_verified: object = None) -> Consent:
        """Check the person who signed in for this request and bind them to it; the consent page comes next."""
        request, email = self.pending(request_id), email.strip().lower()
        person = self.runtime.users.get(email)
        sites = tuple(sorted(_reachable(person, request.group)))
        detail = {"client_id": request.client_id, "group": request.group.code if request.group else None,
                  "mode": mode.value, "resource": request.resource}
        refused = self._refusal(request, email, person, sites, mode, email_verified)
        if refused is not None:
            self.audit.append("gateway_signin", actor=email, channel="gateway", outcome="refused",
                              detail={**detail, "reason": refused[0]})
            raise PersonRefused(refused[1])
        assert person is not None
        with self.provider.store.write() as s:
            bound = s.execute(update(OAuthRequest).where(
                OAuthRequest.id == request.id, OAuthRequest.user.is_(None), OAuthRequest.done_at.is_(None))
                .values(user=email))
            if changed(bound) != 1:
                raise AuthRequired("someone already signed in with this link; connect again from your MCP client")
            self.audit.append("gateway_signin", actor=email, channel="gateway", outcome="ok", session=s,
                              detail={**detail, "name": name[:120]} if name else detail)
        return Consent(request=request, person=person, sites=sites, form_token=self.form_token(request.id, email))

    def _refusal(self, request: PendingRequest, email: str, person: UserInfo | None, sites: tuple[str, ...],
                 mode: SignInMode, claim: object) -> tuple[str, str] | None:
        """Why this person may not sign in for this request (reason, what to do), or None."""
        if mode is SignInMode.DEMO and (self.provider.oidc is not None or not email.endswith(DEMO_DOMAIN)):
            return "not_demo", "the demo sign-in only takes the listed demo users"
        unverified_ok = {d.strip().lower().lstrip("@") for d in self.runtime.settings.oidc_unverified_domains}
        if mode is SignInMode.OIDC and not verified(claim) and email.rpartition("@")[2] not in unverified_ok:
            return "email_not_verified", (
                f"your identity provider has not confirmed that {email} is your address (email_verified is not "
                "true); verify it with your identity provider, or sign in with an account whose e-mail is verified")
        if person is None or not person.active or not person.roles:
            return "unknown_user", (f"{email} is not an active user of this console; ask a console admin to add "
                                    "you, then connect again")
        if not sites:
            where = (f"the tool group {request.group.name!r} (sites {', '.join(request.group.sites)})"
                     if request.group else "the console")
            return "no_site", f"{email} has no site in {where}; ask a console admin for one, then connect again"
        return None

    def form_token(self, request_id: str, email: str) -> str:
        return self.provider.sign("consent", f"{request_id}/{email}")

    def decide(self, request_id: str, *, form_token: str, allow: bool) -> str:
        """Record the person's answer; the URL sends the browser back to the client with a code or access_denied."""
        request = self.pending(request_id)
        user = request.user or ""
        if not user or not hmac.compare_digest(form_token.encode(), self.form_token(request.id, user).encode()):
            self.audit.append("gateway_consent", actor=user or "anonymous", channel="gateway", outcome="refused",
                              detail={"client_id": request.client_id, "reason": "bad_form"})
            raise PermissionDenied("this consent form is not valid (it was not shown to you by the console); "
                                   "connect again from your MCP client")
        now = self.provider.clock()
        with self.provider.store.write() as s:
            row = s.get(OAuthRequest, request.id)
            answered = s.execute(update(OAuthRequest).where(
                OAuthRequest.id == request.id, OAuthRequest.user == user, OAuthRequest.done_at.is_(None),
                OAuthRequest.expires_at > now).values(done_at=now))
            if row is None or changed(answered) != 1:
                raise AuthRequired("this sign-in was answered already or has expired; connect again from your MCP "
                                   "client")
            self.audit.append("gateway_consent", actor=user, channel="gateway", outcome="allowed" if allow else "denied",
                              session=s, detail={"client_id": request.client_id, "client_name": request.client_name[:120],
                                                 "group": request.group.code if request.group else None,
                                                 "resource": request.resource})
            state = row.params.get("state")
            if not allow:
                return construct_redirect_uri(request.redirect_uri, error="access_denied",
                                              error_description="the person declined", state=state)
            return construct_redirect_uri(request.redirect_uri, code=self.provider.new_code(s, row, user), state=state)

    def abandon(self, request_id: str, reason: str) -> str:
        """Close a request the sign-in provider refused; the URL tells the client (access_denied)."""
        request = self.pending(request_id)
        with self.provider.store.write() as s:
            row = s.get(OAuthRequest, request.id)
            assert row is not None
            row.done_at = self.provider.clock()
            self.audit.append("gateway_signin", actor=request.user or "anonymous", channel="gateway",
                              outcome="refused", session=s, detail={"client_id": request.client_id,
                                                                    "reason": f"provider: {reason[:60]}"})
            return construct_redirect_uri(request.redirect_uri, error="access_denied",
                                          error_description="sign-in was cancelled", state=row.params.get("state"))


def _reachable(person: UserInfo | None, group: Group | None) -> set[str]:
    """The sites the client will reach: the person's, within the group's."""
    if person is None or not person.active:
        return set()
    return set(person.sites) & set(group.sites) if group is not None else set(person.sites)
