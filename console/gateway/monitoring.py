"""How the gateway is doing: calls, errors, error rate and p50/p95 latency per tool, per group and per API key over
the last hour or day, read from the audit log, and the flags raised when a p95 or an error rate crosses its limit."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Engine, and_, or_, select

from console import formatting
from mcp_bridge.store import AuditRow, Store, utcnow

Window = Literal["hour", "day"]
Kind = Literal["tool", "group", "key"]
WINDOWS: dict[str, dt.timedelta] = {"hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1)}
P95_LIMIT_MS = 1000.0  # a call slower than a second stalls the outside agent's turn
ERROR_RATE_LIMIT = 0.05
# Below this many calls one slow or failed call decides the figure (1 error in 3 calls is "33%"): too few to flag.
MIN_CALLS = 5
NO_GROUP = "/mcp"  # calls of people signed in at /mcp itself, outside any group (a code never holds a "/")

# The rows that are one finished gateway call each. A read writes `tool_call` "requested" and then its `tool_result`:
# the result row alone is the call (it has the outcome and the duration). A `tool_call` with any other outcome was
# refused before it reached a server; `gateway_refused` was refused by the gateway itself (rate limit, switched-off
# tool); `proposed` and `proposal_deduplicated` are writes turned into (or matched to) a pending operation.
CALL_EVENTS = ("tool_call", "tool_result", "proposed", "proposal_deduplicated", "gateway_refused")
# Outcomes that are not errors. A write waiting for approval (`pending`, or CONFIRMATION_REQUIRED as the gateway
# answers it) is the gate doing its job, not a failure of the tool or of the gateway; counting it would flag every
# group that proposes changes. Every other outcome (an error code, or a bare "error") is an error.
NOT_ERRORS = frozenset({"ok", "pending", "proposed", "CONFIRMATION_REQUIRED"})


def is_error(outcome: str | None) -> bool:
    return outcome is not None and outcome not in NOT_ERRORS


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank percentile (`q` in 0-100): the smallest value at least q% of the values are at or below.

    Always a latency one call actually had (no interpolation); None for no values.
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def parse_source(ref: str | None) -> tuple[str | None, int | None]:
    """(group code, key id) from a gateway call's source_ref: `group=<code> key=<id>`, `group=<code> user`, `user`."""
    group: str | None = None
    key: int | None = None
    for part in (ref or "").split():
        name, _, value = part.partition("=")
        if name == "group" and value:
            group = value
        elif name == "key" and value.isdigit():
            key = int(value)
    return group, key


@dataclass(frozen=True)
class Stats:
    """One tool's, group's or key's figures over a window."""

    kind: Kind
    name: str  # tool name, group code (NO_GROUP for /mcp) or key id
    calls: int
    errors: int
    timed: int  # calls with a duration (a proposal has none): the p50/p95 are over these
    p50_ms: float | None
    p95_ms: float | None
    label: str = ""  # for a key: its actor in the audit log, `group:<code>/<label>`

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.calls if self.calls else None

    def breaches(self) -> list[tuple[str, float, float]]:
        """(threshold, figure, limit) for each limit crossed, once there are MIN_CALLS calls to judge by."""
        found = []
        if self.timed >= MIN_CALLS and self.p95_ms is not None and self.p95_ms > P95_LIMIT_MS:
            found.append(("p95 latency", self.p95_ms, P95_LIMIT_MS))
        rate = self.error_rate
        if self.calls >= MIN_CALLS and rate is not None and rate > ERROR_RATE_LIMIT:
            found.append(("error rate", rate, ERROR_RATE_LIMIT))
        return found

    @property
    def flagged(self) -> bool:
        return bool(self.breaches())


@dataclass(frozen=True)
class Flag:
    """A tool, group or key over a limit: which one, which limit, its figure and the limit."""

    kind: Kind
    name: str
    label: str
    window: str
    threshold: str  # "p95 latency" | "error rate"
    value: float
    limit: float
    calls: int


@dataclass(frozen=True)
class Report:
    window: str
    since: dt.datetime
    until: dt.datetime
    tools: list[Stats] = field(default_factory=list)
    groups: list[Stats] = field(default_factory=list)
    keys: list[Stats] = field(default_factory=list)

    @property
    def calls(self) -> int:
        return sum(s.calls for s in self.tools)

    def flags(self) -> list[Flag]:
        return [Flag(s.kind, s.name, s.label, self.window, threshold, value, limit, s.calls)
                for s in (*self.tools, *self.groups, *self.keys) for threshold, value, limit in s.breaches()]


