"""Rolling metrics: any measure of the metric set over a trailing window of a fixed number of periods.

Each window is measured with exactly the code and conventions of `metrics()`: the windows of a series are laid
out as the columns of one panel (a strided view, no copy) and measured in one vectorized pass. The result is
indexed by each window's last date, so it starts `window − 1` periods after the series does (empyrical's
`roll_*` functions do the same). In a frame, a window that is not fully inside a column's history is NaN.

>>> import pandas as pd
>>> rolling_metrics(pd.Series([0.01, 0.02, 0.03]), 2, names=["annual_return"], conventions=Conventions(
...     periods_per_year=1))["annual_return"].round(4).tolist()
[0.015, 0.025]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from marketdesk.analytics.benchmark import benchmark_for
from marketdesk.analytics.conventions import Conventions
from marketdesk.analytics.measures import DEFAULT
from marketdesk.analytics.metrics import measure, metric_keys
from marketdesk.analytics.panel import MIN_OBSERVATIONS, Returns, from_array, panel_of
from marketdesk.errors import Rejected

_DATED_KEYS = frozenset({"max_drawdown_days", "longest_drawdown_days"})
_CELLS_AT_ONCE = 2_000_000  # window × windows measured in one pass: about 16 MB per intermediate array


def default_rolling_names(conventions: Conventions = DEFAULT, *, benchmark: bool = False) -> tuple[str, ...]:
    """The main measures rolled by default."""
    label = conventions.tail_label
    names = ("annual_return", "annual_volatility", "sharpe", "sortino", "max_drawdown", f"var_{label}", f"cvar_{label}")
    return (*names, "beta", "alpha", "tracking_error", "information_ratio") if benchmark else names


def rolling_metrics(
    returns: pd.Series,
    window: int,
    benchmark: Any = None,
    conventions: Conventions = DEFAULT,
    names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Rolling measures of one series over `window` periods: one row per window end, one column per name."""
    panel = panel_of(returns)
    if not panel.single:
        raise Rejected("rolling_metrics() takes one series", hint="Use rolling() for one measure of many series.")
    chosen = _names(names, conventions, benchmark is not None)
    bench = None if benchmark is None else benchmark_for(panel, benchmark)
    values = panel.values[:, 0]
    _check_window(window, len(values))
    measured = _windows(values, bench, window, conventions)
    index = panel.index[window - 1 :]
    return pd.DataFrame({name: measured[name] for name in chosen}, index=index)


def rolling(
    returns: Returns, window: int, name: str, benchmark: Any = None, conventions: Conventions = DEFAULT
) -> Returns:
    """One rolling measure (`"sharpe"`, `"max_drawdown"`, `"var_95"`, `"beta"`, …) of a series or of every
    column of a frame."""
    panel = panel_of(returns)
    (chosen,) = _names([name], conventions, benchmark is not None)
    bench = None if benchmark is None else benchmark_for(panel, benchmark)
    rows = len(panel.index)
    _check_window(window, rows)
    out = np.full((rows - window + 1, len(panel.columns)), np.nan)
    for column in range(len(panel.columns)):
        first, last = int(panel.first[column]), int(panel.last[column])
        if last - first + 1 < window:
            continue
        part = panel.values[first : last + 1, column]
        part_bench = None if bench is None else bench[first : last + 1]
        out[first : last - window + 2, column] = _windows(part, part_bench, window, conventions)[chosen]
    index = panel.index[window - 1 :]
    if panel.single:
        return pd.Series(out[:, 0], index=index, name=chosen)
    return pd.DataFrame(out, index=index, columns=panel.columns)


def _windows(values: np.ndarray, bench: np.ndarray | None, window: int, conventions: Conventions) -> dict[str, Any]:
    stacked = sliding_window_view(values, window).T  # window × (number of windows), a view
    # each window has its own stretch of the benchmark, so the benchmark is a matrix of the same shape
    stacked_bench = None if bench is None else sliding_window_view(bench, window).T
    # measured a slice of windows at a time, so a long window over a long series needs bounded memory
    step = max(1, _CELLS_AT_ONCE // window)
    parts = []
    for start in range(0, stacked.shape[1], step):
        panel = from_array(stacked[:, start : start + step])
        part_bench = None if stacked_bench is None else stacked_bench[:, start : start + step]
        parts.append(measure(panel, part_bench, conventions).values)
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def _names(names: Sequence[str] | None, conventions: Conventions, with_benchmark: bool) -> tuple[str, ...]:
    if names is None:
        return default_rolling_names(conventions, benchmark=with_benchmark)
    known = [k for k in metric_keys(conventions, benchmark=with_benchmark) if k not in _DATED_KEYS]
    unknown = [n for n in names if n not in known]
    if unknown:
        need = (
            " (it needs a benchmark)" if with_benchmark is False and unknown[0] in metric_keys(benchmark=True) else ""
        )
        raise Rejected(f"cannot roll {unknown[0]!r}{need}", hint=f"Roll one of: {', '.join(known)}.")
    return tuple(names)


def _check_window(window: int, rows: int) -> None:
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < MIN_OBSERVATIONS:
        raise Rejected(f"the window must be a whole number of periods, at least {MIN_OBSERVATIONS}; got {window!r}")
    if window > rows:
        raise Rejected(
            f"the window ({window} periods) is longer than the series ({rows})", hint="Use a shorter window."
        )
