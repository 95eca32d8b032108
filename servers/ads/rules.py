"""Marketplace rules a write must satisfy before it is proposed: bid and budget ranges, clean names."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from servers.ads.queries import owned
from servers.common.errors import ValidationFailed
from servers.market.db import parse_day as market_day
from servers.market.db import require_site
from servers.market.models import AdGroup, Campaign

# Amazon Ads' accepted ranges per currency: (lowest bid, highest bid, lowest daily budget, highest daily budget).
LIMITS: dict[str, tuple[float, float, float, float]] = {
    "USD": (0.02, 1_000, 1, 1_000_000),
    "EUR": (0.02, 1_000, 1, 1_000_000),
    "GBP": (0.02, 1_000, 1, 1_000_000),
    "JPY": (2, 100_000, 100, 21_000_000),
}
DEFAULT_LIMITS = LIMITS["USD"]


def check_bid(session: Session, site: str, bid: float) -> float:
    """The bid rounded to cents, or VALIDATION_FAILED when the marketplace would refuse it."""
    currency = require_site(session, site).currency
    low, high, _, _ = LIMITS.get(currency, DEFAULT_LIMITS)
    if not low <= bid <= high:
        raise ValidationFailed(f"a bid on site {site} must be between {low} and {high} {currency}; got {bid}")
    return round(bid, 2)


def check_budget(session: Session, site: str, budget: float) -> float:
    currency = require_site(session, site).currency
    _, _, low, high = LIMITS.get(currency, DEFAULT_LIMITS)
    if not low <= budget <= high:
        raise ValidationFailed(f"a daily budget on site {site} must be between {low} and {high} {currency}; got {budget}")
    return round(budget, 2)


def clean_text(value: str, what: str) -> str:
    """Whitespace collapsed; VALIDATION_FAILED when nothing is left."""
    text = " ".join(value.split())
    if not text:
        raise ValidationFailed(f"{what} must not be blank")
    return text


def parse_day(value: str | None, default: dt.date, what: str) -> dt.date:
    """The ISO date `value` (2000-01-01..2100-12-31), or `default` when absent."""
    return default if value is None else market_day(value, what)


def money(value: float) -> float:
    """Rounded to cents, and never -0.0 (which reads as a loss to people)."""
    return round(value, 2) + 0.0


def manual_ad_group(session: Session, ad_group_id: int, site: str, *, takes: str,
                    belongs: str) -> tuple[AdGroup, Campaign]:
    """An ad group (and its campaign) that may take new targeting: neither archived, in a manual campaign.
    `takes` names what is added ("keywords"), `belongs` how the refusal says where it goes."""
    group = owned(session, AdGroup, ad_group_id, site, "list_ad_groups")
    campaign = session.get(Campaign, group.campaign_id)
    assert campaign is not None  # foreign key
    if "archived" in (group.state, campaign.state):
        raise ValidationFailed(f"ad group {group.id} or its campaign is archived; it takes no new {takes}")
    if campaign.targeting == "auto":
        raise ValidationFailed(f"campaign {campaign.id} '{campaign.name}' uses auto targeting; {belongs}")
    return group, campaign


def inserting(model: type, site: str, fields: dict[str, Any]) -> Callable[[Session], int]:
    """A write plan's `apply` that adds one row of `model` on `site` and answers its id."""

    def apply(session: Session) -> int:
        row = model(site_id=site, **fields)
        session.add(row)
        session.flush()
        return row.id

    return apply
