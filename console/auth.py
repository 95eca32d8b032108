"""Sign-in policy: OIDC when `[auth]` is configured, a labelled demo sign-in otherwise; first-login rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from console.errors import ValidationFailed
from console.settings import DEV_COOKIE_SECRET, Settings

REQUIRED_AUTH_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")
MIN_COOKIE_SECRET_CHARS = 32
# Values people paste from examples; a cookie secret containing one of these is a placeholder.
_PLACEHOLDER_MARKERS = ("replace-", "change-me", "changeme", "your-secret", "example")


class SignInMode(StrEnum):
    OIDC = "oidc"
    DEMO = "demo"


class SignInMisconfigured(ValidationFailed):
    """The console must not start with this sign-in configuration."""


@dataclass(frozen=True)
class Account:
    """The signed-in person as the console sees them."""

    email: str
    name: str
    roles: frozenset[str]
    sites: frozenset[str]

    @property
    def has_access(self) -> bool:
        return bool(self.roles) and bool(self.sites)


def auth_section(secrets: Mapping[str, Any] | None) -> dict[str, Any]:
    """The `[auth]` table of the parsed secrets.toml (empty when there is none)."""
    if not secrets:
        return {}
    section = secrets.get("auth") or {}
    return dict(section) if isinstance(section, Mapping) else {}


def weak_cookie_secret(value: str | None) -> bool:
    """True for a missing, short, default or obviously placeholder cookie secret."""
    if not value or len(value) < MIN_COOKIE_SECRET_CHARS or value == DEV_COOKIE_SECRET:
        return True
    lowered = value.lower()
    return any(marker in lowered for marker in _PLACEHOLDER_MARKERS)


def sign_in_mode(settings: Settings, secrets: Mapping[str, Any] | None) -> SignInMode:
    """Decide how people sign in; raise SignInMisconfigured when the console must refuse to start."""
    auth = auth_section(secrets)
    if auth:
        missing = [key for key in REQUIRED_AUTH_KEYS if not auth.get(key)]
        if missing:
            raise SignInMisconfigured(
                f"[auth] in .streamlit/secrets.toml is missing {', '.join(missing)}; "
                "see .streamlit/secrets.toml.example"
            )
        if not str(auth["redirect_uri"]).rstrip("/").endswith("/oauth2callback"):
            raise SignInMisconfigured(
                "[auth] redirect_uri must be the app's URL ending in /oauth2callback, "
                "e.g. https://console.example.com/oauth2callback"
            )
    if settings.env == "production":
        if not auth:
            raise SignInMisconfigured(
                "CONSOLE_ENV=production needs real sign-in: add an [auth] section to .streamlit/secrets.toml "
                "(see .streamlit/secrets.toml.example). The demo sign-in is refused in production."
            )
        if weak_cookie_secret(str(auth.get("cookie_secret", ""))):
            raise SignInMisconfigured(
                f"[auth] cookie_secret must be a random value of at least {MIN_COOKIE_SECRET_CHARS} characters, "
                'not a default; generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
    return SignInMode.OIDC if auth else SignInMode.DEMO


def _account(runtime: Any, email: str, name: str | None = None) -> Account | None:
    user = runtime.users.get(email)
    if user is None:
        return None
    active = getattr(user, "active", True)
    return Account(
        email=user.email,
        name=user.name or name or email,
        roles=frozenset(user.roles) if active else frozenset(),
        sites=frozenset(user.sites) if active else frozenset(),
    )


def sign_in(runtime: Any, *, email: str, name: str | None, mode: SignInMode) -> Account:
    """Record a sign-in and return the account; first-time OIDC users get a row without access.

    Emails in `settings.admin_emails` become admins on every site on their first sign-in.
    Demo sign-in only accepts users that already exist (the seeded demo users).
    """
    email = email.strip().lower()
    account = _account(runtime, email, name)
    first_time = account is None
    if first_time:
        if mode is SignInMode.DEMO:
            raise ValidationFailed(f"{email} is not a demo user; pick one of the listed demo users")
        users = runtime.users
        users.create(email, name=name or "", actor="system", channel="ui")
        if email in {a.strip().lower() for a in runtime.settings.admin_emails}:
            users.grant(email, role="admin", actor="system", channel="ui")
            for site in users.sites():
                users.grant(email, site=site, actor="system", channel="ui")
        account = _account(runtime, email, name)
        assert account is not None
    runtime.bridge.audit.append(
        "login",
        actor=email,
        channel="ui",
        outcome="ok" if account.has_access else "no_access",
        detail={
            "mode": mode.value,
            "first_time": first_time,
            "roles": sorted(account.roles),
            "sites": sorted(account.sites),
        },
    )
    return account


def sign_out(runtime: Any, *, email: str, mode: SignInMode) -> None:
    runtime.bridge.audit.append("logout", actor=email, channel="ui", outcome="ok", detail={"mode": mode.value})


def demo_accounts(runtime: Any) -> list[Account]:
    """The seeded demo users (seeding them when the console database has none), for the demo sign-in."""
    users = [u for u in runtime.users.list() if u.email.endswith("@demo.local")]
    if not users:
        runtime.users.seed_demo()
        users = [u for u in runtime.users.list() if u.email.endswith("@demo.local")]
    return [
        Account(email=u.email, name=getattr(u, "name", None) or u.email, roles=frozenset(u.roles), sites=frozenset(u.sites))
        for u in sorted(users, key=lambda u: u.email)
    ]
