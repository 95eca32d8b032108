"""A site's safety limits as values: defaults per currency, names for people, and which values make sense."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from mcp_bridge.errors import ValidationFailed
from mcp_bridge.store import SitePolicyRow

# Amount limits are in the site's currency: the defaults are US-dollar sized and scaled for the others.
AMOUNT_FIELDS = ("max_bid_change_abs", "max_bid_change_daily_total", "max_budget_increase_abs", "max_new_daily_budget",
                 "max_new_bid", "max_promotion_budget", "max_discount_fixed", "import_price_min", "import_price_max")
# Percentages that are sizes (how far, in either direction), never a direction.
PERCENT_SIZES = ("max_bid_change_pct", "max_budget_increase_pct", "max_target_daily_change_pct", "max_discount_pct")
SITE_CURRENCIES = {"us": "USD", "ca": "CAD", "mx": "MXN", "br": "BRL", "uk": "GBP", "de": "EUR", "fr": "EUR",
                   "it": "EUR", "es": "EUR", "nl": "EUR", "se": "SEK", "pl": "PLN", "jp": "JPY", "in": "INR",
                   "au": "AUD", "cn": "CNY"}
# Roughly how many units of a currency buy what one US dollar does (round numbers: these are ceilings, not prices).
CURRENCY_FACTORS = {"JPY": 100.0, "KRW": 1000.0, "INR": 50.0, "MXN": 20.0, "SEK": 10.0, "CNY": 5.0, "BRL": 5.0,
                    "PLN": 4.0}
EXPIRY_HOURS = (1.0, 30 * 24.0)


def N_(text: str) -> str:
    """Marks a text for the console's message catalogue (`python -m console i18n` extracts it); the console translates
    it where it shows it. The bridge itself speaks English (refusals, audit rows)."""
    return text


LABELS = {
    "max_bid_change_abs": N_("Largest bid change per operation ({currency})"),
    "max_bid_change_pct": N_("Largest bid change per operation (%)"),
    "max_bid_change_daily_total": N_("Total bid increases per day ({currency})"),
    "max_budget_increase_pct": N_("Largest budget increase per operation (%)"),
    "max_budget_increase_abs": N_("Largest budget increase per operation ({currency})"),
    "price_change_min_pct": N_("Price change, lower bound (%)"),
    "price_change_max_pct": N_("Price change, upper bound (%)"),
    "expiry_hours": N_("Pending operations expire after (hours)"),
    "allow_self_approval": N_("Proposers may approve their own operations"),
    "max_new_daily_budget": N_("Largest daily budget of a new campaign ({currency})"),
    "max_new_bid": N_("Largest bid of a new ad group, keyword or product target ({currency})"),
    "max_discount_pct": N_("Largest coupon or discount code discount (%)"),
    "max_promotion_budget": N_("Largest coupon budget ({currency})"),
    "max_discount_fixed": N_("Largest fixed-amount coupon or discount code discount ({currency})"),
    "import_price_min": N_("Lowest price an import may set ({currency})"),
    "import_price_max": N_("Highest price an import may set ({currency})"),
    "max_stock_change": N_("Largest stock change without a reason (units)"),
    "max_target_daily_change_pct": N_("Largest total change of one bid, budget or price per day (%)"),
}


def site_currency(site: str) -> str:
    """The currency a marketplace site trades in (US dollars when the site is not a known marketplace)."""
    return SITE_CURRENCIES.get(site.lower(), "USD")


@dataclass(frozen=True)
class SitePolicy:
    """The limits of one site; amounts are in the site's currency."""

    site: str
    max_bid_change_abs: float = 2.00
    max_bid_change_pct: float = 50.0
    max_bid_change_daily_total: float = 20.00
    max_budget_increase_pct: float = 100.0
    max_budget_increase_abs: float = 200.0
    price_change_min_pct: float = -30.0
    price_change_max_pct: float = 30.0
    expiry_hours: float = 24.0
    allow_self_approval: bool = False
    max_new_daily_budget: float = 500.0
    max_new_bid: float = 5.0
    max_discount_pct: float = 50.0
    max_promotion_budget: float = 5000.0
    max_discount_fixed: float = 100.0
    import_price_min: float = 1.0
    import_price_max: float = 10000.0
    max_stock_change: float = 5000.0
    max_target_daily_change_pct: float = 50.0

    def to_row(self) -> SitePolicyRow:
        return SitePolicyRow(**asdict(self))

    @property
    def currency(self) -> str:
        return site_currency(self.site)

    def label(self, name: str) -> str:
        """The limit's name as the Admin page shows it."""
        return LABELS.get(name, name.replace("_", " ").capitalize()).format(currency=self.currency)

    def where(self, name: str) -> str:
        """Where an admin changes a limit, for a refusal to say."""
        return f"an admin can change “{self.label(name)}” for {self.site} on Admin → Safety limits"

    def problems(self) -> dict[str, str]:
        """What is wrong with each value that makes no sense as a limit (empty when all are fine)."""
        found: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("site", "allow_self_approval"):
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                found[f.name] = f"{self.label(f.name)} must be a number, not {value!r}"
            elif f.name in PERCENT_SIZES and value <= 0:
                found[f.name] = (f"{self.label(f.name)} is {value:g}: it is a size that holds in both directions, "
                                 "so it must be more than 0 (e.g. 50 allows changes of up to ±50%)")
            elif (f.name in AMOUNT_FIELDS or f.name == "max_stock_change") and value <= 0:
                found[f.name] = f"{self.label(f.name)} is {value:g}: it must be more than 0"
        if "max_discount_pct" not in found and self.max_discount_pct > 100:
            found["max_discount_pct"] = f"{self.label('max_discount_pct')} is {self.max_discount_pct:g}: at most 100"
        if "price_change_min_pct" not in found and not -100 <= self.price_change_min_pct <= 0:
            found["price_change_min_pct"] = (f"{self.label('price_change_min_pct')} is {self.price_change_min_pct:g}: "
                                             "it must lie between -100 and 0, e.g. -30")
        if "price_change_max_pct" not in found and self.price_change_max_pct < 0:
            found["price_change_max_pct"] = (f"{self.label('price_change_max_pct')} is {self.price_change_max_pct:g}: "
                                             "it must be 0 or more, e.g. 30")
        prices = ("import_price_min", "import_price_max")
        if not found.keys() & set(prices) and self.import_price_min > self.import_price_max:
            found["import_price_min"] = (f"{self.label('import_price_min')} ({self.import_price_min:g}) is above "
                                         f"{self.label('import_price_max')} ({self.import_price_max:g})")
        low, high = EXPIRY_HOURS
        if "expiry_hours" not in found and not low <= self.expiry_hours <= high:
            found["expiry_hours"] = (f"{self.label('expiry_hours')} is {self.expiry_hours:g}: it must be between "
                                     f"{low:g} hour and {high:g} hours (30 days)")
        return found

    def validate(self) -> SitePolicy:
        """The policy itself, or VALIDATION_FAILED naming every value that makes no sense (`context['fields']`)."""
        if found := self.problems():
            raise ValidationFailed(f"the limits of {self.site} were not saved: " + "; ".join(found.values()),
                                   fields=found)
        return self


def default_policy(site: str, *, currency: str | None = None, expiry_hours: float = 24.0) -> SitePolicy:
    """The default limits of a site, their amounts scaled to its currency."""
    factor = CURRENCY_FACTORS.get((currency or site_currency(site)).upper(), 1.0)
    base = SitePolicy(site=site, expiry_hours=expiry_hours)
    return replace(base, **{name: getattr(base, name) * factor for name in AMOUNT_FIELDS})
