"""Coded tool errors: every failure a tool reports carries one of the codes in DESIGN.md §3."""

from __future__ import annotations

from mcp.server.mcpserver.exceptions import ToolError

CODES = (
    "AUTH_REQUIRED",
    "PERMISSION_DENIED",
    "SITE_SCOPE_REQUIRED",
    "NOT_FOUND",
    "VALIDATION_FAILED",
    "CONFIRMATION_REQUIRED",
    "CONFLICT",
    "UPSTREAM_ERROR",
)


class CodedToolError(ToolError):
    """A tool failure the caller can act on; the text starts with its code."""

    code = "UPSTREAM_ERROR"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(f"{self.code}: {message}")


class SiteScopeRequired(CodedToolError):
    code = "SITE_SCOPE_REQUIRED"


class NotFound(CodedToolError):
    code = "NOT_FOUND"


class ValidationFailed(CodedToolError):
    code = "VALIDATION_FAILED"


class ConfirmationRequired(CodedToolError):
    code = "CONFIRMATION_REQUIRED"


class Conflict(CodedToolError):
    code = "CONFLICT"


class PermissionDenied(CodedToolError):
    code = "PERMISSION_DENIED"


class UpstreamError(CodedToolError):
    code = "UPSTREAM_ERROR"
