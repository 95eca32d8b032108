"""The console's errors are the bridge's tree (one tree, one renderer in pages/components.py)."""

from mcp_bridge.errors import (  # noqa: F401
    AuthRequired,
    ConfirmationRequired,
    Conflict,
    ConsoleError,
    NotFound,
    PermissionDenied,
    SiteScopeRequired,
    UpstreamError,
    ValidationFailed,
)
