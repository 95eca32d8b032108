"""Outside agents through the gateway with a tool group's API key, driven by the official `mcp` client over HTTP:
keys and groups, tool listing, site selection, reads, a write approved in the console and run once, probes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from mcp.shared.exceptions import MCPError
from sqlalchemy import update

from console.gateway.app import Gateway
from console.gateway.groups import ToolGroups
from console.gateway.keys import ApiKeys
from console.runtime import Runtime
from mcp_bridge.store import ApiKey, utcnow
from tests.console.gateway.gateway_support import (
    ADMIN,
    audit_rows,
    client,
    free_port,
    gateway_runtime,
    make_group,
    serving,
    unwrap,
)
from tests.support.console_db import applied_writes, keyword

pytestmark = pytest.mark.anyio
READS = ["ads__list_campaigns", "ads__get_regions", "ads__list_keywords"]


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory, market_template: Path) -> Iterator[Runtime]:
    with gateway_runtime(tmp_path_factory.mktemp("gateway-keys"), market_template) as runtime:
        yield runtime


@pytest.fixture(scope="module")
def base(rt: Runtime) -> Iterator[str]:
    port = free_port()
    with serving(Gateway(rt, base_url=f"http://127.0.0.1:{port}")) as url:
        yield url


async def refusal(url: str, key: str | None, **headers: str) -> MCPError:
    with pytest.raises(BaseException) as refused:
        async with client(url, key, headers) as c:
            await c.list_tools()
    error = unwrap(refused.value)
    assert isinstance(error, MCPError), error
    return error


async def test_no_wrong_revoked_or_expired_key_gets_auth_required_and_nothing_runs(rt, base) -> None:
    key = make_group(rt, "refusals", READS, ["us"])
    keys = ApiKeys(rt.engine, rt.bridge.audit)
    revoked = keys.create("refusals", label="gone", actor=ADMIN)
    keys.revoke(revoked.info.id, actor=ADMIN)
    expired = keys.create("refusals", label="old", actor=ADMIN)
    with rt.bridge.store.write() as s:
        s.execute(update(ApiKey).where(ApiKey.id == expired.info.id).values(expires_at=utcnow() - dt.timedelta(1)))
    before = len(audit_rows(rt))
    url = f"{base}/mcp/refusals"
    cases = {None: "send a tool group's API key", "ock_" + "x" * 43: "unknown API key", revoked.secret: "was revoked",
             expired.secret: "expired at", "not-a-key": "not an API key"}
    for sent, says in cases.items():
        error = await refusal(url, sent)
        assert error.message.startswith("AUTH_REQUIRED: ") and says in error.message, (sent, error.message)
    assert len(audit_rows(rt)) == before  # nothing ran, nothing of theirs was written
    async with client(url, key) as c:  # the good key still works
        assert "ads__list_campaigns" in {t.name for t in (await c.list_tools()).tools}


async def test_a_key_works_only_at_its_own_enabled_group(rt, base) -> None:
    key = make_group(rt, "home-group", READS, ["us"])
    make_group(rt, "other-group", READS, ["us"])
    assert (await refusal(f"{base}/mcp/other-group", key)).message.startswith(
        f"PERMISSION_DENIED: this API key belongs to another tool group; connect to {base}/mcp/home-group")
    assert "connect to" in (await refusal(f"{base}/mcp", key)).message
    assert (await refusal(f"{base}/mcp/no-such-group", key)).message.startswith("PERMISSION_DENIED")
    groups = ToolGroups(rt.engine, rt.bridge.audit)
    groups.set_enabled("home-group", False, actor=ADMIN)
    assert "switched off" in (await refusal(f"{base}/mcp/home-group", key)).message
    groups.set_enabled("home-group", True, actor=ADMIN)  # back on the next call, no restart
    async with client(f"{base}/mcp/home-group", key) as c:
        assert (await c.call_tool("ads__get_regions", {"site": "us"})).is_error is False


async def test_tools_list_shows_the_group_narrowed_to_its_sites_and_a_switched_off_tool_vanishes(rt, base) -> None:
    key = make_group(rt, "listing", READS, ["us", "de"])
    url = f"{base}/mcp/listing"
    async with client(url, key) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        assert set(tools) == {"auth_status", "list_sites", "select_site", "get_operation", *READS}
        site = tools["ads__list_campaigns"].input_schema["properties"]["site"]
        assert site["enum"] == ["de", "us"]
        assert "site" not in tools["ads__list_campaigns"].input_schema.get("required", [])
        assert not {"dry_run", "approval_token"} & set(tools["ads__list_keywords"].input_schema["properties"])
        ToolGroups(rt.engine, rt.bridge.audit).set_tool("listing", "ads__list_keywords", enabled=False, actor=ADMIN)
        assert "ads__list_keywords" not in {t.name for t in (await c.list_tools()).tools}
        off = await c.call_tool("ads__list_keywords", {"site": "us"})
        other_site = await c.call_tool("ads__list_campaigns", {"site": "jp"})
    assert off.is_error and off.content[0].text == (
        "PERMISSION_DENIED: ads__list_keywords is switched off in tool group 'listing'")
    assert other_site.is_error and other_site.content[0].text.startswith("SITE_SCOPE_REQUIRED: site 'jp' is outside")
    refused = audit_rows(rt, event="gateway_refused", tool="ads__list_keywords")
    assert [(r.actor, r.outcome, r.detail["source_ref"]) for r in refused][:1] == [
        ("group:listing/listing-key", "PERMISSION_DENIED", f"group=listing key={_key_id(rt, key)}")]


async def test_a_read_runs_through_the_bridge_and_is_audited_under_the_key(rt, base) -> None:
    key = make_group(rt, "reader", READS, ["us"])
    async with client(f"{base}/mcp/reader", key) as c:
        regions = await c.call_tool("ads__get_regions", {})  # one site: it is the site, not a guess
        campaigns = await c.call_tool("ads__list_campaigns", {"site": "us"})
    assert regions.is_error is False and regions.structured_content["site"] == "us"
    assert campaigns.is_error is False and campaigns.structured_content["campaigns"]
    rows = audit_rows(rt, actor="group:reader/reader-key")
    assert {(r.event, r.tool, r.outcome) for r in rows} >= {("tool_call", "ads__get_regions", "requested"),
                                                           ("tool_result", "ads__get_regions", "ok"),
                                                           ("tool_result", "ads__list_campaigns", "ok")}
    assert {r.detail["source_ref"] for r in rows} == {f"group=reader key={_key_id(rt, key)}"}


async def test_site_selection_never_guesses_among_several_sites(rt, base) -> None:
    key = make_group(rt, "two-sites", READS, ["us", "de"])
    async with client(f"{base}/mcp/two-sites", key) as c:
        unnamed = await c.call_tool("ads__get_regions", {})
        outside = await c.call_tool("select_site", {"site": "jp"})
        chosen = await c.call_tool("select_site", {"site": "DE"})
        regions = await c.call_tool("ads__get_regions", {})
        sites = await c.call_tool("list_sites", {})
        status = await c.call_tool("auth_status", {})
    assert unnamed.is_error and unnamed.content[0].text.startswith("SITE_SCOPE_REQUIRED: name the site")
    assert outside.is_error and "outside your scope; your sites: de, us" in outside.content[0].text
    assert chosen.structured_content == {"active_site": "de"}
    assert regions.structured_content["site"] == "de"
    assert [(s["site"], s["active"]) for s in sites.structured_content["sites"]] == [("de", True), ("us", False)]
    assert {k: status.structured_content[k] for k in ("who", "kind", "group", "roles", "sites", "active_site")} == {
        "who": "group:two-sites/two-sites-key", "kind": "key", "group": "two-sites", "roles": ["manager"],
        "sites": ["de", "us"], "active_site": "de"}


async def test_a_write_from_outside_waits_in_the_queue_and_runs_exactly_once_after_approval(rt, base) -> None:
    key = make_group(rt, "bidder", ["ads__update_bid", "ads__list_keywords"], ["us"], writes=True)
    kid, bid = keyword(str(rt.settings.market_database_url))
    async with client(f"{base}/mcp/bidder", key) as c:
        proposed = await c.call_tool("ads__update_bid", {"site": "us", "keyword_id": kid, "bid": round(bid * 0.9, 2),
                                                         "approval_token": "forged", "dry_run": False})
        op_id = proposed.structured_content["operation_id"]
        waiting = await c.call_tool("get_operation", {"operation_id": op_id})
        approver = rt.users.caller("approver@demo.local", "ui")
        rt.bridge.gate.approve(op_id, approver)
        with pytest.raises(Exception, match="CONFLICT|not pending|already"):
            rt.bridge.gate.approve(op_id, approver)
        done = await c.call_tool("get_operation", {"operation_id": op_id})
        again = await c.call_tool("get_operation", {"operation_id": op_id + 10_000})
    assert proposed.is_error and proposed.content[0].text.startswith(
        f"CONFIRMATION_REQUIRED: operation #{op_id} waits for a person's approval")
    assert waiting.structured_content["status"] == "proposed"
    assert waiting.structured_content["proposer"] == "group:bidder/bidder-key"
    assert done.structured_content["status"] == "succeeded" and done.structured_content["decided_by"] == (
        "approver@demo.local")
    assert again.is_error and again.content[0].text.startswith("NOT_FOUND")
    op = rt.bridge.gate.get(op_id)
    assert (op.source_kind, op.source_ref) == ("gateway", f"group=bidder key={_key_id(rt, key)}")
    assert "approval_token" not in op.arguments and "dry_run" not in op.arguments
    assert [tool for _, tool in applied_writes(str(rt.settings.market_database_url))].count("update_bid") == 1


async def test_a_group_that_may_not_write_cannot_be_given_a_write_tool(rt) -> None:
    known = {spec.name: spec.is_write for spec in rt.bridge.catalog.specs()}
    with pytest.raises(Exception, match="VALIDATION_FAILED: ads__update_bid propose changes: create the group with"):
        ToolGroups(rt.engine, rt.bridge.audit).create("no-writes", tools=["ads__update_bid"], sites=["us"],
                                                     actor=ADMIN, known=known)


async def test_a_rotated_key_works_for_its_grace_period_then_stops(rt, base) -> None:
    old = make_group(rt, "rotating", READS, ["us"])
    keys = ApiKeys(rt.engine, rt.bridge.audit)
    new = keys.rotate(_key_id(rt, old), actor=ADMIN, grace_hours=1)
    url = f"{base}/mcp/rotating"
    for secret in (old, new.secret):
        async with client(url, secret) as c:
            assert (await c.call_tool("ads__get_regions", {})).is_error is False
    with rt.bridge.store.write() as s:  # the grace period is over
        s.execute(update(ApiKey).where(ApiKey.id == _key_id(rt, old)).values(expires_at=utcnow()))
    assert "expired at" in (await refusal(url, old)).message
    events = [r.event for r in rt.bridge.audit.query(limit=100) if (r.detail or {}).get("group") == "rotating"]
    assert {"group_created", "api_key_created", "api_key_rotated"} <= set(events)
    assert all(old not in str(r.detail) and new.secret not in str(r.detail) for r in rt.bridge.audit.query(limit=500))


async def test_the_rate_limit_answers_429_with_retry_after(rt) -> None:
    from console.gateway.ratelimit import RateLimiter

    key = make_group(rt, "limited", READS, ["us"])
    port = free_port()
    gateway = Gateway(rt, base_url=f"http://127.0.0.1:{port}", limiter=RateLimiter(6, 2))
    with serving(gateway) as url:
        answered = 0
        with pytest.raises(BaseException) as limited:
            async with client(f"{url}/mcp/limited", key) as c:
                for answered in range(1, 10):  # noqa: B007 - how many got through is the point
                    await c.call_tool("ads__get_regions", {})
        assert answered <= 2  # the burst (the client's own set-up requests count too)
        raw = httpx2.post(f"{url}/mcp/limited", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                          headers={"Authorization": f"Bearer {key}", "Accept": "application/json, text/event-stream"})
        metrics = httpx2.get(f"{url}/metrics").text
    assert unwrap(limited.value).message.startswith("RATE_LIMITED: too many calls from key ") and "retry after" in (
        unwrap(limited.value).message)
    assert raw.status_code == 429 and 1 <= int(raw.headers["retry-after"]) <= 10
    assert raw.json()["error"]["data"]["code"] == "RATE_LIMITED"
    assert 'gateway_refusals_total{code="RATE_LIMITED"} 2.0' in metrics


async def test_probes_and_metrics(rt, base) -> None:
    key = make_group(rt, "probed", READS, ["us"])
    async with client(f"{base}/mcp/probed", key) as c:
        await c.call_tool("ads__get_regions", {})
    health, ready, metrics = (httpx2.get(f"{base}{path}") for path in ("/healthz", "/readyz", "/metrics"))
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'gateway_tool_calls_total{group="probed",outcome="ok",tool="ads__get_regions"} 1.0' in metrics.text
    assert "gateway_tool_call_seconds_bucket" in metrics.text


def _key_id(rt: Runtime, secret: str) -> int:
    return ApiKeys(rt.engine, rt.bridge.audit).verify(secret).id
