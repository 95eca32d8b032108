"""The metric definitions, once: pure Python functions and the same formulas as SQL expressions.

Every ratio answers ``None`` when its divisor is zero (or missing): the metric is *undefined* there,
not zero and not infinite. ACOS of a keyword with spend but no sales is ``None``; callers that care
about "spend without sales" test that case explicitly (see the wasted-spend finder).
The ``*_sql`` helpers build SQLAlchemy expressions with the same definitions (``NULLIF`` turns a zero
divisor into ``NULL``, so the database answers ``NULL`` exactly where Python answers ``None``).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy import Float, Integer, case, cast, func
from sqlalchemy.sql.expression import ColumnElement

Number = int | float

# Orders that count as revenue: paid or later. Pending (unpaid) and cancelled orders do not;
# returned orders do (sales were made; returns are reported separately as a rate).
REVENUE_STATUSES = ("paid", "shipped", "delivered", "returned")
# A week-over-week change larger than this (either way) is an anomaly: 0.30 = 30%.
ANOMALY_THRESHOLD = 0.30
# A write's projected effect on daily spend averages the last complete week: the approval card (the ads server's
# `impact`) and the finders' `daily_savings` both use the window and the formulas below, so they show one number.
PROJECTION_DAYS = 7


def safe_ratio(numerator: Number | None, denominator: Number | None) -> float | None:
    """numerator / denominator, or None when the denominator is 0 or missing."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return float(numerator) / float(denominator)


def acos(spend: Number, sales: Number) -> float | None:
    """Advertising cost of sales = spend / ad sales; None without sales."""
    return safe_ratio(spend, sales)


def roas(sales: Number, spend: Number) -> float | None:
    """Return on ad spend = ad sales / spend; None without spend."""
    return safe_ratio(sales, spend)


def tacos(spend: Number, total_revenue: Number) -> float | None:
    """Total ACOS = ad spend / all store revenue (ads and organic); None without revenue."""
    return safe_ratio(spend, total_revenue)


def ctr(clicks: Number, impressions: Number) -> float | None:
    """Click-through rate = clicks / impressions; None without impressions."""
    return safe_ratio(clicks, impressions)


def cvr(orders: Number, clicks: Number) -> float | None:
    """Conversion rate = orders / clicks; None without clicks."""
    return safe_ratio(orders, clicks)


def cpc(spend: Number, clicks: Number) -> float | None:
    """Cost per click = spend / clicks; None without clicks."""
    return safe_ratio(spend, clicks)


def aov(revenue: Number, orders: Number) -> float | None:
    """Average order value = revenue / orders; None without orders."""
    return safe_ratio(revenue, orders)


def returns_rate(returned_units: Number, sold_units: Number) -> float | None:
    """Returned units / sold units; None when nothing sold."""
    return safe_ratio(returned_units, sold_units)


def projection_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """The days a spend projection averages, inclusive: the PROJECTION_DAYS complete days before today."""
    return today - dt.timedelta(days=PROJECTION_DAYS), today - dt.timedelta(days=1)


def _cents(value: float) -> float:
    return round(value, 2) + 0.0  # never -0.0, which reads as a loss


def spend_stopped_per_day(spend_in_window: Number) -> float:
    """Projected change of daily spend when what spent this much over the projection window stops (pause, negative)."""
    return _cents(-float(spend_in_window) / PROJECTION_DAYS)


def bid_change_per_day(clicks_in_window: Number, old_bid: Number, new_bid: Number) -> float:
    """Projected change of daily spend when a bid moves: the window's clicks per day, each at the bid difference."""
    return _cents(float(clicks_in_window) / PROJECTION_DAYS * (float(new_bid) - float(old_bid)))


def days_of_supply(available: Number, velocity_per_day: Number) -> float | None:
    """Days the available stock lasts at the current velocity.

    0.0 when nothing is available (out of stock, even if nothing sells); None when the SKU does not
    sell (velocity <= 0), because it never runs out at that rate.
    """
    if available <= 0:
        return 0.0
    if velocity_per_day <= 0:
        return None
    return float(available) / float(velocity_per_day)


