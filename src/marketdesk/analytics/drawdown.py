"""Drawdowns: the underwater series, the maximum drawdown and how long it lasted. Vectorized over columns; pure.

Conventions (docs/analytics.md):
- Wealth starts at 1 *before* the first return, so a loss on the first day is a drawdown from that start.
- The drawdown at t is wealth[t] / max(1, wealth[0..t]) − 1, in [−1, 0].
- A drawdown's **peak** is the last date at which wealth stood at its running high before the trough; the
  start, which has no date of its own, is dated at the first return's date. It **recovers** on the first date
  wealth is back at or above that high. Its duration runs from the peak to the recovery, or to the last
  observation when it has not recovered: in calendar days (`days`, only with a date index) and in periods.
- `max_drawdown_days` is the duration of the deepest drawdown (the first, if two are equally deep);
  `longest_drawdown_days` is the longest of all drawdowns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from marketdesk.analytics.conventions import Conventions
from marketdesk.analytics.measures import DEFAULT, cagr_of, divide, wealth_of
from marketdesk.analytics.panel import Panel, Returns, panel_of


@dataclass(frozen=True)
class Drawdowns:
    """The drawdown measures of each column of a panel (arrays of length N)."""

    underwater: np.ndarray  # T × N, flat (not NaN) outside a column's observations
    max_drawdown: np.ndarray
    peak: np.ndarray  # row positions
    trough: np.ndarray
    recovery: np.ndarray  # row position of the recovery, −1 when not recovered
    periods: np.ndarray
    days: np.ndarray  # NaN without dates
    longest_days: np.ndarray  # NaN without dates
    longest_periods: np.ndarray


def drawdowns_of(panel: Panel, wealth: np.ndarray | None = None) -> Drawdowns:
    """Every drawdown measure of every column at once."""
    if wealth is None:
        wealth = wealth_of(panel)
    rows, columns = wealth.shape
    high = np.maximum.accumulate(wealth, axis=0)
    np.maximum(high, 1.0, out=high)
    underwater = wealth / high - 1.0
    deepest = underwater.min(axis=0)
    trough = underwater.argmin(axis=0)
    in_drawdown = deepest < 0
    first, last = panel.first, panel.last

    # the rows at a running high, column by column in row order, with the start (row first − 1) added to each
    # column; rows outside a column's observations are left out
    column, row = np.nonzero((wealth >= high).T)
    kept = (row >= first[column]) & (row <= last[column])
    column, row = column[kept], row[kept]
    starts = np.searchsorted(column, np.arange(columns))
    column = np.insert(column, starts, np.arange(columns))
    row = np.insert(row, starts, first - 1)
    dated = np.maximum(row, first[column])  # the start is dated at the first observation

    # the deepest drawdown: its peak is the last high before the trough, its recovery the first high after it
    key = column * (rows + 2) + (row + 1)
    before = np.searchsorted(key, np.arange(columns) * (rows + 2) + (trough + 1)) - 1
    peak = dated[before]
    after = before + 1
    has_next = after < len(row)
    same_column = np.zeros(columns, dtype=bool)
    same_column[has_next] = column[after[has_next]] == np.arange(columns)[has_next]
    recovered = in_drawdown & same_column
    recovery = np.where(recovered, row[np.minimum(after, len(row) - 1)], -1)
    end = np.where(recovered, recovery, last)
    periods = np.where(in_drawdown, end - peak, 0)

    # every drawdown: between two highs more than one row apart, and from the last high to the end
    gap = np.flatnonzero((column[1:] == column[:-1]) & (row[1:] - row[:-1] > 1))
    spell_column = np.concatenate([column[gap], np.arange(columns)])
    spell_start = np.concatenate([dated[gap], dated[np.append(starts[1:] + np.arange(1, columns), len(row)) - 1]])
    spell_end = np.concatenate([row[gap + 1], last])
    longest_periods = np.zeros(columns, dtype=np.int64)
    np.maximum.at(longest_periods, spell_column, spell_end - spell_start)
    if panel.days is None:
        days = np.full(columns, np.nan)
        longest_days = np.full(columns, np.nan)
    else:
        day = panel.days
        days = np.where(in_drawdown, day[end] - day[peak], 0).astype(float)
        longest = np.zeros(columns, dtype=np.int64)
        np.maximum.at(longest, spell_column, day[spell_end] - day[spell_start])
        longest_days = longest.astype(float)
    return Drawdowns(
        underwater=underwater,
        max_drawdown=deepest,
        peak=np.where(in_drawdown, peak, -1),
        trough=np.where(in_drawdown, trough, -1),
        recovery=recovery,
        periods=periods.astype(float),
        days=days,
        longest_days=longest_days,
        longest_periods=longest_periods.astype(float),
    )


@dataclass(frozen=True)
class DrawdownSpell:
    """The deepest drawdown of one series. Dates are None without a date index; `recovery` is None when the
    series ends under water."""

    depth: float
    peak: date | int | None
    trough: date | int | None
    recovery: date | int | None
    days: int | None
    periods: int


def underwater(returns: Returns) -> Returns:
    """The drawdown at each date, in [−1, 0] (NaN outside a column's observations).

    >>> underwater(pd.Series([0.1, -0.5, 0.2])).round(4).tolist()
    [0.0, -0.5, -0.4]
    """
    panel = panel_of(returns)
    values = drawdowns_of(panel).underwater
    values = np.where(panel.valid, values, np.nan)
    if panel.single:
        return pd.Series(values[:, 0], index=panel.index, name="underwater")
    return pd.DataFrame(values, index=panel.index, columns=panel.columns)


def max_drawdown(returns: Returns) -> Any:
    """The deepest fall from a running high, as a fraction in [−1, 0] (−0.25 is a 25% drawdown).

    >>> max_drawdown([0.1, -0.5, 0.2])
    -0.5
    """
    panel = panel_of(returns)
    return panel.result(drawdowns_of(panel).max_drawdown)


def calmar(returns: Returns, conventions: Conventions = DEFAULT) -> Any:
    """CAGR / |max drawdown|. NaN when there was no drawdown.

    >>> round(calmar([0.1, -0.5, 0.2], Conventions(periods_per_year=3)), 6)
    -0.68
    """
    panel = panel_of(returns)
    wealth = wealth_of(panel)
    depth = drawdowns_of(panel, wealth).max_drawdown
    return panel.result(divide(cagr_of(wealth[-1], panel.count, conventions), np.abs(depth)))


def drawdown_spell(returns: pd.Series) -> DrawdownSpell:
    """The deepest drawdown of one series with its peak, trough, recovery and duration."""
    panel = panel_of(returns)
    if not panel.single:
        raise TypeError("drawdown_spell takes one series; use drawdowns_of for a panel")
    found = drawdowns_of(panel)

    def label(position: int) -> date | int | None:
        if position < 0:
            return None
        if isinstance(panel.index, pd.DatetimeIndex):
            return panel.index[position].date()
        return int(position)

    return DrawdownSpell(
        depth=float(found.max_drawdown[0]),
        peak=label(int(found.peak[0])),
        trough=label(int(found.trough[0])),
        recovery=label(int(found.recovery[0])),
        days=None if np.isnan(found.days[0]) else int(found.days[0]),
        periods=int(found.periods[0]),
    )