@dataclass(frozen=True)
class Call:
    """One finished gateway call as monitoring sees it."""

    tool: str
    outcome: str | None
    duration_ms: float | None
    group: str | None
    key: int | None
    actor: str


def gateway_calls(engine: Engine, since: dt.datetime, until: dt.datetime) -> list[Call]:
    """The gateway's finished calls in [since, until): only the columns the figures need, never whole rows."""
    source_ref = AuditRow.detail["source_ref"].as_string()
    stmt = (select(AuditRow.tool, AuditRow.outcome, AuditRow.duration_ms, AuditRow.actor, source_ref)
            .where(AuditRow.at >= since, AuditRow.at < until, AuditRow.channel == "gateway",
                   AuditRow.event.in_(CALL_EVENTS),
                   or_(AuditRow.event != "tool_call", and_(AuditRow.outcome.is_not(None),
                                                           AuditRow.outcome != "requested"))))
    calls = []
    with Store(engine).read() as session:
        for tool, outcome, duration, actor, ref in session.execute(stmt):
            group, key = parse_source(ref)
            calls.append(Call(tool or "(no tool)", outcome, duration, group, key, actor))
    return calls


def summarise(kind: Kind, name: str, calls: Sequence[Call], label: str = "") -> Stats:
    durations = [c.duration_ms for c in calls if c.duration_ms is not None]
    return Stats(kind=kind, name=name, calls=len(calls), errors=sum(is_error(c.outcome) for c in calls),
                 timed=len(durations), p50_ms=percentile(durations, 50), p95_ms=percentile(durations, 95), label=label)


def _grouped(calls: Iterable[Call], by: Callable[[Call], str | None]) -> dict[str, list[Call]]:
    found: dict[str, list[Call]] = {}
    for call in calls:
        name = by(call)
        if name is not None:
            found.setdefault(name, []).append(call)
    return found


def build_report(calls: Sequence[Call], window: str, since: dt.datetime, until: dt.datetime) -> Report:
    """The figures of these calls per tool, group and key, busiest first."""
    def busiest(stats: list[Stats]) -> list[Stats]:
        return sorted(stats, key=lambda s: (-s.calls, s.name))

    tools = [summarise("tool", n, cs) for n, cs in _grouped(calls, lambda c: c.tool).items()]
    groups = [summarise("group", n, cs) for n, cs in _grouped(calls, lambda c: c.group or NO_GROUP).items()]
    keys = [summarise("key", n, cs, label=cs[-1].actor)
            for n, cs in _grouped(calls, lambda c: None if c.key is None else str(c.key)).items()]
    return Report(window, since, until, busiest(tools), busiest(groups), busiest(keys))


def report(engine: Engine, window: Window = "hour", *, now: dt.datetime | None = None) -> Report:
    """The gateway's figures over the last hour or day up to `now` (naive UTC, as stored; default: now)."""
    if window not in WINDOWS:
        raise ValueError(f"unknown window {window!r}; use one of {', '.join(WINDOWS)}")
    until = utcnow() if now is None else _naive_utc(now)
    since = until - WINDOWS[window]
    return build_report(gateway_calls(engine, since, until), window, since, until)


def _naive_utc(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo is None else when.astimezone(dt.UTC).replace(tzinfo=None)


def flags(engine: Engine, now: dt.datetime | None = None, *, window: Window = "hour") -> list[Flag]:
    """What is over a limit in the last hour (by default): Home lists these for admins."""
    return report(engine, window, now=now).flags()


def flag_text(flag: Flag) -> str:
    """`Tool ads__list_campaigns: p95 latency 1.4 s (limit 1 s) over 12 calls` — numbers as people read them."""
    what = {"tool": "Tool", "group": "Group", "key": "Key"}[flag.kind]
    name = f"#{flag.name} {flag.label}".strip() if flag.kind == "key" else flag.name
    if flag.threshold == "p95 latency":
        figure = f"{formatting.duration_ms(flag.value)} (limit {formatting.duration_ms(flag.limit)})"
    else:
        figure = f"{formatting.percent(flag.value)} (limit {formatting.percent(flag.limit, 0)})"
    return f"{what} {name}: {flag.threshold} {figure} over {formatting.count(flag.calls)} calls"
