"""The quarter-level plan of every price path, from the epoch: levels, splits, dividends, earnings days.

A daily path is expensive (sessions × instruments); a quarter's endpoints are not. So the plan fixes, for
every instrument and quarter, where the path ends, which corporate actions happen and what the earnings
surprise is; `prices.py` then fills in the days of the years it is asked for, as a bridge between those
endpoints. Quarters that are never shown still count, so a price on a given date is the same whichever
window of history a desk asks for.

Levels are split-free and in log space: the raw price is `exp(level) / split_factor`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from marketdesk.marketdata.sim.factors import TRADING_DAYS, MarketSeries, Timeline, quarter_end, quarter_start
from marketdesk.marketdata.sim.streams import EPOCH_YEAR, Stream, rng
from marketdesk.marketdata.sim.universe import KIND_BOND, KIND_EQUITY, Universe, exposure

SPLIT_COOLDOWN_QUARTERS = 12
MAX_DIVIDEND_FRACTION = 0.2
TYPICAL_SURPRISE = 0.04


@dataclass(frozen=True)
class QuarterPlan:
    """Quarter-by-instrument arrays (shape (quarters, instruments)) fixing every path's skeleton."""

    level_start: np.ndarray  # log split-free level at the close before the quarter
    level_end: np.ndarray  # ... at the quarter's last close
    split_factor_start: np.ndarray  # cumulative split factor before the quarter
    split_factor_end: np.ndarray
    split_row: np.ndarray  # timeline row of a split's ex-date in the quarter, -1 for none
    split_ratio: np.ndarray  # new shares per old share (1 for none; 0.1 is a 1-for-10 reverse split)
    exdiv_row: np.ndarray  # timeline row of the ex-dividend date, -1 for non-payers
    dividend_units: np.ndarray  # dividend per split-free share; the cash amount is this / split factor
    dividend_drop: np.ndarray  # log price drop on the ex-date
    report_row: np.ndarray  # row of the report of fiscal quarter q (it falls in quarter q + 1); -1 for none
    surprise: np.ndarray  # earnings surprise of fiscal quarter q, a fraction of the estimate
    reaction: np.ndarray  # log return on the report day of fiscal quarter q
    idio_sum: np.ndarray  # idiosyncratic log return over the quarter: the bridge's target

    @property
    def n_quarters(self) -> int:
        return int(self.level_end.shape[0])


def build_plan(seed: int, universe: Universe, timeline: Timeline, series: MarketSeries) -> QuarterPlan:
    """Walk every instrument through every quarter from the epoch, deciding its splits as prices move."""
    n = universe.size
    n_quarters = timeline.n_quarters
    bounds = timeline.quarter_bounds
    draws = _quarter_draws(seed, n, timeline.last_year)

    # quarter sums of the factors, and of the squared volatility scale (the idiosyncratic variance clock)
    factor_sums = exposure(np.add.reduceat(series.factors, bounds[:-1], axis=0), universe.loadings)
    variance_clock = np.add.reduceat(series.vol_scale**2, bounds[:-1])
    sessions = np.diff(bounds).astype(float)

    exdiv_row = _rows_after(timeline, [quarter_start(q) for q in range(n_quarters)], universe.exdiv_offset_days)
    exdiv_row = np.where(universe.dividend_yield[None, :] > 0, exdiv_row, -1)
    lag = universe.earnings_lag_days[None, :] + draws["lag_jitter"]
    report_row = _rows_after(timeline, [quarter_end(q) for q in range(n_quarters)], lag)
    report_row = np.where(universe.reports_earnings[None, :] & (report_row < timeline.size), report_row, -1)
    surprise = np.clip(TYPICAL_SURPRISE + 0.08 * draws["surprise"], -0.6, 0.6)  # most companies beat, by a little
    # the typical beat is priced in: the price reacts to the surprise beyond it
    reaction = universe.reaction_to_surprise[None, :] * (surprise - TYPICAL_SURPRISE) + 0.035 * draws["reaction"]
    reaction = np.where(universe.reports_earnings[None, :], reaction, 0.0)

    idio_var = (universe.idio_vol**2 / TRADING_DAYS)[None, :] * variance_clock[:, None] + (
        universe.gap_prob * universe.gap_size**2
    )[None, :] * sessions[:, None]
    idio_sum = np.sqrt(idio_var) * draws["idio"]
    drift = universe.drift[None, :] * sessions[:, None] / TRADING_DAYS

    level = np.log(universe.initial_price)
    bonds = universe.kind == KIND_BOND
    level[bonds] = np.log(series.treasury_price[0, : int(bonds.sum())])
    can_split = (universe.kind == KIND_EQUITY) & np.isfinite(universe.split_above)
    split_factor = np.ones(n)
    pending_ratio = np.ones(n)
    pending_row = np.full(n, -1)
    last_split = np.full(n, -(10**6))
    units = np.zeros(n)

    out = {
        key: np.empty((n_quarters, n))
        for key in ("level_start", "level_end", "k_start", "k_end", "ratio", "units", "drop")
    }
    split_row = np.full((n_quarters, n), -1)
    for q in range(n_quarters):
        if q % 4 == 0:  # payers set the year's dividend from the price at the turn of the year
            units = universe.dividend_yield * np.exp(level) / 4.0
        fraction = np.minimum(units / np.exp(level), MAX_DIVIDEND_FRACTION)
        drop = np.where(exdiv_row[q] >= 0, np.log1p(-fraction), 0.0)
        earnings = reaction[q - 1] if q > 0 else np.zeros(n)
        out["level_start"][q] = level
        out["k_start"][q] = split_factor
        level = level + drift[q] + factor_sums[q] + drop + earnings + idio_sum[q]
        split_factor = split_factor * pending_ratio
        out["level_end"][q], out["k_end"][q] = level, split_factor
        out["ratio"][q], out["units"][q], out["drop"][q] = pending_ratio, units, drop
        split_row[q] = pending_row
        last_split = np.where(pending_row >= 0, q, last_split)
        pending_ratio, pending_row = np.ones(n), np.full(n, -1)
        if q + 1 < n_quarters:
            raw = np.exp(level) / split_factor
            ratio = _split_decision(raw, universe.split_above, draws["split"][q])
            ratio = np.where(can_split & (q - last_split >= SPLIT_COOLDOWN_QUARTERS), ratio, 1.0)
            chosen = ratio != 1.0
            if chosen.any():
                rows = _split_rows(draws["split"][q, 2], bounds[q + 1], bounds[q + 2], exdiv_row[q + 1], report_row[q])
                pending_ratio = ratio
                pending_row = np.where(chosen, rows, -1)

    return QuarterPlan(
        level_start=out["level_start"],
        level_end=out["level_end"],
        split_factor_start=out["k_start"],
        split_factor_end=out["k_end"],
        split_row=split_row,
        split_ratio=out["ratio"],
        exdiv_row=exdiv_row,
        dividend_units=np.where(exdiv_row >= 0, out["units"], 0.0),
        dividend_drop=out["drop"],
        report_row=report_row,
        surprise=surprise,
        reaction=reaction,
        idio_sum=idio_sum,
    )


