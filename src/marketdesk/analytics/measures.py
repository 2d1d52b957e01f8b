"""Return and risk-adjusted measures over a panel of returns: mean, volatility, CAGR, Sharpe, Sortino, omega and
the moments. Vectorized over columns; pure.

Each public function takes one series (→ float) or a DataFrame of series (→ a Series by column) and the
`Conventions`. A ratio whose denominator is zero is NaN here; `metrics()` reports it as missing with the reason.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from marketdesk.analytics.conventions import Conventions, Downside
from marketdesk.analytics.panel import Panel, Returns, panel_of

DEFAULT = Conventions()


def mean_of(panel: Panel) -> np.ndarray:
    """The arithmetic mean return of each column, per period."""
    return np.asarray(panel.zeroed.sum(axis=0) / panel.count)


def deviations_of(panel: Panel, mean: np.ndarray) -> np.ndarray:
    """Each return minus its column's mean; 0 where a column has no observation."""
    deviations = panel.values - mean
    return np.where(panel.valid, deviations, 0.0) if not panel.valid.all() else deviations


def is_constant(panel: Panel) -> np.ndarray:
    """True for a column whose observations are all equal (its volatility is exactly zero)."""
    if panel.valid.all():
        return np.asarray(panel.values.max(axis=0) == panel.values.min(axis=0))
    high = np.where(panel.valid, panel.values, -np.inf).max(axis=0)
    low = np.where(panel.valid, panel.values, np.inf).min(axis=0)
    return np.asarray(high == low)


def std_of(panel: Panel, deviations: np.ndarray, constant: np.ndarray) -> np.ndarray:
    """The sample standard deviation (ddof = 1) per period; exactly 0 for a constant column, where the mean's
    last-bit rounding would otherwise leave a residue near 1e-18."""
    variance = np.einsum("ij,ij->j", deviations, deviations) / (panel.count - 1)
    return np.where(constant, 0.0, np.sqrt(variance))


def wealth_of(panel: Panel) -> np.ndarray:
    """The growth of 1 through each column's returns (T × N); flat outside a column's observations."""
    return np.cumprod(1.0 + panel.zeroed, axis=0)


def cagr_of(final_wealth: np.ndarray, count: np.ndarray, conventions: Conventions) -> np.ndarray:
    """Compound annual growth over `count / periods_per_year` years: final^(P / n) − 1."""
    years = count / conventions.periods_per_year
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        growth = np.power(final_wealth, 1.0 / years) - 1.0
    return np.where(np.isfinite(growth), growth, np.nan)  # beyond a float's range: no number to report


def divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator; NaN where the denominator is zero or the quotient overflows (never ±inf)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        quotient = numerator / np.where(denominator != 0, denominator, 1.0)
    return np.where((denominator != 0) & np.isfinite(quotient), quotient, np.nan)


def downside_of(panel: Panel, target: float, how: Downside) -> tuple[np.ndarray, np.ndarray]:
    """The per-period downside deviation below `target`, and how many returns fell below it."""
    shortfall = np.minimum(panel.zeroed - target, 0.0)
    if not panel.valid.all():
        shortfall = np.where(panel.valid, shortfall, 0.0)
    below = np.count_nonzero(shortfall < 0, axis=0)
    squares = np.einsum("ij,ij->j", shortfall, shortfall)
    count = panel.count if how is Downside.FULL else below
    with np.errstate(divide="ignore", invalid="ignore"):
        deviation = np.where(count > 0, np.sqrt(squares / np.maximum(count, 1)), 0.0)
    return deviation, below


