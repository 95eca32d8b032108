"""Roles per site in the bridge: the roles a caller holds on the call's site decide what it may use and decide."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from console.runtime import Runtime
from mcp_bridge.catalog import visible_to
from mcp_bridge.errors import PermissionDenied
from mcp_bridge.types import Caller, Source, ToolSpec
from tests.support.console_db import keyword, make_runtime
from tests.support.market import copy_sqlite, sqlite_url

CHAT = Source("chat", ref="conv-roles", reason="ACOS over target")
MIXED = "mixed@example.com"  # approver on US, seller on DE
WRITE = ToolSpec("ads__update_bid", "ads", "update_bid", "", {}, is_write=True)
READ = ToolSpec("ads__list_keywords", "ads", "list_keywords", "", {}, is_write=False)


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory, market_template) -> Iterator[Runtime]:
    """One runtime on the real ads server for the module; the demo users plus one with different roles per site."""
    directory = tmp_path_factory.mktemp("site-roles")
    copy_sqlite(market_template, directory / "market.db")
    runtime = make_runtime(f"sqlite:///{directory / 'console.db'}", sqlite_url(directory / "market.db"))
    runtime.users.create(MIXED, name="Mixed Roles", roles=("approver",), sites=("us",))
    runtime.users.grant(MIXED, role="seller", site="de")
    try:
        yield runtime
    finally:
        runtime.close()


@pytest.fixture(scope="module")
def market(rt: Runtime) -> str:
    return rt.settings.market_database_url


def mixed(rt: Runtime) -> Caller:
    return rt.users.caller(MIXED, "chat")


def propose(rt: Runtime, caller: Caller, market: str, site: str, offset: int = 0):
    kid, bid = keyword(market, site, offset=offset)
    return rt.bridge.call(caller, "ads__update_bid", {"site": site, "keyword_id": kid, "bid": round(bid * 0.9, 2)},
                          source=CHAT)


# -- the Caller value --------------------------------------------------------------------------------------------------
def test_a_caller_holds_each_sites_own_roles() -> None:
    caller = Caller.of("m@x", {"us": {"approver"}, "de": {"seller"}}, "ui")
    assert (caller.roles, caller.sites) == (frozenset({"approver", "seller"}), frozenset({"us", "de"}))
    assert [caller.has("approver", s) for s in ("us", "de", "jp", None)] == [True, False, False, True]
    assert (caller.sites_with("approver"), caller.sites_with("seller", "manager")) == ({"us"}, {"de"})
    assert caller.roles_on("jp") == frozenset() and caller.roles_on(None) == frozenset()


def test_the_old_constructor_holds_the_roles_on_every_site_and_compares_equal() -> None:
    assert Caller("a@x", frozenset({"seller"}), frozenset({"us", "de"}), "cli") == Caller.of(
        "a@x", {"us": ["seller"], "de": ["seller"]}, "cli")
    admin = Caller("root@x", frozenset({"admin"}), frozenset({"us"}))
    assert admin.has("approver", "us") and not admin.has("approver", "de")
    assert Caller("none@x", frozenset({"admin"}), frozenset()).has("admin")  # navigation still sees it: no sites


def test_replace_narrows_sites_and_roles_and_adds_a_new_role_everywhere() -> None:
    caller = Caller.of("m@x", {"us": {"approver", "admin"}, "de": {"seller"}})
    assert replace(caller, sites=frozenset({"de"})) == Caller.of("m@x", {"de": {"seller"}})
    # What the gateway makes of a person in a read-only tool group (console/gateway/principal.py).
    read_only = replace(caller, roles=caller.roles - {"seller", "admin"} | {"manager"})
    assert read_only.site_roles == {"us": {"approver", "manager"}, "de": {"manager"}}


@pytest.mark.parametrize(("site", "spec", "visible"), [
    ("de", WRITE, True), ("us", WRITE, False), ("us", READ, True), ("jp", READ, False), (None, WRITE, True),
])
def test_visible_to_asks_the_roles_held_on_the_site(site, spec, visible) -> None:
    assert visible_to(Caller.of("m@x", {"us": {"approver"}, "de": {"seller"}}), spec, site) is visible


# -- the bridge and the catalog ----------------------------------------------------------------------------------------
def test_a_write_is_proposed_only_where_the_seller_role_is_held(rt: Runtime, market: str) -> None:
    on_de = propose(rt, mixed(rt), market, "de")
    assert (on_de.status, rt.bridge.gate.get(on_de.operation_id).site) == ("pending", "de")
    on_us = propose(rt, mixed(rt), market, "us")
    assert (on_us.status, on_us.code) == ("error", "PERMISSION_DENIED")
    assert "(approver on us) may not use ads__update_bid; ask an admin for a role on us" in on_us.text
    assert rt.bridge.call(mixed(rt), "ads__list_profiles", {"site": "us"}, source=CHAT).status == "ok"


def test_the_models_tools_name_only_the_sites_where_each_is_allowed(rt: Runtime) -> None:
    tools = {t["name"]: t["input_schema"]["properties"]["site"]["enum"] for t in rt.bridge.catalog.anthropic_tools(mixed(rt))}
    assert (tools["ads__update_bid"], tools["ads__list_keywords"]) == (["de"], ["de", "us"])
    on_us = {spec.name for spec in rt.bridge.catalog.for_caller(mixed(rt), site="us")}
    assert "ads__list_keywords" in on_us and "ads__update_bid" not in on_us
    assert rt.bridge.catalog.for_caller(mixed(rt), site="jp") == []


# -- the gate ----------------------------------------------------------------------------------------------------------
def test_an_approver_lists_counts_and_decides_only_where_they_approve(rt: Runtime, market: str) -> None:
    seller = rt.users.caller("seller@demo.local", "chat")
    us, de = propose(rt, seller, market, "us", 1), propose(rt, seller, market, "de", 1)
    gate, approver = rt.bridge.gate, mixed(rt)
    waiting = gate.list(status="proposed", approver=approver)
    assert us.operation_id in {op.id for op in waiting} and {op.site for op in waiting} == {"us"}
    assert gate.pending_count(approver) == len(waiting)
    assert gate.list(status="proposed", approver=approver, sites=frozenset({"de"})) == []
    with pytest.raises(PermissionDenied, match=f"may not decide operation #{de.operation_id}: that needs the "
                                               "approver role on site de; ask an admin to grant it"):
        gate.reject(de.operation_id, approver, "not mine")
    assert gate.reject(us.operation_id, approver, "too deep a cut").status == "rejected"
    assert gate.get(de.operation_id).status == "proposed"
    assert gate.pending_count(rt.users.caller("seller@demo.local")) == 0  # no approver role anywhere
