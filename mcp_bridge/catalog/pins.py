"""Tool pins: each tool's definition is hashed on first sight; a changed definition waits for an admin."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from mcp_bridge.errors import NotFound
from mcp_bridge.store import Base, Store, utcnow

TRUST_ON_FIRST_USE = "trust-on-first-use"


class ToolPin(Base):
    """The accepted definition of one namespaced tool, and the differing one last seen, if any."""

    __tablename__ = "tool_pins"
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    server: Mapped[str] = mapped_column(String(64))
    tool: Mapped[str] = mapped_column(String(128))
    sha256: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    pinned_by: Mapped[str] = mapped_column(String(254))
    pinned_at: Mapped[dt.datetime] = mapped_column(DateTime)
    changed_sha256: Mapped[str | None] = mapped_column(String(64))
    changed_definition: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


@dataclass(frozen=True)
class PinCheck:
    """How a definition compares with its pin: `new` (pinned just now), `ok`, or `changed`."""

    name: str
    state: str
    sha256: str
    pinned_sha256: str
    first_report: bool = False  # a change seen for the first time (worth an audit row)

    @property
    def ok(self) -> bool:
        return self.state != "changed"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def definition_of(name: str, description: str, input_schema: dict[str, Any], annotations: dict[str, Any]) -> dict[str, Any]:
    """What a pin covers: what the model is shown, and the annotations the read/write decision rests on."""
    return {"name": name, "description": description, "input_schema": input_schema, "annotations": annotations}


def definition_hash(definition: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(definition).encode()).hexdigest()


class PinStore:
    """The `tool_pins` table: check definitions against their pins, accept changes, list pins."""

    def __init__(self, engine: Engine) -> None:
        self.store = Store(engine)

    def check(self, server: str, definitions: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, PinCheck]:
        """Compare `{name: (tool, definition)}` of one server with the pins; first sightings are pinned."""
        for attempt in range(2):
            try:
                return self._check(server, definitions)
            except IntegrityError:  # another process pinned the same new tool first; its pin now stands
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _check(self, server: str, definitions: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, PinCheck]:
        checks: dict[str, PinCheck] = {}
        now = utcnow()
        with self.store.write() as s:
            pins = {p.name: p for p in s.scalars(select(ToolPin).where(ToolPin.name.in_(list(definitions))))}
            for name, (tool, definition) in definitions.items():
                sha = definition_hash(definition)
                pin = pins.get(name)
                if pin is None:
                    s.add(ToolPin(name=name, server=server, tool=tool, sha256=sha, definition=definition,
                                  pinned_by=TRUST_ON_FIRST_USE, pinned_at=now))
                    checks[name] = PinCheck(name, "new", sha, sha)
                elif pin.sha256 == sha:
                    if pin.changed_sha256 is not None:  # the server went back to the accepted definition
                        pin.changed_sha256, pin.changed_definition, pin.changed_at = None, None, None
                    checks[name] = PinCheck(name, "ok", sha, sha)
                else:
                    first = pin.changed_sha256 != sha
                    if first:
                        pin.changed_sha256, pin.changed_definition, pin.changed_at = sha, definition, now
                    checks[name] = PinCheck(name, "changed", sha, pin.sha256, first_report=first)
        return checks

    def accept(self, name: str, by: str) -> ToolPin:
        """Pin the definition last seen for `name` (after an admin looked at it)."""
        with self.store.write() as s:
            pin = s.get(ToolPin, name)
            if pin is None:
                raise NotFound(f"no pinned tool named {name!r}")
            if pin.changed_sha256 is not None and pin.changed_definition is not None:
                pin.sha256, pin.definition = pin.changed_sha256, pin.changed_definition
            pin.changed_sha256, pin.changed_definition, pin.changed_at = None, None, None
            pin.pinned_by, pin.pinned_at = by, utcnow()
            return pin

    def get(self, name: str) -> ToolPin | None:
        with self.store.read() as s:
            return s.get(ToolPin, name)

    def list(self, *, changed_only: bool = False) -> list[ToolPin]:
        query = select(ToolPin).order_by(ToolPin.name)
        if changed_only:
            query = query.where(ToolPin.changed_sha256.is_not(None))
        with self.store.read() as s:
            return list(s.scalars(query))
