"""What a write applies to (its target: fixed once proposed) and what it sets (its values: an approver may edit)."""

from __future__ import annotations

from typing import Any

from mcp_bridge.errors import ValidationFailed

# Arguments that say which thing a write changes: the site, and anything that names a row on the platform.
TARGET_NAMES = frozenset({"site", "sku", "skus", "asin", "asins", "order_number", "order_numbers", "order_no"})
TARGET_SUFFIXES = ("_id", "_ids", "_sku", "_skus", "_asin", "_asins")
_ABSENT = object()


def is_target(name: str) -> bool:
    """True for an argument that names what the write applies to (`site`, `keyword_id`, `sku`…), not a value."""
    return name in TARGET_NAMES or name.endswith(TARGET_SUFFIXES)


def target_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in arguments.items() if is_target(name)}


def value_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in arguments.items() if not is_target(name)}


def _short(value: Any) -> str:
    text = "absent" if value is _ABSENT else repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def check_edit(op_id: int, proposed: dict[str, Any], edited: dict[str, Any]) -> None:
    """Refuse an edit that changes, adds or removes a target argument: an edit changes values, never the target."""
    changed = sorted(name for name in set(proposed) | set(edited)
                     if is_target(name) and proposed.get(name, _ABSENT) != edited.get(name, _ABSENT))
    if not changed:
        return
    what = "; ".join(f"{name} {_short(proposed.get(name, _ABSENT))} → {_short(edited.get(name, _ABSENT))}"
                     for name in changed)
    names = " and ".join(changed)
    prefix = f"an edit may not move operation #{op_id} to another site: " if "site" in changed else ""
    raise ValidationFailed(f"{prefix}{names} {'is' if len(changed) == 1 else 'are'} the target; propose a new change "
                           f"for another one (operation #{op_id}: {what})", operation_id=op_id)
