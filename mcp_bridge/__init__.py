"""MCP client sessions, tool catalog, policy, approval gate, audit log, agent loop. Knows nothing of the console."""
