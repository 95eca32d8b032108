"""Bounded inputs (DESIGN.md §3): one test per item of the finding, and the bounds themselves, table-driven.

The finding: an id, offset or filter ≥ 2⁶³ crashed most tools; dates in year 9999 crashed some; a 100,000-character
site was echoed back in full; `update_price price=1e-12` wrote 0.00; `commit_product_import` wrote a price of 1e300.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from mcp import Client
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select

from servers.ads.server import build_server as build_ads
from servers.analytics.server import build_server as build_analytics
from servers.commerce.server import build_server as build_commerce
from servers.common import money
from servers.common.approval import CONTROL_ARGS, sign_approval
from servers.common.config import ServerConfig
from servers.common.errors import SiteScopeRequired, ValidationFailed
from servers.common.inputs import INT_MAX, check_arguments, clip, quote
from servers.common.server import describe_validation_error
from servers.market.db import MarketDB, parse_date_range, require_site
from servers.market.models import Variant
from tests.support.market import TODAY

pytestmark = pytest.mark.anyio

BUILDERS = {"ads": build_ads, "commerce": build_commerce, "analytics": build_analytics}
BIG = 2**63
LONG_SITE = "x" * 100_000


async def call(config: ServerConfig, server: str, tool: str, arguments: dict[str, Any]) -> tuple[bool, str]:
    async with Client(BUILDERS[server](config)) as client:
        result = await client.call_tool(tool, arguments)
    return result.is_error, result.content[0].text if result.is_error else ""


async def error(config: ServerConfig, server: str, tool: str, **arguments: Any) -> str:
    is_error, text = await call(config, server, tool, arguments)
    assert is_error, f"{tool} accepted {arguments}"
    return text


def with_token(config: ServerConfig, server: str, tool: str, arguments: dict[str, Any], operation_id: int = 1) -> dict[str, Any]:
    business = {k: v for k, v in arguments.items() if k not in CONTROL_ARGS}
    token = sign_approval(config.approval_secret, audience=server, operation_id=operation_id, tool=tool,
                          arguments=business, nonce=f"bounds-nonce-{operation_id:010d}")
    return {**arguments, "approval_token": token}


# Every table the writes called here could touch (the big read-only metric tables are left out, for speed).
WRITTEN = ("campaigns", "ad_groups", "keywords", "variants", "products", "categories", "inventory_levels",
           "product_imports", "coupons", "discount_codes", "applied_writes")


def market_rows(config: ServerConfig) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of the tables those writes touch, but the ledger rows of refused writes (they spend a nonce only)."""
    with sqlite3.connect(config.market_database_url.removeprefix("sqlite:///")) as conn:
        rows = {table: sorted(conn.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
                for table in WRITTEN}
    conn.close()
    rows["applied_writes"] = [row for row in rows["applied_writes"] if "refused" not in row]
    return rows


# ---------------------------------------------------------------- 1. ids, offsets and filters of 2⁶³


@pytest.mark.parametrize(("server", "tool", "arguments", "name"), [
    ("ads", "list_keywords", {"campaign_id": BIG}, "campaign_id"),
    ("ads", "list_campaigns", {"offset": BIG}, "offset"),
    ("ads", "get_search_terms", {"min_orders": BIG}, "min_orders"),
    ("ads", "update_bid", {"keyword_id": BIG, "bid": 1.0, "dry_run": True}, "keyword_id"),
    ("commerce", "get_product", {"product_id": BIG}, "product_id"),
    ("commerce", "list_orders", {"offset": -BIG - 1}, "offset"),
    ("commerce", "list_variants", {"product_id": str(BIG)}, "product_id"),  # a numeric string the SDK would convert
    ("analytics", "get_recent_reviews", {"product_id": BIG}, "product_id"),
    ("analytics", "get_campaign_drilldown", {"campaign_id": BIG}, "campaign_id"),
])
async def test_an_integer_beyond_the_database_is_refused_naming_it(server_config, server, tool, arguments, name):
    text = await error(server_config, server, tool, site="us", **arguments)
    assert text.startswith(f"VALIDATION_FAILED: {tool}: {name} must be between -{INT_MAX} and {INT_MAX}; got ")


async def test_the_largest_integer_the_database_holds_is_an_answer_not_a_crash(server_config):
    text = await error(server_config, "commerce", "get_product", site="us", product_id=INT_MAX)
    assert text == f"NOT_FOUND: product {INT_MAX} does not exist on site us; list_products shows the ids"
    is_error, _ = await call(server_config, "ads", "list_campaigns", {"site": "us", "offset": INT_MAX})
    assert not is_error


# ---------------------------------------------------------------- 2. dates in year 9999 (and year 1)


@pytest.mark.parametrize(("server", "tool", "arguments", "name", "day"), [
    ("ads", "list_campaigns", {"end_date": "9999-12-31"}, "end_date", "9999-12-31"),
    ("ads", "create_campaign", {"name": "Far", "targeting": "manual", "daily_budget": 10, "start_date": "9999-12-31",
                                "dry_run": True}, "start_date", "9999-12-31"),
    ("commerce", "list_returns", {"end_date": "9999-12-31"}, "end_date", "9999-12-31"),
    ("commerce", "list_orders", {"start_date": "0001-01-01"}, "start_date", "0001-01-01"),
    ("commerce", "create_coupon", {"variant_id": 1, "kind": "percent", "value": 10, "budget": 100,
                                   "ends_on": "9999-12-31", "dry_run": True}, "ends_on", "9999-12-31"),
    ("analytics", "get_daily_sales", {"end_date": "9999-12-31"}, "end_date", "9999-12-31"),
    ("analytics", "get_weekly_report_data", {"week_end": "9999-12-31"}, "week_end", "9999-12-31"),
    ("analytics", "get_ads_dashboard", {"start_date": "0001-01-01"}, "start_date", "0001-01-01"),
])
async def test_a_date_outside_2000_to_2100_is_refused_naming_it(server_config, server, tool, arguments, name, day):
    text = await error(server_config, server, tool, site="us", **arguments)
    assert text == f"VALIDATION_FAILED: {name} must be between 2000-01-01 and 2100-12-31; got {day}"


@pytest.mark.parametrize(("start", "end", "message"), [
    ("2000-01-01", "2000-01-31", None),
    ("2100-12-01", "2100-12-31", None),
    ("1999-12-31", None, "start_date must be between 2000-01-01 and 2100-12-31; got 1999-12-31"),
    (None, "2101-01-01", "end_date must be between 2000-01-01 and 2100-12-31; got 2101-01-01"),
    ("2026-13-45", None, "start_date must look like 2026-11-21; got '2026-13-45'"),
    ("2026-11-20", "2026-11-01", "start_date 2026-11-20 is after end_date 2026-11-01"),
])
def test_parse_date_range_bounds(start, end, message):
    if message is None:
        assert parse_date_range(start, end, today=TODAY)[0].isoformat() == start
    else:
        with pytest.raises(ValidationFailed) as refused:
            parse_date_range(start, end, today=TODAY)
        assert refused.value.message == message


# ---------------------------------------------------------------- 3. a 100,000-character site is not echoed


@pytest.mark.parametrize(("server", "tool"), [("ads", "list_profiles"), ("commerce", "list_products"),
                                              ("analytics", "get_daily_sales")])
async def test_a_huge_site_is_refused_without_being_echoed(server_config, server, tool):
    text = await error(server_config, server, tool, site=LONG_SITE)
    assert text == f"VALIDATION_FAILED: {tool}: site is 100,000 characters long; at most 16"


def test_an_unknown_site_is_quoted_short(server_config):
    with MarketDB(server_config.market_database_url).reader() as s, pytest.raises(SiteScopeRequired) as refused:
        require_site(s, "y" * 500)
    assert refused.value.message == f"unknown site '{'y' * 37}…'; pass one of: de, jp, us"


async def test_a_long_argument_is_quoted_in_at_most_80_characters(server_config):
    text = await error(server_config, "ads", "list_profiles", site="us", **{"z" * 5000: 1})
    assert text == f"VALIDATION_FAILED: list_profiles: unknown argument '{'z' * 37}…'; it takes site"


# ---------------------------------------------------------------- 4. update_price price=1e-12 writes nothing


async def test_a_price_that_rounds_to_zero_is_refused_and_nothing_is_written(server_config):
    before = market_rows(server_config)
    arguments = {"site": "us", "variant_id": 1, "price": 1e-12}
    message = "VALIDATION_FAILED: price: a price of 1e-12 rounds to 0.00 USD; the smallest is 0.01 USD"
    assert await error(server_config, "commerce", "update_price", **arguments, dry_run=True) == message
    assert await error(server_config, "commerce", "update_price",
                       **with_token(server_config, "commerce", "update_price", arguments)) == message
    assert market_rows(server_config) == before
    with MarketDB(server_config.market_database_url).reader() as s:
        assert s.scalar(select(Variant.price).where(Variant.id == 1)) > 0


async def test_a_yen_price_rounds_to_whole_yen(server_config):
    with MarketDB(server_config.market_database_url).reader() as s:
        variant = s.scalars(select(Variant).where(Variant.site_id == "jp").order_by(Variant.id)).first()
    assert await error(server_config, "commerce", "update_price", site="jp", variant_id=variant.id, price=0.4,
                       dry_run=True) == "VALIDATION_FAILED: price: a price of 0.4 rounds to 0 JPY; the smallest is 1 JPY"
    async with Client(build_commerce(server_config)) as client:
        result = await client.call_tool("update_price", {"site": "jp", "variant_id": variant.id, "price": 1234.56,
                                                         "dry_run": True})
    assert result.structured_content["after"] == {"price": 1235.0}


# ---------------------------------------------------------------- 5. an import price of 1e300 is refused


@pytest.mark.parametrize(("row", "problem"), [
    ({"price": "1e300"}, ("price", "a price must be between 0 and 10,000,000 USD")),
    ({"price": "1e-12"}, ("price", "a price of 1e-12 rounds to 0.00 USD; the smallest is 0.01 USD")),
    ({"cost": "1e300"}, ("cost", "a cost must be between 0 and 10,000,000 USD")),
    ({"stock": "1e300"}, ("stock", "must be at most 10,000,000")),
    ({"price": "9" * 400}, ("price", f"'{'9' * 77}…' is not a number")),
])
async def test_an_import_amount_out_of_bounds_is_a_problem_and_commit_writes_nothing(server_config, row, problem):
    rows = [{"sku": "HUGE-1", "title": "Huge", "price": 10, "category": "Yoga", **row}]
    async with Client(build_commerce(server_config)) as client:
        analysis = (await client.call_tool("analyze_product_import", {"site": "us", "rows": rows})).structured_content
    assert (analysis["ok"], [(p["field"], p["message"]) for p in analysis["problems"]]) == (False, [problem])
    before = market_rows(server_config)
    arguments = with_token(server_config, "commerce", "commit_product_import", {"site": "us", "rows": rows})
    text = await error(server_config, "commerce", "commit_product_import", **arguments)
    assert text.startswith(f"VALIDATION_FAILED: the import has 1 problem(s): row 1 {problem[0]}: {problem[1]}")
    assert market_rows(server_config) == before


async def test_an_import_price_of_1e300_as_a_json_number_is_refused_before_the_tool_runs(server_config):
    rows = [{"sku": "HUGE-1", "title": "Huge", "price": 1e300, "category": "Yoga"}]
    before = market_rows(server_config)
    arguments = with_token(server_config, "commerce", "commit_product_import", {"site": "us", "rows": rows})
    assert await error(server_config, "commerce", "commit_product_import", **arguments) == (
        "VALIDATION_FAILED: commit_product_import: rows[0].price must be between -1e+12 and 1e+12; got 1e+300")
    assert market_rows(server_config) == before


# ---------------------------------------------------------------- creations keep the bounds of the updates


@pytest.mark.parametrize(("server", "tool", "arguments", "message"), [
    ("ads", "create_campaign", {"name": "Tiny", "targeting": "manual", "daily_budget": 1e-12},
     "a daily budget on site us must be between 1 and 1000000 USD"),
    ("ads", "update_campaign", {"campaign_id": 1, "daily_budget": 1e-12},
     "a daily budget on site us must be between 1 and 1000000 USD"),
    ("ads", "create_ad_group", {"campaign_id": 1, "name": "Tiny", "default_bid": 1e-12},
     "a bid on site us must be between 0.02 and 1000 USD"),
    ("ads", "create_keyword", {"ad_group_id": 1, "text": "tiny", "match_type": "exact", "bid": 1e-12},
     "a bid on site us must be between 0.02 and 1000 USD"),
    ("ads", "update_bid", {"keyword_id": 1, "bid": 1e-12}, "a bid on site us must be between 0.02 and 1000 USD"),
    ("commerce", "create_coupon", {"variant_id": 1, "kind": "fixed", "value": 1e-12, "budget": 100},
     "value: a fixed discount of 1e-12 rounds to 0.00 USD"),
    ("commerce", "create_coupon", {"variant_id": 1, "kind": "percent", "value": 10, "budget": 1e-12},
     "budget: a coupon budget of 1e-12 rounds to 0.00 USD"),
    ("commerce", "update_coupon", {"coupon_id": 1, "budget": 1e-12}, "budget: a coupon budget of 1e-12 rounds to 0.00 USD"),
    ("commerce", "create_discount_code", {"code": "TINY1", "kind": "percent", "value": 1e-12},
     "value: a percent discount is at least 0.01 and at most 100; got 1e-12"),
    ("commerce", "create_discount_code", {"code": "TINY2", "kind": "fixed", "value": 0.004},
     "value: a fixed discount of 0.004 rounds to 0.00 USD"),
    ("commerce", "update_price", {"variant_id": 1, "price": 10_000_001}, "price: Input should be less than or equal to"),
    ("commerce", "create_coupon", {"variant_id": 1, "kind": "percent", "value": 10, "budget": 10_000_001},
     "budget: Input should be less than or equal to"),
])
async def test_money_that_rounds_to_nothing_or_overflows_is_refused_everywhere(server_config, server, tool, arguments,
                                                                               message):
    before = market_rows(server_config)
    for sent in ({"site": "us", **arguments, "dry_run": True},
                 with_token(server_config, server, tool, {"site": "us", **arguments})):
        text = await error(server_config, server, tool, **sent)
        assert text.startswith("VALIDATION_FAILED: ") and message in text
    assert market_rows(server_config) == before


# ---------------------------------------------------------------- the central bounds, table-driven

SCHEMA = {"properties": {
    "site": {"type": "string"}, "limit": {"type": "integer"}, "bid": {"type": "number"},
    "flag": {"type": "boolean"}, "campaign_id": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
    "start_date": {"anyOf": [{"type": "string"}, {"type": "null"}]}, "rows": {"type": "array"},
    "expected_before": {"anyOf": [{"type": "object"}, {"type": "null"}]}, "csv_text": {"type": "string"},
    "name": {"type": "string"},
}}


@pytest.mark.parametrize(("arguments", "message"), [
    ({"site": "us", "limit": 10, "bid": 0.5, "flag": True, "campaign_id": None, "rows": [{"a": 1}]}, None),
    ({"limit": INT_MAX, "campaign_id": -INT_MAX, "bid": 1e12}, None),
    ({"csv_text": "x" * 2_000_000}, None),
    ({"limit": INT_MAX + 1}, "t: limit must be between -2147483647 and 2147483647; got 2147483648"),
    ({"limit": 1e308}, "t: limit must be between -2147483647 and 2147483647; got 1e+308"),
    ({"limit": "9223372036854775808"}, "t: limit must be between -2147483647 and 2147483647; got 9223372036854775808"),
    ({"limit": True}, "t: limit must be a number, not true"),
    ({"bid": float("nan")}, "t: bid must be a finite number, not nan"),
    ({"bid": "Infinity"}, "t: bid must be a finite number, not inf"),
    ({"bid": 2**63}, "t: bid must be between -1e+12 and 1e+12; got 9223372036854775808"),
    ({"bid": 10**5000}, "t: bid must be between -1e+12 and 1e+12; got a number of about 5001 digits"),
    ({"site": "x" * 17}, "t: site is 17 characters long; at most 16"),
    ({"start_date": "2026-11-200"}, "t: start_date is 11 characters long; at most 10"),
    ({"name": "n" * 2001}, "t: name is 2,001 characters long; at most 2,000"),
    ({"csv_text": "x" * 2_000_001}, "t: csv_text is 2,000,001 characters long; at most 2,000,000"),
    ({"rows": [{}] * 2001}, "t: rows has 2,001 entries; at most 2,000"),
    ({"rows": [[[[["deep"]]]]]}, "t: rows nests lists and objects more than 4 deep"),
    ({"rows": [{"price": 2**63}]}, "t: rows[0].price must be between -2147483647 and 2147483647; got 9223372036854775808"),
    ({"rows": [{"title": "t" * 2001}]}, "t: rows[0].title is 2,001 characters long; at most 2,000"),
    ({"rows": '[{"stock": 9223372036854775808}]'},
     "t: rows[0].stock must be between -2147483647 and 2147483647; got 9223372036854775808"),
    ({"expected_before": '{"a": {"b": [[[1]]]}}'}, "t: expected_before nests lists and objects more than 4 deep"),
    ({"expected_before": {"k" * 2001: 1}}, "t: expected_before has a key 2,001 characters long; at most 2,000"),
    ({"expected_before": {"k": object()}}, "t: expected_before.k must be JSON (a string, number, boolean, list or object)"),
    ({"unknown": 1}, "t: unknown argument 'unknown'; it takes site, limit, bid, flag, campaign_id, start_date, rows, "
                     "expected_before, csv_text, name"),
])
def test_check_arguments(arguments, message):
    if message is None:
        check_arguments("t", arguments, SCHEMA)
    else:
        with pytest.raises(ValidationFailed) as refused:
            check_arguments("t", arguments, SCHEMA)
        assert refused.value.message == message


@pytest.mark.parametrize(("value", "shown"), [
    ("short", "'short'"), ("s" * 200, "'" + "s" * 77 + "…'"), (1.5, "1.5"), (-(10**400), "a negative number of about 401 digits"),
    ([1, 2], "a list of 2"), ({"a": 1}, "an object of 1 keys"),
])
def test_quote_shows_at_most_80_characters(value, shown):
    assert quote(value) == shown
    assert len(quote(value)) <= 80


def test_clip():
    assert (clip("abc", 3), clip("abcd", 3)) == ("abc", "ab…")


def test_pydantic_messages_are_capped():
    class Model(BaseModel):
        a: int
        b: int
        c: int
        d: int
        e: str = Field(max_length=3)

    with pytest.raises(ValidationError) as exc:
        Model.model_validate({"a": "x" * 500, "b": "y", "c": "z", "d": "w", "e": "long"})
    text = describe_validation_error(exc.value)
    assert text.endswith("(and 2 more)") and text.count(";") == 2 and "xxx" not in text


@pytest.mark.parametrize(("value", "bounds", "currency", "written"), [
    (19.999, money.PRICE, "USD", 20.0), (0.005, money.PRICE, "USD", 0.01), (0, money.COST, "USD", 0.0),
    (3980.4, money.PRICE, "JPY", 3980.0), (10_000_000, money.PRICE, "EUR", 10_000_000.0),
])
def test_money_amounts_round_to_the_currency(value, bounds, currency, written):
    assert money.amount(value, bounds, currency=currency, argument="x") == written


@pytest.mark.parametrize(("value", "bounds", "currency", "reason"), [
    (1e-12, money.PRICE, "USD", "a price of 1e-12 rounds to 0.00 USD; the smallest is 0.01 USD"),
    (0.4, money.COUPON_BUDGET, "JPY", "a coupon budget of 0.4 rounds to 0 JPY; the smallest is 1 JPY"),
    (1e300, money.PRICE, "USD", "a price must be between 0 and 10,000,000 USD"),
    (-1, money.COST, "USD", "a cost must be between 0 and 10,000,000 USD"),
    (float("inf"), money.DISCOUNT_AMOUNT, "USD", "a fixed discount must be a finite number"),
])
def test_money_amounts_out_of_bounds(value, bounds, currency, reason):
    assert money.problem(value, bounds, currency) == reason
    with pytest.raises(ValidationFailed) as refused:
        money.amount(value, bounds, currency=currency, argument="x")
    assert refused.value.message == f"x: {reason}"
