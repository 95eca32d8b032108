"""Metric definitions: table-driven known answers, zero divisors, and SQL agreeing with Python."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Float, Integer, column, create_engine, literal, select, table

from servers.market import metrics as m


@pytest.mark.parametrize(
    ("fn", "args", "expected"),
    [
        (m.acos, (30, 100), 0.30),
        (m.acos, (30, 0), None),  # spend without sales: undefined, not infinite
        (m.acos, (0, 100), 0.0),
        (m.roas, (100, 25), 4.0),
        (m.roas, (100, 0), None),
        (m.tacos, (30, 600), 0.05),
        (m.tacos, (30, 0), None),
        (m.ctr, (5, 1000), 0.005),
        (m.ctr, (0, 0), None),
        (m.cvr, (3, 20), 0.15),
        (m.cvr, (3, 0), None),
        (m.cpc, (12.5, 10), 1.25),
        (m.cpc, (12.5, 0), None),
        (m.aov, (250, 5), 50.0),
        (m.aov, (0, 0), None),
        (m.returns_rate, (2, 40), 0.05),
        (m.returns_rate, (2, 0), None),
        (m.days_of_supply, (20, 4), 5.0),
        (m.days_of_supply, (0, 4), 0.0),  # out of stock
        (m.days_of_supply, (-3, 4), 0.0),  # oversold counts as out of stock
        (m.days_of_supply, (20, 0), None),  # never runs out at zero velocity
        (m.days_of_supply, (0, 0), 0.0),
        (m.pace_change, (21, 2), 0.5),  # 3 a day against a velocity of 2: 50% faster
        (m.pace_change, (7, 2), -0.5),
        (m.pace_change, (14, 2), 0.0),
        (m.pace_change, (5, 0), None),  # no velocity to compare with
        (m.week_over_week, (130, 100), 0.30),
        (m.week_over_week, (50, 100), -0.5),
        (m.week_over_week, (50, 0), None),
        (m.week_over_week, (None, 100), None),
        (m.pct_change, (110, 100), 0.1),
        (m.safe_ratio, (1, None), None),
        (m.reorder_quantity, (2.0, 14, 7, 10, 5), 27),  # 2 × 21 − 10 − 5
        (m.reorder_quantity, (0.1, 20, 10, 0, 0), 3),  # 0.1 × 30 is 3, not 3.0000000000000004 → 4
        (m.reorder_quantity, (1.0, 14, 7, 100, 0), 0),  # never negative
        (m.reorder_quantity, (0.35, 14, 0, 0, 0), 5),  # 4.9 rounds up
        (m.reorder_quantity, (0.0, 14, 7, 0, 0), 0),
    ],
)
def test_known_answers(fn, args, expected):
    got = fn(*args)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


@pytest.mark.parametrize(
    ("change", "threshold", "expected"),
    [(0.31, 0.3, True), (-0.31, 0.3, True), (0.3, 0.3, False), (0.1, 0.3, False), (None, 0.3, False)],
)
def test_is_anomaly(change, threshold, expected):
    assert m.is_anomaly(change, threshold) is expected


ROWS = [  # spend, sales, clicks, impressions, orders, available, velocity, lead, on_hand, inbound
    (30.0, 100.0, 20, 1000, 3, 20, 4.0, 14, 20, 0),
    (12.0, 0.0, 0, 0, 0, 0, 2.0, 10, 0, 5),
    (0.0, 50.0, 7, 300, 1, 15, 0.0, 21, 15, 0),
    (5.5, 11.0, 3, 90, 2, -2, 0.1, 20, 0, 0),
]


@pytest.fixture
def sql_rows():
    engine = create_engine("sqlite://")
    cols = ("spend", "sales", "clicks", "impressions", "orders", "available", "velocity", "lead", "on_hand", "inbound")
    types = (Float, Float, Integer, Integer, Integer, Integer, Float, Integer, Integer, Integer)
    t = table("t", *[column(c, ty) for c, ty in zip(cols, types, strict=True)])
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE t ({', '.join(cols)})")
        conn.exec_driver_sql(f"INSERT INTO t VALUES ({', '.join('?' * len(cols))})", ROWS)
    return engine, t


def test_sql_helpers_agree_with_python(sql_rows):
    engine, t = sql_rows
    c = t.c
    query = select(
        m.acos_sql(c.spend, c.sales), m.roas_sql(c.sales, c.spend), m.ctr_sql(c.clicks, c.impressions),
        m.cvr_sql(c.orders, c.clicks), m.cpc_sql(c.spend, c.clicks), m.tacos_sql(c.spend, c.sales),
        m.aov_sql(c.sales, c.orders), m.days_of_supply_sql(c.available, c.velocity),
        m.reorder_quantity_sql(c.velocity, c.lead, literal(7), c.on_hand, c.inbound),
    )
    with engine.connect() as conn:
        got = conn.execute(query).all()
    for row, (spend, sales, clicks, imps, orders, avail, vel, lead, on_hand, inbound) in zip(got, ROWS, strict=True):
        expected = (m.acos(spend, sales), m.roas(sales, spend), m.ctr(clicks, imps), m.cvr(orders, clicks),
                    m.cpc(spend, clicks), m.tacos(spend, sales), m.aov(sales, orders), m.days_of_supply(avail, vel),
                    m.reorder_quantity(vel, lead, 7, on_hand, inbound))
        for g, e in zip(row, expected, strict=True):
            assert (g is None and e is None) or g == pytest.approx(e)


@pytest.mark.parametrize(("fn", "args", "expected"), [
    (m.spend_stopped_per_day, (25,), -3.57),  # a week's 25.00 stops: 3.57 a day less
    (m.spend_stopped_per_day, (0,), 0.0),  # never -0.0
    (m.bid_change_per_day, (10, 2.0, 1.0), -1.43),  # 10 clicks a week, each 1.00 cheaper
    (m.bid_change_per_day, (80, 1.2, 1.0), -2.29),
    (m.bid_change_per_day, (0, 1.0, 2.0), 0.0),
    (m.bid_change_per_day, (14, 1.0, 1.5), 1.0),
])
def test_spend_projections(fn, args, expected):
    assert fn(*args) == expected
    assert str(fn(*args)) != "-0.0"


def test_the_projection_window_is_the_complete_week_before_today():
    assert m.projection_window(dt.date(2026, 11, 20)) == (dt.date(2026, 11, 13), dt.date(2026, 11, 19))
