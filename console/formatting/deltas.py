"""Period-over-period changes: ratios change in percentage points, amounts relatively; zero is flat, not up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from console.formatting.numbers import NONE, LocaleLike, finite, percent, points
from console.i18n import N_, _

# Metrics that are themselves ratios: their change is a difference in points (ACOS 30% → 39.7% is +9.7 pp),
# since a relative change of a ratio ("ACOS +32%") is routinely misread as points.
RATIO_METRICS = frozenset({"acos", "tacos", "ctr", "cvr", "utilisation", "share_of_spend", "share_of_sales",
                           "error_rate", "conversion_rate", "returns_rate", "return_rate"})
# Metrics where going down is the good news.
LOWER_IS_BETTER = frozenset({"acos", "tacos", "cpc", "error_rate", "returns_rate", "return_rate"})
# Metrics whose movement is neither good nor bad by itself (more spend may be deliberate).
NEUTRAL_METRICS = frozenset({"spend", "budget"})

Kind = Literal["relative", "points"]
Direction = Literal["up", "down", "flat", "none"]
Tone = Literal["good", "bad", "neutral"]
TONE_COLOURS = {"good": "green", "bad": "red", "neutral": "gray"}
ARROWS = {"up": "up", "down": "down", "flat": "off", "none": "off"}
DESCRIPTIONS = {"relative": N_("relative change"), "points": N_("change in percentage points")}


@dataclass(frozen=True)
class Change:
    """One metric's change, written for people: its text, whether it is relative or in points, and its tone."""

    metric: str
    text: str
    kind: Kind
    direction: Direction
    tone: Tone
    value: float | None  # the relative change (0.12 = +12%) or the point difference (0.097 = +9.7 pp)

    @property
    def description(self) -> str:
        """What the number means, for a tooltip or `delta_description`."""
        return _(DESCRIPTIONS[self.kind])

    def metric_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for a metric tile: the text, a colour by tone and an arrow by direction (none at zero)."""
        return {"delta": None if self.direction == "none" else self.text,
                "delta_color": TONE_COLOURS[self.tone], "delta_arrow": ARROWS[self.direction]}


def change_kind(metric: str) -> Kind:
    """`points` for ratio metrics (ACOS, CTR, CVR…), `relative` for amounts and counts."""
    return "points" if metric.lower() in RATIO_METRICS else "relative"


def tone_of(metric: str, direction: Direction) -> Tone:
    """Good or bad for this metric moving that way; neutral when it did not move or its movement means nothing."""
    name = metric.lower()
    if direction in ("flat", "none") or name in NEUTRAL_METRICS:
        return "neutral"
    better = "down" if name in LOWER_IS_BETTER else "up"
    return "good" if direction == better else "bad"


def _written(metric: str, value: float | None, kind: Kind, digits: int, where: dict[str, Any]) -> Change:
    if value is None:
        return Change(metric, NONE, kind, "none", "neutral", None)
    if round(value * 100, digits) == 0:  # what reads as zero is flat, never "+0.0%" with a green arrow
        text = percent(0, digits, **where) if kind == "relative" else points(0, digits, signed=False, **where)
        return Change(metric, text, kind, "flat", "neutral", 0.0)
    direction: Direction = "up" if value > 0 else "down"
    text = percent(value, digits, signed=True, **where) if kind == "relative" else points(value, digits, **where)
    return Change(metric, text, kind, direction, tone_of(metric, direction), value)


def change(metric: str, now: Any, before: Any, *, digits: int = 1, kind: Kind | None = None, site: str | None = None,
           lang: str | None = None, locale: LocaleLike = None) -> Change:
    """The change of `metric` from `before` to `now`: points for ratios, relative for the rest; from nothing → none."""
    kind = kind or change_kind(metric)
    current, previous = finite(now), finite(before)
    value: float | None = None
    if current is not None and previous is not None:
        if kind == "points":
            value = current - previous
        elif previous:
            value = (current - previous) / abs(previous)
        elif not current:
            value = 0.0  # nothing then, nothing now: flat; something from nothing has no relative change
    return _written(metric, value, kind, digits, {"site": site, "lang": lang, "locale": locale})


def relative_change(metric: str, ratio: Any, *, digits: int = 1, site: str | None = None, lang: str | None = None,
                    locale: LocaleLike = None) -> Change:
    """A relative change already computed elsewhere (0.12 = +12%), with its direction and tone."""
    return _written(metric, finite(ratio), "relative", digits, {"site": site, "lang": lang, "locale": locale})


def delta(ratio: Any, digits: int = 1, *, site: str | None = None, lang: str | None = None, locale: LocaleLike = None) -> str:
    """A relative change as text: `+12.3%`, `-4.0%`, `0.0%` when it rounds to nothing, em dash when undefined."""
    return relative_change("", ratio, digits=digits, site=site, lang=lang, locale=locale).text
