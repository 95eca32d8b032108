"""Every tool of the three servers, fed bad arguments: a coded, short answer that quotes little, and no write.

For each argument of each tool (listed from the servers themselves) the other arguments stay valid and this one
gets wrong types, out-of-range numbers, far dates, 100 KB strings and oversized lists and objects; the arguments as
a whole also get unknown names. Writes run each case twice: with dry_run=true, and with a valid approval token for
exactly those arguments. The outcome of every call lands in a matrix (tools × cases); `FUZZ_MATRIX=path` writes it
to a file, `-s` prints it. Must-refuse cases must answer a coded error; no call may crash.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import os
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import Tool

from servers.ads.server import build_server as build_ads
from servers.analytics.server import build_server as build_analytics
from servers.commerce.server import build_server as build_commerce
from servers.common.approval import CONTROL_ARGS, sign_approval
from servers.common.config import ServerConfig
from servers.common.errors import CODES
from tests.support.market import TODAY, copy_sqlite, sqlite_url

pytestmark = pytest.mark.anyio

BUILDERS: dict[str, Callable[[ServerConfig], Any]] = {
    "ads": build_ads, "commerce": build_commerce, "analytics": build_analytics,
}
SECRET = "fuzz-secret"
LONG = "x" * 100_000
QUOTED_AT_MOST = 80  # characters of any input a message may carry
MESSAGE_AT_MOST = 400
MONEY = frozenset({"bid", "default_bid", "daily_budget", "price", "budget", "value", "cost"})
DATES = frozenset({"start_date", "end_date", "week_end", "starts_on", "ends_on"})
ROW = {"sku": "FUZZ-1", "title": "Fuzz mat", "price": 10, "category": "Yoga"}


def _deep(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = {"a": [value]}
    return value


def _tools() -> list[tuple[str, Tool]]:
    """(server, tool) for every tool the three servers list, read once at collection."""

    async def listed() -> list[tuple[str, Tool]]:
        found = []
        for name, build in BUILDERS.items():
            config = ServerConfig(market_database_url="sqlite:///:memory:", approval_secret=SECRET)
            async with Client(build(config)) as client:
                found += [(name, tool) for tool in (await client.list_tools()).tools]
        return found

    return asyncio.run(listed())


TOOLS = _tools()


@dataclass(frozen=True)
class Case:
    name: str
    arguments: dict[str, Any]  # replaces the base arguments' values (and adds names)
    must_refuse: bool = True
    whole: bool = False  # the arguments as a whole replace the base ones

    def sent(self, base: dict[str, Any]) -> dict[str, Any]:
        return dict(self.arguments) if self.whole else {**base, **self.arguments}


def _kinds(schema: dict[str, Any]) -> set[str]:
    kinds = {schema["type"]} if isinstance(schema.get("type"), str) else set(schema.get("type") or [])
    for option in schema.get("anyOf", []):
        kinds |= _kinds(option)
    return kinds


def _minimum(schema: dict[str, Any]) -> float | None:
    for option in [schema, *schema.get("anyOf", [])]:
        for key in ("minimum", "exclusiveMinimum"):
            if key in option:
                return option[key]
    return None


def cases_for(name: str, schema: dict[str, Any]) -> list[Case]:
    """The bad values of one argument, by what it takes; `must_refuse=False` where a value may be a fine one."""
    kinds = _kinds(schema) - {"null"}

    def case(label: str, value: Any, must_refuse: bool = True) -> Case:
        return Case(label, {name: value}, must_refuse)

    # An object is a fine value of an object argument (expected_before), answered on its merits.
    found = [case("list", [1, "x"]), case("object", {"k": 1}, must_refuse="object" not in kinds), case("long_string", LONG)]
    if kinds & {"integer", "number"}:
        found += [case("string_for_number", "ten"), case("bool", True), case("int_2**63", 2**63),
                  case("int_-2**63-1", -(2**63) - 1), case("float_1e308", 1e308), case("float_-1e308", -1e308),
                  case("numeric_string_2**63", str(2**63)), case("numeric_string_1e308", "1e308"),
                  case("string_infinity", "Infinity"),
                  # JSON has no inf or nan: the client sends them as null, a fine value of an optional argument.
                  case("float_inf", float("inf"), must_refuse="null" not in _kinds(schema)),
                  case("float_nan", float("nan"), must_refuse="null" not in _kinds(schema))]
        minimum = _minimum(schema)
        is_id = name.endswith("_id")
        if is_id or (minimum is not None and minimum >= 0):
            found.append(case("-1", -1))
        if is_id or (minimum is not None and minimum >= 1):
            found.append(case("0", 0))
        if "number" in kinds:
            found.append(case("float_1e-12", 1e-12, must_refuse=name in MONEY))
    if "string" in kinds:
        found += [case("number_for_string", 7), case("bool", True)]
        if name in DATES:
            found += [case("date_9999-12-31", "9999-12-31"), case("date_0001-01-01", "0001-01-01"),
                      case("date_2026-13-45", "2026-13-45")]
    if "boolean" in kinds:
        found += [case("string_for_bool", "ten"), case("number_for_bool", 7)]
    if kinds & {"array", "object"}:
        # The SDK decodes a list or an object sent as JSON text.
        found.append(case("json_text_nested_int_2**63", json.dumps([{**ROW, "stock": 2**63}] if "array" in kinds
                                                                   else {"k": 2**63})))
    if "array" in kinds:
        found += [case("too_many_items", [{}] * 2001), case("deep_nesting", [_deep(40)]),
                  case("nested_int_2**63", [{**ROW, "price": 2**63}]), case("nested_float_1e300", [{**ROW, "price": 1e300}]),
                  case("nested_long_string", [{**ROW, "title": LONG}]), case("nested_long_key", [{**ROW, LONG: 1}])]
    if "object" in kinds:
        found += [case("too_many_items", {f"k{i}": i for i in range(2001)}), case("deep_nesting", _deep(40)),
                  case("nested_int_2**63", {"k": 2**63}), case("nested_long_string", {"k": LONG}),
                  case("nested_long_key", {LONG: 1})]
    unique: dict[str, Case] = {}
    for c in found:
        unique.setdefault(c.name, c)
    return list(unique.values())


def whole_cases(base: dict[str, Any]) -> list[Case]:
    return [Case("unknown_argument", {"fuzz_unknown": 1}), Case("unknown_long_argument", {LONG: 1}),
            Case("no_arguments", {}, whole=True), Case("only_unknown", {"fuzz_unknown": LONG}, whole=True)]


# ---------------------------------------------------------------- valid base arguments


NAMED = {"site": "us", "name": "Fuzz", "text": "fuzz mat", "reason": "cycle count", "carrier": "UPS",
         "tracking_number": "1Z999AA1", "code": "FUZZ10", "nonce": "fuzz-nonce-00000001", "source_name": "fuzz"}
OVERRIDES: dict[str, dict[str, Any]] = {
    "update_campaign": {"daily_budget": 55.0},
    "update_coupon": {"budget": 900.0},
    "update_inventory": {"on_hand": 5},
    "update_order_status": {"status": "cancelled"},
    "update_product_status": {"status": "draft"},
    "confirm_return": {"decision": "confirmed"},
    "create_coupon": {"kind": "percent", "value": 10.0, "budget": 100.0},
    "create_discount_code": {"kind": "percent", "value": 10.0},
    "create_negative": {"match_type": "negative_exact"},
    "update_bid": {"bid": 0.55},
    "create_ad_group": {"default_bid": 0.5},
    "update_price": {"price": 12.34},
    "analyze_product_import": {"rows": [ROW]},
    "commit_product_import": {"rows": [ROW]},
}


def base_arguments(tool: Tool, known: dict[str, Any]) -> dict[str, Any]:
    """Valid values for the required arguments (plus what a tool needs one of), on demo rows of site us."""
    schema = tool.input_schema
    base: dict[str, Any] = {}
    for name in schema.get("required", []):
        prop = schema["properties"][name]
        kinds = _kinds(prop)
        enum = prop.get("enum") or next((o["enum"] for o in prop.get("anyOf", []) if "enum" in o), None)
        if name in known:
            base[name] = known[name]
        elif name in NAMED:
            base[name] = NAMED[name]
        elif enum:
            base[name] = enum[0]
        elif "integer" in kinds:
            base[name] = 1
        elif "number" in kinds:
            base[name] = 10.0
        elif "array" in kinds:
            base[name] = [ROW]
        elif "object" in kinds:
            base[name] = {}
        elif "boolean" in kinds:
            base[name] = False
        else:
            base[name] = "fuzz"
    return {**base, **{k: v for k, v in OVERRIDES.get(tool.name, {}).items()}}


# ---------------------------------------------------------------- the market and what it holds


SMALL = 5_000  # rows: tables up to this size are compared after every write tool, all of them once at the end


def fingerprint(path: Path, tables: list[str] | None = None) -> dict[str, str]:
    """A digest per table (of `tables`, or of every table), leaving out the ledger rows of refused writes."""
    digests = {}
    with sqlite3.connect(path) as conn:
        names = tables or [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        for table in names:
            rows = sorted(repr(row) for row in conn.execute(f'SELECT * FROM "{table}"')
                          # A refused approved write spends its nonce; the market itself must not change.
                          if not (table == "applied_writes" and "refused" in row))
            digests[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    conn.close()
    return digests


def small_tables(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        names = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        small = [t for t in names if conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] <= SMALL]
    conn.close()
    return small


@pytest.fixture(scope="module")
def fuzz_market(market_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One copy of the demo market for the whole module; every table is compared when the module ends."""
    path = tmp_path_factory.mktemp("fuzz") / "market.db"
    copy_sqlite(market_template, path)
    before = fingerprint(path)
    yield path
    after = fingerprint(path)
    changed = [t for t, digest in after.items() if before.get(t) != digest]
    assert changed == [], f"the fuzzed calls changed the market: {changed}"


