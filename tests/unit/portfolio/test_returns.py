"""TWR and XIRR against hand-computed cases (the arithmetic is written next to each), the solver's fallback and
its refusals, and properties: no flows means TWR is the price return; one deposit and one withdrawal give an
XIRR equal to the annualized growth."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdesk.portfolio.returns import NoSolution, annualized, daily_returns, time_weighted_return, xirr


def test_twr_by_hand_with_a_deposit_and_a_withdrawal() -> None:
    # day 1: 1000 deposited at the start, worth 1050 at the close      r1 = 1050 / (0 + 1000) − 1       = +5%
    # day 2: 500 more at the start (base 1050 + 500 = 1550); close 1627.5
    #                                                                   r2 = 1627.5 / 1550 − 1           = +5%
    # day 3: 200 taken out at the start (base 1627.5 − 200 = 1427.5); close 1356.125
    #                                                                   r3 = 1356.125 / 1427.5 − 1       = −5%
    # TWR = 1.05 × 1.05 × 0.95 − 1 = 1.047375 − 1 = 4.7375%
    values = np.array([1050.0, 1627.5, 1356.125])
    flows = np.array([1000.0, 500.0, -200.0])
    assert daily_returns(values, flows) == pytest.approx([0.05, 0.05, -0.05], abs=1e-15)
    assert time_weighted_return(values, flows) == pytest.approx(0.047375, abs=1e-15)


def test_twr_ignores_how_much_money_came_in_when_the_growth_is_the_same() -> None:
    # +10% a day twice; the second day gets 9 times more money at its start: TWR is 1.1 × 1.1 − 1 = 21%
    assert time_weighted_return(np.array([110.0, 1331.0]), np.array([100.0, 1100.0])) == pytest.approx(0.21)


def test_a_day_with_no_capital_at_work_contributes_nothing() -> None:
    # nothing held and nothing brought in on day 1; 100 brought in on day 2 and worth 103 at its close
    assert daily_returns(np.array([0.0, 103.0]), np.array([0.0, 100.0])).tolist() == pytest.approx([0.0, 0.03])


def test_xirr_by_hand_two_deposits_grown_at_ten_percent() -> None:
    # 1000 in on 2021-01-01 and 500 on 2022-01-01 (365 days apart each, no leap day), both growing 10% a year:
    # on 2023-01-01 they are worth 1000 × 1.1² + 500 × 1.1 = 1210 + 550 = 1760
    days = [date(2021, 1, 1), date(2022, 1, 1), date(2023, 1, 1)]
    assert xirr(days, [-1000.0, -500.0, 1760.0]) == pytest.approx(0.10, abs=1e-10)


def test_xirr_by_hand_with_a_withdrawal_in_between() -> None:
    # 1000 in on 2021-01-01; 200 out on 2022-01-01; at 10% a year what remains on 2023-01-01 is
    # 1000 × 1.1² − 200 × 1.1 = 1210 − 220 = 990
    days = [date(2021, 1, 1), date(2022, 1, 1), date(2023, 1, 1)]
    assert xirr(days, [-1000.0, 200.0, 990.0]) == pytest.approx(0.10, abs=1e-10)


def test_xirr_over_a_leap_year_uses_actual_over_365() -> None:
    # 2020 has 366 days: 1000 → 1100 from 2020-01-01 to 2021-01-01 is 1.1 ** (365 / 366) − 1 a year
    rate = xirr([date(2020, 1, 1), date(2021, 1, 1)], [-1000.0, 1100.0])
    assert rate == pytest.approx(1.1 ** (365 / 366) - 1, abs=1e-12)


def test_xirr_falls_back_to_bisection_when_newton_leaves_the_domain() -> None:
    days = [date(2021, 1, 1), date(2021, 7, 1), date(2023, 1, 1)]
    amounts = [-1000.0, -500.0, 1400.0]  # a loss: the rate is negative
    expected = xirr(days, amounts)
    assert xirr(days, amounts, guess=1e8) == pytest.approx(expected, abs=1e-9)  # Newton fails from there
    years = np.array([(d - days[0]).days / 365 for d in days])
    assert float(np.sum(np.array(amounts) * (1 + expected) ** -years)) == pytest.approx(0.0, abs=1e-6)


def test_a_total_loss_has_an_xirr_near_minus_one_hundred_percent() -> None:
    rate = xirr([date(2021, 1, 1), date(2022, 1, 1)], [-1000.0, 0.001])
    assert -1.0 < rate < -0.99999


@pytest.mark.parametrize(
    ("days", "amounts", "why"),
    [
        ([date(2021, 1, 1), date(2022, 1, 1)], [-1000.0, -10.0], "XIRR needs money both in and out"),
        ([date(2021, 1, 1), date(2021, 1, 1)], [-1000.0, 1100.0], "XIRR needs cash flows on more than one day"),
        # 100 − 50x + 100x² with x = 1 / (1 + r) is never zero (its discriminant 2500 − 40000 < 0)
        (
            [date(2021, 1, 1), date(2022, 1, 1), date(2023, 1, 1)],
            [100.0, -50.0, 100.0],
            "XIRR has no solution for these cash flows",
        ),
    ],
)
def test_xirr_without_a_root_says_why(days: list[date], amounts: list[float], why: str) -> None:
    with pytest.raises(NoSolution, match=why):
        xirr(days, amounts)


def test_returns_are_annualized_only_over_a_year() -> None:
    assert annualized(0.21, 730) == pytest.approx(0.1)
    assert annualized(0.05, 200) is None


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(st.floats(min_value=-0.2, max_value=0.2), min_size=1, max_size=300),
    shares=st.integers(1, 10_000),
    start_price=st.floats(min_value=1.0, max_value=1_000.0),
)
def test_twr_of_a_holding_with_no_flows_is_its_price_return(
    steps: list[float], shares: int, start_price: float
) -> None:
    prices = start_price * np.cumprod(1.0 + np.array([0.0, *steps]))
    values = shares * prices
    flows = np.zeros(len(values))
    flows[0] = values[0]  # bought at the first close: the only external flow
    assert time_weighted_return(values, flows) == pytest.approx(prices[-1] / prices[0] - 1.0, rel=1e-9, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    deposit=st.floats(min_value=1.0, max_value=1e7),
    growth=st.floats(min_value=0.2, max_value=5.0),
    days=st.integers(min_value=60, max_value=3650),
    start=st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 1, 1)),
)
def test_xirr_of_one_deposit_and_one_withdrawal_is_the_annualized_growth(
    deposit: float, growth: float, days: int, start: date
) -> None:
    rate = xirr([start, start + timedelta(days=days)], [-deposit, deposit * growth])
    assert rate == pytest.approx(growth ** (365.0 / days) - 1.0, rel=1e-8, abs=1e-10)
