"""console/auth.py: which sign-in runs, when the console refuses to start, and what a first sign-in grants."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from console.auth import (
    EmailNotVerified,
    SignInMisconfigured,
    SignInMode,
    demo_accounts,
    sign_in,
    sign_in_mode,
    verified,
    weak_cookie_secret,
)
from console.errors import ValidationFailed
from console.settings import DEV_COOKIE_SECRET, Settings

STRONG = "k3J9q-x7LmPz2Wv8Rt5Yb1Nc4Hd6Fg0AsQe"
AUTH = {"redirect_uri": "https://console.example.com/oauth2callback", "cookie_secret": STRONG,
        "client_id": "id", "client_secret": "secret",
        "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration"}


def settings(env: str = "development", **kwargs) -> Settings:
    if env == "production":
        kwargs.setdefault("approval_secret", SecretStr("a-strong-approval-secret-for-production-xyz"))
        kwargs.setdefault("audit_secret", SecretStr("a-strong-audit-secret-for-production-xyz"))
    return Settings(env=env, **kwargs)


@pytest.mark.parametrize(("env", "secrets", "mode"), [
    ("development", {}, SignInMode.DEMO),
    ("development", None, SignInMode.DEMO),
    ("test", {"other": {"x": 1}}, SignInMode.DEMO),
    ("development", {"auth": AUTH}, SignInMode.OIDC),
    ("production", {"auth": AUTH}, SignInMode.OIDC),
])
def test_sign_in_mode(env: str, secrets: dict | None, mode: SignInMode) -> None:
    assert sign_in_mode(settings(env), secrets) is mode


@pytest.mark.parametrize(("env", "auth", "message"), [
    ("production", None, "CONSOLE_ENV=production needs real sign-in"),
    ("production", {**AUTH, "cookie_secret": "short"}, "cookie_secret must be a random value"),
    ("production", {**AUTH, "cookie_secret": DEV_COOKIE_SECRET}, "cookie_secret must be a random value"),
    ("production", {**AUTH, "cookie_secret": "REPLACE-with-a-long-random-string-at-least-32-characters"},
     "cookie_secret must be a random value"),
    ("production", {**AUTH, "cookie_secret": "x"}, "cookie_secret must be a random value"),
    ("production", {**AUTH, "cookie_secret": "changeme"}, "cookie_secret must be a random value"),
    ("production", {**AUTH, "cookie_secret": "k" * 31}, "at least 32 bytes"),
    ("production", {**AUTH, "cookie_secret": "changeme-changeme-changeme-changeme"}, "token_urlsafe"),
    ("development", {**AUTH, "client_id": ""}, "missing client_id"),
    ("development", {k: v for k, v in AUTH.items() if k != "server_metadata_url"}, "missing server_metadata_url"),
    ("development", {**AUTH, "redirect_uri": "https://console.example.com/"}, "ending in /oauth2callback"),
])
def test_refuses_to_start(env: str, auth: dict | None, message: str) -> None:
    with pytest.raises(SignInMisconfigured, match=message):
        sign_in_mode(settings(env), {"auth": auth} if auth else {})


@pytest.mark.parametrize(("value", "weak"), [
    (None, True), ("", True), ("x" * 31, True), (DEV_COOKIE_SECRET, True), ("change-me-" + "a" * 40, True),
    (STRONG, False),
])
def test_weak_cookie_secret(value: str | None, weak: bool) -> None:
    assert weak_cookie_secret(value) is weak


def last_login(runtime, email: str):
    return next(r for r in runtime.bridge.audit.query(actor=email, event="login", limit=1))


def test_first_oidc_sign_in_creates_a_user_without_access(ui_runtime) -> None:
    account = sign_in(ui_runtime, email="New.Person@Example.com", name="New Person", mode=SignInMode.OIDC,
                      email_verified=True)
    assert (account.email, account.roles, account.sites, account.has_access) == (
        "new.person@example.com", frozenset(), frozenset(), False)
    assert ui_runtime.users.get("new.person@example.com").name == "New Person"
    row = last_login(ui_runtime, "new.person@example.com")
    assert (row.outcome, row.channel, row.detail["mode"], row.detail["first_time"]) == ("no_access", "ui", "oidc", True)
    again = sign_in(ui_runtime, email="new.person@example.com", name=None, mode=SignInMode.OIDC, email_verified=True)
    assert again.has_access is False
    assert last_login(ui_runtime, "new.person@example.com").detail["first_time"] is False


def test_first_sign_in_of_a_configured_admin_grants_admin_on_every_site(ui_runtime, monkeypatch) -> None:
    monkeypatch.setattr(ui_runtime.settings, "admin_emails", ["boss@example.com"])
    account = sign_in(ui_runtime, email="boss@example.com", name="Boss", mode=SignInMode.OIDC, email_verified=True)
    assert (account.roles, account.sites) == (frozenset({"admin"}), frozenset({"us", "de", "jp"}))
    assert last_login(ui_runtime, "boss@example.com").outcome == "ok"


def test_demo_sign_in_accepts_only_existing_users(ui_runtime) -> None:
    with pytest.raises(ValidationFailed, match="not a demo user"):
        sign_in(ui_runtime, email="stranger@example.com", name=None, mode=SignInMode.DEMO)
    assert ui_runtime.users.get("stranger@example.com") is None
    account = sign_in(ui_runtime, email="seller@demo.local", name=None, mode=SignInMode.DEMO)
    assert (account.roles, account.sites) == (frozenset({"seller"}), frozenset({"us", "de"}))
    assert last_login(ui_runtime, "seller@demo.local").detail == {
        "mode": "demo", "first_time": False, "roles": ["seller"], "sites": ["de", "us"]}


def test_demo_accounts_are_the_seeded_users(ui_runtime) -> None:
    assert [(a.email, sorted(a.roles), sorted(a.sites)) for a in demo_accounts(ui_runtime)] == [
        ("admin@demo.local", ["admin"], ["de", "jp", "us"]),
        ("approver2@demo.local", ["approver"], ["de", "jp", "us"]),
        ("approver@demo.local", ["approver"], ["de", "jp", "us"]),
        ("manager@demo.local", ["manager"], ["de", "jp", "us"]),
        ("seller-jp@demo.local", ["seller"], ["jp"]),
        ("seller@demo.local", ["seller"], ["de", "us"]),
    ]


@pytest.mark.parametrize(("claim", "ok"), [
    (True, True), ("true", True), ("True", True), (False, False), (None, False), ("false", False), ("", False),
    (1, False), ("yes", False),
])
def test_only_a_true_email_verified_claim_counts(claim: object, ok: bool) -> None:
    assert verified(claim) is ok


@pytest.mark.parametrize("claim", [False, None, "false"], ids=["false", "missing", "text false"])
def test_an_unverified_email_is_refused_before_any_role_is_given(ui_runtime, monkeypatch, claim) -> None:
    """An attacker registers admin@demo.local at a provider that does not verify it: no admin for them."""
    monkeypatch.setattr(ui_runtime.settings, "admin_emails", ["new.boss@example.com"])
    for email in ("admin@demo.local", "new.boss@example.com"):
        with pytest.raises(EmailNotVerified, match="has not confirmed that .* is your address"):
            sign_in(ui_runtime, email=email.upper(), name="Mallory", mode=SignInMode.OIDC, email_verified=claim)
        row = last_login(ui_runtime, email)
        assert (row.outcome, row.channel, row.detail) == (
            "refused", "ui", {"mode": "oidc", "reason": "email_not_verified", "email_verified": claim})
    assert ui_runtime.users.get("new.boss@example.com") is None  # no row, no admin grant
    assert sorted(ui_runtime.users.get("admin@demo.local").roles) == ["admin"]  # the real admin is untouched


def test_domains_of_providers_without_the_claim_can_be_allowed(ui_runtime, monkeypatch) -> None:
    monkeypatch.setenv("CONSOLE_OIDC_UNVERIFIED_DOMAINS", '["Corp.Example", "@legacy.example"]')
    allowed = Settings().oidc_unverified_domains
    assert allowed == ["Corp.Example", "@legacy.example"]
    monkeypatch.setattr(ui_runtime.settings, "oidc_unverified_domains", allowed)
    for email in ("someone@corp.example", "old.timer@legacy.example"):
        account = sign_in(ui_runtime, email=email, name=None, mode=SignInMode.OIDC)
        assert account.email == email and last_login(ui_runtime, email).outcome == "no_access"
    with pytest.raises(EmailNotVerified):  # the exact domain only, not a look-alike sub-domain
        sign_in(ui_runtime, email="x@evil.corp.example.net", name=None, mode=SignInMode.OIDC, email_verified=False)


def test_demo_sign_in_needs_no_claim(ui_runtime) -> None:
    assert sign_in(ui_runtime, email="manager@demo.local", name=None, mode=SignInMode.DEMO).roles == frozenset({"manager"})