def pace_change(sold_last_7_days: Number, velocity_per_day: Number) -> float | None:
    """How much faster (+) or slower (−) the last 7 days sold than the velocity: (sold ÷ 7) ÷ velocity − 1.

    None when the velocity is 0 (no rate to compare with). +0.5 means selling 50% faster than the
    velocity the days of supply assume, so the stock runs out sooner than they say.
    """
    if velocity_per_day <= 0:
        return None
    return float(sold_last_7_days) / 7.0 / float(velocity_per_day) - 1.0


def pct_change(current: Number | None, previous: Number | None) -> float | None:
    """(current - previous) / previous; None when there is no previous value or it is 0."""
    if current is None or previous is None or previous == 0:
        return None
    return (float(current) - float(previous)) / float(previous)


def week_over_week(this_week: Number | None, last_week: Number | None) -> float | None:
    """Relative change of this week against last week (0.25 = +25%); None when last week was 0."""
    return pct_change(this_week, last_week)


def is_anomaly(change: float | None, threshold: float = ANOMALY_THRESHOLD) -> bool:
    """True when a relative change exceeds the threshold either way; an undefined change is no anomaly."""
    return change is not None and abs(change) > threshold


def reorder_quantity(velocity_per_day: Number, lead_time_days: Number, safety_days: Number, on_hand: Number,
                     inbound: Number = 0) -> int:
    """Units to order = velocity × (lead time + safety days) − on hand − inbound, rounded up, at least 0."""
    need = float(velocity_per_day) * (float(lead_time_days) + float(safety_days)) - float(on_hand) - float(inbound)
    # round() first so 0.1 × 30 (= 3.0000000000000004) orders 3, not 4; the SQL form behaves the same.
    return max(0, math.ceil(round(need, 6)))


# ---------------------------------------------------------------- the same, in SQL


def ratio_sql(numerator: Any, denominator: Any) -> ColumnElement[Any]:
    """numerator / denominator as a float in SQL, NULL when the denominator is 0 or NULL."""
    return cast(numerator, Float) / func.nullif(denominator, 0)


def acos_sql(spend: Any, sales: Any) -> ColumnElement[Any]:
    return ratio_sql(spend, sales)


def roas_sql(sales: Any, spend: Any) -> ColumnElement[Any]:
    return ratio_sql(sales, spend)


def tacos_sql(spend: Any, total_revenue: Any) -> ColumnElement[Any]:
    return ratio_sql(spend, total_revenue)


def ctr_sql(clicks: Any, impressions: Any) -> ColumnElement[Any]:
    return ratio_sql(clicks, impressions)


def cvr_sql(orders: Any, clicks: Any) -> ColumnElement[Any]:
    return ratio_sql(orders, clicks)


def cpc_sql(spend: Any, clicks: Any) -> ColumnElement[Any]:
    return ratio_sql(spend, clicks)


def aov_sql(revenue: Any, orders: Any) -> ColumnElement[Any]:
    return ratio_sql(revenue, orders)


def days_of_supply_sql(available: Any, velocity_per_day: Any) -> ColumnElement[Any]:
    """0.0 when nothing is available, NULL when the SKU does not sell, else available / velocity."""
    return case(
        (available <= 0, 0.0),
        (velocity_per_day <= 0, None),
        else_=cast(available, Float) / velocity_per_day,
    )


def _ceil_sql(value: Any) -> ColumnElement[Any]:
    # Portable CEIL for non-negative values: not every SQLite build has ceil(); the 1e-7 matches
    # the Python form's round(…, 6) so both agree on values a float hair above an integer.
    return cast(func.round(value + 0.4999999), Integer)


def reorder_quantity_sql(velocity_per_day: Any, lead_time_days: Any, safety_days: Any, on_hand: Any,
                         inbound: Any = 0) -> ColumnElement[Any]:
    """velocity × (lead time + safety days) − on hand − inbound, rounded up, at least 0."""
    need = velocity_per_day * (lead_time_days + safety_days) - on_hand - inbound
    return case((need > 0, _ceil_sql(need)), else_=0)


__all__ = [
    "ANOMALY_THRESHOLD", "REVENUE_STATUSES", "acos", "acos_sql", "aov", "aov_sql", "cpc", "cpc_sql", "ctr",
    "ctr_sql", "cvr", "cvr_sql", "days_of_supply", "days_of_supply_sql", "is_anomaly", "pace_change", "pct_change",
    "ratio_sql", "reorder_quantity", "reorder_quantity_sql", "returns_rate", "roas", "roas_sql", "safe_ratio",
    "tacos", "tacos_sql", "week_over_week",
]
