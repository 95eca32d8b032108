"""The user directory: users, their roles and site scopes; every change is an audited admin action."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, delete, select

from console.models import ROLES, ConsoleSite, User, UserRole, UserSite
from mcp_bridge.audit import AuditLog
from mcp_bridge.errors import NotFound, ValidationFailed
from mcp_bridge.policy import SitePolicy, save_policy
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


@dataclass(frozen=True)
class UserInfo:
    email: str
    name: str
    active: bool
    roles: frozenset[str]
    sites: frozenset[str]


def _info(user: User) -> UserInfo:
    return UserInfo(user.email, user.name, user.active, frozenset(r.role for r in user.roles),
                    frozenset(s.site for s in user.sites))


class UserDirectory:
    def __init__(self, engine: Engine, audit: AuditLog | None = None) -> None:
        self.store = Store(engine)
        self.audit = audit or AuditLog(engine)

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
        """The Caller for a signed-in user; an inactive user holds no roles and no sites."""
        info = self.require(email)
        if not info.active:
            return Caller(info.email, frozenset(), frozenset(), channel)
        return Caller(info.email, info.roles, info.sites, channel)

    def create(self, email: str, *, name: str = "", roles: tuple[str, ...] = (), sites: tuple[str, ...] = (),
               actor: str = "system", channel: str = "cli") -> UserInfo:
        email = email.strip().lower()
        if "@" not in email:
            raise ValidationFailed(f"{email!r} is not an email address")
        self._validate(roles, sites)
        with self.store.write() as s:
            if s.get(User, email) is not None:
                raise ValidationFailed(f"user {email} already exists")
            s.add(User(email=email, name=name, active=True, roles=[UserRole(email=email, role=r) for r in roles],
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
        return self._change(email, role, site, add=True, actor=actor, channel=channel)

    def revoke(self, email: str, *, role: str | None = None, site: str | None = None, actor: str = "system",
               channel: str = "cli") -> UserInfo:
        return self._change(email, role, site, add=False, actor=actor, channel=channel)

    def _change(self, email: str, role: str | None, site: str | None, *, add: bool, actor: str, channel: str) -> UserInfo:
        if not role and not site:
            raise ValidationFailed("name a --role or a --site to grant or revoke")
        info = self.require(email)
        self._validate((role,) if role else (), (site,) if site and add else ())
        with self.store.write() as s:
            for model, column, value in ((UserRole, UserRole.role, role), (UserSite, UserSite.site, site)):
                if not value:
                    continue
                exists = s.get(model, (info.email, value)) is not None
                if add and not exists:
                    s.add(model(email=info.email, **{column.key: value}))
                elif not add and exists:
                    s.execute(delete(model).where(model.email == info.email, column == value))
            self.audit.append("user_granted" if add else "user_revoked", actor=actor, channel=channel, site=site,
                              outcome="ok", session=s, detail={"email": info.email, "role": role, "site": site})
        return self.require(email)

    def ensure_site(self, site: str, name: str = "") -> None:
        with self.store.write() as s:
            if s.get(ConsoleSite, site) is None:
                s.add(ConsoleSite(id=site, name=name or site))
            # Amounts in the limits are in the site's currency: yen need a hundredfold larger ceiling.
            if site in YEN_SITES and s.get(SitePolicyRow, site) is None:
                save_policy(s, SitePolicy(site=site, max_bid_change_abs=200.0, max_bid_change_daily_total=2000.0,
                                          max_budget_increase_abs=20000.0))

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
