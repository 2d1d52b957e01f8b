"""Measures against a benchmark: beta, alpha, correlation, tracking error, information ratio and up/down
capture. Vectorized over columns; pure.

Definitions (r the returns, b the benchmark's, rf the per-period risk-free rate, P periods per year):
- **beta** = cov(r, b) / var(b) over the dates both have.
- **alpha** (Jensen's, annualized): the per-period a = mean(r − rf) − beta · mean(b − rf), then
  a × P (`arithmetic`, the default; quantstats' `greeks`) or (1 + a)^P − 1 (`compound`; empyrical's `alpha`).
  With rf = 0 and arithmetic annualization, alpha = annual_return − beta × the benchmark's annual_return.
- **tracking error** = std(r − b) × sqrt(P) (ddof = 1); **information ratio** = mean(r − b) / std(r − b) ×
  sqrt(P), annualized (quantstats' `information_ratio` and empyrical's `excess_sharpe` are per period).
- **up capture** = CAGR of r on the dates b > 0 / CAGR of b on those dates, each over its own count of
  periods; **down capture** the same for b < 0 (empyrical's `up_capture` and `down_capture`).

The benchmark is a series of returns. On a date index it is put on the returns' calendar: it must have a
return on every date the returns have, and benchmark returns on dates the returns skip are compounded into
the next date, so both always describe the same periods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from marketdesk.analytics.conventions import AlphaAnnualization, Conventions
from marketdesk.analytics.measures import DEFAULT, divide
from marketdesk.analytics.panel import Panel, Returns, label_text, panel_of
from marketdesk.errors import Rejected


def benchmark_for(panel: Panel, benchmark: Any) -> np.ndarray:
    """The benchmark's return for each row of `panel` (NaN on rows where no column has an observation)."""
    if isinstance(benchmark, pd.DataFrame):
        if benchmark.shape[1] != 1:
            raise Rejected("the benchmark must be one series", hint="Pass a Series or a one-column DataFrame.")
        benchmark = benchmark.iloc[:, 0]
    checked = panel_of(benchmark, what="benchmark returns")
    values = checked.values[:, 0]
    rows = len(panel.index)
    needed = np.zeros(rows, dtype=bool)
    needed[int(panel.first.min()) : int(panel.last.max()) + 1] = True
    ours, theirs = panel.index, checked.index
    if not (isinstance(ours, pd.DatetimeIndex) and isinstance(theirs, pd.DatetimeIndex)):
        if len(ours) != len(theirs) or not ours.equals(theirs):
            raise Rejected(
                "the benchmark's index does not match the returns'",
                hint="Give both the same dates (a DatetimeIndex lets the benchmark be aligned by date).",
            )
        return np.where(needed, values, np.nan)
    if (ours.tz is None) != (theirs.tz is None):
        raise Rejected(
            "one of the returns and the benchmark has a time zone and the other has none",
            hint="Give both dates in the same form.",
        )
    if ours.equals(theirs):
        return np.where(needed, values, np.nan)
    position = theirs.get_indexer(ours)
    absent = needed & (position < 0)
    if absent.any():
        raise Rejected(
            f"the benchmark has no return for {int(absent.sum())} of the dates, the first {label_text(ours[int(absent.argmax())])}",
            hint="Give a benchmark that covers every date of the returns.",
        )
    out = np.full(rows, np.nan)
    at = np.flatnonzero(needed)
    where = position[at]
    out[at] = values[where]
    skipped = np.flatnonzero(np.diff(where) > 1) + 1  # the benchmark has dates between these rows and the last
    if skipped.size:
        wealth = np.cumprod(1.0 + values)
        out[at[skipped]] = wealth[where[skipped]] / wealth[where[skipped - 1]] - 1.0
    return out


@dataclass(frozen=True)
class Relative:
    """The benchmark measures of each column (arrays of length N), with the parts their reasons need."""

    beta: np.ndarray
    alpha: np.ndarray
    correlation: np.ndarray
    tracking_error: np.ndarray
    information_ratio: np.ndarray
    up_capture: np.ndarray
    down_capture: np.ndarray
    benchmark_variance: np.ndarray
    returns_variance: np.ndarray
    up_periods: np.ndarray
    down_periods: np.ndarray


def relative_of(
    panel: Panel,
    bench: np.ndarray,
    conventions: Conventions,
    *,
    deviations: np.ndarray | None = None,
    constant: np.ndarray | None = None,
) -> Relative:
    """Every benchmark measure of every column at once. `bench` comes from `benchmark_for` (one benchmark for
    all columns), or is a T × N matrix (a benchmark per column, as rolling windows have). `deviations` and
    `constant` (from `measures`) save recomputing them."""
    if bench.ndim == 1 and panel.zeroed.min() > -1:
        return _shared(panel, bench, conventions, deviations, constant)
    return _per_column(
        panel, np.broadcast_to(bench.reshape(-1, 1) if bench.ndim == 1 else bench, panel.valid.shape), conventions
    )


