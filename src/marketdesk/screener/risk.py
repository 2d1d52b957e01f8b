"""Risk metrics for the whole universe at once: volatility, beta to the benchmark and maximum drawdown.

All take (t × n) adjusted-close matrices already carried forward (`momentum.fill_forward`) and use the last
`window` daily returns (so `window + 1` prices). Daily returns are simple returns, p[t] / p[t−1] − 1.
A statistic needs at least `momentum.MIN_COVERAGE` of its window; otherwise it is NaN. Nothing here
returns ±inf or warns.
"""

from __future__ import annotations

import numpy as np

from marketdesk.screener.momentum import SESSIONS_PER_YEAR, needed

RISK_WINDOW = 252  # a year of sessions
_FLAT_VARIANCE = 1e-20  # a benchmark whose daily returns vary less than this is flat: no beta


def daily_returns(prices: np.ndarray, window: int) -> np.ndarray:
    """The last `window` simple daily returns of each column (NaN where either price is missing)."""
    tail = prices[-(window + 1) :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return tail[1:] / tail[:-1] - 1.0


def risk_metrics(prices: np.ndarray, benchmark: np.ndarray, window: int = RISK_WINDOW) -> dict[str, np.ndarray]:
    """`volatility_pct`, `beta` and `max_drawdown_pct` for every column, computing the returns once."""
    returns = daily_returns(prices, window)
    bench = daily_returns(np.asarray(benchmark, dtype=np.float64), window)
    valid = ~np.isnan(returns)
    complete = bool(valid.all())
    return {
        "volatility_pct": _volatility(returns, valid, complete, window),
        "beta": _beta(returns, valid, complete, bench, window),
        "max_drawdown_pct": max_drawdown_pct(prices, window),
    }


def volatility_pct(prices: np.ndarray, window: int = RISK_WINDOW) -> np.ndarray:
    """Annualised volatility in percent: the sample standard deviation (ddof 1) of the last `window` simple
    daily returns × √252 × 100. Accepts a (t × n) matrix or a length-t vector (then returns a length-1 array)."""
    matrix = prices[:, None] if prices.ndim == 1 else prices
    returns = daily_returns(matrix, window)
    valid = ~np.isnan(returns)
    return _volatility(returns, valid, bool(valid.all()), window)


def beta(prices: np.ndarray, benchmark: np.ndarray, window: int = RISK_WINDOW) -> np.ndarray:
    """Beta of each column to the benchmark: cov(r, r_b) / var(r_b) over the last `window` daily returns,
    using only the sessions where both returns exist (pairwise-complete), as an OLS slope would."""
    returns = daily_returns(prices, window)
    valid = ~np.isnan(returns)
    bench = daily_returns(np.asarray(benchmark, dtype=np.float64), window)
    return _beta(returns, valid, bool(valid.all()), bench, window)


def _volatility(returns: np.ndarray, valid: np.ndarray, complete: bool, window: int) -> np.ndarray:
    # two passes (mean, then squared deviations) so a steady series does not lose its variance to rounding
    if complete:
        count = np.full(returns.shape[1], len(returns))
        centred = returns - returns.mean(axis=0) if len(returns) else returns
    else:
        count = valid.sum(axis=0)
        mean = np.where(valid, returns, 0.0).sum(axis=0) / np.maximum(count, 1)
        centred = np.where(valid, returns - mean, 0.0)
    variance = np.einsum("ij,ij->j", centred, centred) / np.maximum(count - 1, 1)
    enough = (count >= needed(window)) & (count >= 2)
    return np.where(enough, np.sqrt(variance * SESSIONS_PER_YEAR) * 100.0, np.nan)


def _beta(returns: np.ndarray, valid: np.ndarray, complete: bool, bench: np.ndarray, window: int) -> np.ndarray:
    # Sums over the sessions where both returns exist, as products with 0/1 masks (BLAS matrix-vector
    # products). The benchmark is centred first, which leaves cov and var unchanged and keeps the one-pass
    # formulas free of cancellation.
    bench_valid = ~np.isnan(bench)
    if not bench_valid.any():
        return np.full(returns.shape[1], np.nan)
    centred = np.where(bench_valid, bench - bench[bench_valid].mean(), 0.0)
    bench_mask = bench_valid.astype(np.float64)
    own = returns if complete else np.where(valid, returns, 0.0)
    if complete:
        count = np.full(returns.shape[1], float(bench_mask.sum()))
        sum_bench = np.full(returns.shape[1], centred.sum())
        sum_bench_sq = np.full(returns.shape[1], centred @ centred)
    else:
        mask = valid.astype(np.float64)
        count = bench_mask @ mask
        sum_bench = centred @ mask
        sum_bench_sq = (centred * centred) @ mask
    sum_own = bench_mask @ own
    sum_cross = centred @ own
    safe = np.maximum(count, 1.0)
    covariance = sum_cross - sum_own * sum_bench / safe
    variance = sum_bench_sq - sum_bench * sum_bench / safe
    enough = (count >= needed(window)) & (count >= 2) & (variance > _FLAT_VARIANCE * np.maximum(count - 1, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(enough, covariance / np.where(enough, variance, 1.0), np.nan)


def max_drawdown_pct(prices: np.ndarray, window: int = RISK_WINDOW) -> np.ndarray:
    """The largest peak-to-trough fall within the last `window + 1` prices, as a positive percent (0 = none)."""
    tail = prices[-(window + 1) :]
    if len(tail) == 0:
        return np.full(prices.shape[1:], np.nan)
    # one pass over the sessions, vectorized over symbols (faster than accumulating along axis 0)
    peak = tail[0].copy()
    worst = np.zeros(tail.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        for row in tail[1:]:
            np.fmax(peak, row, out=peak)
            np.fmax(worst, 1.0 - row / peak, out=worst)
    enough = (~np.isnan(tail)).sum(axis=0) >= needed(window + 1)
    return np.where(enough, np.maximum(worst, 0.0) * 100.0, np.nan)
