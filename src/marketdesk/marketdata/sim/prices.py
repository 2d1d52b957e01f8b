"""Daily bars of one calendar year for every instrument at once, bridged between the plan's quarter ends.

Each day's log return is drift + factor exposure + idiosyncratic noise (with rare overnight jumps), plus the
ex-dividend drop and the earnings-day reaction the plan fixed. The idiosyncratic part of each quarter is
pinned to the plan's sum (a Brownian bridge, weighted by the regime's variance), so the year's last close
lands exactly where the plan says. Everything is whole-matrix numpy: no loop over days or symbols.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from marketdesk.marketdata.sim.factors import TRADING_DAYS, MarketSeries, Timeline
from marketdesk.marketdata.sim.plan import QuarterPlan
from marketdesk.marketdata.sim.streams import EPOCH_YEAR, Stream, rng
from marketdesk.marketdata.sim.universe import Universe, exposure

OVERNIGHT_SHARE = 0.25  # share of the day's diffusive move that happens before the open
MIN_PRICE = 0.01
MAX_ADJUSTABLE = 0.5  # a dividend bigger than half the price is not adjusted for (it never happens here)
SPLIT, DIVIDEND = 0, 1


@dataclass(frozen=True)
class Actions:
    """Corporate actions as parallel arrays: timeline row, instrument column, kind, value, log adjustment."""

    row: np.ndarray
    column: np.ndarray
    kind: np.ndarray  # SPLIT or DIVIDEND
    value: np.ndarray  # split ratio, or cash per share
    adjustment: np.ndarray  # log factor applied to adj_close before the ex-date (≤ 0)

    @classmethod
    def concat(cls, parts: list[Actions]) -> Actions:
        return cls(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in ("row", "column", "kind", "value", "adjustment"))
        )


@dataclass(frozen=True)
class YearBlock:
    """One year of daily bars, (sessions × instruments) per field; prices raw (as traded), rounded to cents."""

    year: int
    first_row: int  # timeline row of the first session
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    actions: Actions


def shares_outstanding(universe: Universe, split_factor: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Shares outstanding at timeline rows: epoch shares × splits, shrunk by buybacks over the years since."""
    years = rows.astype(float)[:, None] / TRADING_DAYS
    return universe.initial_shares[None, :] * split_factor * np.exp(-universe.company.buyback_rate[None, :] * years)


