"""The Anthropic client as the agent uses it: SDK retries for 429/529, none for spend limits; errors for people."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import anthropic
from anthropic import Middleware

# error.details.error_code values that mean "no more money", whatever the HTTP status (429, 402, 403).
SPEND_LIMIT_CODES = frozenset({
    "enforced_spend_limit_reached",
    "contract_spend_limit_reached",
    "linked_organization_spend_limit_reached",
    "linked_organization_billing_unavailable",
    "user_profile_billing_not_authorized",
    "user_profile_not_billable",
})
# Older answers carry no code, only words: "Your credit balance is too low…", "You have reached your
# specified API usage limits…", a billing_error type.
_SPEND_WORDS = re.compile(r"spend(ing)? limit|credit balance|billing|usage limit|out of credit", re.IGNORECASE)
_SPEND_STATUSES = frozenset({400, 402, 403, 429})


class SpendLimitReached(anthropic.AnthropicError):
    """The organisation behind the API key may not spend more; retrying cannot help."""

    def __init__(self, message: str, *, status_code: int, body: object) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body = body


def is_spend_limit(status_code: int, body: object) -> bool:
    if status_code not in _SPEND_STATUSES or not isinstance(body, Mapping):
        return False
    error = body.get("error")
    if not isinstance(error, Mapping):
        return False
    details = error.get("details")
    if isinstance(details, Mapping) and details.get("error_code") in SPEND_LIMIT_CODES:
        return True
    if error.get("type") == "billing_error":
        return True
    return bool(_SPEND_WORDS.search(str(error.get("message") or "")))


class SpendLimitGuard(Middleware):
    """Stops the SDK's retry loop on a spend-limit answer (the SDK would retry a 429 like any rate limit)."""

    def handle(self, request: Any, call_next: Any) -> Any:
        response = call_next(request)
        http = response.http_response
        if http.status_code in _SPEND_STATUSES:
            http.read()
            try:
                body: object = json.loads(http.text)
            except ValueError:
                body = http.text
            if is_spend_limit(http.status_code, body):
                message = body["error"].get("message") if isinstance(body, Mapping) else str(body)
                # Not an APIStatusError and not chained from one: the retry loop lets it through at once.
                raise SpendLimitReached(str(message or "spend limit reached"), status_code=http.status_code, body=body)
        return response


def make_client(*, api_key: str, base_url: str | None, max_retries: int = 2, timeout_s: float = 120.0) -> anthropic.Anthropic:
    """One client per agent; the SDK retries 429/529/5xx with backoff (honouring retry-after)."""
    return anthropic.Anthropic(
        api_key=api_key,
        base_url=base_url or None,
        max_retries=max_retries,
        timeout=timeout_s,
        middleware=[SpendLimitGuard()],
    )


def describe_api_error(exc: BaseException) -> tuple[str, str]:
    """(code, message for the user) for anything the Messages API call raised."""
    if isinstance(exc, SpendLimitReached):
        return (
            "SPEND_LIMIT",
            f"Claude refused the request: the API spend limit or credit of this key's organisation is used up "
            f"({exc.message}). An admin can raise the limit or add credit in the Anthropic Console; until then "
            "the offline assistant still works (unset ANTHROPIC_API_KEY).",
        )
    if isinstance(exc, anthropic.RateLimitError):
        return "RATE_LIMITED", "Claude is rate-limited; try again in a minute."
    if isinstance(exc, anthropic.OverloadedError) or _error_type(exc) == "overloaded_error":
        return "OVERLOADED", "Claude is overloaded right now (HTTP 529); try again in a few minutes."
    if isinstance(exc, anthropic.AuthenticationError):
        return "AUTH_FAILED", "Claude refused the API key; check ANTHROPIC_API_KEY."
    if isinstance(exc, anthropic.PermissionDeniedError):
        return "PERMISSION_DENIED", f"Claude refused the request: {_api_message(exc)}"
    if isinstance(exc, anthropic.APITimeoutError):
        return "UPSTREAM_TIMEOUT", "Claude did not answer in time; try again."
    if isinstance(exc, anthropic.APIConnectionError):
        return "UPSTREAM_UNREACHABLE", "Could not reach Claude (check ANTHROPIC_BASE_URL and the network)."
    if isinstance(exc, anthropic.APIStatusError):
        return "UPSTREAM_ERROR", f"Claude answered HTTP {exc.status_code}: {_api_message(exc)}"
    if isinstance(exc, ValueError):
        return "BAD_MODEL_OUTPUT", f"Claude's answer could not be read ({str(exc)[:200]}); try again."
    return "UPSTREAM_ERROR", f"The Claude call failed: {type(exc).__name__}: {str(exc)[:200]}"


def _error_type(exc: BaseException) -> str | None:
    return getattr(exc, "type", None) if isinstance(exc, anthropic.APIStatusError) else None


def _api_message(exc: anthropic.APIStatusError) -> str:
    return str(exc.api_message or exc.message)[:300]


def turn_cost(prices: Mapping[str, Mapping[str, float]], model: str, *, input: int, output: int,
              cache_write: int, cache_read: int) -> float:
    """USD for these tokens at the model's price per million tokens (0 for a model without a price)."""
    price = prices.get(model)
    if not price:
        return 0.0
    total = (input * price.get("input", 0.0) + output * price.get("output", 0.0)
             + cache_write * price.get("cache_write", 0.0) + cache_read * price.get("cache_read", 0.0))
    return round(total / 1_000_000, 6)
