"""The point-in-time view of history: what the desk could have known at the close of `as_of`, and nothing more.

`point_in_time(history, as_of)` is the only road from a `History` to the screener in the verdict backtest. It
keeps, and can only keep:

- price rows dated on or before `as_of` (the last `HISTORY_SESSIONS` of them, as a live screen loads);
- fundamentals available by `as_of`: from their filing date (`reported`), else from their period end plus
  the reporting lag of `screener.universe.known_from` (90 days for a 10-K, 45 for a 10-Q). The 10-K
  importer already stores `reported` = period end + 90 days for the Kaggle NYSE set, which has no filing
  dates;
- splits with an ex-date on or before `as_of` (they restate per-share figures onto the share basis of then).

Adjusted closes from a vendor are back-adjusted as of the day the file was made, so their level carries
dividends and splits that came later. The view rebases each symbol's adjusted series so that it equals the
as-traded close on its last bar in the view: exactly the series a vendor would have shown on `as_of`. (Returns,
averages and risk are ratios, so this changes no metric; it only removes a number from the future.)

Not point-in-time, and said so in docs/decisions.md: instrument metadata (sector, asset class) and the
universe itself (today's S&P 500 membership, so names that left the index are missing: survivorship bias).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from marketdesk.marketdata.barstore import UniverseArrays
from marketdesk.marketdata.port import CorporateAction, Fundamentals, SymbolInfo
from marketdesk.screener.config import ScoringConfig
from marketdesk.screener.engine import ScreenResult, screen
from marketdesk.screener.metrics import compute_metrics
from marketdesk.screener.model import Regime, UniverseData
from marketdesk.screener.regime import assess_regime
from marketdesk.screener.universe import HISTORY_SESSIONS, PRICE_FIELDS, assemble_universe, known_from


@dataclass(frozen=True)
class History:
    """Everything the backtest may draw on, over its whole span: price matrices (sessions × symbols, the
    benchmark among the columns), fundamentals, splits and instruments. Build it with `History.of`."""

    instruments: tuple[SymbolInfo, ...]
    prices: Mapping[str, UniverseArrays]  # one matrix per PRICE_FIELDS name, same dates and columns
    fundamentals: tuple[Fundamentals, ...]  # sorted by the day each became available
    available: tuple[date, ...]  # the day each of `fundamentals` became available
    actions: tuple[CorporateAction, ...]  # sorted by ex-date
    benchmark_symbol: str
    dates: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dates", self.prices["adj_close"].dates)

    @classmethod
    def of(
        cls,
        instruments: Sequence[SymbolInfo],
        prices: Mapping[str, UniverseArrays],
        fundamentals: Sequence[Fundamentals],
        actions: Sequence[CorporateAction],
        benchmark_symbol: str,
    ) -> History:
        """Check the matrices agree and order the fundamentals and actions by the day they became known."""
        missing = [f for f in PRICE_FIELDS if f not in prices]
        if missing:
            raise ValueError(f"price matrices missing: {missing}")
        first = prices["adj_close"]
        for name in PRICE_FIELDS:
            matrix = prices[name]
            if matrix.symbols != first.symbols or not np.array_equal(matrix.dates, first.dates):
                raise ValueError(f"the {name} matrix has other dates or symbols than adj_close")
        if benchmark_symbol not in first.symbols:
            raise ValueError(f"the benchmark {benchmark_symbol!r} has no prices")
        ordered = sorted(fundamentals, key=known_from)
        return cls(
            instruments=tuple(instruments),
            prices=dict(prices),
            fundamentals=tuple(ordered),
            available=tuple(known_from(r) for r in ordered),
            actions=tuple(sorted(actions, key=lambda a: a.ex_date)),
            benchmark_symbol=benchmark_symbol,
        )

    @property
    def symbols(self) -> tuple[str, ...]:
        return self.prices["adj_close"].symbols

    def column(self, symbol: str) -> int:
        return self.symbols.index(symbol)


def _rebased(close: np.ndarray, adjusted: np.ndarray) -> np.ndarray:
    """Scale each column of `adjusted` so that it equals `close` on the column's last bar with both."""
    both = np.isfinite(close) & np.isfinite(adjusted) & (adjusted > 0)
    out = adjusted.copy()
    if both.shape[0] == 0:
        return out
    last = both.shape[0] - 1 - np.argmax(both[::-1], axis=0)
    has = both.any(axis=0)
    columns = np.arange(close.shape[1])
    factor = np.where(has, close[last, columns] / np.where(has, adjusted[last, columns], 1.0), np.nan)
    out *= factor
    return out


def point_in_time(history: History, as_of: date, *, sessions: int = HISTORY_SESSIONS) -> UniverseData:
    """The screener's input as it could have been built at the close of `as_of`: only price rows dated on or
    before `as_of`, fundamentals available by then and splits made by then (see the module docstring)."""
    dates = history.dates
    end = int(np.searchsorted(dates, np.datetime64(as_of, "D"), side="right"))
    start = max(0, end - sessions)
    rows = slice(start, end)
    sliced = {
        name: UniverseArrays(matrix.dates[rows], matrix.symbols, matrix.values[rows], name)
        for name, matrix in history.prices.items()
    }
    adjusted = _rebased(sliced["close"].values, sliced["adj_close"].values)
    sliced["adj_close"] = UniverseArrays(sliced["adj_close"].dates, sliced["adj_close"].symbols, adjusted, "adj_close")
    known = bisect.bisect_right(history.available, as_of)
    fundamentals = history.fundamentals[:known]
    actions = [a for a in history.actions if a.ex_date <= as_of]
    return assemble_universe(
        as_of,
        history.instruments,
        sliced,
        fundamentals,
        benchmark_symbol=history.benchmark_symbol,
        actions=actions,
        sessions=sessions,
    )


@dataclass(frozen=True)
class Verdicts:
    """The screen of one point-in-time view."""

    data: UniverseData
    metrics: pd.DataFrame
    regime: Regime
    result: ScreenResult


def verdicts_at(data: UniverseData, config: ScoringConfig) -> Verdicts:
    """Screen a point-in-time view the way the desk's screener does: metrics, the regime, then the verdicts
    under `config` adjusted for that regime."""
    metrics = compute_metrics(data)
    regime = assess_regime(data, metrics)
    result = screen(metrics, asset_class=data.asset_class, sector=data.sector, regime=regime, config=config)
    return Verdicts(data, metrics, regime, result)
