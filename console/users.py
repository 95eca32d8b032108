"""The user directory: users, their roles per site and site scopes; every change is an audited admin action."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine, delete, select

from console.models import EVERY_SITE, ROLES, ConsoleSite, User, UserRole, UserSite
from mcp_bridge.audit import AuditLog
from mcp_bridge.catalog import default_policy, save_policy
from mcp_bridge.errors import NotFound, ValidationFailed
from mcp_bridge.store import SitePolicyRow, Store
from mcp_bridge.types import Caller

YEN_SITES = frozenset({"jp"})
DEMO_SITES = {"us": "United States (amazon.com)", "de": "Germany (amazon.de)", "jp": "Japan (amazon.co.jp)"}
ALL = tuple(DEMO_SITES)
DEMO_USERS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("seller@demo.local", "Sam Seller", ("seller",), ("us", "de")),
    ("seller-jp@demo.local", "Kenji Seller", ("seller",), ("jp",)),
    ("manager@demo.local", "Mia Manager", ("manager",), ALL),
    ("approver@demo.local", "Alex Approver", ("approver",), ALL),
    ("approver2@demo.local", "Blair Approver", ("approver",), ALL),
    ("admin@demo.local", "Ada Admin", ("admin",), ALL),
)
# Always held on every site of the scope: admin runs the console (users, servers, keys), which no site divides.
GLOBAL_ROLES = frozenset({"admin"})
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,4})?$")  # en, de, zh-CN, zh-Hans


@dataclass(frozen=True)
class UserInfo:
    """A user as the directory holds them: every role they hold somewhere, their scope, and roles per site."""

    email: str
    name: str
    active: bool
    roles: frozenset[str]
    sites: frozenset[str]
    site_roles: Mapping[str, frozenset[str]] = field(default_factory=dict, hash=False)  # each site of the scope
    everywhere: frozenset[str] = frozenset()  # held on every site of the scope, now and later
    language: str | None = None


def _info(user: User) -> UserInfo:
    everywhere = frozenset(r.role for r in user.roles if r.site == EVERY_SITE)
    sites = frozenset(s.site for s in user.sites)
    per_site = {site: everywhere | {r.role for r in user.roles if r.site == site} for site in sorted(sites)}
    return UserInfo(user.email, user.name, user.active, frozenset(r.role for r in user.roles), sites, per_site,
                    everywhere, user.language)


class UserDirectory:
    def __init__(self, engine: Engine, audit: AuditLog) -> None:
        self.store = Store(engine)
        self.audit = audit  # the bridge's: one chain, one key, one anchor per process

    def get(self, email: str) -> UserInfo | None:
        with self.store.read() as s:
            user = s.get(User, email.strip().lower())
            return _info(user) if user else None

    def require(self, email: str) -> UserInfo:
        info = self.get(email)
        if info is None:
            raise NotFound(f"no user {email!r}; `python -m console users list` shows who exists")
        return info

    def list(self) -> list[UserInfo]:
        with self.store.read() as s:
            return [_info(u) for u in s.scalars(select(User).order_by(User.email))]

    def sites(self) -> list[str]:
        with self.store.read() as s:
            return list(s.scalars(select(ConsoleSite.id).order_by(ConsoleSite.id)))

    def caller(self, email: str, channel: str = "ui") -> Caller:
        """The Caller for a signed-in user, with the roles held on each site; an inactive user holds nothing."""
        info = self.require(email)
        if not info.active:
            return Caller(info.email, frozenset(), frozenset(), channel)
        return Caller.of(info.email, info.site_roles, channel)

    def create(self, email: str, *, name: str = "", roles: tuple[str, ...] = (), sites: tuple[str, ...] = (),
               actor: str = "system", channel: str = "cli") -> UserInfo:
        """A new user holding each of `roles` on each of `sites` (on every site when none is named)."""
        email = email.strip().lower()
        if "@" not in email:
            raise ValidationFailed(f"{email!r} is not an email address")
        self._validate(roles, sites)
        grants = [(r, x) for r in roles for x in (sites if sites and r not in GLOBAL_ROLES else (EVERY_SITE,))]
        with self.store.write() as s:
            if s.get(User, email) is not None:
                raise ValidationFailed(f"user {email} already exists")
            s.add(User(email=email, name=name, active=True,
                       roles=[UserRole(email=email, role=r, site=x) for r, x in grants],
                       sites=[UserSite(email=email, site=x) for x in sites]))
            self.audit.append("user_created", actor=actor, channel=channel, outcome="ok", session=s,
                              detail={"email": email, "roles": sorted(roles), "sites": sorted(sites)})
        return self.require(email)

    def _validate(self, roles: tuple[str, ...], sites: tuple[str, ...]) -> None:
        bad_roles = [r for r in roles if r not in ROLES]
        if bad_roles:
            raise ValidationFailed(f"unknown role {bad_roles[0]!r}; roles are {', '.join(ROLES)}")
        known = set(self.sites())
        bad_sites = [x for x in sites if x not in known]
        if bad_sites:
            raise ValidationFailed(f"unknown site {bad_sites[0]!r}; sites are {', '.join(sorted(known)) or 'none yet'}")

    def grant(self, email: str, *, role: str | None = None, site: str | None = None, actor: str = "system",
              channel: str = "cli") -> UserInfo:
        """Grant `role` on `site` (adding the site to the scope), on every site without one, or only the site."""
        return self._change(email, role, site, add=True, actor=actor, channel=channel)

    def revoke(self, email: str, *, role: str | None = None, site: str | None = None, actor: str = "system",
               channel: str = "cli") -> UserInfo:
        """Revoke `role` on `site`, `role` everywhere, or the site (and every role held on it)."""
        return self._change(email, role, site, add=False, actor=actor, channel=channel)

    def _change(self, email: str, role: str | None, site: str | None, *, add: bool, actor: str, channel: str) -> UserInfo:
        if not role and not site:
            raise ValidationFailed("name a --role or a --site to grant or revoke")
        info = self.require(email)
        self._validate((role,) if role else (), (site,) if site and add else ())
        if role in GLOBAL_ROLES and site and not add:
            raise ValidationFailed(f"{role} is held on every site; revoke it without a site (or revoke the site)")
        with self.store.write() as s:
            if add:
                _grant(s, info, role, site)
            else:
                _revoke(s, info, role, site)
            self.audit.append("user_granted" if add else "user_revoked", actor=actor, channel=channel, site=site,
                              outcome="ok", session=s, detail={"email": info.email, "role": role, "site": site})
        return self.require(email)

    def set_language(self, email: str, language: str | None, *, actor: str = "system", channel: str = "ui") -> UserInfo:
        """Remember the UI language a user chose (`en`, `zh-CN`…; None: the console's default)."""
        if language is not None and not LANGUAGE.match(language):
            raise ValidationFailed(f"{language[:16]!r} is not a language code such as en or zh-CN")
        info = self.require(email)
        with self.store.write() as s:
            user = s.get(User, info.email)
            assert user is not None
            user.language = language
            self.audit.append("user_language", actor=actor, channel=channel, outcome="ok", session=s,
                              detail={"email": info.email, "language": language})
        return self.require(email)

    def ensure_site(self, site: str, name: str = "") -> None:
        with self.store.write() as s:
            if s.get(ConsoleSite, site) is None:
                s.add(ConsoleSite(id=site, name=name or site))
            # Amounts in the limits are in the site's currency: yen need a hundredfold larger ceiling.
            if site in YEN_SITES and s.get(SitePolicyRow, site) is None:
                save_policy(s, default_policy(site, currency="JPY"))

    def seed_demo(self) -> int:
        """Create the demo sites and users that are missing (idempotent); returns how many users were created."""
        for site, name in DEMO_SITES.items():
            self.ensure_site(site, name)
        created = 0
        for email, name, roles, sites in DEMO_USERS:
            if self.get(email) is None:
                try:
                    self.create(email, name=name, roles=roles, sites=sites, actor="system", channel="cli")
                    created += 1
                except ValidationFailed:  # another process seeded it a moment ago
                    pass
        return created


def _grant(s, info: UserInfo, role: str | None, site: str | None) -> None:
    """Add the grant; a role on a site brings the site into the scope, a role without one holds on every site."""
    if site and s.get(UserSite, (info.email, site)) is None:
        s.add(UserSite(email=info.email, site=site))
    if not role:
        return
    where = EVERY_SITE if role in GLOBAL_ROLES or not site else site
    if role in info.everywhere:
        return  # already held on every site, this one included
    if where == EVERY_SITE:  # one grant replaces the per-site ones it covers
        s.execute(delete(UserRole).where(UserRole.email == info.email, UserRole.role == role))
    if s.get(UserRole, (info.email, role, where)) is None:
        s.add(UserRole(email=info.email, role=role, site=where))


def _revoke(s, info: UserInfo, role: str | None, site: str | None) -> None:
    """Remove the grant; a role held on every site and revoked on one stays on each of the others."""
    mine = UserRole.email == info.email
    if role and not site:
        s.execute(delete(UserRole).where(mine, UserRole.role == role))
        return
    if role:
        if role in info.everywhere:
            s.execute(delete(UserRole).where(mine, UserRole.role == role, UserRole.site == EVERY_SITE))
            s.add_all(UserRole(email=info.email, role=role, site=x) for x in sorted(info.sites - {site}))
        s.execute(delete(UserRole).where(mine, UserRole.role == role, UserRole.site == site))
        return
    s.execute(delete(UserRole).where(mine, UserRole.site == site))
    s.execute(delete(UserSite).where(UserSite.email == info.email, UserSite.site == site))
