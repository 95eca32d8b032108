"""Edit & approve: an operation's values as typed inputs (never its target), and the arguments the edit makes."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from console.approvals.queue import field_limits
from mcp_bridge.catalog import SitePolicy, target_arguments, value_arguments

DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class ValueField:
    """One editable value of an operation: its kind of input, current value, choices and the site's limits."""

    name: str
    kind: str  # "number" | "integer" | "text" | "date" | "bool" | "choice"
    value: Any
    options: tuple[Any, ...] = ()
    limits: str = ""


def _schema_of(schema: dict[str, Any] | None, name: str) -> dict[str, Any]:
    prop = ((schema or {}).get("properties") or {}).get(name) or {}
    for option in prop.get("anyOf") or []:
        if option.get("type") != "null":
            return {**option, **{k: v for k, v in prop.items() if k != "anyOf"}}
    return prop


def _kind(name: str, value: Any, prop: dict[str, Any]) -> str | None:
    if prop.get("enum"):
        return "choice"
    wanted = prop.get("type")
    if isinstance(value, bool) or wanted == "boolean":
        return "bool"
    if wanted == "integer" or (wanted is None and isinstance(value, int)):
        return "integer"
    if wanted == "number" or isinstance(value, float):
        return "number"
    if prop.get("format") == "date" or name.endswith(("_on", "_date")) or (
            isinstance(value, str) and DATE_TEXT.match(value)):
        return "date"
    if isinstance(value, list | dict):
        return None  # rows of an import and the like: not edited in a form
    return "text"


def value_fields(op: Any, *, schema: dict[str, Any] | None = None, policy: SitePolicy | None = None) -> list[ValueField]:
    """The operation's values an approver may change (never the target: site, ids, SKUs, ASINs, order numbers)."""
    fields = []
    for name, value in value_arguments(op.arguments).items():
        prop = _schema_of(schema, name)
        kind = _kind(name, value, prop)
        if kind is not None:
            fields.append(ValueField(name, kind, value, tuple(prop.get("enum") or ()), field_limits(op.tool, name, policy)))
    return fields


def edited_arguments(op: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The operation's arguments with the form's values (a number the form only rounded stays as proposed)."""
    arguments = dict(op.arguments)
    for value_field in value_fields(op):
        if value_field.name not in values:
            continue
        old, new, kind = value_field.value, values[value_field.name], value_field.kind
        if kind == "date":
            new = new.isoformat() if isinstance(new, dt.date) else (new or None)
        elif kind == "number" and new is not None:
            new = float(new)
            if isinstance(old, int | float) and round(new, 2) == round(float(old), 2):
                new = old
        elif kind == "integer" and new is not None:
            new = int(new)
        if new is None and old is None:
            continue
        arguments[value_field.name] = new
    return arguments


def fixed_target(op: Any) -> str:
    """What the operation applies to, which an edit cannot change: `keyword_id 7, site us`."""
    return ", ".join(f"{name} {value}" for name, value in target_arguments(op.arguments).items())


def tool_schema(runtime: Any, op: Any) -> dict[str, Any] | None:
    """The tool's input schema from the catalog (for choices and types), or None when the catalog cannot say."""
    try:
        return runtime.bridge.catalog.get(op.name).input_schema
    except Exception:  # an outside server that is down: the form falls back on the values' own types
        return None
