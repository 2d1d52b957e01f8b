"""Portfolio returns with external cash flows: time-weighted (TWR) and money-weighted (XIRR). Pure and vectorized.

Conventions (docs/portfolio.md says the same):

- **Values are end of day**: `values[t]` is the portfolio's total value (holdings at the close plus cash) at the
  end of day t.
- **External flows happen at the start of the day.** `flows[t]` (deposits and implicit deposits positive,
  withdrawals negative) is invested for the whole of day t, so the day's return is
  `r[t] = values[t] / (values[t-1] + flows[t]) - 1`. Dividends and fees are not external flows: they are the
  portfolio's own income and costs, inside `values`.
- A day with no capital at work (`values[t-1] + flows[t] <= 0`) contributes no return (r = 0).
- **TWR** chains the daily returns: `prod(1 + r) - 1`. It is annualized only over a year or more.
- **XIRR** is the annual rate r that makes the net present value of the investor's cash flows zero, with
  Actual/365 time: `sum(c_i / (1 + r) ** (days_i / 365)) = 0`. The investor's flows are the opposite of the
  portfolio's: a deposit is negative, a withdrawal positive; the starting value counts as a deposit at the
  start and the ending value as a withdrawal at the end.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

import numpy as np

from marketdesk.errors import Rejected

DAYS_PER_YEAR = 365.0
XIRR_TOLERANCE = 1e-10  # on the rate
NEWTON_STEPS = 50
LOWEST_RATE = -0.999999999  # a rate of −100% or below has no present value
HIGHEST_RATE = 1e9


class NoSolution(Rejected):
    """A money-weighted return that does not exist for these cash flows; the message says why."""


def daily_returns(values: np.ndarray, flows: np.ndarray, previous_value: float = 0.0) -> np.ndarray:
    """Each day's return with flows at the start of the day: `values[t] / (values[t-1] + flows[t]) - 1`.

    `previous_value` is the value at the end of the day before the first.

    >>> daily_returns(np.array([110.0, 121.0]), np.array([100.0, 0.0])).round(6).tolist()
    [0.1, 0.1]
    """
    values = np.asarray(values, dtype=float)
    flows = np.asarray(flows, dtype=float)
    if values.shape != flows.shape:
        raise ValueError(f"values {values.shape} and flows {flows.shape} must have the same shape")
    before = np.concatenate([[previous_value], values[:-1]])
    base = before + flows
    working = base > 0
    returns = np.zeros(len(values))
    np.divide(values, base, out=returns, where=working)
    returns[working] -= 1.0
    return returns


def time_weighted_return(values: np.ndarray, flows: np.ndarray, previous_value: float = 0.0) -> float:
    """The time-weighted return over the whole span: the daily returns chained.

    >>> round(time_weighted_return(np.array([110.0, 1331.0]), np.array([100.0, 1100.0])), 6)
    0.21
    """
    returns = daily_returns(values, flows, previous_value)
    return float(np.prod(1.0 + returns) - 1.0) if len(returns) else 0.0


def annualized(total_return: float, days: int) -> float | None:
    """`total_return` over `days` calendar days as an annual rate; None under a year (annualizing a shorter
    period extrapolates it, which GIPS forbids)."""
    if days < DAYS_PER_YEAR or total_return <= -1.0:
        return None
    return float((1.0 + total_return) ** (DAYS_PER_YEAR / days) - 1.0)


def xirr(days: Sequence[date], amounts: Sequence[float], *, guess: float = 0.1) -> float:
    """The money-weighted annual return of the investor's dated cash flows (deposits < 0, withdrawals > 0).

    Newton's method from `guess`; when it fails to converge or leaves the domain, bisection on a bracket
    found by scanning rates from −99.9999999% up. Raises `NoSolution` when there is no root: flows all of one
    sign, all on one day, or a net present value that never crosses zero.

    >>> round(xirr([date(2023, 1, 1), date(2024, 1, 1)], [-1000.0, 1100.0]), 10)
    0.1
    """
    if len(days) != len(amounts):
        raise ValueError("give one day per amount")
    cash = np.asarray(amounts, dtype=float)
    if not np.isfinite(cash).all():
        raise NoSolution("a cash flow is not a finite number")
    keep = cash != 0
    cash = cash[keep]
    ordinals = np.array([d.toordinal() for d, k in zip(days, keep, strict=True) if k], dtype=float)
    if not (cash > 0).any() or not (cash < 0).any():
        raise NoSolution(
            "XIRR needs money both in and out", hint="With only deposits or only withdrawals there is no rate."
        )
    years = (ordinals - ordinals.min()) / DAYS_PER_YEAR
    if not years.any():
        raise NoSolution("XIRR needs cash flows on more than one day")
    rate = _newton(cash, years, guess)
    if rate is None:
        rate = _bisect(cash, years)
    if rate is None:
        raise NoSolution(
            "XIRR has no solution for these cash flows: their present value never reaches zero",
            hint="Use the time-weighted return instead.",
        )
    return rate


def _npv(rate: float, cash: np.ndarray, years: np.ndarray) -> float:
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.sum(cash * np.exp(-years * math.log1p(rate))))


def _newton(cash: np.ndarray, years: np.ndarray, guess: float) -> float | None:
    rate = guess
    for _ in range(NEWTON_STEPS):
        growth = math.log1p(rate)
        with np.errstate(over="ignore", invalid="ignore"):
            discount = np.exp(-years * growth)
            value = float(np.sum(cash * discount))
            slope = float(np.sum(-years * cash * discount / (1.0 + rate)))
        if not math.isfinite(value) or not math.isfinite(slope) or slope == 0.0:
            return None
        step = value / slope
        following = rate - step
        if not math.isfinite(following) or following <= LOWEST_RATE or following > HIGHEST_RATE:
            return None
        if abs(following - rate) <= XIRR_TOLERANCE * max(1.0, abs(following)):
            return following
        rate = following
    return None


def _bisect(cash: np.ndarray, years: np.ndarray) -> float | None:
    # scan a grid from just above −100% upward for the first sign change, then bisect inside it
    grid = np.concatenate([LOWEST_RATE + np.geomspace(1e-9, 1.0, 60), np.geomspace(1e-3, HIGHEST_RATE, 120)])
    grid = np.unique(grid[grid > LOWEST_RATE])
    low = float(grid[0])
    low_value = _npv(low, cash, years)
    for high in grid[1:]:
        high_value = _npv(float(high), cash, years)
        if math.isfinite(low_value) and math.isfinite(high_value) and (low_value > 0) != (high_value > 0):
            return _bisect_between(cash, years, low, float(high), low_value)
        low, low_value = float(high), high_value
    return None


def _bisect_between(cash: np.ndarray, years: np.ndarray, low: float, high: float, low_value: float) -> float:
    for _ in range(300):
        middle = (low + high) / 2.0
        value = _npv(middle, cash, years)
        if value == 0.0 or (high - low) <= XIRR_TOLERANCE * max(1.0, abs(middle)):
            return middle
        if (value > 0) == (low_value > 0):
            low, low_value = middle, value
        else:
            high = middle
    return (low + high) / 2.0
