"""Gateway page (tool groups, API keys shown once, revoke, rotate, tool switches, monitoring) and the Home flags."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import update

from console.gateway import monitoring
from console.gateway.groups import ToolGroups
from console.gateway.keys import ApiKeys
from mcp_bridge.store import ApiKey, utcnow
from tests.console.gateway.test_monitoring import record_call
from tests.ui.conftest import open_page

ADMIN = "admin@demo.local"
READS = ["ads__get_regions", "ads__list_campaigns"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def click(at, label: str):
    (button,) = [b for b in at.button if b.label == label]
    return button.click().run()


def flashed(at) -> list[str]:
    return [s.value for s in at.success]


def secrets_on_page(at) -> list[str]:
    return [c.value for c in at.code if c.value.startswith("ock_")]


@pytest.fixture
def admin_tools(ui_runtime) -> tuple[ToolGroups, ApiKeys]:
    return ToolGroups(ui_runtime.engine, ui_runtime.bridge.audit), ApiKeys(ui_runtime.engine, ui_runtime.bridge.audit)


def test_monitoring_without_calls_says_how_to_connect(app, ui_runtime) -> None:
    assert monitoring.report(ui_runtime.engine, "day").calls == 0  # this module's other tests add calls later
    at = open_page(app(ADMIN), "gateway")
    (hint,) = [i.value for i in at.info if "No gateway calls in the last hour" in i.value]
    assert "python -m console gateway --host H --port P" in hint and "Authorization: Bearer <key>" in hint
    assert any(c.value == "python -m console gateway --host 127.0.0.1 --port 8600" for c in at.code)
    assert any(c.value.startswith("http://127.0.0.1:8600/mcp/") and c.value.endswith("\nAuthorization: Bearer <key>")
               for c in at.code)


def test_an_admin_creates_a_group_and_a_key_shown_once(app, admin_tools) -> None:
    groups, keys = admin_tools
    code = unique("team")
    at = open_page(app(ADMIN), "gateway")
    at.text_input(key="group-code").input(code)
    at.text_input(key="group-name").input("Ads team in Dify")
    at.multiselect(key="group-tools").select(READS[0]).select(READS[1])
    at.multiselect(key="group-sites").select("us")
    click(at, "Create group")
    assert flashed(at) == [f"Created tool group {code}."]
    group = groups.require(code)
    assert (group.name, group.sites, group.writes, sorted(group.enabled_tools)) == ("Ads team in Dify", ("us",),
                                                                                     False, READS)
    assert code in at.dataframe[0].value["Code"].tolist()

    at.selectbox(key="key-group").select(code)
    at.text_input(key="key-label").input("dify-prod")
    click(at, "Create key")
    assert flashed(at) == [f"Created the API key dify-prod for {code}."]
    (secret,) = secrets_on_page(at)
    (info,) = keys.list(code)
    assert keys.verify(secret).id == info.id and (info.label, info.created_by) == ("dify-prod", ADMIN)
    table = at.dataframe[1].value
    row = table[table["#"] == info.id].iloc[0]
    assert (row["Key"], row["State"], row["Created by"]) == (f"{secret[:12]}…", "active", ADMIN)
    assert not any(secret in str(v) for frame in at.dataframe for v in frame.value.to_numpy().ravel())

    click(at, "I have stored the key — hide it")
    assert secrets_on_page(at) == []
    assert secrets_on_page(at.run()) == []


def test_an_admin_rotates_and_revokes_keys(app, admin_tools) -> None:
    groups, keys = admin_tools
    code = unique("rot")
    groups.create(code, tools=READS, sites=["us"], actor=ADMIN)
    old = keys.create(code, label="script", actor=ADMIN).info
    at = open_page(app(ADMIN), "gateway")
    at.selectbox(key="key-chosen").select(old.id)
    at.number_input(key="key-grace").set_value(2.0)
    before = utcnow()
    click(at, "Rotate")
    assert flashed(at) == [f"Rotated key #{old.id}; the old one works for 2 more hour(s)."]
    (secret,) = secrets_on_page(at)
    new = keys.verify(secret)
    rotated = keys.get(old.id)
    assert rotated.replaced_by == new.id and new.label == "script"
    assert before + dt.timedelta(hours=2) <= rotated.expires_at <= utcnow() + dt.timedelta(hours=2)
    click(at, "I have stored the key — hide it")

    at.selectbox(key="key-chosen").select(new.id)
    click(at, "Revoke now")
    assert flashed(at) == [f"Revoked key #{new.id}: it is refused from now on."]
    assert keys.get(new.id).state() == "revoked"
    assert new.id not in at.selectbox(key="key-chosen").options  # only active keys can be revoked or rotated
    click(at, "Revoke now")  # the other, still in its grace period
    assert keys.get(old.id).state() == "revoked"


def test_an_admin_switches_tools_and_the_group(app, admin_tools, ui_runtime) -> None:
    groups, _ = admin_tools
    code = unique("sw")
    groups.create(code, tools=READS, sites=["us", "de"], actor=ADMIN)
    at = open_page(app(ADMIN), "gateway")
    at.selectbox(key="group-chosen").select(code).run()
    at.toggle(key=f"tool-on-{code}-ads__get_regions").set_value(False)
    at.number_input(key=f"tool-timeout-{code}-ads__list_campaigns").set_value(5.0)
    click(at, "Save tools")
    assert flashed(at) == [f"Saved 2 tool setting(s) of {code}."]
    group = groups.require(code)
    assert (group.setting("ads__get_regions").enabled, group.setting("ads__list_campaigns").timeout_s) == (False, 5.0)
    changed = ui_runtime.bridge.audit.query(event="group_tool_changed", actor=ADMIN, limit=10)
    assert {(r.tool, r.channel) for r in changed if r.detail["group"] == code} == {
        ("ads__get_regions", "ui"), ("ads__list_campaigns", "ui")}

    click(at, "Switch off")
    assert flashed(at) == [f"Switched tool group {code} off."] and not groups.require(code).enabled
    click(at, "Switch on")
    assert groups.require(code).enabled


def test_a_refused_group_says_why(app, admin_tools) -> None:
    at = open_page(app(ADMIN), "gateway")
    at.text_input(key="group-code").input(unique("w"))
    at.multiselect(key="group-tools").select("ads__update_bid")
    at.multiselect(key="group-sites").select("us")
    click(at, "Create group")  # a write tool in a group that may not propose changes
    assert any(e.value.startswith("**VALIDATION_FAILED** — ads__update_bid propose changes") for e in at.error)


@pytest.fixture
def slow_tool(ui_runtime) -> str:
    """A tool whose gateway calls in the last minutes have a p95 of 2.5 s (flagged)."""
    tool = f"ads__slow_{uuid.uuid4().hex[:6]}"
    for ms in (80.0, 90.0, 100.0, 2400.0, 2500.0):
        record_call(ui_runtime.bridge.audit, tool, ms=ms, ref="group=bi key=99", actor="group:bi/sheets")
    return tool


def test_monitoring_flags_a_slow_tool(app, slow_tool) -> None:
    at = open_page(app(ADMIN), "gateway")
    (listing,) = [e.value for e in at.error if "over a limit in the last hour" in e.value]
    assert f"- Tool {slow_tool}: p95 latency 2.5 s (limit 1.0 s) over 5 calls" in listing
    tools = at.dataframe[-3].value.set_index("Tool")
    assert tools.loc[slow_tool].to_dict() == {"Calls": "5", "Errors": "0", "Error rate": "0.0%", "p50": "100 ms",
                                              "p95": "2.5 s", "Flag": "p95 latency"}
    at.radio(key="gateway-window").set_value("day").run()
    assert any("over a limit in the last day" in e.value for e in at.error)


def test_home_shows_gateway_flags_to_admins_only(app, slow_tool) -> None:
    admin_home = app(ADMIN)
    (warning,) = [w.value for w in admin_home.warning if w.value.startswith("Over a limit in the last hour")]
    assert f"- Tool {slow_tool}: p95 latency 2.5 s (limit 1.0 s) over 5 calls" in warning
    assert "Gateway flags" in [h.value for h in admin_home.subheader]
    seller_home = app("seller@demo.local")
    assert not [w for w in seller_home.warning if slow_tool in w.value]
    assert "Gateway flags" not in [h.value for h in seller_home.subheader]


@pytest.mark.parametrize("email", ["seller@demo.local", "manager@demo.local", "approver@demo.local"])
def test_the_gateway_page_is_for_admins_only(app, email: str) -> None:
    at = app(email)
    with pytest.raises(ValueError):
        at.switch_page("pages/gateway.py")


def test_a_key_older_than_90_days_is_flagged_on_the_gateway_page(app, ui_runtime) -> None:
    ToolGroups(ui_runtime.engine, ui_runtime.bridge.audit).create("aging-page", tools=["ads__get_regions"],
                                                                 sites=["us"], actor=ADMIN)
    keys = ApiKeys(ui_runtime.engine, ui_runtime.bridge.audit)
    old = keys.create("aging-page", label="ancient", actor=ADMIN).info
    fresh = keys.create("aging-page", label="fresh", actor=ADMIN).info
    with ui_runtime.bridge.store.write() as s:
        s.execute(update(ApiKey).where(ApiKey.id == old.id).values(created_at=utcnow() - dt.timedelta(days=120)))
    at = open_page(app(ADMIN), "gateway")
    warnings = [w.value for w in at.warning if "older than 90 days" in w.value]
    assert len(warnings) == 1 and f"#{old.id} ancient" in warnings[0], warnings
    assert f"#{fresh.id} fresh" not in warnings[0]