@pytest.fixture(scope="module")
def watched_tables(fuzz_market: Path) -> list[str]:
    """The tables compared around each write tool: the small ones (every write lands in applied_writes at least)."""
    tables = small_tables(fuzz_market)
    assert "applied_writes" in tables
    return tables


@pytest.fixture(scope="module")
def fuzz_servers(fuzz_market: Path) -> dict[str, Any]:
    config = ServerConfig(market_database_url=sqlite_url(fuzz_market), approval_secret=SECRET, today_override=TODAY)
    return {name: build(config) for name, build in BUILDERS.items()}


@pytest.fixture(scope="module")
def known_rows(fuzz_market: Path) -> dict[str, Any]:
    """Ids on site us that make the base arguments valid for the writes that need a row in a given state."""
    with sqlite3.connect(fuzz_market) as conn:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        known = {
            "order_id": one("SELECT id FROM orders WHERE site_id='us' AND status='paid' ORDER BY id LIMIT 1"),
            "return_id": one("SELECT id FROM returns WHERE site_id='us' AND status='requested' ORDER BY id LIMIT 1"),
            "sku": one("SELECT sku FROM product_ads WHERE site_id='us' ORDER BY id LIMIT 1"),
        }
    conn.close()
    return known


@dataclass
class Matrix:
    """tool → case → the problems of its calls (an empty list: every call answered well), and the calls made."""

    problems: dict[str, dict[str, list[str]]]
    calls: int = 0

    def render(self) -> str:
        cases = sorted({case for row in self.problems.values() for case in row})
        failing = sum(len(p) for row in self.problems.values() for p in row.values())
        counts = defaultdict(int)
        for row in self.problems.values():
            for p in row.values():
                for problem in p:
                    counts[problem.split(":")[0]] += 1
        lines = [f"fuzz matrix: {len(self.problems)} tools x {len(cases)} cases, {self.calls} calls, "
                 f"{failing} failing call(s) {dict(sorted(counts.items()))}",
                 "('.' every call answered well, '' case not applicable, else the problems)",
                 "tool\t" + "\t".join(cases)]
        for tool in sorted(self.problems):
            row = self.problems[tool]
            cells = [",".join(sorted(set(row[c]))) or "." if c in row else "" for c in cases]
            lines.append(tool + "\t" + "\t".join(cells))
        return "\n".join(lines)


