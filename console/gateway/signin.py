"""The gateway's OAuth routes: the SDK's authorization server, protected-resource metadata, sign-in and consent.

The sign-in goes to the console's OIDC provider (`[auth]`), whose redirect URI is `<base>/signin/callback`: register
that URI with the provider next to the console's `/oauth2callback`. Without `[auth]` (never in production) a demo
user is picked instead.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from mcp.server.auth.handlers.metadata import ProtectedResourceMetadataHandler
from mcp.server.auth.routes import cors_middleware, create_auth_routes, create_protected_resource_routes
from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions
from mcp.shared.auth import ProtectedResourceMetadata
from pydantic import AnyHttpUrl
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from console.auth import SignInMode, demo_accounts
from console.gateway.consent import PersonRefused, SignIns
from console.gateway.oauth import SCOPE, ConsoleAuthProvider
from console.gateway.pages import consent_page, demo_page, error_page
from console.i18n import _, language_from_accept, speaking
from mcp_bridge.errors import AuthRequired, ConsoleError, PermissionDenied

WELL_KNOWN = "/.well-known/oauth-protected-resource"


def resource_metadata_url(base_url: str, group: str | None = None) -> str:
    """Where a resource's metadata is (RFC 9728 §3.1): for a 401's `WWW-Authenticate: Bearer resource_metadata=…`."""
    return f"{base_url.rstrip('/')}{WELL_KNOWN}/mcp" + (f"/{group}" if group else "")


def oauth_routes(provider: ConsoleAuthProvider, *, base_url: str) -> list[BaseRoute]:
    """Every route of the console as authorization server, to mount at the root of the gateway app."""
    base = base_url.rstrip("/")
    if urlsplit(base).path:
        raise ValueError(f"the gateway URL {base!r} must be the root of the gateway, without a path")
    issuer = AnyHttpUrl(base)
    routes: list[BaseRoute] = [
        *create_auth_routes(provider, issuer,
                            client_registration_options=ClientRegistrationOptions(enabled=True, default_scopes=[SCOPE]),
                            revocation_options=RevocationOptions(enabled=True)),
        *create_protected_resource_routes(AnyHttpUrl(f"{base}/mcp"), [issuer], scopes_supported=[SCOPE],
                                          resource_name="Operator console: your tools"),
    ]
    flow = SignInFlow(provider)

    async def group_metadata(request: Request) -> Response:
        # Groups come and go at runtime, so this metadata is built per request rather than routed once per group.
        code = str(request.path_params["code"])
        group = await run_in_threadpool(provider.groups.get, code)
        if group is None or not group.enabled:
            return JSONResponse({"error": "not_found", "error_description": f"no tool group {code[:64]!r}"}, 404)
        metadata = ProtectedResourceMetadata(resource=AnyHttpUrl(f"{base}/mcp/{group.code}"),
                                             authorization_servers=[issuer], scopes_supported=[SCOPE],
                                             resource_name=f"Operator console: {group.name}")
        return await ProtectedResourceMetadataHandler(metadata).handle(request)

    return [
        *routes,
        Route(f"{WELL_KNOWN}/mcp/{{code}}", cors_middleware(group_metadata, ["GET", "OPTIONS"]),
              methods=["GET", "OPTIONS"]),
        Route("/signin", flow.start, methods=["GET"]),
        Route("/signin/callback", flow.callback, methods=["GET"]),
        Route("/signin/demo", flow.demo, methods=["POST"]),
        Route("/consent", flow.consent, methods=["POST"]),
    ]


class SignInFlow:
    """The browser's steps: start (to the provider, or the demo picker), callback, consent."""

    def __init__(self, provider: ConsoleAuthProvider) -> None:
        self.provider, self.signins = provider, SignIns(provider)

    async def start(self, request: Request) -> Response:
        request_id, lang = request.query_params.get("request", ""), _lang(request)
        try:
            pending = await run_in_threadpool(self.signins.pending, request_id)
            oidc = self.provider.oidc
            if oidc is None:
                accounts = await run_in_threadpool(demo_accounts, self.provider.runtime)
                return demo_page(pending, accounts, lang=lang)
            url = await run_in_threadpool(lambda: oidc.authorization_url(
                state=pending.id, nonce=self.provider.sign("nonce", pending.id),
                code_verifier=self.provider.sign("pkce", pending.id)))
        except ConsoleError as exc:
            return _refused(exc, lang=lang)
        return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})

    async def callback(self, request: Request) -> Response:
        query, lang = request.query_params, _lang(request)
        request_id, code, error = query.get("state", ""), query.get("code", ""), query.get("error")
        oidc = self.provider.oidc
        try:
            if oidc is None:
                raise AuthRequired("this console has no sign-in provider configured; use the demo sign-in")
            if error or not code:
                url = await run_in_threadpool(self.signins.abandon, request_id, error or "no code")
                return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
            await run_in_threadpool(self.signins.pending, request_id)
            identity = await run_in_threadpool(lambda: oidc.identity(
                code=code, nonce=self.provider.sign("nonce", request_id),
                code_verifier=self.provider.sign("pkce", request_id)))
            consent = await run_in_threadpool(lambda: self.signins.admit(
                request_id, email=identity.email, name=identity.name, mode=SignInMode.OIDC,
                email_verified=identity.email_verified))
        except ConsoleError as exc:
            return _refused(exc, retry_url=f"/signin?request={request_id}" if isinstance(exc, PersonRefused) else None,
                            lang=lang)
        return consent_page(consent, lang=lang)

    async def demo(self, request: Request) -> Response:
        form, lang = await request.form(), _lang(request)
        request_id, email = str(form.get("request") or ""), str(form.get("email") or "")
        try:
            if self.provider.oidc is not None:
                raise PermissionDenied("the demo sign-in is off: this console signs people in with its provider")
            consent = await run_in_threadpool(lambda: self.signins.admit(request_id, email=email,
                                                                         mode=SignInMode.DEMO))
        except ConsoleError as exc:
            return _refused(exc, retry_url=f"/signin?request={request_id}" if isinstance(exc, PersonRefused) else None,
                            lang=lang)
        return consent_page(consent, lang=lang)

    async def consent(self, request: Request) -> Response:
        form, lang = await request.form(), _lang(request)
        request_id, token = str(form.get("request") or ""), str(form.get("form_token") or "")
        allow = form.get("decision") == "allow"
        try:
            url = await run_in_threadpool(lambda: self.signins.decide(request_id, form_token=token, allow=allow))
        except ConsoleError as exc:
            return _refused(exc, lang=lang)
        # 303: the browser follows with a GET, as the client's redirect URI expects.
        return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def _lang(request: Request) -> str:
    """The sign-in pages speak the browser's language (the person is not known yet)."""
    return language_from_accept(request.headers.get("accept-language"))


def _refused(exc: ConsoleError, *, retry_url: str | None = None, lang: str | None = None) -> Response:
    status = 403 if isinstance(exc, PermissionDenied | AuthRequired) else 502 if exc.code == "UPSTREAM_ERROR" else 400
    with speaking(lang):
        title = _("Sign-in refused") if status == 403 else _("Sign-in failed")
    return error_page(title, exc.message, status=status, retry_url=retry_url, lang=lang)
