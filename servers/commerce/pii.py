"""Customer contact details: masked unless the call carries a valid PII grant for the site."""

from __future__ import annotations

import re
from typing import Any

from servers.common.approval import TokenRefused, read_token
from servers.common.config import ServerConfig
from servers.common.errors import PermissionDenied


def mask_email(email: str) -> str:
    """`jane@example.com` → `j***@example.com`: enough to recognise, not enough to contact."""
    local, at, domain = email.partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str) -> str:
    """Any phone number → `***-***-1234` (its last four digits)."""
    digits = re.sub(r"\D", "", phone)
    return f"***-***-{digits[-4:]}" if len(digits) >= 4 else "***"


def pii_allowed(config: ServerConfig, grant: Any, site: str) -> bool:
    """False without a grant, True with a valid one for this site, PERMISSION_DENIED for any other grant."""
    if not grant:
        return False
    try:
        claims = read_token(config.keyring, grant, purpose="pii", audience=config.audience or "commerce")
    except TokenRefused as exc:
        raise PermissionDenied(f"the PII grant was refused ({exc}); ask the console for a new one or omit it") from None
    if claims.get("scope") != "pii":
        raise PermissionDenied("the token passed as pii_grant is not a PII grant")
    if claims.get("site") != site:
        raise PermissionDenied(f"the PII grant is for site {claims.get('site')!r}, not {site!r}")
    return True
