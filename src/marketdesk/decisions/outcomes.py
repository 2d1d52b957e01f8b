"""Outcomes of a verdict: the symbol's return against the benchmark's over 30, 60 and 90 days. Pure: arrays in,
numbers out; no I/O, no clock.

Conventions (the same for the decision log and the historical backtest):

- A window starts at the close of the entry session (the session of the logged price, or of the rebalance
  date) and ends at the close of the last session on or before `entry + horizon` calendar days.
- A window is measurable once the prices reach its target day: the benchmark has a bar dated on or after
  `entry + horizon` (a target on a weekend waits for Monday's bar, so a late-arriving Friday is never missed).
- Returns are total returns from adjusted closes (splits and dividends): `adj_exit / adj_entry − 1`. The
  symbol's exit price is its last close on or before the exit session, but no more than `STALE_SESSIONS`
  sessions old; an older one (a halted or delisted name) leaves the window without an outcome.
- Excess return = symbol return − benchmark return over the same window. A win is an excess return above 0
  (the name beat the benchmark); a tie is not a win.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

HORIZONS_DAYS: tuple[int, ...] = (30, 60, 90)
STALE_SESSIONS = 5


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one verdict did over one window."""

    horizon_days: int
    end_date: date  # the session whose close ended the window
    symbol_return: float
    benchmark_return: float

    @property
    def excess_return(self) -> float:
        return self.symbol_return - self.benchmark_return

    @property
    def win(self) -> bool:
        return self.excess_return > 0


def _day(value: date) -> np.datetime64:
    return np.datetime64(value, "D")


def target_day(entry: date, horizon_days: int) -> date:
    """The calendar day a window of `horizon_days` ends on (its exit session is the last one on or before)."""
    return entry + timedelta(days=horizon_days)


def entry_row(dates: np.ndarray, entry: date) -> int | None:
    """The row of the last session on or before `entry` (None when `dates` start after it)."""
    row = int(np.searchsorted(dates, _day(entry), side="right")) - 1
    return row if row >= 0 else None


def exit_row(dates: np.ndarray, entry: date, horizon_days: int, reached: date | None = None) -> int | None:
    """The row of the window's exit session, or None while the prices have not reached its target day.

    `reached` is the last day the benchmark has a bar for (default: the last of `dates`)."""
    if len(dates) == 0:
        return None
    target = _day(target_day(entry, horizon_days))
    if (dates[-1] if reached is None else _day(reached)) < target:
        return None
    start = entry_row(dates, entry)
    row = int(np.searchsorted(dates, target, side="right")) - 1
    return row if start is not None and row > start else None


def last_valid_rows(values: np.ndarray, row: int) -> np.ndarray:
    """Per column of `values` (sessions × symbols), the row of the last finite value at or before `row`
    (−1 where there is none)."""
    block = np.isfinite(values[: row + 1])
    if block.shape[0] == 0:
        return np.full(values.shape[1], -1)
    flipped = np.argmax(block[::-1], axis=0)
    found = block.any(axis=0)
    return np.where(found, row - flipped, -1)


def window_returns(values: np.ndarray, start: int, end: int) -> np.ndarray:
    """Each column's return from its close at row `start` to its last close at or before row `end`; NaN where
    there is no close at `start`, or the exit close is more than STALE_SESSIONS sessions old or not after
    `start`."""
    entry = values[start]
    last = last_valid_rows(values, end)
    fresh = (last > start) & (end - last <= STALE_SESSIONS)
    exit_values = np.where(fresh, values[np.maximum(last, 0), np.arange(values.shape[1])], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = exit_values / entry - 1.0
    out[~(np.isfinite(entry) & (entry > 0))] = np.nan
    return out


def last_date(dates: np.ndarray, values: np.ndarray) -> date | None:
    """The day of the last finite value of one series (None when it has none)."""
    rows = np.flatnonzero(np.isfinite(values))
    return None if len(rows) == 0 else dates[rows[-1]].astype("datetime64[D]").item()


def measure(
    dates: np.ndarray,
    symbol_adj: np.ndarray,
    benchmark_adj: np.ndarray,
    entry: date,
    horizons: Sequence[int] = HORIZONS_DAYS,
) -> dict[int, Outcome]:
    """The outcomes of one verdict entered at the close of `entry`, for each horizon that can be measured.

    `dates` are the sessions (datetime64[D], ascending) of both series; `symbol_adj` and `benchmark_adj` their
    adjusted closes (NaN where there is no bar). Both must have their close on the entry session; a horizon
    waits until the benchmark has a bar on or after its target day.

    >>> days = np.array(["2024-01-02", "2024-02-01", "2024-02-02"], dtype="datetime64[D]")
    >>> out = measure(days, np.array([100.0, 110.0, 111.0]), np.array([50.0, 51.0, 52.0]), date(2024, 1, 2), (30,))
    >>> round(out[30].symbol_return, 4), round(out[30].benchmark_return, 4), str(out[30].end_date)
    (0.1, 0.02, '2024-02-01')
    """
    start = entry_row(dates, entry)
    if start is None or dates[start] != _day(entry):
        return {}
    both = np.column_stack([symbol_adj, benchmark_adj]).astype(float)
    reached = last_date(dates, both[:, 1])
    out: dict[int, Outcome] = {}
    for horizon in horizons:
        end = None if reached is None else exit_row(dates, entry, horizon, reached)
        if end is None:
            continue
        returns = window_returns(both, start, end)
        if not np.isfinite(returns).all():
            continue
        end_date = dates[end].astype("datetime64[D]").item()
        out[horizon] = Outcome(horizon, end_date, float(returns[0]), float(returns[1]))
    return out