def _quarter_draws(seed: int, n: int, last_year: int) -> dict[str, np.ndarray]:
    """Per-year streams, stacked: each year's draws are the same however many years follow."""
    parts: dict[str, list[np.ndarray]] = {"idio": [], "surprise": [], "reaction": [], "lag_jitter": [], "split": []}
    for year in range(EPOCH_YEAR, last_year + 1):
        g = rng(seed, Stream.QUARTER, year)
        parts["idio"].append(g.standard_normal((4, n)))
        parts["surprise"].append(g.standard_normal((4, n)))
        parts["reaction"].append(g.standard_normal((4, n)))
        parts["lag_jitter"].append(g.uniform(-4.0, 4.0, (4, n)))
        parts["split"].append(g.random((4, 3, n)))
    return {key: np.concatenate(value) for key, value in parts.items()}


def _rows_after(timeline: Timeline, anchors: list[date], offset_days: np.ndarray) -> np.ndarray:
    """Row of the first session on or after each anchor date plus an offset (quarters × instruments)."""
    base = np.array(anchors, dtype="datetime64[D]")[:, None]
    offsets = np.broadcast_to(np.rint(offset_days), (len(anchors), offset_days.shape[-1])).astype("timedelta64[D]")
    return np.searchsorted(timeline.dates, base + offsets, side="left")


def _split_decision(raw: np.ndarray, split_above: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Split ratio decided at a quarter's close: forward when the price is high, reverse when it is pennies."""
    forward = (raw > split_above) | ((raw > 200.0) & (u[0] < 0.004))
    chosen = np.where(u[1] < 0.7, 2.0, np.where(u[1] < 0.9, 3.0, 4.0))  # 2-for-1 is the usual split
    forward_ratio = np.clip(np.maximum(chosen, np.ceil(raw / 350.0)), 2.0, 4.0)
    reverse = (raw < 1.5) | ((raw < 6.0) & (u[0] < 0.03))
    reverse_ratio = np.where((raw < 1.0) | (u[1] < 0.5), 0.1, 0.2)
    return np.where(forward, forward_ratio, np.where(reverse, reverse_ratio, 1.0))


def _split_rows(u: np.ndarray, first: int, stop: int, exdiv: np.ndarray, report: np.ndarray) -> np.ndarray:
    """Ex-dates inside the next quarter that fall on neither the ex-dividend date nor the earnings day."""
    span = max(stop - first - 6, 1)
    rows = first + 2 + np.floor(u * span).astype(int)
    for _ in range(2):
        clash = (rows == exdiv) | (rows == report)
        rows = np.where(clash, rows + 1, rows)
    return np.minimum(rows, stop - 1)