def _shared(
    panel: Panel,
    bench: np.ndarray,
    conventions: Conventions,
    deviations: np.ndarray | None,
    constant: np.ndarray | None,
) -> Relative:
    # One benchmark for every column: what depends on the benchmark alone is computed once per distinct
    # (first, last) window of the columns, and what mixes the two is a matrix-vector product.
    valid, count, periods = panel.valid, panel.count, conventions.periods_per_year
    dense = bool(valid.all())
    b = np.nan_to_num(bench, nan=0.0)
    windows, which = np.unique(np.stack([panel.first, panel.last], axis=1), axis=0, return_inverse=True)
    found = np.array([_window_stats(b[start : end + 1]) for start, end in windows]).reshape(len(windows), -1)
    mean_b, variance_b, up_periods, down_periods, up_log_b, down_log_b = found[which.reshape(-1)].T
    r = panel.zeroed
    mean_r = r.sum(axis=0) / count
    if deviations is None:
        deviations = r - mean_r if dense else np.where(valid, r - mean_r, 0.0)
    dr = deviations
    if constant is None:
        constant = _constant(r, valid)
    covariance = (dr.T @ b - mean_b * dr.sum(axis=0)) / count
    variance_r = np.where(constant, 0.0, np.einsum("ij,ij->j", dr, dr) / count)
    active = r - b.reshape(-1, 1)
    if not dense:
        active = np.where(valid, active, 0.0)
    mean_active = active.sum(axis=0) / count
    da = active - mean_active if dense else np.where(valid, active - mean_active, 0.0)
    std_active = np.sqrt(np.einsum("ij,ij->j", da, da) / (count - 1))
    std_active = np.where(_constant(active, valid), 0.0, std_active)
    growth = np.log1p(r)  # 0 outside a column's observations
    up_log_r = (b > 0).astype(float) @ growth
    down_log_r = (b < 0).astype(float) @ growth
    with np.errstate(divide="ignore", invalid="ignore"):
        up_capture = _capture_ratio(up_log_r, up_log_b, up_periods, periods)
        down_capture = _capture_ratio(down_log_r, down_log_b, down_periods, periods)
    return _finish(
        panel, conventions, mean_r, mean_b, covariance, variance_b, variance_r, mean_active, std_active,
        up_capture, down_capture, up_periods, down_periods,
    )  # fmt: skip


def _window_stats(segment: np.ndarray) -> tuple[float, ...]:
    mean = segment.sum() / len(segment)
    deviations = segment - mean
    variance = 0.0 if segment.max() == segment.min() else float(deviations @ deviations) / len(segment)
    up, down = segment > 0, segment < 0
    return (
        mean,
        variance,
        float(up.sum()),
        float(down.sum()),
        float(np.log1p(segment[up]).sum()),
        float(np.log1p(segment[down]).sum()),
    )


def _capture_ratio(log_r: np.ndarray, log_b: np.ndarray, count: np.ndarray, periods: float) -> np.ndarray:
    exponent = periods / np.where(count > 0, count, 1)
    with np.errstate(over="ignore", invalid="ignore"):
        cagr_r = np.expm1(log_r * exponent)
        cagr_b = np.expm1(log_b * exponent)
    return np.where(count > 0, divide(cagr_r, cagr_b), np.nan)


def _per_column(panel: Panel, b: np.ndarray, conventions: Conventions) -> Relative:
    valid, count, periods = panel.valid, panel.count, conventions.periods_per_year
    dense = bool(valid.all())
    b = b if dense else np.where(valid, b, 0.0)
    r = panel.zeroed
    mean_r = r.sum(axis=0) / count
    mean_b = b.sum(axis=0) / count
    dr = r - mean_r if dense else np.where(valid, r - mean_r, 0.0)
    db = b - mean_b if dense else np.where(valid, b - mean_b, 0.0)
    covariance = np.einsum("ij,ij->j", dr, db) / count
    variance_b = np.where(_constant(b, valid), 0.0, np.einsum("ij,ij->j", db, db) / count)
    variance_r = np.where(_constant(r, valid), 0.0, np.einsum("ij,ij->j", dr, dr) / count)
    active = r - b
    mean_active = active.sum(axis=0) / count
    da = active - mean_active if dense else np.where(valid, active - mean_active, 0.0)
    std_active = np.sqrt(np.einsum("ij,ij->j", da, da) / (count - 1))
    std_active = np.where(_constant(active, valid), 0.0, std_active)
    up_capture, up_periods = _capture(r, b, valid & (b > 0), periods)
    down_capture, down_periods = _capture(r, b, valid & (b < 0), periods)
    return _finish(
        panel, conventions, mean_r, mean_b, covariance, variance_b, variance_r, mean_active, std_active,
        up_capture, down_capture, up_periods, down_periods,
    )  # fmt: skip


