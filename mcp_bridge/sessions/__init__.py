"""Sessions and transports: long-lived MCP sessions to every configured server, driven from any thread.

Owns the MCP client side (stdio processes, streamable HTTP with the service credential), when a session opens (on
a server's first call; a busy stdio server gets more), timeouts, restarts and read retries. Imports only the floor
(`types`, `errors`, `keys`); knows nothing of the catalog, gate or audit.
"""

from mcp_bridge.sessions.config import OutcomeUnknown, ServerSpec, ServerStatus, parse_servers
from mcp_bridge.sessions.pool import SessionPool

__all__ = ["OutcomeUnknown", "ServerSpec", "ServerStatus", "SessionPool", "parse_servers"]
