"""The user directory: demo seed, callers, grants and revokes (audited as admin changes)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from console.migrations import migrate_console
from console.users import UserDirectory
from mcp_bridge.audit.log import AuditLog
from mcp_bridge.errors import NotFound, ValidationFailed
from mcp_bridge.store import make_engine
from mcp_bridge.types import Caller


@pytest.fixture
def users(console_url: str) -> UserDirectory:
    migrate_console(console_url)
    engine: Engine = make_engine(console_url)
    directory = UserDirectory(engine, AuditLog(engine, key="test-audit-key"))
    directory.seed_demo()
    yield directory
    engine.dispose()


ALL = frozenset({"us", "de", "jp"})


@pytest.mark.parametrize(("email", "roles", "sites"), [
    ("seller@demo.local", {"seller"}, {"us", "de"}),
    ("seller-jp@demo.local", {"seller"}, {"jp"}),
    ("manager@demo.local", {"manager"}, ALL),
    ("approver@demo.local", {"approver"}, ALL),
    ("approver2@demo.local", {"approver"}, ALL),
    ("admin@demo.local", {"admin"}, ALL),
])
def test_demo_users(users: UserDirectory, email: str, roles: set, sites: set) -> None:
    assert users.caller(email, "cli") == Caller(email, frozenset(roles), frozenset(sites), "cli")


def test_seed_demo_is_idempotent(users: UserDirectory) -> None:
    assert users.seed_demo() == 0
    assert len(users.list()) == 6
    assert users.sites() == ["de", "jp", "us"]


def test_grant_and_revoke_are_audited(users: UserDirectory) -> None:
    info = users.grant("Seller@Demo.local", role="approver", site="jp", actor="admin@demo.local", channel="ui")
    assert (info.roles, info.sites) == (frozenset({"seller", "approver"}), ALL)
    info = users.revoke("seller@demo.local", site="de", actor="admin@demo.local")
    assert info.sites == frozenset({"us", "jp"})
    rows = users.audit.query(limit=2)
    assert [(r.event, r.actor, r.detail) for r in rows] == [
        ("user_revoked", "admin@demo.local", {"email": "seller@demo.local", "role": None, "site": "de"}),
        ("user_granted", "admin@demo.local", {"email": "seller@demo.local", "role": "approver", "site": "jp"}),
    ]
    assert users.audit.verify().ok


@pytest.mark.parametrize(("call", "error"), [
    (lambda u: u.grant("nobody@demo.local", role="seller"), NotFound),
    (lambda u: u.grant("seller@demo.local", role="pope"), ValidationFailed),
    (lambda u: u.grant("seller@demo.local", site="mars"), ValidationFailed),
    (lambda u: u.grant("seller@demo.local"), ValidationFailed),
    (lambda u: u.create("seller@demo.local"), ValidationFailed),
    (lambda u: u.create("not-an-email"), ValidationFailed),
])
def test_bad_changes_are_refused(users: UserDirectory, call, error) -> None:
    with pytest.raises(error):
        call(users)


def test_create_and_inactive_users(users: UserDirectory) -> None:
    info = users.create("new@demo.local", name="New", roles=("seller",), sites=("jp",))
    assert (info.roles, info.sites, info.active) == (frozenset({"seller"}), frozenset({"jp"}), True)
    assert users.get("missing@demo.local") is None
