"""The error tree shared by the bridge and the console; each error carries a code from DESIGN.md §3."""

from __future__ import annotations


class ConsoleError(Exception):
    code = "UPSTREAM_ERROR"

    def __init__(self, message: str, **context: object) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class AuthRequired(ConsoleError):
    code = "AUTH_REQUIRED"


class PermissionDenied(ConsoleError):
    code = "PERMISSION_DENIED"


class SiteScopeRequired(ConsoleError):
    code = "SITE_SCOPE_REQUIRED"


class NotFound(ConsoleError):
    code = "NOT_FOUND"


class ValidationFailed(ConsoleError):
    code = "VALIDATION_FAILED"


class ConfirmationRequired(ConsoleError):
    code = "CONFIRMATION_REQUIRED"


class Conflict(ConsoleError):
    code = "CONFLICT"


class UpstreamError(ConsoleError):
    code = "UPSTREAM_ERROR"
