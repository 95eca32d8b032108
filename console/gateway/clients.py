"""MCP clients registered with the gateway's authorization server (RFC 7591 dynamic client registration).

A confidential client's secret is derived from the console's secret and its client_id, never stored: a copy of the
database holds no client secret. A new CONSOLE_APPROVAL_SECRET therefore makes such clients register again.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable
from urllib.parse import urlsplit

from mcp.server.auth.provider import RegistrationError
from mcp.shared.auth import OAuthClientInformationFull

from console.gateway.models import OAuthClient
from mcp_bridge.store import Store

BAD_REDIRECT_SCHEMES = frozenset({"javascript", "data", "file", "vbscript", "about", "blob"})


class Clients:
    """Read and register clients; `sign(purpose, value)` is the console's keyed MAC."""

    def __init__(self, store: Store, sign: Callable[[str, str], str], clock: Callable[[], dt.datetime]) -> None:
        self.store, self.sign, self.clock = store, sign, clock

    def get(self, client_id: str) -> OAuthClientInformationFull | None:
        with self.store.read() as s:
            row = s.get(OAuthClient, client_id[:64])
            info = dict(row.info) if row is not None else None
        if info is None:
            return None
        if info.get("token_endpoint_auth_method") != "none":
            info["client_secret"] = self.secret(client_id)
        return OAuthClientInformationFull.model_validate(info)

    def register(self, client: OAuthClientInformationFull) -> None:
        """Check and store a registration; a confidential client's secret is replaced by the derived one."""
        for uri in client.redirect_uris or ():
            check_redirect_uri(str(uri))
        if client.token_endpoint_auth_method != "none":
            client.client_secret = self.secret(client.client_id)  # the SDK answers with this same object
        info = client.model_dump(mode="json", exclude_none=True, exclude={"client_secret"})
        with self.store.write() as s:
            s.add(OAuthClient(client_id=client.client_id, info=info, created_at=self.clock()))

    def secret(self, client_id: str) -> str:
        return self.sign("client-secret", client_id)


def check_redirect_uri(uri: str) -> None:
    """Refuse script and file URIs, and plain http anywhere but this machine (OAuth 2.1 §2.3.1)."""
    parts = urlsplit(uri)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme in BAD_REDIRECT_SCHEMES or not scheme:
        raise RegistrationError("invalid_redirect_uri", f"{uri[:80]!r} cannot be a redirect URI")
    if scheme == "http" and host != "localhost" and not _loopback(host):
        raise RegistrationError("invalid_redirect_uri", f"{uri[:80]!r}: use https, or http only on localhost")


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
