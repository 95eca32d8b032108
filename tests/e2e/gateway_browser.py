"""A person at a real browser for an MCP client's sign-in to the gateway.

The official client's `OAuthClientProvider` hands the authorization URL to `Person.open` (its redirect handler):
Chromium follows it through the gateway to the OIDC provider (which signs its user in) and back to the consent page,
which is read, photographed and answered. The browser then lands on the client's loopback redirect URI, served here
the way a desktop MCP client serves it, and `Person.callback` (its callback handler) returns what arrived there.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio.to_thread
import httpx2
from mcp import Client
from mcp.client.auth import OAuthClientProvider, OAuthFlowError
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from pydantic import AnyUrl

from tests.e2e.conftest import SCREENSHOTS, TIMEOUT_MS

CLIENT_NAME = "Gateway E2E Agent"
LANDING = "Signed in. You can close this window and go back to your MCP client."


@dataclass
class ConsentSeen:
    """What the consent page said: its heading, its `<dt>` → `<dd>` lines and where its screenshot is."""

    heading: str
    fields: dict[str, str]
    screenshot: Path | None


class MemoryTokens:
    """The client's token storage (the SDK's `TokenStorage`), kept in memory so the test can read it."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


class LoopbackRedirect:
    """The client's redirect URI: an HTTP server on a free loopback port that keeps the query it was sent."""

    def __init__(self) -> None:
        self.queries: list[dict[str, str]] = []
        received = self.queries

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path != "/callback":
                    self.send_error(404)
                    return
                received.append({k: v[0] for k, v in parse_qs(url.query).items()})
                body = f"<!doctype html><title>MCP client</title><p id=done>{LANDING}</p>".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="mcp-client-callback", daemon=True)
        self._thread.start()

    @property
    def uri(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/callback"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Person:
    """Answers the consent page with `decision` (allow | deny); what they saw is kept in `consents`."""

    browser: Any  # playwright.async_api.Browser
    redirect: LoopbackRedirect
    decision: str = "allow"
    screenshot: str | None = None  # a file name under artifacts/screenshots/, without .png
    storage: MemoryTokens = field(default_factory=MemoryTokens)
    consents: list[ConsentSeen] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)  # every authorization URL the client opened

    @property
    def client_id(self) -> str:
        """The id the client registered with (dynamic client registration)."""
        assert self.storage.client_info is not None, "the client never registered"
        return self.storage.client_info.client_id

    async def open(self, authorization_url: str) -> None:
        """The SDK's redirect handler: sign in, read the consent page, answer it, land on the redirect URI."""
        self.pages.append(authorization_url)
        context = await self.browser.new_context(viewport={"width": 1000, "height": 760}, locale="en-US")
        context.set_default_timeout(TIMEOUT_MS)
        try:
            page = await context.new_page()
            await page.goto(authorization_url)
            heading = (await page.locator("h1").inner_text()).strip()
            if await page.get_by_role("button", name="Allow").count() == 0:
                raise OAuthFlowError(f"no consent page but {heading!r}: {(await page.inner_text('body'))[:300]}")
            terms = [t.strip() for t in await page.locator("dt").all_inner_texts()]
            values = [v.strip() for v in await page.locator("dd").all_inner_texts()]
            shot = SCREENSHOTS / f"{self.screenshot}.png" if self.screenshot else None
            if shot is not None:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(shot), full_page=True)
            self.consents.append(ConsentSeen(heading, dict(zip(terms, values, strict=True)), shot))
            await page.get_by_role("button", name="Allow" if self.decision == "allow" else "Deny").click()
            await page.locator("#done").wait_for()  # the browser is back at the client
        finally:
            await context.close()

    async def callback(self) -> AuthorizationCodeResult:
        """The SDK's callback handler: the code and state the browser brought back, or the refusal as an error."""
        if not self.redirect.queries:
            raise OAuthFlowError("the browser never came back to the redirect URI")
        query = self.redirect.queries[-1]
        if "error" in query:
            raise OAuthFlowError(f"authorization refused: {query['error']}: {query.get('error_description', '')}")
        return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))

    def auth(self, server_url: str) -> OAuthClientProvider:
        """The SDK's OAuth provider for `server_url`, registering dynamically with this person's redirect URI."""
        metadata = OAuthClientMetadata(client_name=CLIENT_NAME, redirect_uris=[AnyUrl(self.redirect.uri)],
                                       grant_types=["authorization_code", "refresh_token"], response_types=["code"])
        return OAuthClientProvider(server_url, metadata, self.storage, redirect_handler=self.open,
                                   callback_handler=self.callback)


@asynccontextmanager
async def person_at(browser: Any, *, decision: str = "allow", screenshot: str | None = None) -> AsyncIterator[Person]:
    """A person at `browser` with their MCP client's redirect URI served for as long as the block runs."""
    redirect = LoopbackRedirect()
    try:
        yield Person(browser, redirect, decision=decision, screenshot=screenshot)
    finally:
        await anyio.to_thread.run_sync(redirect.close)  # shutdown() waits up to a poll interval


@asynccontextmanager
async def _transport(url: str, auth: OAuthClientProvider) -> AsyncIterator[Any]:
    async with (
        httpx2.AsyncClient(auth=auth, timeout=httpx2.Timeout(30, read=120)) as http,
        streamable_http_client(url, http_client=http) as streams,
    ):
        yield streams


def signed_in_client(url: str, person: Person) -> Client:
    """An MCP client of `url` that signs `person` in when the gateway asks (401), then keeps their tokens fresh."""
    return Client(_transport(url, person.auth(url)))
