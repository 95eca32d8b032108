"""No path to a write without an approval: every write tool in the catalog queues, the servers refuse tokenless calls."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from mcp_bridge.catalog.policy import SitePolicy, save_policy
from mcp_bridge.types import Source
from tests.support.console_db import make_runtime, market_value

SITE = "us"
ID_TABLES = {
    "keyword_id": "keywords", "campaign_id": "campaigns", "ad_group_id": "ad_groups", "variant_id": "variants",
    "product_id": "products", "order_id": "orders", "return_id": "returns", "discount_code_id": "discount_codes",
    "coupon_id": "coupons", "profile_id": "ad_profiles",
}
# Values a tool accepts on the demo market; anything not named here comes from the schema.
STRINGS = {
    "name": "gate test", "text": "gate test phrase", "match_type": "exact", "targeting": "manual", "code": "GATETEST10",
    "carrier": "UPS", "tracking_number": "1Z999AA10123456784", "reason": "cycle count", "kind": "percent",
    "source_name": "gate-test.csv", "asin": "B0GATETEST",
}
NUMBERS = {"bid": 0.5, "default_bid": 1.0, "daily_budget": 40.0, "value": 10.0, "budget": 100.0, "price": None}
OVERRIDES: dict[str, dict[str, Any]] = {
    "ads__update_campaign": {"state": "paused"},
    "ads__create_negative": {"match_type": "negative_exact"},
    "ads__pause_keyword": {"__where__": {"keyword_id": "state = 'enabled'"}},
    "ads__enable_keyword": {"__where__": {"keyword_id": "state = 'paused'"}},
    "commerce__update_product_status": {"status": "draft", "__where__": {"product_id": "status = 'active'"}},
    "commerce__update_inventory": {"add_inbound": 5},
    "commerce__update_order_status": {"status": "cancelled", "__where__": {"order_id": "status = 'paid'"}},
    "commerce__create_coupon": {"__where__": {"variant_id": "id NOT IN (SELECT variant_id FROM coupons)"}},
    "commerce__mark_order_shipped": {"__where__": {"order_id": "status = 'paid'"}},
    "commerce__confirm_return": {"decision": "confirmed", "__where__": {"return_id": "status = 'requested'"}},
    "commerce__disable_discount_code": {"__where__": {"discount_code_id": "status = 'active'"}},
    "commerce__update_coupon": {"status": "paused", "__where__": {"coupon_id": "status = 'active'"}},
    "commerce__commit_product_import": {"rows": [{"title": "Gate test mat", "sku": "GATE-TEST-1", "price": 19.99,
                                                  "category": "Yoga", "stock": 5}]},
}


def _first(market_url: str, table: str, where: str | None) -> Any:
    sql = f"SELECT id FROM {table} WHERE site_id = :s{' AND ' + where if where else ''} ORDER BY id LIMIT 1"
    rows = market_value(market_url, sql, s=SITE)
    return rows[0][0] if rows else None


def sample_arguments(spec, market_url: str) -> dict[str, Any]:
    """Arguments the tool's dry run accepts on the demo market: overrides, then ids from the market, then the schema."""
    override = dict(OVERRIDES.get(spec.name, {}))
    where = override.pop("__where__", {})
    props, required = spec.input_schema.get("properties", {}), spec.input_schema.get("required", [])
    args: dict[str, Any] = {"site": SITE}
    for name in required:
        if name in args or name in override:
            continue
        if name in ID_TABLES:
            args[name] = _first(market_url, ID_TABLES[name], where.get(name))
        elif name == "sku":
            args[name] = market_value(market_url, "SELECT sku FROM variants WHERE site_id = :s ORDER BY id LIMIT 1", s=SITE)[0][0]
        elif name in STRINGS:
            args[name] = STRINGS[name]
        elif name in NUMBERS:
            args[name] = NUMBERS[name]
        elif "enum" in props.get(name, {}):
            args[name] = props[name]["enum"][0]
    args.update(override)
    if spec.name == "ads__update_bid":
        args["bid"] = round(market_value(market_url, "SELECT bid FROM keywords WHERE id = :k", k=args["keyword_id"])[0][0] * 0.9, 2)
    if spec.name == "commerce__update_price":
        price = market_value(market_url, "SELECT price FROM variants WHERE id = :v", v=args["variant_id"])[0][0]
        args["price"] = round(price * 0.95, 2)
    return args


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def all_servers(console_url: str, market_url: str):
    rt = make_runtime(console_url, market_url, ("ads", "commerce", "analytics"))
    with rt.bridge.store.write() as s:  # the limits are not under test here
        save_policy(s, SitePolicy(site=SITE, max_bid_change_abs=1e9, max_bid_change_pct=1e9, max_bid_change_daily_total=1e9,
                                  max_budget_increase_pct=1e9, max_budget_increase_abs=1e9, price_change_min_pct=-100,
                                  price_change_max_pct=1e9))
    yield rt
    rt.close()


