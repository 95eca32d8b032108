"""Helpers for commerce tests: a call's structured result, or its coded error text."""

from __future__ import annotations

import sqlite3
from typing import Any

from mcp import Client

from servers.common.approval import sign_approval


async def ok(client: Client, tool: str, /, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text
    assert result.structured_content is not None
    return result.structured_content


async def refused(client: Client, tool: str, code: str, /, **arguments: Any) -> str:
    """The error text of a call that must fail with this code."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    text = result.content[0].text
    assert text.startswith(f"{code}: "), text
    return text


def approved(secret: str, tool: str, /, operation_id: int = 1, **arguments: Any) -> dict[str, Any]:
    """The arguments plus an approval token for exactly them, as the bridge would send after approval."""
    return {**arguments, "approval_token": sign_approval(secret, operation_id=operation_id, tool=tool, arguments=arguments)}


def snapshot(url: str) -> list[str]:
    """Every row of the database as SQL text: equal snapshots mean nothing was written."""
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return list(conn.iterdump())
