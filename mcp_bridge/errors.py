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


class SessionExpired(AuthRequired):
    """A gateway sign-in whose access token has expired: refresh it or sign in again."""

    code = "SESSION_EXPIRED"


class RateLimited(ConsoleError):
    """Too many calls from one key or person; `retry_after_s` says when the next one will be taken."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after_s: float, **context: object) -> None:
        super().__init__(message, **context)
        self.retry_after_s = retry_after_s


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


class DatabaseUnavailable(UpstreamError):
    """The console database could not be used (locked, read-only, full, unreachable); nothing was half-written."""


def database_trouble(exc: BaseException) -> DatabaseUnavailable | None:
    """The coded error for a console database that is locked, read-only, full or unreachable; None for other errors."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    for needle, what in (("locked", "is locked by another writer"), ("busy", "is locked by another writer"),
                         ("readonly", "is read-only"), ("read-only", "is read-only"), ("full", "is full (no disk space)"),
                         ("disk i/o", "cannot be written (disk I/O error)"), ("unable to open", "cannot be opened"),
                         ("connection", "cannot be reached")):
        if needle in text:
            return DatabaseUnavailable(f"the console database {what}; nothing was changed by this request. "
                                 "Try again in a moment, or tell an admin")
    return None
