"""Agent: Claude with streaming and tool use over the bridge, the prompt, the events a turn yields, conversations.

The offline demo assistant (`mcp_bridge.agent.offline`) yields the same events through the same bridge. Imports the
floor and calls tools only through an object with the bridge's `call`.

The names below load on first use: the anthropic SDK takes seconds to import, and a command or a migration that only
needs the conversations table must not pay for it.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {"events": "mcp_bridge.agent.events", "make_client": "mcp_bridge.agent.claude",
          "Conversation": "mcp_bridge.agent.conversations", "Conversations": "mcp_bridge.agent.conversations",
          "TurnUsage": "mcp_bridge.agent.conversations", "AgentEvent": "mcp_bridge.agent.events",
          "Agent": "mcp_bridge.agent.loop", "AgentConfig": "mcp_bridge.agent.loop"}

__all__ = ["Agent", "AgentConfig", "AgentEvent", "Conversation", "Conversations", "TurnUsage", "events", "make_client"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'mcp_bridge.agent' has no attribute {name!r}")
    module = importlib.import_module(_WHERE[name])
    value = module if name == "events" else getattr(module, name)
    globals()[name] = value
    return value
