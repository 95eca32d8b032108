"""Bounds on what a tool call may carry, checked before any tool runs (DESIGN.md §3 "Inputs are bounded").

The SDK checks the types; these are limits of the values themselves, the same for every tool: integers the market
database can store, finite floats of a sane size, strings of a documented length (README, "Errors"), lists and
objects of a sane size and depth, and only the arguments a tool declares. A value outside them answers
VALIDATION_FAILED naming the argument, and no message quotes more than ~80 characters of what was sent.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from servers.common.errors import ValidationFailed

INT_MAX = 2**31 - 1  # PostgreSQL INTEGER: every id, count, limit and offset lands in one
FLOAT_MAX = 1e12  # no amount, ratio or threshold comes near; beyond it is a mistake, not a value
STRING_MAX = 2_000  # any string argument, and any string inside a list or an object
DATE_ARGUMENTS = frozenset({"start_date", "end_date", "week_end", "starts_on", "ends_on"})
STRING_CAPS: dict[str, int] = {
    "site": 16,
    **dict.fromkeys(DATE_ARGUMENTS, 10),
    "sku": 64,
    "asin": 16,
    "code": 40,
    "nonce": 64,
    "idempotency_key": 120,
    "approval_token": 4_096,
    "pii_grant": 4_096,
    "csv_text": 2_000_000,  # a product import of up to 2,000 rows
}
ITEMS_MAX = 2_000  # entries of one list or keys of one object (an import's rows)
DEPTH_MAX = 4  # lists and objects inside one another within one argument (rows → row → value is 2)
NODES_MAX = 50_000  # values in one argument, all levels together
QUOTED_MAX = 80  # characters of any input an error message may quote

Id = Annotated[int, Field(ge=1, le=INT_MAX)]
Count = Annotated[int, Field(ge=0, le=INT_MAX)]


def clip(text: str, limit: int = QUOTED_MAX) -> str:
    """At most `limit` characters of `text`, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote(value: Any, limit: int = QUOTED_MAX) -> str:
    """A value as an error message may show it: its repr, cut to `limit` characters (an int too long to print, by size)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"a {'negative ' if value < 0 else ''}number of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    if isinstance(value, str):
        return repr(clip(value, limit - 2))
    if isinstance(value, list | dict):
        return f"a list of {len(value)}" if isinstance(value, list) else f"an object of {len(value)} keys"
    return clip(repr(value), limit)


def _kinds(schema: Mapping[str, Any]) -> set[str]:
    """The JSON types an argument's schema admits (`anyOf` branches included)."""
    found = schema.get("type")
    kinds = {found} if isinstance(found, str) else set(found or ())
    for option in schema.get("anyOf", ()):
        kinds |= _kinds(option)
    return kinds


def _as_number(text: str) -> float | int | None:
    """The number a numeric string stands for (the SDK converts such strings), or None."""
    try:
        return int(text.strip())
    except ValueError:
        pass
    try:
        return float(text.strip())
    except ValueError:
        return None


def _as_json(text: str) -> list[Any] | dict[str, Any] | None:
    """The list or object a JSON string holds (the SDK decodes such strings), or None."""
    try:
        decoded = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return decoded if isinstance(decoded, list | dict) else None


def _check_number(path: str, value: float, *, integer: bool) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationFailed(f"{path} must be a finite number, not {quote(value)}")
    if integer and not -INT_MAX <= value <= INT_MAX:
        raise ValidationFailed(f"{path} must be between {-INT_MAX} and {INT_MAX}; got {quote(value)}")
    if not integer and not -FLOAT_MAX <= value <= FLOAT_MAX:
        raise ValidationFailed(f"{path} must be between {-FLOAT_MAX:g} and {FLOAT_MAX:g}; got {quote(value)}")


class _Walk:
    """One argument's nested values: sizes, depth, strings and numbers inside lists and objects."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.nodes = 0

    def visit(self, path: str, value: Any, depth: int) -> None:
        self.nodes += 1
        if self.nodes > NODES_MAX:
            raise ValidationFailed(f"{self.name} holds more than {NODES_MAX:,} values")
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, int | float):
            _check_number(path, value, integer=isinstance(value, int))
        elif isinstance(value, str):
            if len(value) > STRING_MAX:
                raise ValidationFailed(f"{path} is {len(value):,} characters long; at most {STRING_MAX:,}")
        elif isinstance(value, list | tuple | dict):
            if depth >= DEPTH_MAX:
                raise ValidationFailed(f"{self.name} nests lists and objects more than {DEPTH_MAX} deep")
            if len(value) > ITEMS_MAX:
                raise ValidationFailed(f"{path} has {len(value):,} entries; at most {ITEMS_MAX:,}")
            if isinstance(value, dict):
                for key, item in value.items():
                    if not isinstance(key, str):
                        raise ValidationFailed(f"{path} has a key that is not a string: {quote(key)}")
                    if len(key) > STRING_MAX:
                        raise ValidationFailed(f"{path} has a key {len(key):,} characters long; at most {STRING_MAX:,}")
                    self.visit(f"{path}.{clip(key, 40)}", item, depth + 1)
            else:
                for index, item in enumerate(value):
                    self.visit(f"{path}[{index}]", item, depth + 1)
        else:
            raise ValidationFailed(f"{path} must be JSON (a string, number, boolean, list or object)")


def check_arguments(tool: str, arguments: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    """VALIDATION_FAILED naming the first argument of `tool` outside the bounds, before the tool sees any of them."""
    properties: Mapping[str, Any] = schema.get("properties", {})
    for name, value in arguments.items():
        if name not in properties:
            takes = ", ".join(properties)
            raise ValidationFailed(f"{tool}: unknown argument {quote(name, 40)}; "
                                   f"it takes {clip(takes, 200) if takes else 'none'}")
        _check_argument(tool, name, value, _kinds(properties[name]))


def _check_argument(tool: str, name: str, value: Any, kinds: set[str]) -> None:
    path = f"{tool}: {name}"
    numeric = kinds & {"integer", "number"}
    integer = "integer" in kinds and "number" not in kinds
    if isinstance(value, bool):
        # JSON true is no number, though pydantic would read it as 1.
        if numeric and "boolean" not in kinds:
            raise ValidationFailed(f"{path} must be a number, not {str(value).lower()}")
    elif isinstance(value, int | float):
        _check_number(path, value, integer=integer or (isinstance(value, int) and "number" not in kinds))
    elif isinstance(value, str):
        cap = STRING_CAPS.get(name, STRING_MAX)
        if len(value) > cap:
            raise ValidationFailed(f"{path} is {len(value):,} characters long; at most {cap:,}")
        if numeric and "string" not in kinds and (number := _as_number(value)) is not None:
            _check_number(path, number, integer=integer)
        if kinds & {"array", "object"} and "string" not in kinds and (decoded := _as_json(value)) is not None:
            _Walk(path).visit(path, decoded, 0)  # the SDK decodes a list or object sent as JSON text
    else:
        _Walk(path).visit(path, value, 0)
