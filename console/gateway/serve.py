"""The gateway as `python -m console gateway` runs it: the app, and the console's sign-in for MCP clients when the
console can sign people in (an `[auth]` OIDC provider, or the demo sign-in outside production)."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from console.gateway.app import Gateway

log = logging.getLogger(__name__)
SECRETS_FILE = Path(".streamlit") / "secrets.toml"


def auth_config(path: Path = SECRETS_FILE) -> Mapping[str, Any] | None:
    """The `[auth]` table of the console's secrets file (the same OIDC client the console signs in with), if any."""
    if not path.exists():
        return None
    with path.open("rb") as fp:
        table = tomllib.load(fp).get("auth")
    return table if isinstance(table, Mapping) and table else None


def build_gateway(runtime: Any, *, base_url: str, auth: Mapping[str, Any] | None | bool = True,
                  **options: Any) -> Gateway:
    """The gateway at `base_url`; `auth=True` reads `[auth]` from the secrets file, `False` turns sign-in off."""
    auth_table = auth_config() if auth is True else (None if auth is False else auth)
    signin = auth is not False and (auth_table is not None or runtime.settings.env != "production")
    if not signin:
        return Gateway(runtime, base_url=base_url, **options)
    from console.gateway.oauth import ConsoleAuthProvider
    from console.gateway.signin import oauth_routes

    base_url = base_url.rstrip("/")
    gateway = Gateway(runtime, base_url=base_url, **options)
    provider = ConsoleAuthProvider(runtime, base_url=base_url, groups=gateway.groups, auth=auth_table)
    gateway.enable_signin(provider, oauth_routes(provider, base_url=base_url))
    return gateway
