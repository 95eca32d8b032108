"""The gateway: outside MCP clients reach the console's tools through tool groups (API keys) or the console's
sign-in, with the same scope checks, gate, limits and audit as the console's own calls."""
