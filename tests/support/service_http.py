"""Talking to a bundled server over streamable HTTP the way the bridge does: with its service credential."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from servers.common.config import DEV_APPROVAL_SECRET
from servers.common.keys import Keyring, service_credential


def service_headers(env: Mapping[str, str], audience: str) -> dict[str, str]:
    """`Authorization: Bearer <credential>` for the server started with `env` under the name `audience`."""
    keyring = Keyring(env.get("CONSOLE_APPROVAL_SECRET", DEV_APPROVAL_SECRET), env.get("CONSOLE_KEYRING") or None)
    return {"Authorization": f"Bearer {service_credential(keyring, audience)}"}


@asynccontextmanager
async def http_transport(url: str, headers: Mapping[str, Any]) -> AsyncIterator[Any]:
    """A streamable HTTP transport for `mcp.Client` sending `headers` (str or raw bytes values) on every request."""
    async with (
        httpx2.AsyncClient(headers=dict(headers), timeout=httpx2.Timeout(30, read=300)) as http,
        streamable_http_client(url, http_client=http) as streams,
    ):
        yield streams


def service_client(url: str, env: Mapping[str, str], audience: str) -> Client:
    """An MCP client of the server at `url` carrying the bridge's service credential."""
    return Client(http_transport(url, service_headers(env, audience)))
