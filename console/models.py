"""Console-side tables: users, their roles per site and site scopes, and the sites they can be scoped to."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mcp_bridge.store import Base, utcnow

ROLES = ("seller", "manager", "approver", "admin")
# The site of a grant held on every site of the user's scope, now and later (admin always is: it runs the console).
EVERY_SITE = "*"


class ConsoleSite(Base):
    """A site (marketplace/store) users can be scoped to; mirrors the market's site ids."""

    __tablename__ = "sites"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))


class User(Base):
    __tablename__ = "users"
    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)  # the UI language; None: the default

    roles: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    sites: Mapped[list[UserSite]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class UserRole(Base):
    """A role held on one site of the user's scope, or on every one of them (`site` = EVERY_SITE)."""

    __tablename__ = "user_roles"
    email: Mapped[str] = mapped_column(ForeignKey("users.email", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    site: Mapped[str] = mapped_column(String(16), primary_key=True, default=EVERY_SITE)


class UserSite(Base):
    __tablename__ = "user_sites"
    email: Mapped[str] = mapped_column(ForeignKey("users.email", ondelete="CASCADE"), primary_key=True)
    site: Mapped[str] = mapped_column(ForeignKey("sites.id"), primary_key=True)
