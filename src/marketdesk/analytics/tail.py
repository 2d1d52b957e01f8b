"""Tail risk: value at risk (VaR) and conditional value at risk (CVaR, expected shortfall). Vectorized; pure.

Both are **returns of one period**, so a loss is negative: a `var_95` of −0.021 says that on 5% of days the
return was (or is expected to be) −2.1% or worse; `cvar_95` is the average return on those days. With α = 1 −
confidence:

- `historical`: VaR is the α-quantile of the observed returns with linear interpolation between order
  statistics (numpy's default, as empyrical). CVaR is the mean of the k = floor((n − 1)α) + 1 lowest returns:
  the returns at or below the VaR (empyrical's definition).
- `parametric` (Gaussian): VaR = μ + z·σ with z = Φ⁻¹(α) and σ the sample standard deviation (ddof = 1), as
  quantstats. CVaR = μ − σ·φ(z)/α, the expected shortfall of that normal distribution.
- `cornish_fisher`: VaR = μ + z_cf·σ with the Cornish-Fisher quantile
  z_cf = z + (z² − 1)S/6 + (z³ − 3z)K/24 − (2z³ − 5z)S²/36, where S is the skewness and K the excess kurtosis
  (population estimators). CVaR is the mean of that quantile function over the tail,
  (1/α)∫₀^α q_cf(p) dp, in closed form from the normal's partial moments. With S = K = 0 both equal the
  parametric values. The expansion is only monotone for moderate S and K; for very fat tails prefer
  `historical`.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

import numpy as np

from marketdesk.analytics.conventions import Conventions, VarMethod
from marketdesk.analytics.measures import (
    DEFAULT,
    deviations_of,
    is_constant,
    mean_of,
    moments_of,
    shape_of,
    std_of,
)
from marketdesk.analytics.panel import Panel, Returns, panel_of

STANDARD_NORMAL = NormalDist()


def historical_of(panel: Panel, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Historical VaR and CVaR of each column."""
    ordered = np.sort(panel.values.T, axis=1)  # one row per column, NaN last
    count = panel.count
    position = (count - 1) * alpha
    lower = np.floor(position).astype(np.int64)
    fraction = position - lower
    upper = np.minimum(lower + 1, count - 1)
    rows = np.arange(ordered.shape[0])
    below, above = ordered[rows, lower], ordered[rows, upper]
    step = above - below
    # numpy's lerp, so that the result matches np.percentile to the last bit
    var = np.where(fraction >= 0.5, above - step * (1.0 - fraction), below + step * fraction)
    deepest = int(lower.max()) + 1
    tail = ordered[:, :deepest]
    kept = np.arange(deepest) <= lower.reshape(-1, 1)
    cvar = np.where(kept, tail, 0.0).sum(axis=1) / (lower + 1)
    return var, cvar


def parametric_of(mean: np.ndarray, std: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian VaR and CVaR from each column's mean and standard deviation."""
    z = STANDARD_NORMAL.inv_cdf(alpha)
    density = STANDARD_NORMAL.pdf(z)
    return mean + z * std, mean - std * density / alpha


def cornish_fisher_of(
    mean: np.ndarray, std: np.ndarray, skew: np.ndarray, kurtosis: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Cornish-Fisher VaR and CVaR; a constant column (undefined skew) takes S = K = 0."""
    skew = np.nan_to_num(skew, nan=0.0)
    kurtosis = np.nan_to_num(kurtosis, nan=0.0)
    z = STANDARD_NORMAL.inv_cdf(alpha)
    z_cf = z + (z * z - 1) * skew / 6 + (z**3 - 3 * z) * kurtosis / 24 - (2 * z**3 - 5 * z) * skew * skew / 36
    # E[Z^k | Z ≤ z] for the standard normal: the tail means of 1, z, z², z³
    density = STANDARD_NORMAL.pdf(z)
    e1 = -density / alpha
    e2 = 1.0 - z * density / alpha
    e3 = -(z * z + 2.0) * density / alpha
    tail_mean = e1 + (e2 - 1.0) * skew / 6 + (e3 - 3 * e1) * kurtosis / 24 - (2 * e3 - 5 * e1) * skew * skew / 36
    return mean + z_cf * std, mean + tail_mean * std


def tail_of(panel: Panel, conventions: Conventions) -> tuple[np.ndarray, np.ndarray]:
    """VaR and CVaR of each column by `conventions.var_method` at `conventions.confidence`."""
    alpha = conventions.tail_probability
    if conventions.var_method is VarMethod.HISTORICAL:
        return historical_of(panel, alpha)
    mean = mean_of(panel)
    deviations = deviations_of(panel, mean)
    constant = is_constant(panel)
    std = std_of(panel, deviations, constant)
    if conventions.var_method is VarMethod.PARAMETRIC:
        return parametric_of(mean, std, alpha)
    skew, kurtosis = shape_of(*moments_of(panel, deviations), constant)
    return cornish_fisher_of(mean, std, skew, kurtosis, alpha)


def value_at_risk(returns: Returns, conventions: Conventions = DEFAULT) -> Any:
    """The VaR as a one-period return (negative is a loss), by the conventions' method and confidence.

    >>> round(value_at_risk([-0.04, -0.02, 0.0, 0.01, 0.03]), 6)
    -0.036
    """
    panel = panel_of(returns)
    return panel.result(tail_of(panel, conventions)[0])


def conditional_value_at_risk(returns: Returns, conventions: Conventions = DEFAULT) -> Any:
    """The CVaR (expected shortfall) as a one-period return, by the conventions' method and confidence.

    >>> conditional_value_at_risk([-0.04, -0.02, 0.0, 0.01, 0.03])
    -0.04
    """
    panel = panel_of(returns)
    return panel.result(tail_of(panel, conventions)[1])
