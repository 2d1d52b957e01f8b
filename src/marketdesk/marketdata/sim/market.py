"""The generated market: the universe, the plan from the epoch, and the daily bars of the years on show.

`SimMarket` builds lazily and extends itself when the clock reaches a year it has not generated yet; it never
reads the clock itself. Threads may share it: building and extending take a lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from marketdesk.marketdata.sim.factors import MarketSeries, Timeline, build_market_series, build_timeline
from marketdesk.marketdata.sim.intraday import IntradayModel, SessionBars
from marketdesk.marketdata.sim.plan import QuarterPlan, build_plan
from marketdesk.marketdata.sim.prices import Actions, YearBlock, generate_year
from marketdesk.marketdata.sim.statements import Statements, build_statements
from marketdesk.marketdata.sim.streams import EPOCH_YEAR
from marketdesk.marketdata.sim.universe import Universe, build_universe


@dataclass(frozen=True)
class Skeleton:
    """Everything at quarter resolution or coarser, from the epoch through `timeline.last_year`."""

    timeline: Timeline
    series: MarketSeries
    plan: QuarterPlan
    statements: Statements


@dataclass(frozen=True)
class Bars:
    """Daily bars of consecutive whole years, (sessions × instruments) per field, raw prices."""

    first_row: int  # timeline row of the first session
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    actions: Actions

    @property
    def stop_row(self) -> int:
        return self.first_row + self.close.shape[0]

    @classmethod
    def join(cls, blocks: list[YearBlock]) -> Bars:
        return cls(
            first_row=blocks[0].first_row,
            open=np.concatenate([b.open for b in blocks]),
            high=np.concatenate([b.high for b in blocks]),
            low=np.concatenate([b.low for b in blocks]),
            close=np.concatenate([b.close for b in blocks]),
            volume=np.concatenate([b.volume for b in blocks]),
            actions=Actions.concat([b.actions for b in blocks]),
        )


class SimMarket:
    """A seeded market: same (seed, n_symbols), same universe and the same price on every date."""

    def __init__(self, seed: int, n_symbols: int, *, calendar_code: str = "XNYS") -> None:
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        self.seed = seed
        self.calendar_code = calendar_code
        self.universe: Universe = build_universe(seed, n_symbols)
        self.intraday = IntradayModel(seed)
        self._lock = threading.RLock()
        self._skeleton: Skeleton | None = None
        self._bars: Bars | None = None
        self._first_year: int | None = None

    def skeleton(self, through_year: int) -> Skeleton:
        """The quarter-level market, covering at least `through_year` plus one more year (for scheduled reports)."""
        with self._lock:
            current = self._skeleton
            if current is None or current.timeline.last_year < through_year + 1:
                last_year = through_year + 1
                timeline = build_timeline(last_year, self.calendar_code)
                series = build_market_series(self.seed, timeline)
                plan = build_plan(self.seed, self.universe, timeline, series)
                statements = build_statements(self.seed, self.universe, timeline, series, plan)
                current = Skeleton(timeline, series, plan, statements)
                self._skeleton = current
            return current

    def bars(self, first_year: int, last_year: int) -> Bars:
        """Daily bars covering at least the years `first_year`..`last_year`."""
        first_year = max(first_year, EPOCH_YEAR)
        with self._lock:
            skeleton = self.skeleton(last_year)
            current = self._bars
            if current is not None and self._first_year is not None and self._first_year <= first_year:
                covered_until = skeleton.timeline.years[current.stop_row - 1]
                if covered_until >= last_year:
                    return current
                more = [self._year(skeleton, y) for y in range(int(covered_until) + 1, last_year + 1)]
                current = Bars.join([_as_block(current), *more])
            else:
                current = Bars.join([self._year(skeleton, y) for y in range(first_year, last_year + 1)])
                self._first_year = first_year
            self._bars = current
            return current

    @staticmethod
    def session_bars(bars: Bars, row: int, ordinal: int) -> SessionBars:
        """One session's daily bar of every instrument (timeline `row`, date `ordinal`), for the intraday model."""
        local = row - bars.first_row
        return SessionBars(
            ordinal=ordinal,
            log_open=np.log(bars.open[local]),
            log_high=np.log(bars.high[local]),
            log_low=np.log(bars.low[local]),
            log_close=np.log(bars.close[local]),
        )

    def _year(self, skeleton: Skeleton, year: int) -> YearBlock:
        return generate_year(self.seed, self.universe, skeleton.timeline, skeleton.series, skeleton.plan, year)


def _as_block(bars: Bars) -> YearBlock:
    return YearBlock(
        year=-1,
        first_row=bars.first_row,
        open=bars.open,
        high=bars.high,
        low=bars.low,
        close=bars.close,
        volume=bars.volume,
        actions=bars.actions,
    )
