"""Price-window metrics for the whole universe at once: returns, averages, the 52-week high and RSI.

Every function takes (t × n) price matrices, one column per symbol, oldest session first, and returns one
value per symbol for the last session. The shared conventions:

- A missing bar is carried forward over at most `STALE_SESSIONS` sessions (`fill_forward`), so a holiday or
  a short data gap does not blank a symbol, while a symbol whose last bar is older than that has no price.
- A window statistic (an average, the 52-week high, volatility …) needs at least `MIN_COVERAGE` of its
  sessions to have a price; otherwise it is NaN. A symbol listed for six months has no 200-day average.
- What is measured from the latest price (price, returns, distance from the averages and the high, RSI) needs
  a price on the last session after carrying forward; pure window statistics (volatility, beta, drawdown,
  dollar volume) only need their coverage.
- NaN means "not computable"; no function here returns ±inf or warns.
"""

from __future__ import annotations

import math

import numpy as np
import talib

SESSIONS_PER_YEAR = 252
STALE_SESSIONS = 5
MIN_COVERAGE = 0.9
RSI_PERIOD = 14
HIGH_WINDOW = 252  # the 52-week high
# TA-Lib's public functions are wrapped to accept pandas and polars series; that wrapper costs twice the
# RSI itself on a year of prices, so call the C function underneath (functools.wraps keeps it).
_TALIB_RSI = getattr(talib.RSI, "__wrapped__", talib.RSI)
RETURN_SESSIONS: dict[str, int] = {
    "return_1m_pct": 21,
    "return_3m_pct": 63,
    "return_6m_pct": 126,
    "return_12m_pct": 252,
}


def positive_or_nan(values: np.ndarray) -> np.ndarray:
    """Return `values` as float64 with every non-finite or non-positive entry replaced by NaN (prices)."""
    out = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        good = out > 0
        good &= out < np.inf
    if not good.all():
        out = np.where(good, out, np.nan)
    return out


def fill_forward(prices: np.ndarray, limit: int = STALE_SESSIONS) -> np.ndarray:
    """Carry each column's last price forward over at most `limit` missing sessions.

    Works on a (t × n) matrix or a length-t vector. Leading NaN (before a symbol's first bar) stays NaN.

    >>> fill_forward(np.array([np.nan, 1.0, np.nan, np.nan, 2.0]), limit=1).tolist()
    [nan, 1.0, 1.0, nan, 2.0]
    """
    matrix = np.asarray(prices, dtype=np.float64)
    vector = matrix.ndim == 1
    if vector:
        matrix = matrix[:, None]
    missing = np.isnan(matrix)
    # only columns with a gap after a bar need work; most universes have none
    gaps = (missing[1:] & ~missing[:-1]).any(axis=0) if len(matrix) > 1 else np.zeros(matrix.shape[1], dtype=bool)
    columns = np.flatnonzero(gaps)
    if columns.size == 0:
        return matrix[:, 0] if vector else matrix
    out = matrix.copy()
    sub = matrix[:, columns]
    rows = np.arange(len(sub))[:, None]
    last_bar = np.where(np.isnan(sub), -1, rows)
    np.maximum.accumulate(last_bar, axis=0, out=last_bar)
    filled = sub[np.maximum(last_bar, 0), np.arange(len(columns))[None, :]]
    filled[(last_bar < 0) | (rows - last_bar > limit)] = np.nan
    out[:, columns] = filled
    return out[:, 0] if vector else out


def needed(window: int, min_coverage: float = MIN_COVERAGE) -> int:
    """How many priced sessions a window of `window` sessions needs (at least 1)."""
    return max(1, math.ceil(window * min_coverage))


def window_mean(matrix: np.ndarray, window: int, min_coverage: float = MIN_COVERAGE) -> np.ndarray:
    """Mean of each column over its last `window` rows, ignoring NaN; NaN with too few values."""
    tail = matrix[-window:] if window > 0 else matrix[:0]
    valid = ~np.isnan(tail)
    if valid.all():
        count, total = np.full(tail.shape[1:], len(tail)), tail.sum(axis=0)
    else:
        count, total = valid.sum(axis=0), np.where(valid, tail, 0.0).sum(axis=0)
    enough = (count >= needed(window, min_coverage)) & (len(tail) > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(enough, total / np.maximum(count, 1), np.nan)


def last_row(matrix: np.ndarray) -> np.ndarray:
    """The last session's values (all NaN when there are no sessions)."""
    if len(matrix) == 0:
        return np.full(matrix.shape[1:], np.nan)
    return np.asarray(matrix[-1], dtype=np.float64)


def trailing_return_pct(adj_close: np.ndarray, sessions: int) -> np.ndarray:
    """Total return over the last `sessions` sessions in percent, from (filled) adjusted closes.

    Needs a price on the last session and `sessions` sessions earlier.
    """
    if len(adj_close) <= sessions:
        return np.full(adj_close.shape[1:], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (adj_close[-1] / adj_close[-1 - sessions] - 1.0) * 100.0


def above_average_pct(adj_close: np.ndarray, window: int) -> np.ndarray:
    """How far the last (filled) adjusted close is above (+) or below (−) its `window`-session average, in percent."""
    average = window_mean(adj_close, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (last_row(adj_close) / average - 1.0) * 100.0


def dip_below_high_pct(adj_close: np.ndarray, adj_high: np.ndarray, window: int = HIGH_WINDOW) -> np.ndarray:
    """How far the last adjusted close is below the highest adjusted high of the last `window` sessions, in percent.

    The high is the larger of each session's adjusted high and adjusted close (so a missing or bad high never
    puts the close above the "high"); 0 means at the high.
    """
    if len(adj_close) == 0:
        return np.full(adj_close.shape[1:], np.nan)
    closes = adj_close[-window:]
    highs = np.fmax(adj_high[-window:], closes)
    peak = np.fmax.reduce(highs, axis=0)
    enough = (~np.isnan(closes)).sum(axis=0) >= needed(window)
    with np.errstate(invalid="ignore", divide="ignore"):
        dip = (1.0 - adj_close[-1] / peak) * 100.0
    return np.where(enough, np.maximum(dip, 0.0), np.nan)


def rsi_latest(adj_close: np.ndarray, period: int = RSI_PERIOD) -> np.ndarray:
    """Wilder's RSI(`period`) on the last session for each column, computed by `talib.RSI`.

    Each column's RSI runs over its last unbroken stretch of prices (TA-Lib cannot step over a gap); it needs
    more than `period` prices and a price on the last session. Accepts a (t × n) matrix or a length-t vector.

    TA-Lib seeds the averages with the simple mean of the first `period` changes, then smooths by
    1/`period` (Wilder), as in Achelis' *Technical Analysis from A to Z*.
    """
    matrix = np.asarray(adj_close, dtype=np.float64)
    vector = matrix.ndim == 1
    if vector:
        matrix = matrix[:, None]
    t, n = matrix.shape
    out = np.full(n, np.nan)
    if t <= period:
        return out[0:1] if vector else out
    columns = np.ascontiguousarray(matrix.T)
    missing = np.isnan(columns)
    # the start of each column's last unbroken stretch: one past its last NaN
    last_nan = np.where(missing.any(axis=1), t - 1 - np.argmax(missing[:, ::-1], axis=1), -1)
    start = last_nan + 1
    usable = np.flatnonzero(t - start > period)
    for j in usable.tolist():
        out[j] = _TALIB_RSI(columns[j, start[j] :], period)[-1]
    return out[0:1] if vector else out
