"""Signing in to the gateway from the official MCP client with a real browser: the SDK discovers the console's
sign-in, registers, and opens Chromium; the local OIDC provider signs the demo seller in; the consent page names
the person, the client, the group and the sites; then the client works as the seller, refreshes its own tokens
after `SESSION_EXPIRED`, and gets nothing when the person says Deny."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import anyio.to_thread
import httpx2
import pytest
from mcp.client.auth import OAuthFlowError
from sqlalchemy import func, select

from console.gateway.app import Gateway
from console.gateway.groups import ToolGroups
from console.gateway.models import OAuthCode, OAuthToken
from console.gateway.serve import build_gateway
from console.runtime import Runtime
from tests.conftest import require_or_skip
from tests.console.gateway.gateway_support import (
    ADMIN,
    audit_rows,
    free_port,
    gateway_runtime,
    make_group,
    serving,
    unwrap,
)
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.gateway_browser import CLIENT_NAME, person_at, signed_in_client
from tests.support.console_db import applied_writes, keyword
from tests.support.oidc_provider import OIDCProvider, OIDCUser

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.anyio]

SELLER, APPROVER = "seller@demo.local", "approver@demo.local"
GROUP, GROUP_NAME = "ads-bidding", "Ads bidding"
GROUP_TOOLS = ["ads__get_regions", "ads__update_bid"]
GATEWAY_TOOLS = {"auth_status", "list_sites", "select_site", "get_operation"}
SHORT_TTL_S = 2
JSONRPC_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"  # module scope: the browser below lives on one event loop for every test here


@pytest.fixture(scope="module")
async def chromium() -> AsyncIterator[Any]:
    """Debian's Chromium through Playwright's async API (its sync API would hold the loop the MCP client needs)."""
    require_or_skip(CHROMIUM.exists(), "Chromium is not installed (apt-get install -y chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture(scope="module")
def oidc() -> Iterator[OIDCProvider]:
    provider = OIDCProvider(user=OIDCUser(SELLER, "Sam Seller", email_verified=True)).start()
    try:
        yield provider
    finally:
        provider.close()


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory, market_template: Path) -> Iterator[Runtime]:
    with gateway_runtime(tmp_path_factory.mktemp("gateway-signin"), market_template) as runtime:
        make_group(runtime, GROUP, GROUP_TOOLS, ["us", "de"], writes=True)
        ToolGroups(runtime.engine, runtime.bridge.audit).update(GROUP, actor=ADMIN, name=GROUP_NAME)
        yield runtime


def _gateway(runtime: Runtime, oidc: OIDCProvider) -> Gateway:
    auth = {"client_id": oidc.client_id, "client_secret": oidc.client_secret, "server_metadata_url": oidc.metadata_url}
    return build_gateway(runtime, base_url=f"http://127.0.0.1:{free_port()}", auth=auth)


@pytest.fixture(scope="module")
def base(rt: Runtime, oidc: OIDCProvider) -> Iterator[str]:
    with serving(_gateway(rt, oidc)) as url:
        yield url


@pytest.fixture(scope="module")
def short_base(rt: Runtime, oidc: OIDCProvider) -> Iterator[str]:
    """The same console behind a gateway whose access tokens last two seconds."""
    settings = rt.settings.model_copy(update={"gateway_access_token_ttl_s": SHORT_TTL_S})
    with serving(_gateway(dataclasses.replace(rt, settings=settings), oidc)) as url:
        yield url


async def test_sign_in_through_the_browser_then_work_in_the_group_as_the_seller(rt, base, chromium) -> None:
    url = f"{base}/mcp/{GROUP}"
    kid, bid = keyword(str(rt.settings.market_database_url))
    async with person_at(chromium, screenshot="gateway-consent") as person, signed_in_client(url, person) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        status = await c.call_tool("auth_status", {})
        chosen = await c.call_tool("select_site", {"site": "de"})
        regions = await c.call_tool("ads__get_regions", {})
        proposed = await c.call_tool("ads__update_bid", {"site": "us", "keyword_id": kid, "bid": round(bid * 0.9, 2)})
        op_id = proposed.structured_content["operation_id"]
        await anyio.to_thread.run_sync(rt.bridge.gate.approve, op_id, rt.users.caller(APPROVER, "ui"))
        done = await c.call_tool("get_operation", {"operation_id": op_id})

    # One sign-in, at the authorization server the group's metadata named, for this group's endpoint only.
    assert [page.partition("?")[0] for page in person.pages] == [f"{base}/authorize"]
    assert _query(person.pages[0])["resource"] == url
    consent = person.consents[0]
    assert consent.heading == "Allow access to the operator console?"
    assert consent.fields["You"] == f"Sam Seller ({SELLER})"
    assert consent.fields["Application"] == f"{CLIENT_NAME} — returns to {_netloc(person.redirect.uri)}"
    assert consent.fields["Tools"] == (f"the tool group {GROUP_NAME} ({GROUP}): 2 tools, may propose changes, each "
                                       "waiting for an approver")
    assert consent.fields["Sites it will reach"] == "de, us"
    assert consent.screenshot is not None and consent.screenshot.stat().st_size > 10_000

    assert set(tools) == GATEWAY_TOOLS | set(GROUP_TOOLS)
    assert tools["ads__get_regions"].input_schema["properties"]["site"]["enum"] == ["de", "us"]
    assert {k: status.structured_content[k] for k in ("who", "kind", "group", "sites", "client_id")} == {
        "who": SELLER, "kind": "user", "group": GROUP, "sites": ["de", "us"], "client_id": person.client_id}
    assert chosen.structured_content == {"active_site": "de"}
    assert regions.is_error is False and regions.structured_content["site"] == "de"
    assert proposed.is_error and proposed.content[0].text.startswith(
        f"CONFIRMATION_REQUIRED: operation #{op_id} waits for a person's approval")
    assert (done.structured_content["status"], done.structured_content["proposer"],
            done.structured_content["decided_by"]) == ("succeeded", SELLER, APPROVER)
    op = rt.bridge.gate.get(op_id)
    assert (op.proposer, op.source_kind, op.source_ref, op.site) == (SELLER, "gateway", f"group={GROUP} user", "us")
    assert [tool for _, tool in applied_writes(str(rt.settings.market_database_url))].count("update_bid") == 1
    signins = [(r.actor, r.outcome, r.detail["group"]) for r in audit_rows(rt, event="gateway_signin")
               if r.detail["client_id"] == person.client_id]
    consents = [(r.actor, r.outcome) for r in audit_rows(rt, event="gateway_consent")
                if r.detail["client_id"] == person.client_id]
    assert (signins, consents) == ([(SELLER, "ok", GROUP)], [(SELLER, "allowed")])


async def test_sign_in_without_a_group_gives_the_sellers_own_catalog(rt, base, chromium) -> None:
    url = f"{base}/mcp"
    async with person_at(chromium, screenshot="gateway-consent-own") as person, signed_in_client(url, person) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        status = await c.call_tool("auth_status", {})

    consent = person.consents[0]
    assert consent.fields["You"] == f"Sam Seller ({SELLER})"
    assert consent.fields["Tools"] == ("your operator console tools: every tool your roles allow; changes wait for an "
                                       "approver")
    assert consent.fields["Sites it will reach"] == "de, us"
    own = {spec.name for spec in rt.bridge.catalog.for_caller(rt.users.caller(SELLER, "gateway"))}
    assert set(tools) == GATEWAY_TOOLS | own
    assert set(GROUP_TOOLS) < own and {name.split("__")[0] for name in own} == {"ads", "commerce", "analytics"}
    assert tools["ads__get_regions"].input_schema["properties"]["site"]["enum"] == ["de", "us"]
    assert {k: status.structured_content[k] for k in ("who", "kind", "group", "sites")} == {
        "who": SELLER, "kind": "user", "group": None, "sites": ["de", "us"]}


async def test_an_expired_token_is_session_expired_and_the_client_refreshes_on_its_own(short_base, chromium) -> None:
    url = f"{short_base}/mcp/{GROUP}"
    async with person_at(chromium) as person, signed_in_client(url, person) as c:
        assert (await c.call_tool("auth_status", {})).structured_content["who"] == SELLER
        old = person.storage.tokens
        assert old is not None and old.expires_in == SHORT_TTL_S and old.refresh_token
        await anyio.sleep(SHORT_TTL_S + 0.5)
        expired, anonymous = await _raw_tools_list(url, old.access_token), await _raw_tools_list(url, None)
        tools = {t.name for t in (await c.list_tools()).tools}  # the SDK refreshes before it sends
        new = person.storage.tokens
        replaced = await _raw_tools_list(url, old.access_token)

    metadata = f'resource_metadata="{short_base}/.well-known/oauth-protected-resource/mcp/{GROUP}"'
    assert expired.status_code == 401 and _error(expired)["message"].startswith("SESSION_EXPIRED: your sign-in to ")
    assert _error(expired)["data"] == {"code": "SESSION_EXPIRED"}
    assert expired.headers["www-authenticate"] == f'Bearer error="invalid_token", {metadata}'
    assert anonymous.status_code == 401 and _error(anonymous)["message"].startswith("AUTH_REQUIRED: sign in from ")
    assert _error(anonymous)["data"] == {"code": "AUTH_REQUIRED"}
    assert anonymous.headers["www-authenticate"] == f'Bearer error="invalid_request", {metadata}'
    assert tools == GATEWAY_TOOLS | set(GROUP_TOOLS)
    assert new is not None and len(person.pages) == 1  # refreshed, not signed in again
    assert new.access_token != old.access_token and new.refresh_token != old.refresh_token
    # The refresh ended the old access token: it is revoked now, no longer merely expired.
    assert replaced.status_code == 401 and "unknown, revoked or signed out" in _error(replaced)["message"]


async def test_deny_on_the_consent_page_gives_the_client_an_error_and_nothing_is_issued(rt, base, chromium) -> None:
    url = f"{base}/mcp/{GROUP}"
    async with person_at(chromium, decision="deny") as person:
        with pytest.raises(BaseException) as refused:
            async with signed_in_client(url, person) as c:
                await c.list_tools()

    error = unwrap(refused.value)
    assert isinstance(error, OAuthFlowError) and str(error) == (
        "authorization refused: access_denied: the person declined"), repr(error)
    assert person.consents[0].fields["You"] == f"Sam Seller ({SELLER})"
    back = person.redirect.queries
    assert [sorted(q) for q in back] == [["error", "error_description", "state"]] and "code" not in back[0]
    assert person.storage.tokens is None
    assert (_count(rt, OAuthCode, person.client_id), _count(rt, OAuthToken, person.client_id)) == (0, 0)
    assert [(r.actor, r.outcome) for r in audit_rows(rt, event="gateway_consent")
            if r.detail["client_id"] == person.client_id] == [(SELLER, "denied")]


def _netloc(url: str) -> str:
    return urlsplit(url).netloc


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _count(rt: Runtime, table: Any, client_id: str) -> int:
    with rt.bridge.store.read() as s:
        return int(s.scalar(select(func.count()).select_from(table).where(table.client_id == client_id)) or 0)


def _error(response: httpx2.Response) -> dict[str, Any]:
    return dict(response.json()["error"])


async def _raw_tools_list(url: str, token: str | None) -> httpx2.Response:
    """tools/list as plain JSON-RPC over HTTP, outside the SDK (which would refresh or sign in instead)."""
    headers = {**JSONRPC_HEADERS, **({"Authorization": f"Bearer {token}"} if token else {})}
    async with httpx2.AsyncClient(timeout=10) as http:
        return await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=headers)
