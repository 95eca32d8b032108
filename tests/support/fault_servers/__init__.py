"""Tiny misbehaving MCP servers for the bridge's fault tests (`python -m tests.support.fault_servers.faulty`)."""
