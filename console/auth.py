"""Sign-in policy: OIDC when `[auth]` is configured, a labelled demo sign-in otherwise (kept across reloads by a
signed cookie); first-login rules."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from console.errors import AuthRequired, ValidationFailed
from console.settings import GENERATE_SECRET, MIN_SECRET_BYTES, Settings, weak_secret

REQUIRED_AUTH_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")
MIN_COOKIE_SECRET_CHARS = MIN_SECRET_BYTES
DEMO_COOKIE = "console_demo_sign_in"
DEMO_COOKIE_TTL_S = 12 * 3600  # a working day: the demo sign-in is for trying the console, not for living in it
DEMO_COOKIE_VERSION = "v1"


class SignInMode(StrEnum):
    OIDC = "oidc"
    DEMO = "demo"


class SignInMisconfigured(ValidationFailed):
    """The console must not start with this sign-in configuration."""


class EmailNotVerified(AuthRequired):
    """The identity provider did not vouch that the person owns the e-mail address they signed in with."""


@dataclass(frozen=True)
class Account:
    """The signed-in person as the console sees them."""

    email: str
    name: str
    roles: frozenset[str]
    sites: frozenset[str]
    site_roles: Mapping[str, frozenset[str]] = field(default_factory=dict, hash=False)  # each site's own roles
    language: str | None = None  # the UI language chosen in the profile; None: the browser's

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
    """True for a missing, short, default or placeholder cookie secret (the rule of every production secret)."""
    return weak_secret(value)


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
                f"[auth] cookie_secret must be a random value of at least {MIN_COOKIE_SECRET_CHARS} bytes, not a default "
                f"or an example, in .streamlit/secrets.toml; generate one with: {GENERATE_SECRET}"
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
        site_roles=dict(getattr(user, "site_roles", {})) if active else {},
        language=getattr(user, "language", None),
    )


def _demo_cookie_key(settings: Settings) -> bytes:
    """The cookie's HMAC key, derived from the approval secret (which itself never signs anything but approvals)."""
    secret = settings.approval_secret.get_secret_value().encode()
    return hmac.new(secret, b"operator-console/demo-sign-in/cookie", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def demo_cookie(settings: Settings, email: str, *, now: float | None = None) -> str:
    """`v1.<payload>.<mac>`: the signed-in demo user's email and an expiry, for the browser to keep across reloads."""
    if settings.env == "production":
        raise ValidationFailed("the demo sign-in is refused with CONSOLE_ENV=production; configure [auth]")
    expires = int((time.time() if now is None else now) + DEMO_COOKIE_TTL_S)
    payload = _b64(json.dumps({"email": email.strip().lower(), "exp": expires}, separators=(",", ":")).encode())
    mac = hmac.new(_demo_cookie_key(settings), f"{DEMO_COOKIE_VERSION}.{payload}".encode(), hashlib.sha256).digest()
    return f"{DEMO_COOKIE_VERSION}.{payload}.{_b64(mac)}"


def demo_cookie_email(settings: Settings, value: str | None, *, now: float | None = None) -> str | None:
    """The email a demo sign-in cookie vouches for; None when it is missing, forged, expired or in production."""
    if not isinstance(value, str) or not value or settings.env == "production" or len(value) > 1024:
        return None
    version, _, rest = value.partition(".")
    payload, _, mac = rest.partition(".")
    if version != DEMO_COOKIE_VERSION or not payload or not mac:
        return None
    expected = hmac.new(_demo_cookie_key(settings), f"{version}.{payload}".encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(_unb64(mac), expected):
            return None
        claims = json.loads(_unb64(payload))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(claims, dict) or not isinstance(claims.get("email"), str) or not isinstance(claims.get("exp"), int):
        return None
    return claims["email"] if claims["exp"] > (time.time() if now is None else now) else None


def restore_demo_sign_in(runtime: Any, value: str | None) -> Account | None:
    """The account a valid demo sign-in cookie names (a new session after a reload or a link), audited as a login."""
    email = demo_cookie_email(runtime.settings, value)
    if email is None or runtime.users.get(email) is None:
        return None
    return sign_in(runtime, email=email, name=None, mode=SignInMode.DEMO, restored=True)


def sign_in(runtime: Any, *, email: str, name: str | None, mode: SignInMode, email_verified: object = None,
            restored: bool = False) -> Account:
    """Record a sign-in and return the account; first-time OIDC users get a row without access.

    An OIDC sign-in needs the provider's `email_verified` claim to be true (see `require_verified_email`).
    Emails in `settings.admin_emails` become admins on every site on their first sign-in.
    Demo sign-in only accepts users that already exist (the seeded demo users); `restored`: from its cookie.
    """
    email = email.strip().lower()
    if mode is SignInMode.OIDC:
        require_verified_email(runtime, email=email, claim=email_verified)
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
            **({"restored": True} if restored else {}),
            "roles": sorted(account.roles),
            "sites": sorted(account.sites),
        },
    )
    return account


def verified(claim: object) -> bool:
    """True only for an `email_verified` claim that says so: JSON true, or the text "true" some providers send."""
    return claim is True or (isinstance(claim, str) and claim.strip().lower() == "true")


def require_verified_email(runtime: Any, *, email: str, claim: object) -> None:
    """Refuse, and audit, an OIDC sign-in whose provider has not verified the e-mail address (a missing claim too).

    Otherwise anyone who can register the address of a console user at the provider gets that user's roles, admin
    included. Providers that never send the claim: list their domains in CONSOLE_OIDC_UNVERIFIED_DOMAINS.
    """
    if verified(claim):
        return
    domain = email.rpartition("@")[2]
    if domain and domain in {d.strip().lower().lstrip("@") for d in runtime.settings.oidc_unverified_domains}:
        return
    runtime.bridge.audit.append(
        "login", actor=email, channel="ui", outcome="refused",
        detail={"mode": SignInMode.OIDC.value, "reason": "email_not_verified",
                "email_verified": claim if claim is None or isinstance(claim, bool | str) else repr(claim)},
    )
    raise EmailNotVerified(
        f"your identity provider has not confirmed that {email} is your address (email_verified is not true), so "
        "the console cannot let you in as that user. Verify the address with your identity provider, or sign in "
        "with an account whose e-mail is verified."
    )


def sign_out(runtime: Any, *, email: str, mode: SignInMode) -> None:
    runtime.bridge.audit.append("logout", actor=email, channel="ui", outcome="ok", detail={"mode": mode.value})


def demo_accounts(runtime: Any) -> list[Account]:
    """The seeded demo users (seeding them when the console database has none), for the demo sign-in."""
    users = [u for u in runtime.users.list() if u.email.endswith("@demo.local")]
    if not users:
        runtime.users.seed_demo()
        users = [u for u in runtime.users.list() if u.email.endswith("@demo.local")]
    return [
        Account(email=u.email, name=getattr(u, "name", None) or u.email, roles=frozenset(u.roles), sites=frozenset(u.sites),
                site_roles=dict(getattr(u, "site_roles", {})))
        for u in sorted(users, key=lambda u: u.email)
    ]