def _finish(
    panel: Panel,
    conventions: Conventions,
    mean_r: np.ndarray,
    mean_b: np.ndarray,
    covariance: np.ndarray,
    variance_b: np.ndarray,
    variance_r: np.ndarray,
    mean_active: np.ndarray,
    std_active: np.ndarray,
    up_capture: np.ndarray,
    down_capture: np.ndarray,
    up_periods: np.ndarray,
    down_periods: np.ndarray,
) -> Relative:
    periods = conventions.periods_per_year
    beta = divide(covariance, variance_b)
    rf = conventions.risk_free_per_period
    per_period = (mean_r - rf) - beta * (mean_b - rf)
    if conventions.alpha_annualization is AlphaAnnualization.COMPOUND:
        alpha = np.power(1.0 + per_period, periods) - 1.0
    else:
        alpha = per_period * periods
    return Relative(
        beta=beta,
        alpha=alpha,
        correlation=divide(covariance, np.sqrt(variance_b * variance_r)),
        tracking_error=std_active * np.sqrt(periods),
        information_ratio=divide(mean_active, std_active) * np.sqrt(periods),
        up_capture=up_capture,
        down_capture=down_capture,
        benchmark_variance=variance_b,
        returns_variance=variance_r,
        up_periods=up_periods,
        down_periods=down_periods,
    )


def _constant(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    high = np.where(valid, values, -np.inf).max(axis=0)
    low = np.where(valid, values, np.inf).min(axis=0)
    return np.asarray(high == low)


def _capture(r: np.ndarray, b: np.ndarray, chosen: np.ndarray, periods: float) -> tuple[np.ndarray, np.ndarray]:
    count = chosen.sum(axis=0)
    growth_r = np.where(chosen, 1.0 + r, 1.0).prod(axis=0)
    growth_b = np.where(chosen, 1.0 + b, 1.0).prod(axis=0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        exponent = periods / np.where(count > 0, count, 1)
        cagr_r = np.power(growth_r, exponent) - 1.0
        cagr_b = np.power(growth_b, exponent) - 1.0
    return np.where(count > 0, divide(cagr_r, cagr_b), np.nan), count


def _relative(returns: Returns, benchmark: Any, conventions: Conventions) -> tuple[Panel, Relative]:
    panel = panel_of(returns)
    return panel, relative_of(panel, benchmark_for(panel, benchmark), conventions)


def beta(returns: Returns, benchmark: Any, conventions: Conventions = DEFAULT) -> Any:
    """cov(r, b) / var(b). NaN when the benchmark does not vary.

    >>> round(beta([0.02, -0.02, 0.04], [0.01, -0.01, 0.02]), 9)
    2.0
    """
    panel, found = _relative(returns, benchmark, conventions)
    return panel.result(found.beta)


def alpha(returns: Returns, benchmark: Any, conventions: Conventions = DEFAULT) -> Any:
    """Jensen's alpha, annualized as `conventions.alpha_annualization` says (see the module's docstring)."""
    panel, found = _relative(returns, benchmark, conventions)
    return panel.result(found.alpha)


def correlation(returns: Returns, benchmark: Any, conventions: Conventions = DEFAULT) -> Any:
    """Pearson's correlation of the returns with the benchmark's."""
    panel, found = _relative(returns, benchmark, conventions)
    return panel.result(found.correlation)


def tracking_error(returns: Returns, benchmark: Any, conventions: Conventions = DEFAULT) -> Any:
    """std(r − b) × sqrt(P), ddof = 1."""
    panel, found = _relative(returns, benchmark, conventions)
    return panel.result(found.tracking_error)


def information_ratio(returns: Returns, benchmark: Any, conventions: Conventions = DEFAULT) -> Any:
    """mean(r − b) / std(r − b) × sqrt(P). NaN when the tracking error is zero."""
    panel, found = _relative(returns, benchmark, conventions)
    return panel.result(found.information_ratio)


def up_capture(returns: Returns, benchmark: Any, conventions: Conventions = DEFAULT) -> Any:
    """The CAGR of the returns over the benchmark's up periods / the benchmark's CAGR over them."""
    panel, found = _relative(returns, benchmark, conventions)
    return panel.result(found.up_capture)


def down_capture(returns: Returns, benchmark: Any, conventions: Conventions = DEFAULT) -> Any:
    """The CAGR of the returns over the benchmark's down periods / the benchmark's CAGR over them."""
    panel, found = _relative(returns, benchmark, conventions)
    return panel.result(found.down_capture)