def test_every_write_tool_becomes_a_pending_operation_and_changes_nothing(all_servers, market_url) -> None:
    rt = all_servers
    writes = [spec for spec in rt.bridge.catalog.specs() if spec.is_write]
    assert {"ads__update_bid", "ads__create_keyword"} <= {s.name for s in writes}
    market_file = Path(market_url.split("///", 1)[1])
    market_value(market_url, "PRAGMA wal_checkpoint(TRUNCATE)")
    before = _digest(market_file), market_value(market_url, "SELECT count(*) FROM applied_writes")
    seller = rt.users.caller("seller@demo.local", "chat")
    refused = {}
    for spec in writes:
        args = sample_arguments(spec, market_url)
        outcome = rt.bridge.call(seller, spec.name, args, source=Source("chat", ref="no-backdoor", batch_id="nb"))
        if outcome.status != "pending":
            refused[spec.name] = outcome.text
    assert refused == {}, "\n".join(f"{k}: {v}" for k, v in refused.items())
    assert len(rt.bridge.gate.list(batch_id="nb", limit=1000)) == len(writes)
    market_value(market_url, "PRAGMA wal_checkpoint(TRUNCATE)")
    assert (_digest(market_file), market_value(market_url, "SELECT count(*) FROM applied_writes")) == before


def test_servers_refuse_writes_without_a_token(all_servers, market_url) -> None:
    rt = all_servers
    for spec in (s for s in rt.bridge.catalog.specs() if s.is_write):
        args = sample_arguments(spec, market_url)
        for control in ({}, {"approval_token": "forged.token"}, {"dry_run": False, "idempotency_key": "sneaky"}):
            result = rt.bridge.pool.call(spec.server, spec.tool, {**args, **control})
            text = " ".join(getattr(c, "text", "") for c in result.content)
            assert result.is_error and text.startswith("CONFIRMATION_REQUIRED: "), (spec.name, control, text)
    assert market_value(market_url, "SELECT count(*) FROM applied_writes") == [(0,)]


def test_a_token_for_other_arguments_is_refused(all_servers, market_url) -> None:
    import time

    from mcp_bridge.gate.tokens import new_nonce, sign_approval
    from mcp_bridge.keys import Keyring
    from tests.support.console_db import SECRET, keyword

    kid, bid = keyword(market_url)
    token = sign_approval(Keyring(SECRET), audience="ads", operation_id=1, tool="update_bid",
                          arguments={"site": SITE, "keyword_id": kid, "bid": bid}, nonce=new_nonce(),
                          expires=int(time.time()) + 60)
    result = all_servers.bridge.pool.call("ads", "update_bid", {"site": SITE, "keyword_id": kid, "bid": 99.0,
                                                                "approval_token": token})
    assert result.is_error and "does not cover these arguments" in result.content[0].text
