"""Signing in to the gateway from an MCP client: metadata, registration, /authorize, the sign-in at the OIDC provider
(or the demo sign-in), the consent page and its answer, and the code's exchange with PKCE."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console.auth import SignInMisconfigured
from console.gateway.groups import ToolGroups
from console.gateway.models import OAuthClient
from console.gateway.oauth import ConsoleAuthProvider
from mcp_bridge.errors import AuthRequired
from tests.console.gateway.oauth_support import (
    ADMIN,
    BASE,
    GROUP,
    GROUP_JP,
    REDIRECT,
    SELLER,
    AuthServer,
    answer,
    auth_server,
    authorize,
    consent_form,
    console_runtime,
    exchange,
    gateway_audit,
    pkce,
    redirect_params,
    register,
    sign_in,
)
from tests.support.oidc_provider import OIDCProvider, OIDCUser

GROUP_URL = f"{BASE}/mcp/{GROUP}"


@pytest.fixture
def oidc() -> Iterator[OIDCProvider]:
    provider = OIDCProvider(user=OIDCUser(SELLER, "Sam Seller")).start()
    try:
        yield provider
    finally:
        provider.close()


@pytest.fixture
def server(tmp_path: Path, oidc: OIDCProvider) -> Iterator[AuthServer]:
    with auth_server(tmp_path, oidc=oidc) as running:
        yield running


def test_metadata_names_the_console_as_authorization_server_of_each_endpoint(server: AuthServer) -> None:
    meta = server.http.get("/.well-known/oauth-authorization-server").json()
    assert meta["authorization_endpoint"] == f"{BASE}/authorize"
    assert meta["registration_endpoint"] == f"{BASE}/register"
    assert meta["revocation_endpoint"] == f"{BASE}/revoke"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    own = server.http.get("/.well-known/oauth-protected-resource/mcp").json()
    group = server.http.get(f"/.well-known/oauth-protected-resource/mcp/{GROUP}").json()
    assert (own["resource"], group["resource"]) == (f"{BASE}/mcp", GROUP_URL)
    assert own["authorization_servers"] == group["authorization_servers"] == [f"{BASE}/"]
    assert group["resource_name"] == "Operator console: US ads"
    assert server.http.get("/.well-known/oauth-protected-resource/mcp/no-such-group").status_code == 404
    ToolGroups(server.runtime.engine, server.runtime.bridge.audit).set_enabled(GROUP_JP, False, actor=ADMIN)
    assert server.http.get(f"/.well-known/oauth-protected-resource/mcp/{GROUP_JP}").status_code == 404


def test_registration_keeps_no_client_secret_in_the_database(server: AuthServer) -> None:
    client = register(server)
    assert client["client_secret"] and client["client_name"] == "Test Agent"
    with server.provider.store.read() as s:
        row = s.get(OAuthClient, client["client_id"])
        assert row is not None and "client_secret" not in row.info
    found = server.provider.clients.get(client["client_id"])
    assert found is not None and found.client_secret == client["client_secret"]
    public = register(server, token_endpoint_auth_method="none")
    assert "client_secret" not in public


@pytest.mark.parametrize("uri", ["http://evil.example/cb", "javascript:alert(1)", "data:text/html,hi"])
def test_registration_refuses_unsafe_redirect_uris(server: AuthServer, uri: str) -> None:
    response = server.http.post("/register", json={"redirect_uris": [uri]})
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_redirect_uri", "invalid_client_metadata")


def test_sign_in_consent_and_code_exchange(server: AuthServer) -> None:
    client = register(server)
    verifier, challenge = pkce()
    page = sign_in(server, authorize(server, client, challenge, resource=GROUP_URL, state="xyz"))
    assert page.status_code == 200 and page.headers["x-frame-options"] == "DENY"
    for shown in ("Sam Seller", SELLER, "Test Agent", "US ads", "2 tools", "read only", "127.0.0.1:8765"):
        assert shown in page.text
    assert "<dd>us</dd>" in page.text  # the seller's sites within the group's: us, not de
    done = answer(server, consent_form(page.text))
    assert done.status_code == 303
    back = redirect_params(done.headers["location"])
    assert back["state"] == "xyz" and "error" not in back

    wrong = exchange(server, client, back["code"], pkce()[0])
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    tokens = exchange(server, client, back["code"], verifier)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900 and body["refresh_token"]
    grant = server.provider.grant(body["access_token"], resource=GROUP_URL)
    assert (grant.user, grant.group, grant.client_id, grant.resource) == (SELLER, GROUP, client["client_id"], GROUP_URL)

    again = exchange(server, client, back["code"], verifier)  # a replayed code ends what it produced
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    with pytest.raises(AuthRequired):
        server.provider.grant(body["access_token"], resource=GROUP_URL)
    assert [r.detail["reason"] for r in gateway_audit(server.runtime, "gateway_token_revoked")] == ["code_reused"]
    assert [(r.actor, r.outcome) for r in gateway_audit(server.runtime, "gateway_signin")] == [(SELLER, "ok")]
    assert [(r.actor, r.outcome) for r in gateway_audit(server.runtime, "gateway_consent")] == [(SELLER, "allowed")]


def test_own_catalog_reaches_all_of_the_persons_sites(server: AuthServer) -> None:
    client = register(server)
    verifier, challenge = pkce()
    page = sign_in(server, authorize(server, client, challenge, resource=f"{BASE}/mcp/"))
    assert "every tool your roles allow" in page.text and "<dd>de, us</dd>" in page.text
    code = redirect_params(answer(server, consent_form(page.text)).headers["location"])["code"]
    token = exchange(server, client, code, verifier).json()["access_token"]
    assert server.provider.grant(token, resource=f"{BASE}/mcp").group is None


def test_deny_sends_access_denied_and_no_code(server: AuthServer) -> None:
    client = register(server)
    page = sign_in(server, authorize(server, client, pkce()[1], resource=GROUP_URL))
    back = redirect_params(answer(server, consent_form(page.text), "deny").headers["location"])
    assert back["error"] == "access_denied" and back["state"] == "st-1" and "code" not in back
    assert [r.outcome for r in gateway_audit(server.runtime, "gateway_consent")] == ["denied"]


def test_a_consent_form_not_shown_by_the_console_is_refused(server: AuthServer) -> None:
    client = register(server)
    page = sign_in(server, authorize(server, client, pkce()[1], resource=GROUP_URL))
    form = consent_form(page.text)
    forged = answer(server, {**form, "form_token": "x" * 43})
    assert forged.status_code == 403 and "not valid" in forged.text
    # The request id alone (it travels in URLs) gives nobody a form: another request's value does not fit either.
    other = sign_in(server, authorize(server, client, pkce()[1], resource=GROUP_URL))
    crossed = answer(server, {**consent_form(other.text), "request": form["request"]})
    assert crossed.status_code == 403
    assert answer(server, form).status_code == 303
    assert answer(server, form).status_code == 403  # answered once
    assert [r.detail["reason"] for r in gateway_audit(server.runtime, "gateway_consent")
            if r.outcome == "refused"] == ["bad_form", "bad_form"]


@pytest.mark.parametrize(("user", "reason", "says"), [
    (OIDCUser(SELLER, email_verified=False), "email_not_verified", "email_verified is not true"),
    (OIDCUser(SELLER, email_verified=None), "email_not_verified", "email_verified is not true"),
    (OIDCUser("stranger@example.com"), "unknown_user", "not an active user of this console"),
    (OIDCUser("seller-jp@demo.local"), "no_site", "has no site in the tool group"),
])
def test_sign_in_refusals_say_what_to_do(server: AuthServer, oidc: OIDCProvider, user: OIDCUser, reason: str,
                                         says: str) -> None:
    oidc.user = user
    client = register(server)
    page = sign_in(server, authorize(server, client, pkce()[1], resource=GROUP_URL))
    assert page.status_code == 403 and says in page.text and "Sign in with another account" in page.text
    assert "form_token" not in page.text
    refused = gateway_audit(server.runtime, "gateway_signin")
    assert [(r.actor, r.outcome, r.detail["reason"]) for r in refused] == [(user.email, "refused", reason)]


def test_a_cancelled_sign_in_tells_the_client(server: AuthServer) -> None:
    client = register(server)
    signin = authorize(server, client, pkce()[1], resource=GROUP_URL)
    request_id = signin.split("request=")[1]
    cancelled = server.http.get("/signin/callback", params={"state": request_id, "error": "access_denied"})
    assert redirect_params(cancelled.headers["location"])["error"] == "access_denied"
    assert server.http.get(signin.removeprefix(BASE)).status_code == 403  # the request is closed


@pytest.mark.parametrize(("resource", "error"), [
    (None, "invalid_target"), (f"{BASE}/mcp/no-such-group", "invalid_target"), ("https://elsewhere.example/mcp",
                                                                                  "invalid_target"),
    (f"{BASE}/mcp/{GROUP_JP}", "access_denied"),
])
def test_authorize_needs_an_endpoint_of_this_console(server: AuthServer, resource: str | None, error: str) -> None:
    ToolGroups(server.runtime.engine, server.runtime.bridge.audit).set_enabled(GROUP_JP, False, actor=ADMIN)
    client = register(server)
    back = redirect_params(authorize(server, client, pkce()[1], resource=resource))
    assert back["error"] == error and back["state"] == "st-1"


def test_demo_sign_in_lists_the_demo_users(tmp_path: Path) -> None:
    with auth_server(tmp_path, oidc=None) as server:
        client = register(server, client_name="<b>Agent</b>")
        verifier, challenge = pkce()
        picker = server.http.get(authorize(server, client, challenge, resource=GROUP_URL).removeprefix(BASE))
        assert picker.status_code == 200 and "Demo sign-in" in picker.text and SELLER in picker.text
        request_id = consent_form(picker.text)["request"]
        outsider = server.http.post("/signin/demo", data={"request": request_id, "email": "ceo@example.com"})
        assert outsider.status_code == 403
        page = server.http.post("/signin/demo", data={"request": request_id, "email": SELLER})
        assert page.status_code == 200 and "Sam Seller" in page.text
        assert "&lt;b&gt;Agent&lt;/b&gt;" in page.text and "<b>Agent" not in page.text  # the client names itself
        code = redirect_params(answer(server, consent_form(page.text)).headers["location"])["code"]
        assert exchange(server, client, code, verifier).status_code == 200
        assert server.http.get("/signin/callback", params={"state": request_id, "code": "x"}).status_code == 403


def test_the_sign_in_pages_speak_the_browsers_language(tmp_path: Path) -> None:
    from console.i18n import _, speaking

    with speaking("zh"):
        title, allow, refused = _("Sign in to the operator console (demo)"), _("Allow"), _("Sign-in refused")
    assert {title, allow, refused}.isdisjoint({"Sign in to the operator console (demo)", "Allow", "Sign-in refused"})
    chinese = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
    with auth_server(tmp_path, oidc=None) as server:
        client = register(server)
        picker = server.http.get(authorize(server, client, pkce()[1], resource=GROUP_URL).removeprefix(BASE),
                                 headers=chinese)
        assert picker.status_code == 200 and title in picker.text and "Sign in to" not in picker.text
        request_id = consent_form(picker.text)["request"]
        outsider = server.http.post("/signin/demo", data={"request": request_id, "email": "ceo@example.com"},
                                    headers=chinese)
        assert outsider.status_code == 403 and refused in outsider.text
        page = server.http.post("/signin/demo", data={"request": request_id, "email": SELLER}, headers=chinese)
        assert page.status_code == 200 and allow in page.text and ">Allow<" not in page.text


def test_production_refuses_the_demo_sign_in(tmp_path: Path) -> None:
    rt = console_runtime(tmp_path)
    try:
        production = type(rt)(settings=rt.settings.model_copy(update={"env": "production"}), engine=rt.engine,
                              bridge=rt.bridge, users=rt.users)
        with pytest.raises(SignInMisconfigured):
            ConsoleAuthProvider(production, base_url=BASE, groups=ToolGroups(rt.engine, rt.bridge.audit), auth=None)
        with pytest.raises(SignInMisconfigured, match="server_metadata_url"):
            ConsoleAuthProvider(rt, base_url=BASE, groups=ToolGroups(rt.engine, rt.bridge.audit),
                                auth={"client_id": "a", "client_secret": "b"})
    finally:
        rt.close()


def test_redirect_back_goes_only_to_the_registered_uri(server: AuthServer) -> None:
    client = register(server)
    response = server.http.get("/authorize", params={
        "client_id": client["client_id"], "response_type": "code", "code_challenge": pkce()[1],
        "redirect_uri": "http://127.0.0.1:9999/elsewhere", "resource": GROUP_URL})
    assert response.status_code == 400 and REDIRECT not in response.text
