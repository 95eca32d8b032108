"""Gateway tables of the console database: each group's tools, a caller's active site, and the OAuth state of the
console acting as authorization server for MCP clients (clients, sign-ins under way, codes, tokens).

Codes and tokens are stored only as SHA-256 hashes: a copy of the database signs nobody in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from mcp_bridge.store import Base


class GroupTool(Base):
    """One tool a group exposes: switched on or off, with its own timeout (None: the bridge's)."""

    __tablename__ = "tool_group_tools"
    group: Mapped[str] = mapped_column(ForeignKey("tool_groups.name", ondelete="CASCADE"), primary_key=True)
    tool: Mapped[str] = mapped_column(String(128), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    timeout_s: Mapped[float | None] = mapped_column(Float)


class ActiveSite(Base):
    """The site a gateway caller picked with `select_site` (`key:<id>`, or `user:<email>` at one resource)."""

    __tablename__ = "gateway_active_sites"
    principal: Mapped[str] = mapped_column(String(400), primary_key=True)
    site: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class OAuthClient(Base):
    """A client registered with dynamic client registration (RFC 7591); `info` is its full registration."""

    __tablename__ = "oauth_clients"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    info: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class OAuthRequest(Base):
    """An authorization request between the client's /authorize and the person's consent."""

    __tablename__ = "oauth_requests"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    group: Mapped[str | None] = mapped_column(String(64))
    user: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class OAuthCode(Base):
    """An authorization code (its hash), single use, for one client, person, group and resource."""

    __tablename__ = "oauth_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    user: Mapped[str] = mapped_column(String(254))
    group: Mapped[str | None] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    code_challenge: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    redirect_uri_provided_explicitly: Mapped[bool] = mapped_column(Boolean)
    resource: Mapped[str | None] = mapped_column(String(2000))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class OAuthToken(Base):
    """An access or refresh token (its hash); `family` ties the tokens of one sign-in, revoked together."""

    __tablename__ = "oauth_tokens"
    __table_args__ = (Index("ix_oauth_tokens_family", "family"),)
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # access | refresh
    family: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(64))
    user: Mapped[str] = mapped_column(String(254))
    group: Mapped[str | None] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    resource: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
