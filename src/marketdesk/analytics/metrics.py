"""The full metric set: `metrics()` for one series (a dict, ready for JSON) and `metrics_frame()` for many series
at once (one row per series), computed column-wise in one vectorized pass. Pure.

>>> import pandas as pd
>>> days = pd.bdate_range("2024-01-01", periods=4)
>>> m = metrics(pd.Series([0.01, -0.02, 0.015, 0.005], index=days))
>>> round(m["max_drawdown"], 6), m["max_drawdown_days"]  # from the 1st (peak) to the 4th (still under water)
(-0.02, 3)

A value that is undefined for the input (a Sharpe ratio of returns that never vary, a Calmar ratio without a
drawdown, day counts without dates) is None in `metrics()`, and `missing` says why; `metrics_frame()` has NaN
there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from marketdesk.analytics.benchmark import benchmark_for, relative_of
from marketdesk.analytics.conventions import Conventions, VarMethod
from marketdesk.analytics.drawdown import drawdowns_of
from marketdesk.analytics.measures import (
    DEFAULT,
    cagr_of,
    deviations_of,
    divide,
    downside_of,
    is_constant,
    mean_of,
    moments_of,
    omega_parts_of,
    shape_of,
    std_of,
    wealth_of,
)
from marketdesk.analytics.panel import Panel, panel_of
from marketdesk.analytics.tail import cornish_fisher_of, historical_of, parametric_of
from marketdesk.errors import Rejected

REQUIRED_KEYS = (
    "annual_return",
    "cagr",
    "annual_volatility",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown",
    "max_drawdown_days",
    "var_95",
    "cvar_95",
)
"""The keys every metric set has at the default 95% confidence (`var_99`, … at other confidences)."""

BENCHMARK_KEYS = (
    "beta",
    "alpha",
    "correlation",
    "tracking_error",
    "information_ratio",
    "up_capture",
    "down_capture",
)
COUNT_KEYS = frozenset({"observations", "max_drawdown_days", "max_drawdown_periods", "longest_drawdown_days"})

_UNVARYING = "undefined: the returns do not vary (volatility is zero)"


def metric_keys(conventions: Conventions = DEFAULT, *, benchmark: bool = False) -> tuple[str, ...]:
    """The keys of a metric set, in order."""
    label = conventions.tail_label
    keys = (
        "annual_return",
        "cagr",
        "total_return",
        "annual_volatility",
        "sharpe",
        "sortino",
        "calmar",
        "omega",
        "max_drawdown",
        "max_drawdown_days",
        "max_drawdown_periods",
        "longest_drawdown_days",
        "downside_deviation",
        "skewness",
        "excess_kurtosis",
        f"var_{label}",
        f"cvar_{label}",
        "observations",
    )
    return (*keys, *BENCHMARK_KEYS) if benchmark else keys


@dataclass(frozen=True)
class Measured:
    """The metric set of every column of a panel (`values`: key → array of length N) and the reasons of the
    undefined ones (`reasons`: key → array of str, "" where defined)."""

    values: dict[str, np.ndarray]
    reasons: dict[str, np.ndarray]


def measure(panel: Panel, bench: np.ndarray | None, conventions: Conventions) -> Measured:
    """Compute the whole metric set for every column of `panel` in one pass."""
    periods = conventions.periods_per_year
    root = np.sqrt(periods)
    rf = conventions.risk_free_per_period
    mean = mean_of(panel)
    deviations = deviations_of(panel, mean)
    constant = is_constant(panel)
    std = std_of(panel, deviations, constant)
    m2, m3, m4 = moments_of(panel, deviations)
    skew, kurtosis = shape_of(m2, m3, m4, constant)
    wealth = wealth_of(panel)
    final = wealth[-1]
    growth = cagr_of(final, panel.count, conventions)
    downside, _ = downside_of(panel, rf, conventions.downside)
    gains, losses = omega_parts_of(panel, rf)
    drawdowns = drawdowns_of(panel, wealth)
    depth = drawdowns.max_drawdown
    alpha = conventions.tail_probability
    if conventions.var_method is VarMethod.HISTORICAL:
        var, cvar = historical_of(panel, alpha)
    elif conventions.var_method is VarMethod.PARAMETRIC:
        var, cvar = parametric_of(mean, std, alpha)
    else:
        var, cvar = cornish_fisher_of(mean, std, skew, kurtosis, alpha)
    label = conventions.tail_label
    values: dict[str, np.ndarray] = {
        "annual_return": mean * periods,
        "cagr": growth,
        "total_return": final - 1.0,
        "annual_volatility": std * root,
        "sharpe": divide(mean - rf, std) * root,
        "sortino": divide(mean - rf, downside) * root,
        "calmar": divide(growth, np.abs(depth)),
        "omega": divide(gains, losses),
        "max_drawdown": depth,
        "max_drawdown_days": drawdowns.days,
        "max_drawdown_periods": drawdowns.periods,
        "longest_drawdown_days": drawdowns.longest_days,
        "downside_deviation": downside * root,
        "skewness": skew,
        "excess_kurtosis": kurtosis,
        f"var_{label}": var,
        f"cvar_{label}": cvar,
        "observations": panel.count.astype(float),
    }
    none = np.full(len(mean), "", dtype=object)
    no_dates = "" if panel.days is not None else "needs dates: the returns have no date index"
    reasons: dict[str, np.ndarray] = {
        "sharpe": np.where(std == 0, _UNVARYING, none),
        "sortino": np.where(
            downside == 0, "undefined: no return fell below the target (downside deviation is zero)", none
        ),
        "calmar": np.where(depth == 0, "undefined: there was no drawdown", none),
        "omega": np.where(losses == 0, "undefined: no return fell below the threshold", none),
        "skewness": np.where(constant, _UNVARYING, none),
        "excess_kurtosis": np.where(constant, _UNVARYING, none),
        "max_drawdown_days": np.full(len(mean), no_dates, dtype=object),
        "longest_drawdown_days": np.full(len(mean), no_dates, dtype=object),
    }
    if bench is not None:
        found = relative_of(panel, bench, conventions, deviations=deviations, constant=constant)
        for key in BENCHMARK_KEYS:
            values[key] = getattr(found, key)
        flat_benchmark = "undefined: the benchmark does not vary"
        reasons["beta"] = reasons["alpha"] = np.where(found.benchmark_variance == 0, flat_benchmark, none)
        reasons["correlation"] = np.where(
            found.benchmark_variance == 0, flat_benchmark, np.where(found.returns_variance == 0, _UNVARYING, none)
        )
        reasons["information_ratio"] = np.where(
            found.tracking_error == 0,
            "undefined: the returns track the benchmark exactly (tracking error is zero)",
            none,
        )
        reasons["up_capture"] = np.where(found.up_periods == 0, "undefined: the benchmark never rose", none)
        reasons["down_capture"] = np.where(found.down_periods == 0, "undefined: the benchmark never fell", none)
    return Measured(values=values, reasons=reasons)


def metrics(returns: Any, benchmark: Any = None, conventions: Conventions = DEFAULT) -> dict[str, Any]:
    """The full metric set of one series of returns, as plain numbers.

    `returns` is a Series of periodic returns (fractions), ideally with a DatetimeIndex; `benchmark` an optional
    Series of the benchmark's returns (aligned by date, see `marketdesk.analytics.benchmark`). The dict holds
    every key of `metric_keys()` (ints for the counts), None where a value is undefined, `missing`
    (key → why it is None), and `conventions`.
    """
    if isinstance(returns, pd.DataFrame):
        if returns.shape[1] != 1:
            raise Rejected(
                f"metrics() takes one series; got {returns.shape[1]} columns",
                hint="Use metrics_frame() for many series at once.",
            )
        returns = returns.iloc[:, 0]
    panel = panel_of(returns)
    bench = None if benchmark is None else benchmark_for(panel, benchmark)
    measured = measure(panel, bench, conventions)
    out: dict[str, Any] = {}
    missing: dict[str, str] = {}
    for key in metric_keys(conventions, benchmark=bench is not None):
        value = float(measured.values[key][0])
        reason = str(measured.reasons[key][0]) if key in measured.reasons else ""
        if reason or not np.isfinite(value):
            out[key] = None
            missing[key] = reason or "undefined: no finite number for this series (values too small or too large)"
        else:
            out[key] = round(value) if key in COUNT_KEYS else value
    out["start"] = _day(panel.index[0])
    out["end"] = _day(panel.index[-1])
    out["missing"] = missing
    out["conventions"] = conventions.to_dict()
    return out


def metrics_frame(returns: pd.DataFrame, benchmark: Any = None, conventions: Conventions = DEFAULT) -> pd.DataFrame:
    """The full metric set of every column of `returns` at once: one row per series, one column per key.

    Columns may start and end on different dates (NaN before a series' first and after its last return);
    a gap inside a series is refused. Undefined values are NaN (see `metrics()` for the reasons).
    """
    if isinstance(returns, pd.Series):
        returns = returns.to_frame()
    panel = panel_of(returns)
    bench = None if benchmark is None else benchmark_for(panel, benchmark)
    measured = measure(panel, bench, conventions)
    keys = metric_keys(conventions, benchmark=bench is not None)
    table = pd.DataFrame({key: measured.values[key] for key in keys}, index=panel.columns)
    table.index.name = "series"
    return table


def compare(
    portfolios: Mapping[str, pd.Series],
    benchmark: pd.Series | None = None,
    conventions: Conventions = DEFAULT,
    *,
    start: date | str | None = None,
    end: date | str | None = None,
) -> pd.DataFrame:
    """The metric sets of several return series side by side over one date range (inclusive), with an optional
    benchmark: one row per portfolio. Each series keeps its own dates; none is filled in."""
    if not portfolios:
        raise Rejected("nothing to compare", hint="Give at least one named return series.")
    frame = pd.concat({name: _series(name, series) for name, series in portfolios.items()}, axis=1, sort=True)
    if start is not None or end is not None:
        if not isinstance(frame.index, pd.DatetimeIndex):
            raise Rejected("a date range needs returns indexed by date", hint="Give Series with a DatetimeIndex.")
        frame = frame.loc[pd.Timestamp(start) if start else None : pd.Timestamp(end) if end else None]
        if frame.empty:
            raise Rejected(f"no returns between {start or 'the start'} and {end or 'the end'}")
    frame = frame.dropna(how="all")
    return metrics_frame(frame, benchmark, conventions)


def _series(name: str, series: pd.Series) -> pd.Series:
    if not isinstance(series, pd.Series):
        raise Rejected(f"portfolio {name!r} is not a pandas Series of returns")
    return series


def _day(label: Any) -> str | int | None:
    if isinstance(label, pd.Timestamp):
        return label.date().isoformat()
    if isinstance(label, int | np.integer):
        return int(label)
    return str(label)
