"""KPI tiles of the dashboards: a value that fits its tile (the whole one in the tooltip) and its change, written for people."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console import formatting
from console.dashboards.data import AdsView, InventoryView, SalesView
from console.dashboards.periods import Period
from console.i18n import N_, _

# Metric, label and kind (formatting.tile) of each dashboard's tiles, in the order they are shown. The labels are
# marked with N_() and translated when the tiles are made; acronyms (ACOS, CTR…) read the same in every language.
ADS = (("spend", N_("Spend"), "money"), ("sales", N_("Sales"), "money"), ("acos", "ACOS", "ratio"),
       ("roas", "ROAS", "multiple"), ("tacos", "TACoS", "ratio"), ("ctr", "CTR", "ratio2"), ("cvr", "CVR", "ratio"),
       ("cpc", "CPC", "money"), ("orders", N_("Orders"), "count"))
SALES = (("revenue", N_("Revenue"), "money"), ("orders", N_("Orders"), "count"), ("units", N_("Units"), "count"),
         ("aov", N_("AOV"), "money"), ("returns_rate", N_("Returns rate"), "ratio"))
INVENTORY = (("skus", N_("SKUs"), "count"), ("units_on_hand", N_("Units on hand"), "count"),
             ("at_risk", N_("At risk"), "count"), ("out_of_stock", N_("Out of stock"), "count"),
             ("out_of_stock_with_live_ads", N_("OOS with live ads"), "count"),
             ("reorder_units", N_("Units to reorder"), "count"), ("units_sold_30d", N_("Units sold, 30 days"), "count"))
SKU = (("available", N_("Available"), "count"), ("days_of_supply", N_("Days of supply"), "days"),
       ("velocity_per_day", N_("Units / day"), "decimal"), ("reorder_quantity", N_("Reorder qty"), "count"),
       ("sold_7d", N_("Sold 7 days"), "count"), ("sold_30d", N_("Sold 30 days"), "count"),
       ("pace_change", N_("7-day pace"), "pace"), ("inbound", N_("Inbound"), "count"))


@dataclass(frozen=True)
class Tile:
    """One KPI tile: what it shows, the whole value, its change against the comparison period, and a tooltip."""

    label: str
    value: str  # short enough for a tile: `¥2.2M` rather than a cut-off `¥2,106,…`
    full: str  # the value in full, for the tooltip
    change: formatting.Change | None = None
    help: str = ""

    @property
    def delta(self) -> str:
        """The change's text, empty when there is none (nothing to compare with, or a tile without one)."""
        return "" if self.change is None or self.change.direction == "none" else self.change.text


def written(value: Any, kind: str, *, currency: str | None, where: dict[str, Any]) -> tuple[str, str]:
    """A tile's text and its full figure (formatting.tile, plus the dashboards' own kinds)."""
    if kind == "ratio2":  # CTR is a fraction of a percent: two decimals say whether it moved
        text = formatting.percent(value, 2, **where)
    elif kind == "days":
        text = formatting.number(value, 1, **where)
    elif kind == "pace":
        text = formatting.percent(value, 0, signed=True, **where)
    else:
        return formatting.tile(value, kind, currency=currency, **where)
    return text, text


def tiles_of(spec: tuple[tuple[str, str, str], ...], now: dict[str, Any], before: dict[str, Any] | None, *,
             currency: str | None = None, compared_to: Period | None = None, site: str,
             lang: str | None = None) -> list[Tile]:
    """One tile per metric of `spec`; with `before`, each one's change and what it was then in the tooltip."""
    where = {"site": site, "lang": lang}
    when = compared_to.text(**where) if compared_to else _("the comparison period")
    shown = []
    for metric, name, kind in spec:
        label = _(name)
        short, full = written(now.get(metric), kind, currency=currency, where=where)
        if before is None:
            shown.append(Tile(label, short, full, None, full if short != full else ""))
            continue
        change = formatting.change(metric, now.get(metric), before.get(metric), **where)
        if change.direction == "none":
            note = _("nothing to compare with in {period}").format(period=when)
        else:
            then = written(before.get(metric), kind, currency=currency, where=where)[1]
            note = _("{period}: {then} · {change} ({meaning})").format(period=when, then=then, change=change.text,
                                                                     meaning=change.description)
        shown.append(Tile(label, short, full, change, f"{full} · {note}"))
    return shown


def ads_tiles(view: AdsView, *, lang: str | None = None) -> list[Tile]:
    """Spend, sales, ACOS, ROAS, TACoS, CTR, CVR, CPC and orders against the comparison period."""
    return tiles_of(ADS, view.kpis, view.previous, currency=view.currency, compared_to=view.compared_to,
                    site=view.site, lang=lang)


def sales_tiles(view: SalesView, *, lang: str | None = None) -> list[Tile]:
    """Revenue, orders, units, AOV and returns rate against the comparison period."""
    return tiles_of(SALES, view.totals, view.previous, currency=view.currency, compared_to=view.compared_to,
                    site=view.site, lang=lang)


def inventory_tiles(view: InventoryView, *, lang: str | None = None) -> list[Tile]:
    """Stock counts as they stand now (no comparison)."""
    return tiles_of(INVENTORY, view.totals, None, site=view.site, lang=lang)


def sku_tiles(row: dict[str, Any], *, site: str, lang: str | None = None) -> list[Tile]:
    """One SKU's stock and pace (a drill-down's head)."""
    return tiles_of(SKU, row, None, site=site, lang=lang)
