"""Small stand-ins for outside MCP servers (a platform's own server, a third-party tool), run over stdio."""
