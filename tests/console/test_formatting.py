from __future__ import annotations

import math

import pytest

from console import formatting as f


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (1234.5, "USD", "$1,234.50"),
        (0, "USD", "$0.00"),
        (-12.345, "EUR", "-€12.35"),
        (1234.6, "JPY", "¥1,235"),
        (5, "CHF", "CHF 5.00"),
        (None, "USD", "—"),
        (math.nan, "USD", "—"),
    ],
)
def test_money(value, currency, expected) -> None:
    assert f.money(value, currency) == expected


@pytest.mark.parametrize(
    ("fn", "value", "expected"),
    [
        (f.percent, 0.2345, "23.4%"),
        (f.percent, 1.5, "150.0%"),
        (f.percent, None, "—"),
        (f.percent, math.inf, "—"),
        (f.delta, 0.123, "+12.3%"),
        (f.delta, -0.04, "-4.0%"),
        (f.delta, None, "—"),
        (f.count, 1234567, "1,234,567"),
        (f.count, None, "—"),
        (f.multiple, 3.4167, "3.42×"),
        (f.multiple, None, "—"),
        (f.duration_ms, 12.4, "12 ms"),
        (f.duration_ms, 2500, "2.5 s"),
    ],
)
def test_number_formats(fn, value, expected) -> None:
    assert fn(value) == expected
