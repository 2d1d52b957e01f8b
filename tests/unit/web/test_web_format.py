"""Numbers for people, as the web desk shows them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from marketdesk.web import format as fmt


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1_234.5, "1,234.50"),
        (Decimal("0.1"), "0.10"),
        (-3.456, "−3.46"),
        (None, "—"),
        (float("nan"), "—"),
        (float("inf"), "—"),
    ],
)
def test_price_has_two_decimals_and_a_dash_when_missing(value: float | Decimal | None, expected: str) -> None:
    assert fmt.price(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.234, "+1.23"),
        (-0.5, "−0.50"),
        (0, "0.00"),
        (-0.001, "0.00"),  # rounds to zero: no sign on a flat change
        (None, "—"),
    ],
)
def test_change_carries_its_sign(value: float | None, expected: str) -> None:
    assert fmt.change(value) == expected


def test_percent_signed_and_unsigned() -> None:
    assert fmt.percent(12.345) == "12.3%"
    assert fmt.percent(-4.0) == "−4.0%"
    assert fmt.percent(1.2345, 2, signed=True) == "+1.23%"
    assert fmt.percent(-0.04, 1, signed=True) == "0.0%"
    assert fmt.percent(None, signed=True) == "—"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.234e12, "1.23T"),
        (45.6e9, "45.60B"),
        (999.996e9, "1.00T"),  # promoted, not "1000.00B"
        (7.1e6, "7.10M"),
        (12_500, "12.50K"),
        (512, "512.00"),
        (-2.5e9, "−2.50B"),
        (None, "—"),
    ],
)
def test_compact_uses_t_b_m_k(value: float | None, expected: str) -> None:
    assert fmt.compact(value) == expected


def test_ratio_range_day_and_direction() -> None:
    assert fmt.ratio(23.44) == "23.4×"
    assert fmt.ratio(None) == "—"
    assert fmt.price_range(98.1, 143.25) == "98.10 – 143.25"
    assert fmt.price_range(None, 143.25) == "—"
    assert fmt.day(date(2026, 11, 20)) == "Fri 20 Nov 2026"
    assert fmt.day(None) == "—"
    assert [fmt.direction(v) for v in (2.0, -0.1, 0, None, float("nan"))] == [1, -1, 0, 0, 0]
