"""Roles per site in the console: the directory's grants, migration 0007, the CLI, the demo sign-in cookie, and who
may file an alert's fix."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from pydantic import SecretStr

from console.auth import DEMO_COOKIE_TTL_S, demo_cookie, demo_cookie_email
from console.migrations import alembic_config, migrate_console
from console.reports import alerts
from console.settings import Settings
from console.users import UserDirectory
from mcp_bridge.audit.log import AuditLog
from mcp_bridge.errors import PermissionDenied, ValidationFailed
from mcp_bridge.store import make_engine
from mcp_bridge.types import Caller

NOW = 1_800_000_000.0


@pytest.fixture(scope="module")
def users(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UserDirectory]:
    """One migrated directory with the demo users for the module; each test makes its own user."""
    url = f"sqlite:///{tmp_path_factory.mktemp('site-roles') / 'console.db'}"
    migrate_console(url)
    engine = make_engine(url)
    directory = UserDirectory(engine, AuditLog(engine, key="test-audit-key"))
    directory.seed_demo()
    yield directory
    engine.dispose()


def someone(users: UserDirectory, **kwargs) -> str:
    email = f"u-{uuid.uuid4().hex[:8]}@example.com"
    users.create(email, **kwargs)
    return email


def per_site(users: UserDirectory, email: str) -> dict[str, set[str]]:
    return {site: set(roles) for site, roles in users.require(email).site_roles.items()}


# -- grants ------------------------------------------------------------------------------------------------------------
def test_a_role_is_granted_and_revoked_on_one_site(users: UserDirectory) -> None:
    email = someone(users, roles=("seller",), sites=("de",))
    users.grant(email, role="approver", site="us", actor="admin@demo.local", channel="ui")
    assert per_site(users, email) == {"de": {"seller"}, "us": {"approver"}}
    caller = users.caller(email)
    assert caller.has("approver", "us") and not caller.has("approver", "de") and caller.has("seller", "de")
    users.revoke(email, role="approver", site="us")
    assert per_site(users, email) == {"de": {"seller"}, "us": set()}
    users.revoke(email, site="us")
    assert per_site(users, email) == {"de": {"seller"}}
    rows = users.audit.query(event="user_granted", actor="admin@demo.local", limit=1)
    assert rows[0].detail == {"email": email, "role": "approver", "site": "us"}


def test_a_role_without_a_site_is_held_on_every_site_and_can_be_taken_from_one(users: UserDirectory) -> None:
    email = someone(users, roles=("seller",))  # no site yet: the role waits for one
    users.grant(email, site="jp")
    users.grant(email, site="us")
    assert per_site(users, email) == {"jp": {"seller"}, "us": {"seller"}}
    users.revoke(email, role="seller", site="jp")  # the others keep it, as grants of their own
    info = users.require(email)
    assert (info.everywhere, per_site(users, email)) == (frozenset(), {"jp": set(), "us": {"seller"}})
    users.grant(email, role="manager")
    users.grant(email, site="de")
    assert per_site(users, email) == {"de": {"manager"}, "jp": {"manager"}, "us": {"manager", "seller"}}


def test_admin_is_held_on_every_site_of_the_scope(users: UserDirectory) -> None:
    email = someone(users, roles=("admin",), sites=("us",))
    assert users.require(email).everywhere == {"admin"}
    users.grant(email, site="jp")
    assert users.caller(email).has("approver", "jp")
    with pytest.raises(ValidationFailed, match="admin is held on every site; revoke it without a site"):
        users.revoke(email, role="admin", site="us")
    users.revoke(email, role="admin")
    assert users.caller(email).roles == frozenset()


def test_the_demo_users_hold_their_roles_on_each_of_their_sites(users: UserDirectory) -> None:
    assert per_site(users, "seller@demo.local") == {"de": {"seller"}, "us": {"seller"}}
    assert users.require("admin@demo.local").everywhere == {"admin"}


@pytest.mark.parametrize(("language", "stored"), [("zh-CN", "zh-CN"), ("en", "en"), (None, None)])
def test_a_users_language_is_kept(users: UserDirectory, language: str | None, stored: str | None) -> None:
    email = someone(users)
    assert users.set_language(email, language).language == stored


def test_a_language_that_is_not_a_code_is_refused(users: UserDirectory) -> None:
    with pytest.raises(ValidationFailed, match="is not a language code such as en or zh-CN"):
        users.set_language(someone(users), "<script>")


# -- migration 0007 ----------------------------------------------------------------------------------------------------
def test_migration_0007_turns_each_global_grant_into_one_per_site(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    migrate_console(url, "0006")
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO sites VALUES ('us', 'US'), ('de', 'DE')"))
        for email in ("a@x", "b@x", "c@x"):
            c.execute(sa.text("INSERT INTO users VALUES (:e, '', 1, '2026-01-01')"), {"e": email})
        c.execute(sa.text("INSERT INTO user_sites VALUES ('a@x', 'us'), ('a@x', 'de'), ('b@x', 'us')"))
        c.execute(sa.text("INSERT INTO user_roles VALUES ('a@x', 'approver'), ('a@x', 'seller'), ('b@x', 'admin'), "
                          "('c@x', 'manager')"))
    migrate_console(url)
    with engine.connect() as c:
        rows = sorted(tuple(r) for r in c.execute(sa.text("SELECT email, role, site FROM user_roles")))
        languages = [r[0] for r in c.execute(sa.text("SELECT language FROM users"))]
    assert rows == [("a@x", "approver", "de"), ("a@x", "approver", "us"), ("a@x", "seller", "de"),
                    ("a@x", "seller", "us"), ("b@x", "admin", "*"), ("c@x", "manager", "*")]
    assert languages == [None, None, None]
    command.downgrade(alembic_config(url), "0006")  # and back: one row per role again, no language
    with engine.connect() as c:
        back = sorted(tuple(r) for r in c.execute(sa.text("SELECT email, role FROM user_roles")))
    engine.dispose()
    assert back == [("a@x", "approver"), ("a@x", "seller"), ("b@x", "admin"), ("c@x", "manager")]


# -- the CLI -----------------------------------------------------------------------------------------------------------
def test_cli_grants_a_role_on_one_site(tmp_path, monkeypatch, capsys) -> None:
    from console.__main__ import main

    monkeypatch.setenv("CONSOLE_DATABASE_URL", f"sqlite:///{tmp_path / 'console.db'}")
    monkeypatch.setenv("CONSOLE_AUDIT_ANCHOR", str(tmp_path / "anchor.jsonl"))
    monkeypatch.setenv("CONSOLE_KEYRING", str(tmp_path / "keyring.json"))
    assert main(["users", "seed-demo"]) == 0
    assert main(["users", "grant", "seller-jp@demo.local", "--role", "approver", "--site", "us"]) == 0
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    out = capsys.readouterr().out
    assert "seller-jp@demo.local: roles approver, seller; sites jp, us\n  jp: seller; us: approver\n" in out
    assert "admin@demo.local: roles admin; sites de, jp, us\n  de: admin; jp: admin; us: admin; every site: admin" in out
    assert main(["users", "revoke", "admin@demo.local", "--role", "admin", "--site", "us"]) == 2
    assert "VALIDATION_FAILED: admin is held on every site" in capsys.readouterr().err


# -- the demo sign-in cookie -------------------------------------------------------------------------------------------
def settings(env: str = "development", secret: str = "a-strong-approval-secret-for-production-xyz") -> Settings:
    return Settings(env=env, approval_secret=SecretStr(secret), audit_secret=SecretStr(secret.replace("approval", "audit")))


def test_the_demo_cookie_names_the_user_until_it_expires() -> None:
    value = demo_cookie(settings(), "Seller@demo.local", now=NOW)
    assert value.startswith("v1.") and "seller@demo.local" not in value  # encoded, not readable at a glance
    assert demo_cookie_email(settings(), value, now=NOW + DEMO_COOKIE_TTL_S - 1) == "seller@demo.local"
    assert demo_cookie_email(settings(), value, now=NOW + DEMO_COOKIE_TTL_S) is None


def test_the_cookies_key_is_derived_not_the_approval_secret() -> None:
    import base64
    import hashlib
    import hmac

    value = demo_cookie(settings(), "a@demo.local", now=NOW)
    version, payload, mac = value.split(".")
    plain = hmac.new(b"a-strong-approval-secret-for-production-xyz", f"{version}.{payload}".encode(), hashlib.sha256)
    assert base64.urlsafe_b64encode(plain.digest()).rstrip(b"=").decode() != mac


@pytest.mark.parametrize("tamper", [
    lambda v: v[:-2] + ("AA" if not v.endswith("AA") else "BB"),  # another signature
    lambda v: "v1." + "eyJlbWFpbCI6ImFkbWluQGRlbW8ubG9jYWwiLCJleHAiOjk5OTk5OTk5OTl9" + "." + v.split(".")[2],  # payload
    lambda v: "v2" + v[2:],
    lambda v: "garbage",
    lambda v: "v1.!!!.???",
    lambda v: "",
])
def test_a_forged_or_broken_cookie_signs_nobody_in(tamper) -> None:
    value = demo_cookie(settings(), "seller@demo.local", now=NOW)
    assert demo_cookie_email(settings(), tamper(value), now=NOW) is None


def test_another_secret_or_production_refuses_the_cookie() -> None:
    value = demo_cookie(settings(), "seller@demo.local", now=NOW)
    assert demo_cookie_email(settings(secret="another-approval-secret-of-enough-length-42"), value, now=NOW) is None
    assert demo_cookie_email(settings("production"), value, now=NOW) is None
    with pytest.raises(ValidationFailed, match="demo sign-in is refused with CONSOLE_ENV=production"):
        demo_cookie(settings("production"), "seller@demo.local")


# -- who files an alert's fix ------------------------------------------------------------------------------------------
def test_a_manager_of_the_site_files_fixes_as_a_seller_of_that_site_only() -> None:
    manager = Caller.of("mia@x", {"us": {"manager"}, "de": {"approver"}})
    assert [alerts.may_propose_fixes(manager, s) for s in ("us", "de")] == [True, False]
    fixer = alerts.fixer(manager, "us")
    assert (fixer.user, fixer.site_roles) == ("mia@x", {"us": {"manager", "seller"}})
    seller = Caller.of("sam@x", {"us": {"seller"}})
    assert alerts.fixer(seller, "us") is seller
    with pytest.raises(PermissionDenied, match="needs the seller or manager role there"):
        alerts.fixer(manager, "de")


def test_a_read_only_tool_group_lets_a_person_read_as_a_manager_on_each_site_of_theirs(users: UserDirectory) -> None:
    from types import SimpleNamespace

    from console.gateway.principal import Resolver

    email = someone(users, roles=("seller",), sites=("de",))
    users.grant(email, role="manager", site="us")
    groups = {code: SimpleNamespace(code=code, enabled=True, writes=code == "write", sites=["us", "de"])
              for code in ("read", "write")}
    resolver = Resolver(SimpleNamespace(users=users), SimpleNamespace(get=groups.get), keys=None, grants=None,
                        base_url="http://console.test")
    grant = SimpleNamespace(user=email, client_id="client", expires_at=None)
    assert resolver._by_person(grant, "read").caller.site_roles == {"de": {"manager"}, "us": {"manager"}}
    assert resolver._by_person(grant, "write").caller.site_roles == {"de": {"seller"}, "us": {"manager"}}
