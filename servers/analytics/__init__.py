"""The analytics MCP server: the seller's own numbers and the playbook finders."""
