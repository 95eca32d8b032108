"""The gateway's authorization server on a console database of its own, behind Starlette's TestClient, signing
people in through the local OIDC provider (driven over HTTP with `requests`) or the demo sign-in."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from starlette.applications import Starlette
from starlette.testclient import TestClient

from console.gateway.groups import ToolGroups
from console.gateway.oauth import ConsoleAuthProvider
from console.gateway.signin import oauth_routes
from console.runtime import Runtime
from mcp_bridge.store import utcnow
from tests.support.console_db import gate_settings
from tests.support.oidc_provider import OIDCProvider

BASE = "http://localhost"  # TestClient's host; the SDK accepts plain http for a loopback issuer
REDIRECT = "http://127.0.0.1:8765/callback"  # the MCP client's loopback redirect; never contacted
ADMIN = "admin@demo.local"
SELLER = "seller@demo.local"  # sites us, de
SELLER_JP = "seller-jp@demo.local"  # site jp
GROUP, GROUP_JP = "ads-us", "ads-jp"


class Clock:
    """The provider's clock: real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return utcnow() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += dt.timedelta(seconds=seconds)


@dataclass
class AuthServer:
    runtime: Runtime
    provider: ConsoleAuthProvider
    http: TestClient
    clock: Clock
    oidc: OIDCProvider | None


def console_runtime(home: Path, **overrides: Any) -> Runtime:
    """A console database with the demo users and two tool groups; the bridge is never started."""
    settings = gate_settings(f"sqlite:///{home / 'console.db'}", f"sqlite:///{home / 'unused-market.db'}")
    settings = settings.model_copy(update=overrides)
    rt = Runtime.create(settings)  # migrated to the newest revision
    rt.users.seed_demo()
    groups = ToolGroups(rt.engine, rt.bridge.audit)
    groups.create(GROUP, tools=["ads__list_campaigns", "ads__get_regions"], sites=["us"], name="US ads", actor=ADMIN)
    groups.create(GROUP_JP, tools=["ads__list_campaigns"], sites=["jp"], name="JP ads", actor=ADMIN)
    return rt


@contextmanager
def auth_server(home: Path, *, oidc: OIDCProvider | None, **overrides: Any) -> Iterator[AuthServer]:
    rt, clock = console_runtime(home, **overrides), Clock()
    auth = None if oidc is None else {"client_id": oidc.client_id, "client_secret": oidc.client_secret,
                                      "server_metadata_url": oidc.metadata_url}
    provider = ConsoleAuthProvider(rt, base_url=BASE, groups=ToolGroups(rt.engine, rt.bridge.audit), auth=auth,
                                   clock=clock)
    app = Starlette(routes=oauth_routes(provider, base_url=BASE))
    try:
        with TestClient(app, base_url=BASE, follow_redirects=False) as http:
            yield AuthServer(rt, provider, http, clock, oidc)
    finally:
        rt.close()


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def register(server: AuthServer, **metadata: Any) -> dict[str, Any]:
    body = {"redirect_uris": [REDIRECT], "client_name": "Test Agent", **metadata}
    response = server.http.post("/register", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def authorize(server: AuthServer, client: dict[str, Any], challenge: str, *, resource: str | None,
              state: str = "st-1") -> str:
    """The client's /authorize; returns where the browser goes next."""
    params = {"client_id": client["client_id"], "response_type": "code", "code_challenge": challenge,
              "code_challenge_method": "S256", "redirect_uri": REDIRECT, "state": state,
              **({"resource": resource} if resource is not None else {})}
    response = server.http.get("/authorize", params=params)
    assert response.status_code == 302, response.text
    return str(response.headers["location"])


def sign_in(server: AuthServer, signin_url: str) -> Any:
    """Follow the sign-in: to the OIDC provider (which signs its user in) and back to the callback."""
    start = server.http.get(_path(signin_url))
    assert start.status_code == 302, start.text
    at_provider = requests.get(start.headers["location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302
    callback = at_provider.headers["Location"]
    assert callback.startswith(f"{BASE}/signin/callback?")
    return server.http.get(_path(callback))


def consent_form(html: str) -> dict[str, str]:
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)
    return {name: unescape(value) for name, value in fields}


def answer(server: AuthServer, form: dict[str, str], decision: str = "allow") -> Any:
    return server.http.post("/consent", data={**form, "decision": decision})


def redirect_params(location: str) -> dict[str, str]:
    assert location.startswith(REDIRECT), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(server: AuthServer, client: dict[str, Any], code: str, verifier: str) -> Any:
    return server.http.post("/token", data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier, "redirect_uri": REDIRECT,
        **_credentials(client)})


def refresh(server: AuthServer, client: dict[str, Any], refresh_token: str) -> Any:
    return server.http.post("/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token,
                                            **_credentials(client)})


def revoke(server: AuthServer, client: dict[str, Any], token: str) -> Any:
    return server.http.post("/revoke", data={"token": token, **_credentials(client)})


def signed_in_tokens(server: AuthServer, *, resource: str = f"{BASE}/mcp/{GROUP}",
                     client: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The whole flow with the provider's user: (the registered client, the token response)."""
    client = client or register(server)
    verifier, challenge = pkce()
    page = sign_in(server, authorize(server, client, challenge, resource=resource))
    assert page.status_code == 200, page.text
    done = answer(server, consent_form(page.text))
    tokens = exchange(server, client, redirect_params(done.headers["location"])["code"], verifier)
    assert tokens.status_code == 200, tokens.text
    return client, dict(tokens.json())


def gateway_audit(rt: Runtime, event: str) -> list[Any]:
    return [r for r in rt.bridge.audit.query(limit=500, event=event) if r.channel == "gateway"]


def _credentials(client: dict[str, Any]) -> dict[str, str]:
    secret = client.get("client_secret")
    return {"client_id": client["client_id"], **({"client_secret": secret} if secret else {})}


def _path(url: str) -> str:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == BASE, url
    return f"{parts.path}?{parts.query}" if parts.query else parts.path