def generate_year(
    seed: int, universe: Universe, timeline: Timeline, series: MarketSeries, plan: QuarterPlan, year: int
) -> YearBlock:
    """Generate every instrument's bars for the sessions of `year`."""
    rows = timeline.year_rows(year)
    sessions, n = rows.stop - rows.start, universe.size
    row_index = np.arange(rows.start, rows.stop)
    first_quarter = (year - EPOCH_YEAR) * 4
    quarters = timeline.quarters[rows]
    local_bounds = timeline.quarter_bounds[first_quarter : first_quarter + 5] - rows.start

    g = rng(seed, Stream.DAILY, year)
    noise = g.standard_normal((sessions, n))
    jumps = g.random((sessions, n)) < universe.gap_prob[None, :]
    jump_size = np.zeros((sessions, n))
    jump_size[jumps] = g.standard_normal(int(jumps.sum())) * np.broadcast_to(universe.gap_size, (sessions, n))[jumps]
    overnight_noise = g.standard_normal((sessions, n))
    wick = np.abs(g.standard_normal((2, sessions, n)))
    volume_noise = g.standard_normal((sessions, n))

    vol_scale = series.vol_scale[rows]
    idio_daily = universe.idio_vol / math.sqrt(TRADING_DAYS)
    idio = noise * (vol_scale[:, None] * idio_daily[None, :]) + jump_size
    _bridge(idio, vol_scale**2, local_bounds, plan.idio_sum[first_quarter : first_quarter + 4])

    factor_part = exposure(series.factors[rows], universe.loadings) + (universe.drift / TRADING_DAYS)[None, :]
    events = np.zeros((sessions, n))  # ex-dividend drops and earnings reactions, fixed by the plan
    dividend_units = np.zeros((sessions, n))
    earnings_day = np.zeros((sessions, n), dtype=bool)
    split_factor = plan.split_factor_start[quarters].copy()
    split_ratio = np.ones((sessions, n))
    for offset in range(4):
        q = first_quarter + offset
        _place(events, plan.exdiv_row[q], plan.dividend_drop[q], rows.start)
        _place(dividend_units, plan.exdiv_row[q], plan.dividend_units[q], rows.start)
        if q > 0:
            _place(events, plan.report_row[q - 1], plan.reaction[q - 1], rows.start, flags=earnings_day)
        _place(split_ratio, plan.split_row[q], plan.split_ratio[q], rows.start, replace=True)
        in_quarter = slice(int(local_bounds[offset]), int(local_bounds[offset + 1]))
        after_split = (row_index[in_quarter, None] >= plan.split_row[q][None, :]) & (plan.split_row[q] >= 0)[None, :]
        split_factor[in_quarter] *= np.where(after_split, plan.split_ratio[q][None, :], 1.0)

    returns = factor_part + events + idio
    level = _levels(returns, local_bounds, plan.level_start[first_quarter : first_quarter + 4])
    previous_level = np.vstack([plan.level_start[first_quarter][None, :], level[:-1]])
    log_split = np.log(split_factor)
    log_close = level - log_split
    overnight = events + jump_size + OVERNIGHT_SHARE * factor_part + 0.15 * overnight_noise * idio_daily[None, :]
    log_open = previous_level + overnight - log_split

    daily_sd = np.sqrt(
        exposure(series.factor_vol[rows] ** 2, universe.loadings**2) + (vol_scale[:, None] * idio_daily) ** 2
    )
    log_high = np.maximum(log_open, log_close) + 0.5 * wick[0] * daily_sd
    log_low = np.minimum(log_open, log_close) - 0.5 * wick[1] * daily_sd

    close = _cents(log_close)
    before_year = _cents(plan.level_start[first_quarter] - np.log(plan.split_factor_start[first_quarter]))
    previous_close = np.vstack([before_year[None, :], close[:-1]])
    dividend = np.where(dividend_units > 0, np.round(dividend_units / split_factor, 2), 0.0)
    split_at = np.nonzero(split_ratio != 1.0)
    dividend_at = np.nonzero(dividend > 0)
    actions = Actions(
        row=np.concatenate([split_at[0], dividend_at[0]]) + rows.start,
        column=np.concatenate([split_at[1], dividend_at[1]]),
        kind=np.concatenate([np.full(len(split_at[0]), SPLIT), np.full(len(dividend_at[0]), DIVIDEND)]),
        value=np.concatenate([split_ratio[split_at], dividend[dividend_at]]),
        adjustment=np.concatenate(
            [
                -np.log(split_ratio[split_at]),
                np.log1p(-np.minimum(dividend[dividend_at] / previous_close[dividend_at], MAX_ADJUSTABLE)),
            ]
        ),
    )

    unusual_move = np.minimum(np.abs(idio) / np.maximum(vol_scale[:, None] * idio_daily[None, :], 1e-9), 4.0)
    regime_boost = 1.0 + 0.6 * series.regime[rows].astype(float)
    volume = (
        universe.turnover[None, :]
        * shares_outstanding(universe, split_factor, row_index)
        * np.exp(0.3 * volume_noise + 0.25 * unusual_move - 0.2)
        * regime_boost[:, None]
        * np.where(earnings_day, 3.0, 1.0)
    )
    return YearBlock(
        year=year,
        first_row=rows.start,
        open=_cents(log_open),
        high=_cents(log_high),
        low=_cents(log_low),
        close=close,
        volume=np.rint(volume),
        actions=actions,
    )


def _cents(log_price: np.ndarray) -> np.ndarray:
    return np.maximum(np.round(np.exp(log_price), 2), MIN_PRICE)


def _bridge(idio: np.ndarray, weights: np.ndarray, bounds: np.ndarray, targets: np.ndarray) -> None:
    """Shift each quarter's idiosyncratic returns so they sum to the plan's target, in proportion to variance."""
    for q in range(len(bounds) - 1):
        part = slice(int(bounds[q]), int(bounds[q + 1]))
        w = weights[part] / weights[part].sum()
        idio[part] -= w[:, None] * (idio[part].sum(axis=0) - targets[q])[None, :]


def _levels(returns: np.ndarray, bounds: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Cumulate returns within each quarter from the plan's level at the quarter's start."""
    level = np.empty_like(returns)
    for q in range(len(bounds) - 1):
        part = slice(int(bounds[q]), int(bounds[q + 1]))
        level[part] = starts[q][None, :] + np.cumsum(returns[part], axis=0)
    return level


def _place(
    target: np.ndarray,
    rows: np.ndarray,
    values: np.ndarray,
    first_row: int,
    *,
    flags: np.ndarray | None = None,
    replace: bool = False,
) -> None:
    """Add (or with `replace`, write) `values[i]` at (rows[i] - first_row, i) where that falls inside `target`."""
    local = rows - first_row
    inside = (rows >= 0) & (local >= 0) & (local < target.shape[0])
    columns = np.flatnonzero(inside)
    if replace:
        target[local[columns], columns] = values[columns]
    else:
        target[local[columns], columns] += values[columns]
    if flags is not None:
        flags[local[columns], columns] = True