def omega_parts_of(panel: Panel, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """The sums of gains above and of losses below `threshold` (Keating and Shadwick's omega = gains / losses)."""
    excess = panel.zeroed - threshold
    if not panel.valid.all():
        excess = np.where(panel.valid, excess, 0.0)
    gains = np.maximum(excess, 0.0).sum(axis=0)
    losses = np.maximum(-excess, 0.0).sum(axis=0)
    return gains, losses


def moments_of(panel: Panel, deviations: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The population central moments m2, m3 and m4 (sums over n, not n − 1)."""
    squares = deviations * deviations
    m2 = squares.sum(axis=0) / panel.count
    m3 = np.einsum("ij,ij->j", squares, deviations) / panel.count
    m4 = np.einsum("ij,ij->j", squares, squares) / panel.count
    return m2, m3, m4


def shape_of(m2: np.ndarray, m3: np.ndarray, m4: np.ndarray, constant: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Skewness m3 / m2^1.5 and excess kurtosis m4 / m2^2 − 3 (the biased, population estimators; scipy's
    defaults); NaN for a constant column."""
    m2 = np.where(constant, 0.0, m2)
    return divide(m3, m2**1.5), divide(m4, m2 * m2) - 3.0


# ---- public, one measure at a time ---------------------------------------------------------------------------


def annual_return(returns: Returns, conventions: Conventions = DEFAULT) -> Any:
    """The arithmetic mean return per period × periods per year (the numerator the Sharpe ratio uses).

    >>> round(annual_return([0.01, 0.03], Conventions(periods_per_year=12)), 6)
    0.24
    """
    panel = panel_of(returns)
    return panel.result(mean_of(panel) * conventions.periods_per_year)


def cagr(returns: Returns, conventions: Conventions = DEFAULT) -> Any:
    """Compound annual growth: (Π(1 + r))^(P / n) − 1, with n / P years (empyrical's `annual_return`).

    >>> round(cagr([0.1, 0.1], Conventions(periods_per_year=1)), 6)
    0.1
    """
    panel = panel_of(returns)
    return panel.result(cagr_of(wealth_of(panel)[-1], panel.count, conventions))


def total_return(returns: Returns) -> Any:
    """Compounded return over the whole series: Π(1 + r) − 1."""
    panel = panel_of(returns)
    return panel.result(wealth_of(panel)[-1] - 1.0)


def annual_volatility(returns: Returns, conventions: Conventions = DEFAULT) -> Any:
    """The sample standard deviation (ddof = 1) × sqrt(periods per year)."""
    panel = panel_of(returns)
    deviations = deviations_of(panel, mean_of(panel))
    return panel.result(std_of(panel, deviations, is_constant(panel)) * np.sqrt(conventions.periods_per_year))


def sharpe(returns: Returns, conventions: Conventions = DEFAULT) -> Any:
    """(mean − rf) / std × sqrt(P), with rf per period. NaN when the returns do not vary (zero volatility).

    >>> round(sharpe([0.01, 0.02, 0.0, 0.01], Conventions(periods_per_year=1)), 6)
    1.224745
    """
    panel = panel_of(returns)
    mean = mean_of(panel)
    std = std_of(panel, deviations_of(panel, mean), is_constant(panel))
    excess = mean - conventions.risk_free_per_period
    return panel.result(divide(excess, std) * np.sqrt(conventions.periods_per_year))


def downside_deviation(returns: Returns, conventions: Conventions = DEFAULT) -> Any:
    """The annualized downside deviation below the per-period risk-free rate, as `conventions.downside` says."""
    panel = panel_of(returns)
    deviation, _ = downside_of(panel, conventions.risk_free_per_period, conventions.downside)
    return panel.result(deviation * np.sqrt(conventions.periods_per_year))


def sortino(returns: Returns, conventions: Conventions = DEFAULT) -> Any:
    """(mean − target) / downside deviation × sqrt(P); the target is the per-period risk-free rate.
    NaN when no return fell below the target."""
    panel = panel_of(returns)
    target = conventions.risk_free_per_period
    deviation, _ = downside_of(panel, target, conventions.downside)
    return panel.result(divide(mean_of(panel) - target, deviation) * np.sqrt(conventions.periods_per_year))


def omega(returns: Returns, conventions: Conventions = DEFAULT) -> Any:
    """Σ max(r − θ, 0) / Σ max(θ − r, 0) with θ the per-period risk-free rate. NaN when nothing fell below θ."""
    panel = panel_of(returns)
    gains, losses = omega_parts_of(panel, conventions.risk_free_per_period)
    return panel.result(divide(gains, losses))


def skewness(returns: Returns) -> Any:
    """The population skewness m3 / m2^1.5 (scipy.stats.skew with bias=True). NaN for constant returns."""
    panel = panel_of(returns)
    m2, m3, m4 = moments_of(panel, deviations_of(panel, mean_of(panel)))
    return panel.result(shape_of(m2, m3, m4, is_constant(panel))[0])


def excess_kurtosis(returns: Returns) -> Any:
    """The population excess kurtosis m4 / m2² − 3 (scipy.stats.kurtosis with bias=True). NaN for constant
    returns."""
    panel = panel_of(returns)
    m2, m3, m4 = moments_of(panel, deviations_of(panel, mean_of(panel)))
    return panel.result(shape_of(m2, m3, m4, is_constant(panel))[1])
