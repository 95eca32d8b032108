"""The console as OAuth 2.1 authorization server of the gateway: registered clients, codes, rotating tokens, grants.

Tokens are bound to one resource (RFC 8707): `<base>/mcp` (the person's own catalog) or `<base>/mcp/<group>`. An
authorization without `resource` is refused, so a token never reaches further than the endpoint it was asked for.
A refresh token is spent when used; presenting a spent one again revokes every token of that sign-in (its family),
as does presenting a used authorization code again.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from anyio import to_thread
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    OAuthAuthorizationServerProvider,
    RefreshToken,
    TokenError,
)
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyUrl
from sqlalchemy import CursorResult, Result, delete, select, update
from sqlalchemy.orm import Session

from console.auth import SignInMisconfigured
from console.gateway.clients import Clients
from console.gateway.groups import ToolGroups
from console.gateway.models import OAuthCode, OAuthRequest
from console.gateway.models import OAuthToken as TokenRow
from console.gateway.oidc import OIDCClient
from console.models import User
from mcp_bridge.errors import AuthRequired, SessionExpired
from mcp_bridge.store import Store, utcnow

if TYPE_CHECKING:
    from console.runtime import Runtime

SCOPE = "mcp"  # access comes from the person's roles and sites and the group, not from scopes
ACCESS_PREFIX, REFRESH_PREFIX = "oca_", "ocr_"  # tell them from group API keys (ock_) and from each other
CODE_TTL = dt.timedelta(minutes=5)
REQUEST_TTL = dt.timedelta(minutes=15)  # sign-in at the provider plus reading the consent page
PURGE_AFTER = dt.timedelta(days=1)  # ended requests, codes and tokens are deleted this long after they expire
OIDC_KEYS = ("client_id", "client_secret", "server_metadata_url")


@dataclass(frozen=True)
class Grant:
    """What a valid access token lets its bearer do; `expires_at` is naive UTC, as stored."""

    user: str
    group: str | None
    client_id: str
    resource: str
    expires_at: dt.datetime
    scopes: tuple[str, ...]


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def changed(result: Result[Any]) -> int:
    """The rows an UPDATE changed (its CursorResult's rowcount, which the typed Result does not declare)."""
    return int(cast(CursorResult[Any], result).rowcount)


def epoch(moment: dt.datetime) -> int:
    return int(moment.replace(tzinfo=dt.UTC).timestamp())


class ConsoleAuthProvider(OAuthAuthorizationServerProvider[AuthorizationCode, RefreshToken, AccessToken]):
    """The SDK's authorization-server provider on the console database; `grant` checks a bearer on every call."""

    def __init__(self, runtime: Runtime, *, base_url: str, groups: ToolGroups, auth: Mapping[str, Any] | None,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        settings = runtime.settings
        if not auth and settings.env == "production":
            raise SignInMisconfigured("CONSOLE_ENV=production needs real sign-in for the gateway: add an [auth] section "
                                      "to .streamlit/secrets.toml; the demo sign-in is refused in production")
        missing = [key for key in OIDC_KEYS if auth and not auth.get(key)]
        if missing:
            raise SignInMisconfigured(f"[auth] in .streamlit/secrets.toml is missing {', '.join(missing)}")
        self.runtime, self.groups, self.clock = runtime, groups, clock
        self.base_url = base_url.rstrip("/")
        self.store, self.audit = Store(runtime.engine), runtime.bridge.audit
        self.oidc = OIDCClient(auth, redirect_uri=f"{self.base_url}/signin/callback") if auth else None
        self.access_ttl = dt.timedelta(seconds=settings.gateway_access_token_ttl_s)
        self.refresh_ttl = dt.timedelta(seconds=settings.gateway_refresh_token_ttl_s)
        self._secret = settings.approval_secret.get_secret_value().encode()
        self.clients = Clients(self.store, self.sign, clock)

    def sign(self, purpose: str, value: str) -> str:
        """A keyed MAC of `value` for one purpose (consent forms, the provider's nonce and PKCE verifier)."""
        mac = hmac.new(self._secret, f"operator-console/gateway/{purpose}/{value}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()

    # -- clients (RFC 7591) -------------------------------------------------------------------------------
    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        return await to_thread.run_sync(self.clients.get, client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        await to_thread.run_sync(self.clients.register, client_info)

    # -- authorization ------------------------------------------------------------------------------------
    def resource_group(self, resource: str | None) -> tuple[str, str | None]:
        """The canonical resource and its group code (None: `/mcp`); AuthorizeError for anything else."""
        endpoints = f"{self.base_url}/mcp or {self.base_url}/mcp/<group>"
        if not resource:
            raise AuthorizeError("invalid_target", f"name the MCP endpoint in `resource` (RFC 8707): {endpoints}")
        value = resource.rstrip("/")
        if value == f"{self.base_url}/mcp":
            return value, None
        code = value.removeprefix(f"{self.base_url}/mcp/")
        group = self.groups.get(code) if code != value else None
        if group is None:
            raise AuthorizeError("invalid_target", f"{resource[:80]!r} is not an MCP endpoint of this console; use "
                                 f"{endpoints}")
        if not group.enabled:
            raise AuthorizeError("access_denied", f"the tool group {code!r} is switched off; ask a console admin")
        return value, code

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        resource, group = await to_thread.run_sync(self.resource_group, params.resource)
        now, request_id = self.clock(), secrets.token_urlsafe(32)
        await to_thread.run_sync(self._open, OAuthRequest(
            id=request_id, client_id=client.client_id, group=group, user=None, created_at=now,
            expires_at=now + REQUEST_TTL, done_at=None, params={
                "state": params.state, "scopes": params.scopes or [SCOPE], "code_challenge": params.code_challenge,
                "redirect_uri": str(params.redirect_uri), "resource": resource,
                "redirect_uri_provided_explicitly": params.redirect_uri_provided_explicitly}))
        return f"{self.base_url}/signin?request={request_id}"

    def _open(self, request: OAuthRequest) -> None:
        """Store a new request and drop what ended a while ago (sign-ins are rare, so this stays cheap)."""
        cutoff = request.created_at - PURGE_AFTER
        with self.store.write() as s:
            for table, expires_at in ((OAuthRequest, OAuthRequest.expires_at), (OAuthCode, OAuthCode.expires_at),
                                      (TokenRow, TokenRow.expires_at)):
                s.execute(delete(table).where(expires_at < cutoff))
            s.add(request)

    def new_code(self, s: Session, request: OAuthRequest, user: str) -> str:
        """Issue the authorization code of a consented request, inside the consent's transaction."""
        code, params = secrets.token_urlsafe(32), request.params
        s.add(OAuthCode(code_hash=digest(code), client_id=request.client_id, user=user, group=request.group,
                        scopes=list(params["scopes"]), code_challenge=params["code_challenge"],
                        redirect_uri=params["redirect_uri"], resource=params["resource"],
                        redirect_uri_provided_explicitly=bool(params["redirect_uri_provided_explicitly"]),
                        expires_at=self.clock() + CODE_TTL, used_at=None))
        return code

    async def load_authorization_code(self, client: OAuthClientInformationFull,
                                      authorization_code: str) -> AuthorizationCode | None:
        return await to_thread.run_sync(self._load_code, client.client_id, authorization_code)

    def _load_code(self, client_id: str, code: str) -> AuthorizationCode | None:
        with self.store.write() as s:
            row = s.get(OAuthCode, digest(code))
            if row is None or row.client_id != client_id:
                return None
            if row.used_at is not None:  # a replayed code: whoever holds it may hold its tokens too
                self._revoke_family(s, row.code_hash, user=row.user, client_id=client_id, reason="code_reused")
                return None
            return AuthorizationCode(
                code=code, scopes=list(row.scopes), expires_at=epoch(row.expires_at), client_id=row.client_id,
                code_challenge=row.code_challenge, redirect_uri=AnyUrl(row.redirect_uri),
                redirect_uri_provided_explicitly=row.redirect_uri_provided_explicitly, resource=row.resource,
                subject=row.user)

    async def exchange_authorization_code(self, client: OAuthClientInformationFull,
                                          authorization_code: AuthorizationCode) -> OAuthToken:
        return await to_thread.run_sync(self._exchange_code, authorization_code.code)

    def _exchange_code(self, code: str) -> OAuthToken:
        now, code_hash = self.clock(), digest(code)
        with self.store.write() as s:
            claimed = s.execute(update(OAuthCode).where(OAuthCode.code_hash == code_hash, OAuthCode.used_at.is_(None),
                                                        OAuthCode.expires_at > now).values(used_at=now))
            row = s.get(OAuthCode, code_hash)
            if changed(claimed) != 1 or row is None:
                raise TokenError("invalid_grant", "the authorization code was used already or has expired")
            if not _active(s, row.user):
                raise TokenError("invalid_grant", f"{row.user} is no longer an active console user")
            # The family is the code's hash, so a replayed code finds the tokens it produced.
            return self._issue(s, family=code_hash, client_id=row.client_id, user=row.user, group=row.group,
                               scopes=list(row.scopes), resource=row.resource or "", now=now)

    # -- tokens -------------------------------------------------------------------------------------------
    def _issue(self, s: Session, *, family: str, client_id: str, user: str, group: str | None, scopes: list[str],
               resource: str, now: dt.datetime) -> OAuthToken:
        access, refresh = ACCESS_PREFIX + secrets.token_urlsafe(32), REFRESH_PREFIX + secrets.token_urlsafe(32)
        for kind, token, ttl in (("access", access, self.access_ttl), ("refresh", refresh, self.refresh_ttl)):
            s.add(TokenRow(token_hash=digest(token), kind=kind, family=family, client_id=client_id, user=user,
                           group=group, scopes=scopes, resource=resource, created_at=now, expires_at=now + ttl,
                           revoked_at=None))
        return OAuthToken(access_token=access, expires_in=int(self.access_ttl.total_seconds()), scope=" ".join(scopes),
                          refresh_token=refresh)

    async def load_refresh_token(self, client: OAuthClientInformationFull, refresh_token: str) -> RefreshToken | None:
        return await to_thread.run_sync(self._load_refresh, client.client_id, refresh_token)

    def _load_refresh(self, client_id: str, token: str) -> RefreshToken | None:
        with self.store.write() as s:
            row = s.get(TokenRow, digest(token))
            if row is None or row.kind != "refresh" or row.client_id != client_id:
                return None
            if row.revoked_at is not None:  # spent or revoked: a second holder of this sign-in exists
                self._revoke_family(s, row.family, user=row.user, client_id=client_id, reason="refresh_reused")
                return None
            return RefreshToken(token=token, client_id=client_id, scopes=list(row.scopes),
                                expires_at=epoch(row.expires_at), resource=row.resource, subject=row.user)

    async def exchange_refresh_token(self, client: OAuthClientInformationFull, refresh_token: RefreshToken,
                                     scopes: list[str]) -> OAuthToken:
        return await to_thread.run_sync(self._rotate, refresh_token.token, scopes)

    def _rotate(self, token: str, scopes: list[str]) -> OAuthToken:
        now, token_hash = self.clock(), digest(token)
        with self.store.read() as s:
            row = s.get(TokenRow, token_hash)
            active = row is not None and _active(s, row.user)
        if row is None or row.kind != "refresh":
            raise TokenError("invalid_grant", "unknown refresh token")
        group = self.groups.get(row.group) if row.group else None
        refusal = ("the refresh token has expired; sign in again" if row.expires_at <= now else
                   f"{row.user} is no longer an active console user" if not active else
                   f"the tool group {row.group!r} is switched off or gone" if row.group and not (group and group.enabled)
                   else None)
        if refusal:
            raise TokenError("invalid_grant", refusal)
        with self.store.write() as s:
            spent = s.execute(update(TokenRow).where(TokenRow.token_hash == token_hash, TokenRow.revoked_at.is_(None))
                              .values(revoked_at=now))
            if changed(spent) == 1:
                # The access tokens of the previous round end now: the client has the new one.
                s.execute(update(TokenRow).where(TokenRow.family == row.family, TokenRow.kind == "access",
                                                 TokenRow.revoked_at.is_(None)).values(revoked_at=now))
                return self._issue(s, family=row.family, client_id=row.client_id, user=row.user, group=row.group,
                                   scopes=scopes, resource=row.resource or "", now=now)
            # Another request spent it since it was loaded: two holders of one sign-in.
            self._revoke_family(s, row.family, user=row.user, client_id=row.client_id, reason="refresh_reused")
        raise TokenError("invalid_grant", "the refresh token was used already; sign in again")

    async def load_access_token(self, token: str) -> AccessToken | None:
        return await to_thread.run_sync(self._load_access, token)

    def _load_access(self, token: str) -> AccessToken | None:
        with self.store.read() as s:
            row = s.get(TokenRow, digest(token))
            if row is None or row.kind != "access" or row.revoked_at is not None or row.expires_at <= self.clock():
                return None
            return AccessToken(token=token, client_id=row.client_id, scopes=list(row.scopes),
                               expires_at=epoch(row.expires_at), resource=row.resource, subject=row.user)

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        await to_thread.run_sync(self._revoke, token.token)

    def _revoke(self, token: str) -> None:
        with self.store.write() as s:
            row = s.get(TokenRow, digest(token))
            if row is not None:
                self._revoke_family(s, row.family, user=row.user, client_id=row.client_id, reason="revoked")

    def _revoke_family(self, s: Session, family: str, *, user: str, client_id: str, reason: str) -> None:
        """End every live token of one sign-in and audit it (once: a family already ended is left alone)."""
        ended = changed(s.execute(update(TokenRow).where(TokenRow.family == family, TokenRow.revoked_at.is_(None))
                                  .values(revoked_at=self.clock())))
        if ended or reason != "revoked":
            self.audit.append("gateway_token_revoked", actor=user, channel="gateway",
                              outcome="ok" if reason == "revoked" else "refused", session=s,
                              detail={"client_id": client_id, "reason": reason, "ended": ended})

    # -- the gateway's check on every request --------------------------------------------------------------
    def grant(self, token: str, *, resource: str) -> Grant:
        """The grant of a bearer at `resource`; SessionExpired when it has expired, AuthRequired when it is no good."""
        resource = resource.rstrip("/")
        again = f"sign in again at {resource}"
        if not token.startswith(ACCESS_PREFIX):
            raise AuthRequired(f"this is not an access token of this console; {again}")
        with self.store.read() as s:
            found = s.execute(select(TokenRow, User.active).outerjoin(User, User.email == TokenRow.user)
                              .where(TokenRow.token_hash == digest(token))).first()
            row, active = (found[0], found[1]) if found is not None else (None, None)
        if row is None or row.kind != "access" or row.revoked_at is not None:
            raise AuthRequired(f"this access token is unknown, revoked or signed out; {again}")
        if (row.resource or "") != resource:
            raise AuthRequired(f"this access token is for {row.resource}, not {resource}; {again}")
        if row.expires_at <= self.clock():
            raise SessionExpired(f"your sign-in to {resource} expired at {row.expires_at:%Y-%m-%d %H:%M:%S} UTC; let "
                                 f"your MCP client refresh it, or {again}")
        if not active:
            raise AuthRequired(f"{row.user} is no longer an active console user; ask a console admin")
        return Grant(user=row.user, group=row.group, client_id=row.client_id, resource=resource,
                     expires_at=row.expires_at, scopes=tuple(row.scopes))


def _active(s: Session, email: str) -> bool:
    return bool(s.scalar(select(User.active).where(User.email == email)))

