"""The console's logging: whatever the entry point (the app, the command line), no record carries a credential."""

from __future__ import annotations

from mcp_bridge.scrub import install_log_scrubbing


def configure_logging() -> None:
    """Scrub credential-looking values out of every log record of this process (idempotent, cheap to repeat).

    Levels and handlers stay with the entry point: Streamlit has its own, and CLI commands set theirs.
    """
    install_log_scrubbing()