@pytest.fixture(scope="module")
def matrix() -> Iterator[Matrix]:
    """Filled by the per-tool tests; printed (and written to $FUZZ_MATRIX) when the module ends."""
    found = Matrix(defaultdict(lambda: defaultdict(list)))
    yield found
    text = found.render()
    print("\n" + text)
    if target := os.environ.get("FUZZ_MATRIX"):
        Path(target).write_text(text + "\n")


# ---------------------------------------------------------------- judging one call


def long_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if len(value) > QUOTED_AT_MOST:
            yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from long_strings(k)
            yield from long_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from long_strings(v)


def judge(case: Case, sent: dict[str, Any], result: Any, raised: BaseException | None) -> list[str]:
    """What is wrong with the answer to one call (nothing: [])."""
    if raised is not None:
        return [f"raised {type(raised).__name__}"]
    problems = []
    if result.is_error:
        text = result.content[0].text
        code = text.split(":", 1)[0]
        if code not in CODES:
            problems.append("uncoded")
        elif code == "UPSTREAM_ERROR":
            problems.append("crash")
        if len(text) > MESSAGE_AT_MOST:
            problems.append("long_message")
    else:
        text = json.dumps(result.structured_content, default=str)
        if case.must_refuse:
            problems.append("accepted")
    if any(s[: QUOTED_AT_MOST + 1] in text or s[-QUOTED_AT_MOST - 1:] in text for s in long_strings(sent)):
        problems.append("echoed")
    return problems


