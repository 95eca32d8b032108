"""What a server answered, read for the bridge: text, structured content, or the coded error it carries."""

from __future__ import annotations

import json
import time
from typing import Any

from mcp_bridge import errors
from mcp_bridge.errors import ConsoleError

ERRORS: dict[str, type[ConsoleError]] = {
    cls.code: cls for cls in (errors.AuthRequired, errors.PermissionDenied, errors.SiteScopeRequired, errors.NotFound,
                              errors.ValidationFailed, errors.ConfirmationRequired, errors.Conflict, errors.UpstreamError)
}


def tool_name(name: str) -> str:
    """`ads.update_bid` and `ads__update_bid` both name the same tool; the catalog uses the latter."""
    return name.replace(".", "__", 1) if "__" not in name else name


def result_text(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in (result.content or []) if getattr(block, "text", None))


def error_from_result(result: Any, where: str) -> ConsoleError:
    """The coded error a server answered (`CODE: message`); uncoded text counts as UPSTREAM_ERROR."""
    text = result_text(result) or f"{where} failed without a message"
    code, _, message = text.partition(": ")
    cls = ERRORS.get(code)
    return cls(message) if cls else errors.UpstreamError(f"{where}: {text}")


def structured(result: Any, where: str) -> dict[str, Any]:
    data = getattr(result, "structured_content", None)
    if data is None:
        try:
            data = json.loads(result_text(result))
        except ValueError:
            raise errors.UpstreamError(f"{where} answered without structured content") from None
    return data


def elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
