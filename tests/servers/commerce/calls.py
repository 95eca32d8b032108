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
    token = sign_approval(secret, audience="commerce", operation_id=operation_id, tool=tool, arguments=arguments,
                          nonce=f"test-nonce-{operation_id:012d}")
    return {**arguments, "approval_token": token}


def snapshot(url: str) -> list[str]:
    """Every row of the database as SQL text: equal snapshots mean nothing was written."""
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        # A refused write spends its token's nonce in the ledger; the market itself is what must not change.
        return [line for line in conn.iterdump() if not (line.startswith('INSERT INTO "applied_writes"')
                                                         and line.endswith("'refused');"))]