_nonces = itertools.count(1)


def approved(server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    business = {k: v for k, v in arguments.items() if k not in CONTROL_ARGS}
    token = sign_approval(SECRET, audience=server, operation_id=next(_nonces), tool=tool, arguments=business,
                          nonce=f"fuzz-nonce-{next(_nonces):012d}")
    return {**arguments, "approval_token": token}


@pytest.mark.parametrize(("server", "tool"), TOOLS, ids=[f"{s}.{t.name}" for s, t in TOOLS])
async def test_bad_arguments_answer_a_code_and_change_nothing(server, tool, fuzz_servers, fuzz_market, watched_tables,
                                                              known_rows, matrix):
    base = base_arguments(tool, known_rows)
    writes = not (tool.annotations and tool.annotations.read_only_hint)
    cases = [c for name, prop in tool.input_schema.get("properties", {}).items() for c in cases_for(name, prop)]
    cases += whole_cases(base)
    before = fingerprint(fuzz_market, watched_tables) if writes else None
    row = matrix.problems[f"{server}.{tool.name}"]
    async with Client(fuzz_servers[server]) as client:
        for case in cases:
            sent = case.sent(base)
            modes = [sent]
            if writes:
                modes = [sent if "dry_run" in case.arguments else {**sent, "dry_run": True}]
                if "approval_token" not in case.arguments:
                    modes.append(approved(server, tool.name, sent))
            for arguments in modes:
                matrix.calls += 1
                result, raised = None, None
                try:
                    result = await client.call_tool(tool.name, arguments)
                except Exception as exc:
                    raised = exc
                row[case.name] += judge(case, arguments, result, raised)
    if before is not None:
        after = fingerprint(fuzz_market, watched_tables)
        if changed := [t for t in after if after[t] != before.get(t)]:
            row["(market)"] += [f"wrote:{t}" for t in changed]
    failing = {case: sorted(set(p)) for case, p in row.items() if p}
    assert failing == {}


def test_fuzz_covers_every_tool_of_the_three_servers():
    by_server = {name: sorted(t.name for s, t in TOOLS if s == name) for name in BUILDERS}
    assert {name: len(tools) for name, tools in by_server.items()} == {"ads": 20, "commerce": 25, "analytics": 15}
