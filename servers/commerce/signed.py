"""The arguments exactly as the client sent them: what an approval token's arguments hash covers.

A tool only sees arguments after validation, which changes their JSON form (`"price": 20` arrives as
20.0; an omitted `restock` arrives as False), so rebuilding them would hash to something the bridge
never signed. The server records each call's raw arguments here before validation instead.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from servers.common.approval import CONTROL_ARGS
from servers.common.server import MarketServer

_raw_arguments: ContextVar[dict[str, Any] | None] = ContextVar("commerce_raw_arguments", default=None)


class SignedArgumentsServer(MarketServer):
    """A MarketServer that keeps each call's raw arguments for `signed_arguments`."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        token = _raw_arguments.set(dict(arguments or {}))
        try:
            return await super().call_tool(name, arguments, context)
        finally:
            _raw_arguments.reset(token)


def signed_arguments(validated: dict[str, Any]) -> dict[str, Any]:
    """The business arguments as sent (controls dropped); the validated ones outside a server call."""
    raw = _raw_arguments.get()
    if raw is None:
        return validated
    return {k: v for k, v in raw.items() if k not in CONTROL_ARGS}
